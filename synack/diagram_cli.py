"""The picture commands: `synack diagram state|scenario|trace|gallery`, `synack why` and
`synack explain`. Exit codes: 0 done, 1 a picture could not be rendered (Graphviz missing:
the .dot is written anyway) or an answer came out other than expected, 2 bad input."""
from __future__ import annotations

import json
import os
import sys

import click

from synack.checker.scenarios import NAMES as SCENARIOS
from synack.spec import PROFILES, VARIANTS, SpecError

from .cliutil import _draw, _fail, _out_dir, _profile

FORMAT = click.Choice(["svg", "png", "pdf", "dot"])


@click.group("diagram")
def diagram_group() -> None:
    """Draw the state diagram, sequence charts, or the whole gallery (Graphviz)."""


@diagram_group.command("state")
@click.option("--profile", "-p", default="rfc9293", show_default=True, help=f"one of {', '.join(PROFILES)}")
@click.option("--variant", "-v", multiple=True, help=f"variant(s), drawn as differences: {', '.join(VARIANTS)}")
@click.option("--format", "-f", "fmt", type=FORMAT, default="svg", show_default=True,
              help="picture format (dot: the Graphviz source only)")
@click.option("--output", "-o", default=None, help="file to write (default: tcp-states-PROFILE.FORMAT)")
@click.option("--rst/--no-rst", default=True, show_default=True, help="draw RST and abort arcs")
def state_cmd(profile, variant, fmt, output, rst) -> None:
    """The state diagram of a profile's table, arranged like RFC 9293 Figure 5."""
    from synack.gallery import state_source

    prof = _profile(profile, variant)
    out = output or f"tcp-states-{prof.label()}.{fmt}"
    _draw(state_source(prof, show_rst=rst), fmt, out)
    click.echo(out)


@diagram_group.command("scenario")
@click.argument("name")
@click.option("--profile", "-p", default="rfc9293", show_default=True, help=f"one of {', '.join(PROFILES)}")
@click.option("--variant", "-v", multiple=True, help=f"variant(s) added to the profile: {', '.join(VARIANTS)}")
@click.option("--via", multiple=True, help="milestones the run must pass, in order: row:ROW-ID, lose:A->B[:FLAGS], "
              "dup:B->A[:FLAGS] (a gallery chart's name also works as NAME)")
@click.option("--calls-first", is_flag=True, help="prefer user calls over deliveries (simultaneous open)")
@click.option("--absolute", is_flag=True, help="absolute SEQ/ACK numbers instead of x, y")
@click.option("--format", "-f", "fmt", type=FORMAT, default="svg", show_default=True,
              help="picture format (dot: the Graphviz source only)")
@click.option("--output", "-o", default=None, help="file to write (default: NAME.FORMAT)")
def scenario_cmd(name, profile, variant, via, calls_first, absolute, fmt, output) -> None:
    """A sequence chart of a checker scenario run along one chosen path (the happy path:
    fewest errors, no optional choices, shortest; loss only where --via asks)."""
    from synack.diagrams.chart import chart_dot
    from synack.gallery import run_chart

    run = _run_for(name, via, calls_first)
    prof = _profile(profile, variant)
    try:
        ch = run_chart(run, prof.base, prof.variants, absolute)
    except SpecError as exc:
        _fail(str(exc))
    out = output or f"{name}.{fmt}"
    _draw(chart_dot(ch), fmt, out)
    click.echo(out)


def _run_for(name: str, via, calls_first):
    from synack.gallery import RUNS, RunChart

    named = {r.name: r for r in RUNS}
    if name in named and not via:
        return named[name]
    if name not in SCENARIOS:
        _fail(f"unknown scenario {name!r}; expected a scenario ({', '.join(SCENARIOS)}) "
              f"or a gallery chart ({', '.join(named)})")
    return RunChart(name, f"scenario {name}", name, tuple(via), calls_first)


@diagram_group.command("trace")
@click.argument("trace", type=click.Path(dir_okay=False))
@click.option("--index", default=1, show_default=True, type=int, help="which counterexample of a --trace-out file")
@click.option("--profile", "-p", default=None, help="observed traces: profile for the IUT's states")
@click.option("--absolute", is_flag=True, help="absolute SEQ/ACK numbers")
@click.option("--format", "-f", "fmt", type=FORMAT, default="svg", show_default=True,
              help="picture format (dot: the Graphviz source only)")
@click.option("--output", "-o", default=None, help="file to write (default: the trace's name with .FORMAT)")
def trace_cmd(trace, index, profile, absolute, fmt, output) -> None:
    """A sequence chart of a counterexample (`synack check --trace-out`) or of an observed
    JSON Lines trace (the IUT's possible states come from the oracle's monitor)."""
    from synack.diagrams.chart import chart_dot, from_steps

    try:
        with open(trace) as fh:
            text = fh.read()
    except OSError as exc:
        _fail(f"cannot read {trace!r}: {exc.strerror}")
    except UnicodeDecodeError:
        _fail(f"{trace}: not a text trace (for a pcap, convert it with 'synack trace CAPTURE --to-jsonl')")
    out = output or os.path.splitext(os.path.basename(trace))[0] + f".{fmt}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, list):
        if not data:
            _fail(f"{trace}: no counterexamples in it (every property held)")
        if not 1 <= index <= len(data):
            _fail(f"{trace}: --index {index} is out of range 1..{len(data)}")
        cx = data[index - 1]
        if not isinstance(cx, dict) or not isinstance(cx.get("steps"), list):
            _fail(f"{trace}: counterexample {index} has no 'steps' list; expected 'synack check --trace-out' output")
        try:
            ch = from_steps(cx["steps"], f"{cx.get('property', '?')} fails", absolute)
        except (KeyError, TypeError, ValueError) as exc:
            _fail(f"{trace}: counterexample {index} is malformed: {exc}")
        ch.footer = f"{cx.get('message', '')}\n{cx.get('config', '')}"
    else:
        ch = _observed_chart(trace, profile, absolute)
    _draw(chart_dot(ch), fmt, out)
    click.echo(out)


def _observed_chart(trace: str, profile, absolute: bool):
    from synack.oracle.events import TraceError, read_jsonl
    from synack.report import observed_chart

    try:
        header, events = read_jsonl(trace)
        prof = _profile(profile or header.get("profile", "rfc9293"), ())
        given = header.get("params") or {}
        if not isinstance(given, dict):
            raise TraceError(f"{trace}: the header's \"params\" must be an object, got {given!r}")
        prof = prof.with_params(**given) if given else prof
        ch, _ = observed_chart(events, prof, f"observed trace {os.path.basename(trace)}",
                               str(header.get("iut") or "IUT"), absolute,
                               {"calls_logged": header.get("calls_logged") is True})
    except (TraceError, SpecError) as exc:
        _fail(str(exc))
    return ch


@diagram_group.command("gallery")
@click.option("--output", "-o", "directory", default=None,
              help="directory (default: diagrams/gallery when run from a synack checkout, else ./gallery)")
def gallery_cmd(directory) -> None:
    """Regenerate every gallery picture (.dot, .svg, .png) and its index page. Writes under the
    current directory (or -o), never into the installed package."""
    from synack.gallery import DotMissing, regenerate

    directory = directory or _gallery_default()
    try:
        files = regenerate(directory, lambda name: click.echo(f"  {name}", err=True))
    except DotMissing as exc:
        _fail(str(exc), 1)
    except OSError as exc:
        _fail(f"cannot write to {directory!r}: {exc.strerror}")
    click.echo(f"wrote {len(files)} files to {directory}")


def _gallery_default() -> str:
    """`diagrams/gallery` in a synack checkout (the committed gallery), else `gallery` here."""
    here = os.path.join("diagrams", "gallery")
    return here if os.path.isfile(os.path.join(here, "README.md")) and os.path.isfile("pyproject.toml") else "gallery"


# ----------------------------------------------------------------------------- why

QUESTIONS: dict[str, dict] = {
    "three-way-handshake": {
        "question": "Why does TCP open with three segments, not two?",
        "answer": "With two, the server is ESTABLISHED as soon as it answers a SYN. The checker finds an old "
                  "duplicate SYN opening a connection the client never asked for (RFC 9293 3.5, Figure 8), and "
                  "a lost SYN,ACK leaving the two ends disagreeing until they give up. The third segment "
                  "proves to the server that the client wants this incarnation.",
        "refute": ("two-way-handshake-old-syn", "two-way-handshake-deadlock"),
        "control": (("rfc9293", "handshake", {}), ("rfc9293", "data", {"retries": 2})),
    },
    "time-wait": {
        "question": "Why does the side that closes first wait 2MSL in TIME-WAIT?",
        "answer": "Its last ACK may be lost. The peer then retransmits its FIN, and only a TIME-WAIT endpoint "
                  "can answer it with the ACK again (RFC 9293 3.6.1); a CLOSED one answers with RST. 2MSL also "
                  "outlives every old duplicate of this incarnation.",
        "refute": ("no-time-wait", "short-time-wait"),
        "control": (("rfc9293", "client-close", {}),),
    },
    "four-way-close": {
        "question": "Why four segments to close, and when do three suffice?",
        "answer": "Each direction closes on its own (half-close, RFC 9293 3.6): A's FIN and B's ACK end A->B, "
                  "while B may still send data; B's FIN and A's ACK end B->A later. When B closes before its "
                  "delayed ACK fires (RFC 1122 4.2.3.2), the ACK rides on B's FIN: three segments.",
        "runs": ("four-way-close", "half-close", "three-segment-close"),
    },
    "rst-close": {
        "question": "What does SO_LINGER with a zero timeout do instead of a normal close?",
        "answer": "It makes close() an ABORT (RFC 9293 3.10.5): one RST, no FIN exchange, no TIME-WAIT; the "
                  "peer's user is told 'connection reset' and unsent or unread data is lost.",
        "runs": ("abort-rst",),
    },
    "time-wait-assassination": {
        "question": "Can a RST end TIME-WAIT early? (RFC 1337)",
        "answer": "Yes, under RFC 9293's literal rule. With a reconnect, an old duplicate reaches TIME-WAIT, "
                  "which answers it with an ACK; the peer's new incarnation answers that ACK with RST, and the "
                  "RST closes TIME-WAIT. RFC 1337's fix (ignore RST in TIME-WAIT, option rfc1337) removes it: "
                  "the checker runs both (each run's states and seconds are printed). With the fix, "
                  "graceful-close can still fail in this scenario for another reason (the listener's "
                  "half-open connection from the old SYN times out), never by a RST ending TIME-WAIT.",
        "refute": ("time-wait-assassination",),
        "fixed": (("rfc9293+rfc1337", "reconnect", {"incarnations": 2, "capacity": 2}),),
    },
}


def _rst_ends_time_wait(trace: list[dict]) -> bool:
    """Does a counterexample's run deliver a RST to an endpoint in TIME-WAIT that leaves it?"""
    before = {"A": "CLOSED", "B": "CLOSED"}
    for st in trace:
        seg = st.get("segment") or {}
        if st["move"].startswith("deliver") and "RST" in seg.get("flags", ""):
            to = st["move"][-1]
            if before[to] == "TIME-WAIT" and st[to]["state"] != "TIME-WAIT":
                return True
        before = {side: st[side]["state"] for side in "AB"}
    return False


@click.command("why")
@click.argument("question", required=False)
@click.option("--list", "list_", is_flag=True, help="list the questions")
@click.option("--output", "-o", "directory", default=".", show_default=True, help="directory for the charts")
@click.option("--format", "-f", "fmt", type=FORMAT, default="svg", show_default=True,
              help="picture format (dot: the Graphviz source only)")
def why_cmd(question, list_, directory, fmt) -> None:
    """Answer a classic TCP question by running the checker: the counterexample (or the run)
    and its chart. Exit 0 when the checker agrees with the answer, 1 when it does not."""
    from synack.diagrams.chart import chart_dot
    from synack.checker.trace import steps
    from synack.gallery import REFUTATIONS, RUNS, explore_run, refutation_chart, refute, render_text, run_chart

    if list_ or not question:
        for k, q in QUESTIONS.items():
            click.echo(f"{k:<26} {q['question']}")
        sys.exit(0 if list_ else 2)
    if question not in QUESTIONS:
        _fail(f"unknown question {question!r}; expected one of: {', '.join(QUESTIONS)} (see synack why --list)")
    q = QUESTIONS[question]
    _out_dir(directory)
    click.echo(f"{q['question']}\n\n{q['answer']}\n")
    ok = True
    refs = {r.name: r for r in REFUTATIONS}
    for name in q.get("refute", ()):
        ref = refs[name]
        ex, found = refute(ref)
        if found is None:
            click.echo(f"UNEXPECTED: {ref.profile} {ref.scenario}: {ref.prop} holds")
            ok = False
            continue
        click.echo(f"{ref.profile}, scenario {ref.scenario}: {ref.prop} FAILS ({len(ex.states):,} states, "
                   f"{ex.seconds:.1f} s)")
        click.echo(render_text(ex, found))
        if q.get("fixed") and not _rst_ends_time_wait(steps(ex, found)):
            click.echo("UNEXPECTED: the counterexample does not end TIME-WAIT by a RST")
            ok = False
        out = os.path.join(directory, f"why-{question}-{name}.{fmt}")
        if _draw(chart_dot(refutation_chart(ref, ex, found)), fmt, out, exit_on_missing=False):
            click.echo(f"chart: {out}\n")
        else:
            ok = False
    for prof, sc, bounds in q.get("control", ()):
        ex = explore_run(prof, sc, bounds)
        holds = not ex.found
        ok &= holds
        click.echo(f"{prof}, scenario {sc}: {'every property holds' if holds else 'FAILS: ' + ', '.join(ex.found)} "
                   f"({len(ex.states):,} states, {ex.seconds:.1f} s)")
    for prof, sc, bounds in q.get("fixed", ()):
        ex = explore_run(prof, sc, bounds)
        killed = [f for f in ex.found.values() if _rst_ends_time_wait(steps(ex, f))]
        ok &= not killed and ex.complete
        click.echo(f"{prof}, scenario {sc}: " + (f"a RST still ends TIME-WAIT ({killed[0].prop})" if killed else
                   "no counterexample has a RST ending TIME-WAIT" + (
                       f" (still failing, for other reasons: {', '.join(ex.found)})" if ex.found else ""))
                   + f" ({len(ex.states):,} states, {ex.seconds:.1f} s)")
    runs = {r.name: r for r in RUNS}
    for name in q.get("runs", ()):
        ch = run_chart(runs[name])
        out = os.path.join(directory, f"why-{question}-{name}.{fmt}")
        click.echo(f"{runs[name].title}: {len(ch.messages)} segments")
        if _draw(chart_dot(ch), fmt, out, exit_on_missing=False):
            click.echo(f"chart: {out}")
        else:
            ok = False
    sys.exit(0 if ok else 1)


@click.command("explain")
@click.argument("scenario")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="language of the narrative: English or Chinese")
@click.option("--profile", "-p", default="rfc9293", show_default=True, help=f"one of {', '.join(PROFILES)}")
@click.option("--variant", "-v", multiple=True, help=f"variant(s) added to the profile: {', '.join(VARIANTS)}")
@click.option("--via", multiple=True, help="milestones, as for 'synack diagram scenario'")
@click.option("--calls-first", is_flag=True, help="prefer user calls over deliveries (simultaneous open)")
@click.option("--absolute", is_flag=True, help="absolute SEQ/ACK numbers instead of x, y")
def explain_cmd(scenario, lang, profile, variant, via, calls_first, absolute) -> None:
    """Walk through a scenario step by step: what each side sends, the table row and RFC
    section that say so, the state it enters, and the SEQ/ACK arithmetic."""
    from synack.diagrams.explain import narrate
    from synack.gallery import run_steps
    from synack.spec import machine

    run = _run_for(scenario, via, calls_first)
    prof = _profile(profile, variant)
    try:
        steps, desc = run_steps(run, prof.base, prof.variants)
    except SpecError as exc:
        _fail(str(exc))
    m = machine(prof)
    rows = {r.id: (r.note, r.rfc, r.id in m.deciding) for r in m.rows}
    from synack.diagrams.explain import title

    click.echo(f"{title(run.name, run.title, lang, run.scenario)} ({desc})")
    for line in narrate(steps, rows, lang, absolute):
        click.echo(line)
