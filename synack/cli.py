"""The `synack` command line. click, because it gives subcommands, typed options, `--help`
and usage errors with exit code 2 without hand-written parsing."""
from __future__ import annotations

import json
import os
import sys

import click

from synack.checker.explore import PROPERTIES
from synack.checker.scenarios import NAMES as SCENARIOS
from synack.checker.scenarios import SINGLE
from synack.spec import PROFILES, VARIANTS, SpecError

from .cliutil import PROGRESS, _draw, _fail, _format_of, _profile


class _Main(click.Group):
    """Ctrl-C ends every command the same way: what was done, exit 130 (click would print
    "Aborted!" and exit 1, the code of a failed property)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            done = getattr(exc, "progress", None) or PROGRESS.get("done")
            click.echo("synack: interrupted" + (f" after {done}" if done else ""), err=True)
            ctx.exit(130)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="synack")
def main() -> None:
    """synack: TCP connection management (RFC 9293) as data, model-checked and usable as a test oracle."""


@main.command("spec")
@click.option("--profile", "-p", default="rfc9293", show_default=True, help=f"one of {', '.join(PROFILES)}")
@click.option("--variant", "-v", multiple=True, help=f"teaching variant: {', '.join(VARIANTS)}")
@click.option("--json", "as_json", is_flag=True, help="the machine-readable export (its JSON Schema: spec.schema.json in the synack.spec package)")
@click.option("--requirements", is_flag=True,
              help="RFC 9293's MUST-n list: what covers each, checked on this profile (exit 1 if one is not met)")
def spec_cmd(profile: str, variant: tuple[str, ...], as_json: bool, requirements: bool) -> None:
    """Print the transition table."""
    from synack.spec.export import export

    prof = _profile(profile, variant)
    if requirements:
        _requirements(prof, as_json)
        return
    data = export(prof)
    if as_json:
        click.echo(json.dumps(data, indent=1))
        return
    click.echo(f"# {data['profile']}: {data['description']}")
    click.echo(f"# options: {', '.join(data['options']) or '-'}; {len(data['rows'])} rows")
    last = None
    for r in data["rows"]:
        if r["from"] != last:
            click.echo(f"\n{r['from']}")
            last = r["from"]
        ev = r["event"] + (f"[{r['stage']}]" if r["stage"] else "")
        to = "" if r["to"] == r["from"] else f" -> {r['to']}"
        nxt = f" then {r['next']}" if r["next"] else ""
        click.echo(f"  {r['id']:<28} {ev:<16} if {r['guard']}{to}{nxt}")
        if r["actions"]:
            click.echo(f"  {'':<28} {'':<16} do {'; '.join(r['actions'])}")
        click.echo(f"  {'':<28} {'':<16} ({r['rfc']})")


def _requirements(prof, as_json: bool) -> None:
    from synack.spec.requirements import KINDS, audit

    results = audit(prof)
    if as_json:
        click.echo(json.dumps([{"id": a.requirement.id, "section": a.requirement.section, "says": a.requirement.says,
                                "kind": a.requirement.kind, "rows": list(a.requirement.rows),
                                "params": list(a.requirement.params), "option": a.requirement.option or None,
                                "gap": a.requirement.gap or None, "holds": a.holds, "detail": a.detail or None}
                               for a in results], indent=1))
    else:
        click.echo(f"# RFC 9293 requirements on {prof.label()} (Appendix B; kinds: table, params, checker, "
                   "partial, none)")
        for a in results:
            r = a.requirement
            mark = {True: "ok", False: "NOT MET", None: "-"}[a.holds]
            click.echo(f"{r.id:<8} {r.section:<10} {r.kind:<8} {mark:<8} {r.says}")
            for label, text in (("rows", ", ".join(r.rows)), ("params", ", ".join(r.params)),
                                ("measured", a.detail), ("not modelled" if r.kind == "none" else "note", r.gap)):
                if text:
                    click.echo(f"{'':<37}{label}: {text}")
        counts = {k: sum(1 for a in results if a.requirement.id.startswith("MUST") and a.requirement.kind == k)
                  for k in KINDS}
        click.echo("# MUST-1..69: " + ", ".join(f"{v} {k}" for k, v in counts.items())
                   + f"; not met here: {', '.join(a.requirement.id for a in results if a.holds is False) or 'none'}")
    sys.exit(1 if any(a.holds is False for a in results) else 0)


@main.command("prove")
@click.option("--profile", "-p", multiple=True, help="profile(s) to prove; default: every profile")
@click.option("--variant", "-v", multiple=True, help="teaching variant(s) applied to each profile")
def prove_cmd(profile: tuple[str, ...], variant: tuple[str, ...]) -> None:
    """Prove with z3 that the table's guards are exhaustive and exclusive over 32-bit sequence
    arithmetic, that every row preserves the TCB invariants, and that every row keeps its
    obligations (sequence accounting of what it sends, retry counts, user signals and call
    errors as RFC 9293 names them). Exit 1 on a counterexample."""
    from synack.checker.proofs import prove

    ok = True
    for name in profile or tuple(PROFILES):
        report = prove(_profile(name, variant), obligations=True)
        click.echo(report.summary())
        for f in report.problems():
            click.echo(f"  {f}")
        ok &= report.ok
    sys.exit(0 if ok else 1)


SCENARIO_NAMES, DEFAULT_SCENARIOS, PROPERTY_NAMES = SCENARIOS, SINGLE, PROPERTIES


@main.command("check")
@click.option("--profile", "-p", default="rfc9293", show_default=True, help=f"one of {', '.join(PROFILES)}")
@click.option("--variant", "-v", multiple=True, help=f"variant(s): {', '.join(VARIANTS)}")
@click.option("--scenario", "-s", multiple=True,
              help="scenario(s); default: every single-incarnation scenario. "
                   f"One of {', '.join(SCENARIO_NAMES)}")
@click.option("--capacity", "-C", default=2, show_default=True, type=int, help="segments per one-way channel")
@click.option("--loss/--no-loss", default=True, show_default=True, help="the network may lose any segment")
@click.option("--dup", default=1, show_default=True, type=int, help="duplications the network may make in a run")
@click.option("--fifo", is_flag=True, help="ordered channels (default: any segment in flight may arrive next)")
@click.option("--retries", default=2, show_default=True, type=int, help="cap on every retry limit of the profile")
@click.option("--incarnations", "-K", default=2, show_default=True, type=int,
              help="connections on the same 4-tuple in the reconnect scenario")
@click.option("--isn-choices", default=1, show_default=True, type=int, help="ISNs an endpoint may pick per clock tick")
@click.option("--budget", default=3, show_default=True, type=int, help="calls per user in the 'any' scenario")
@click.option("--property", "props", multiple=True, help=f"property to check (default: all): {', '.join(PROPERTY_NAMES)}")
@click.option("--max-states", default=0, type=int, help="stop (incomplete) after this many states; 0: no limit")
@click.option("--max-seconds", default=0.0, type=float, help="stop (incomplete) after this long")
@click.option("--max-memory", default=0, type=int, help="stop (incomplete) when the process reaches this many MB")
@click.option("--json", "as_json", is_flag=True, help="print results and counterexamples as JSON")
@click.option("--trace-out", type=click.Path(dir_okay=False, writable=True), help="write counterexamples (JSON) here")
@click.option("--diagram-out", type=click.Path(dir_okay=False, writable=True),
              help="write each counterexample's sequence chart here (.svg, .png, .pdf or .dot; "
                   "several counterexamples get -2, -3, ... before the suffix)")
@click.option("--engine", type=click.Choice(["auto", "native", "python"]), default="auto", show_default=True,
              help="explorer: native (C core, built with cc on first use), python, or auto (native when cc exists); "
                   "both explore the same states and give the same verdicts")
@click.option("--cores", default=None, type=int,
              help="threads of the native explorer (default: every core this process may use); the states, "
                   "verdicts and counterexamples are the same on any number")
@click.option("--quiet", "-q", is_flag=True, help="no progress bar")
def check_cmd(profile, variant, scenario, capacity, loss, dup, fifo, retries, incarnations, isn_choices, budget,
              props, max_states, max_seconds, max_memory, as_json, trace_out, diagram_out, engine, cores, quiet) -> None:
    """Explore every interleaving of two endpoints, a lossy, duplicating, reordering network and
    the users' scenario; check the properties. Exit 0 when all hold, 1 when one fails (with its
    shortest counterexample), 2 for bad input, 3 when a limit stopped the search first."""
    from synack.checker.explore import Limits
    from synack.checker.system import make_config
    from synack.checker.trace import render_json, render_text

    for sc in scenario:
        if sc not in SCENARIO_NAMES:
            _fail(f"unknown scenario {sc!r}; expected one of: {', '.join(SCENARIO_NAMES)}")
    for p in props:
        if p not in PROPERTY_NAMES:
            _fail(f"unknown property {p!r}; expected one of: {', '.join(PROPERTY_NAMES)}")
    import math
    import time

    for name, v in (("--max-states", max_states), ("--max-seconds", max_seconds), ("--max-memory", max_memory)):
        if not math.isfinite(v):
            _fail(f"{name} must be a finite number, got {v}")
        if v < 0:
            _fail(f"{name} must not be negative, got {v}")
    scenarios = scenario or DEFAULT_SCENARIOS
    deadline = time.monotonic() + max_seconds if max_seconds else None   # for the whole run, every scenario
    if diagram_out:
        _format_of(diagram_out)
    charts = []
    results, traces, worst = [], [], 0
    for sc in scenarios:
        try:
            cfg = make_config(profile, variant, sc, capacity, loss, dup, fifo, retries,
                              incarnations if sc == "reconnect" else 1, isn_choices, budget,
                              props or PROPERTY_NAMES)
        except SpecError as exc:
            _fail(str(exc))
        left = max(deadline - time.monotonic(), 1e-9) if deadline is not None else 0.0
        limits = Limits(max_states, left, max_memory)
        try:
            ex = _run(cfg, limits, quiet or as_json, engine, cores)
        except SpecError as exc:          # e.g. --engine native without a C compiler
            _fail(str(exc))
        failed = {p: f for p, f in ex.found.items()}
        status = "fails" if failed else ("holds" if ex.complete else "incomplete")
        worst = max(worst, 1 if failed else (0 if ex.complete else 3), key=lambda c: (c == 1, c == 3))
        entry = {"scenario": sc, "config": cfg.describe(), "status": status, "states": len(ex.states),
                 "transitions": ex.transitions, "depth": ex.depth, "seconds": round(ex.seconds, 3),
                 "states_per_second": round(ex.rate), "peak_mb": round(ex.peak_mb, 1),
                 "checked": list(ex.checked), "failed": sorted(failed), "engine": ex.engine}
        if not ex.complete:
            entry["stopped"] = ex.stopped
        results.append(entry)
        for f in failed.values():
            traces.append(render_json(ex, f))
            if diagram_out:
                charts.append((ex, f))
        if not as_json:
            click.echo(f"{sc}: {status.upper()}  {len(ex.states):,} states, {ex.transitions:,} transitions, "
                       f"depth {ex.depth}, {ex.seconds:.2f} s ({ex.rate:,.0f} states/s, {ex.engine}), "
                       f"peak {ex.peak_mb:.0f} MB"
                       + (f"  [{ex.stopped}: properties hold on what was reached]" if not ex.complete else ""))
            for f in failed.values():
                click.echo(render_text(ex, f))
    if as_json:
        click.echo(json.dumps({"profile": _profile(profile, variant).label(), "results": results,
                               "counterexamples": traces}, indent=1))
    if trace_out:
        try:
            with open(trace_out, "w") as fh:
                json.dump(traces, fh, indent=1)
        except OSError as exc:
            _fail(f"cannot write --trace-out {trace_out!r}: {exc.strerror}")
    if charts:
        from synack.diagrams.chart import chart_dot, from_steps
        from synack.spec.profiles import timer_seconds

        stem, fmt = _format_of(diagram_out)
        for i, (ex, f) in enumerate(charts, 1):
            ch = from_steps(render_json(ex, f)["steps"], f"{f.prop} fails: {ex.system.cfg.scenario.name}",
                            seconds=lambda t, k, p=ex.system.cfg.profile: timer_seconds(p, t, k))
            ch.footer = f"shortest counterexample: {ex.system.cfg.describe()}"
            out = f"{stem}{'' if i == 1 else f'-{i}'}.{fmt}"
            if _draw(chart_dot(ch), fmt, out, exit_on_missing=False):
                click.echo(f"chart: {out}", err=True)
    sys.exit(worst)


def _run(cfg, limits, quiet: bool, engine: str = "auto", cores: "int | None" = None):
    """Explore with a progress bar on stderr for runs longer than a second (TTY only)."""
    import time

    from synack.checker.explore import explore
    from synack.checker.system import System

    def note(n, frontier, transitions, elapsed, depth):
        PROGRESS["done"] = f"{n:,} states ({cfg.scenario.name})"

    if quiet or not sys.stderr.isatty():
        return explore(System(cfg), limits, on_progress=note, engine=engine, cores=cores)
    from rich.console import Console
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    state = {"bar": None, "task": None}
    t0 = time.perf_counter()

    def tick(n, frontier, transitions, elapsed, depth):
        note(n, frontier, transitions, elapsed, depth)
        if state["bar"] is None:
            if time.perf_counter() - t0 < 1.0:
                return
            state["bar"] = Progress(TextColumn("{task.description}"), TimeElapsedColumn(),
                                    console=Console(stderr=True), transient=True)
            state["bar"].start()
            state["task"] = state["bar"].add_task("")
        state["bar"].update(state["task"], description=f"{cfg.scenario.name}: {n:,} states, frontier {frontier:,}, "
                            f"depth {depth}, {n / max(elapsed, 1e-9):,.0f} states/s")

    try:
        return explore(System(cfg), limits, on_progress=tick, engine=engine, cores=cores)
    finally:
        if state["bar"] is not None:
            state["bar"].stop()


@main.command("oracle")
@click.argument("traces", metavar="[TRACE|CAPTURES...]", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--profile", "-p", default=None, help="profile to judge against (default: the trace header's, else rfc9293)")
@click.option("--variant", "-v", multiple=True, help="variant(s) added to the profile")
@click.option("--start", type=click.Choice(["closed", "any"]), default="closed", show_default=True,
              help="'any': the trace may begin mid-connection")
@click.option("--iut", default=None, help="captures: judge only this endpoint, HOST[:PORT] (default: both ends)")
@click.option("--summary", is_flag=True, help="captures: print only the summary line")
@click.option("--json", "as_json", is_flag=True, help="machine-readable verdicts")
@click.option("--max-candidates", default=4096, show_default=True, type=int, help="bound on the candidate TCB set")
@click.option("--calls-logged", is_flag=True,
              help="JSON Lines: the trace logs every user call (also set by the header's \"calls_logged\": true); "
                   "segments are then explained by timers only, never by an unlogged call")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="set a profile parameter, e.g. ka_idle=1 for a socket with TCP_KEEPIDLE=1 (JSON Lines "
                   "headers may carry \"params\" too)")
@click.option("--jobs", "-j", default=1, show_default=True, type=int,
              help="captures: judge each in this many shares, split by connection, in as many processes (0: one "
                   "per CPU; with --executor dask, one per worker thread); lines then come in order of each "
                   "connection's first segment once all are judged")
@click.option("--executor", default="processes", show_default=True, metavar="processes|dask[=ADDRESS]",
              help="captures: what judges the shares: local processes, or Dask ('pip install synack[cluster]'): "
                   "dask=tcp://HOST:8786 uses that scheduler's workers, which must read the captures at the same "
                   "paths; bare 'dask' the configured scheduler (DASK_SCHEDULER_ADDRESS), else a LocalCluster of "
                   "--jobs workers")
@click.option("--engine", type=click.Choice(["auto", "native", "python"]), default="auto", show_default=True,
              help="captures: 'native' reads the capture and takes the monitors' memoized steps in C "
                   "(classic pcap, needs a C compiler), 'python' does all in Python; the "
                   "verdicts are the same. 'auto': native when it can")
@click.option("--junit-xml", "junit_out", type=click.Path(dir_okay=False), default=None,
              help="also write JUnit XML here: one test case per judged end, violations as failures")
@click.option("--html", "html_out", type=click.Path(dir_okay=False), default=None,
              help="also write one self-contained HTML page here: every end's verdict, filterable, and each "
                   "violation's sequence chart")
@click.option("--live", "live_if", default=None, metavar="IFACE",
              help="judge the traffic on this interface as it passes (AF_PACKET, root): violations as they "
                   "happen, a summary on Ctrl-C (exit 130) or after --max-seconds (exit: the worst verdict)")
@click.option("--max-seconds", "live_seconds", default=0.0, type=float, help="--live: stop after this long")
@click.option("--vantage", default=None, metavar="HOST[:PORT]",
              help="where the capture was taken: that end is near (all it sent is captured; deadlines apply), "
                   "every other end far (losses are not its violations). Default: every end near. JSON Lines: "
                   "compared with the header's \"iut\" (or the header's \"vantage\": \"near\"/\"far\")")
@click.option("--max-violations", default=10, show_default=True, type=int,
              help="violations reported per end: after each, judging resumes mid-connection at the next segment")
def oracle_cmd(traces, profile, variant, start, iut, summary, as_json, max_candidates, calls_logged, params,
               jobs, executor, engine, junit_out, html_out, live_if, live_seconds, vantage, max_violations) -> None:
    """Judge a trace of a TCP implementation against the spec: a JSON Lines trace (one IUT,
    format: synack.oracle's trace.schema.json), pcap/pcapng captures (every connection in
    each; a directory gives its *.pcap, *.pcapng and *.cap files, a quoted glob the files it
    matches), or the live traffic of an interface (--live). A trace or capture may be `-`
    (standard input), a pipe or a FIFO: it is read once. Several captures: each one's lines
    and summary, then a total line. Exit 0 conformant, 1 violation, 3 inconclusive or
    unjudgeable (the worst over every capture), 2 bad input, 130 interrupted."""
    from synack.oracle.captures import is_many
    from synack.oracle.events import TraceError, ignored_in, read_trace
    from synack.oracle.judge import learnable
    from synack.oracle.monitor import Monitor
    from synack.oracle.judge import with_ignored
    from synack.oracle.inputs import open_source

    if live_seconds and live_if is None:
        _fail("--max-seconds applies to --live only")
    dask = executor != "processes"
    if live_if is not None or not traces:
        if dask:
            _fail("--executor applies to captures, not --live")
        _oracle_live(traces[0] if traces else None, live_if, profile, variant, start, iut, max_candidates, params,
                     live_seconds, junit_out or html_out, vantage, max_violations)
    if jobs == 0 and not dask:
        jobs = os.cpu_count() or 1
    if len(traces) > 1 or is_many(traces[0]):
        _oracle_many(traces, profile, variant, start, iut, summary, as_json, max_candidates, params, jobs, executor,
                     engine, junit_out or html_out, vantage, max_violations)
    trace = traces[0]
    try:
        src = open_source(trace)
    except TraceError as exc:
        _fail(str(exc))
    with src:
        if src.kind != "jsonl":
            from synack.oracle.judge import judge_capture

            given = _parse_params(params)
            prof = _with_params(_profile(profile or "linux", variant), given)
            try:
                if junit_out or html_out:
                    src.spooled()             # the reports read the capture a second time
                code = judge_capture(src, prof, (), iut, start, summary, as_json, max_candidates, click.echo,
                                     jobs=jobs, engine=engine, vantage=vantage, max_violations=max_violations,
                                     given=tuple(prof._key(k) for k in given), executor=executor)
                if junit_out or html_out:
                    from synack.report import capture_cases

                    _reports(capture_cases(src, prof, iut, None if start == "closed" else start, max_candidates,
                                           vantage, max_violations), trace, prof, junit_out, html_out)
            except SpecError as exc:
                _fail(str(exc))
            # the monitors' memo is millions of long-lived objects: the interpreter's last
            # collection would walk them all (2.6 s after a 4.6 s judging of a varied capture)
            import gc
            gc.freeze()
            sys.exit(code)
        if dask:
            _fail(f"{src.name}: --executor dask judges captures; a JSON Lines trace is judged in this process")
        try:
            tr = read_trace(src)
            header, events = tr.header, tr.events
            at = f"{tr.name}:{tr.header_line}"
            prof = _profile(profile or header.get("profile", "rfc9293"), variant)
            try:
                prof = prof.with_params(**header.get("params", {}))
            except SpecError as exc:
                raise TraceError(f"{at}: the header's \"params\": {exc}") from None
            prof = _with_params(prof, _parse_params(params))
            where, note = _trace_vantage(header, vantage)
            end = header.get("end")
            if end is not None and (isinstance(end, bool) or not isinstance(end, (int, float)) or end != end
                                    or end in (float("inf"), float("-inf"))):
                raise TraceError(f"{at}: the header's \"end\" must be a time in seconds, got {end!r}")
            mon = Monitor(prof, role=str(header.get("iut", "")), start=start, max_candidates=max_candidates,
                          calls_logged=calls_logged or header.get("calls_logged") is True, vantage=where,
                          vantage_note=note, max_violations=max_violations,
                          learn=learnable(prof, tuple(prof._key(x) for x in
                                                      {**header.get("params", {}), **_parse_params(params)})))
        except (TraceError, SpecError) as exc:
            _fail(str(exc))
    try:
        for ev in events:
            if mon.feed(ev) is not None:
                break
    except KeyboardInterrupt as exc:
        exc.progress = f"{mon.n:,} of {len(events):,} events"
        raise
    times = [t for t in (getattr(ev, "t", None) for ev in events) if t is not None]
    v = mon.verdict(end=max([*times, float(end)]) if end is not None else (times[-1] if times else None))
    v = with_ignored(v, ignored_in(events))
    click.echo(v.dumps() if as_json else str(v))
    if junit_out or html_out:
        from synack.report import Case

        _reports([Case(os.path.basename(trace), str(header.get("iut") or "IUT"), len(events), v, tuple(events))],
                 trace, prof, junit_out, html_out, {"start": start, "max_candidates": max_candidates,
                                                    "calls_logged": mon.calls_logged, "vantage": where,
                                                    "vantage_note": note})
    sys.exit(v.exit_code)


def _reports(cases, source: str, prof, junit_out, html_out, monitor_kw=None) -> None:
    """`--junit-xml` and `--html` (synack/report.py)."""
    from synack.report import html_page, junit_xml, write

    for out, make in ((junit_out, lambda: junit_xml(cases, os.path.basename(source))),
                      (html_out, lambda: html_page(cases, source, prof, monitor_kw=monitor_kw))):
        if out:
            try:
                write(out, make())
            except OSError as exc:
                _fail(f"cannot write {out!r}: {exc.strerror}")
            click.echo(f"report: {out}", err=True)


def _oracle_many(traces, profile, variant, start, iut, summary, as_json, max_candidates, params, jobs, executor,
                 engine, reports, vantage, max_violations) -> None:
    """`synack oracle CAPTURES...` with several captures, a directory or a glob
    (synack.oracle.judge.judge_captures): bad input in one capture is one line naming it, the
    others are judged, exit 2."""
    from synack.oracle.captures import expand
    from synack.oracle.judge import judge_captures

    if reports:
        _fail("--junit-xml and --html take one capture; judge several without them, or one at a time")
    given = _parse_params(params)
    prof = _with_params(_profile(profile or "linux", variant), given)
    try:
        code = judge_captures(expand(traces), prof, (), iut, start, summary, as_json, max_candidates, click.echo,
                              jobs=jobs, engine=engine, vantage=vantage, max_violations=max_violations,
                              given=tuple(prof._key(k) for k in given), executor=executor,
                              err=lambda msg: click.echo(f"synack: error: {msg}", err=True))
    except SpecError as exc:
        _fail(str(exc))
    import gc
    gc.freeze()
    sys.exit(code)


def _oracle_live(trace, iface, profile, variant, start, iut, max_candidates, params, seconds, reports,
                 vantage=None, max_violations=10) -> None:
    """`synack oracle --live IFACE` (synack.oracle.sniff.judge_live)."""
    from synack.oracle.events import TraceError
    from synack.oracle.judge import parse_iut
    from synack.oracle.sniff import judge_live

    if trace is None and iface is None:
        _fail("give a trace or capture to judge (or --live IFACE)")
    if trace is not None:
        _fail("give a trace or capture, or --live IFACE, not both")
    if reports:
        _fail("--junit-xml and --html need a trace or capture file, not --live")
    if seconds < 0:
        _fail(f"--max-seconds must not be negative, got {seconds}")
    prof = _with_params(_profile(profile or "linux", variant), _parse_params(params))
    try:
        code = judge_live(iface, prof, parse_iut(iut), None if start == "closed" else start, max_candidates,
                          lambda line: click.echo(line), seconds,
                          vantage=parse_iut(vantage, "--vantage") if vantage else None, max_violations=max_violations,
                          ready=lambda: click.echo(f"judging TCP on {iface} under {prof.label()}; Ctrl-C for the "
                                                   "summary", err=True))
    except TraceError as exc:
        _fail(str(exc))
    sys.exit(code)


@main.command("trace")
@click.argument("capture", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--to-jsonl", is_flag=True, required=True, help="convert to the JSON Lines trace format")
@click.option("--iut", default=None, help="only traces with this endpoint as IUT, HOST[:PORT]")
@click.option("--out", "-o", "out_dir", default=None, help="directory for one .jsonl per connection and IUT end")
def trace_cmd(capture, to_jsonl, iut, out_dir) -> None:
    """Convert a pcap/pcapng capture into JSON Lines traces (one per connection and IUT end)."""
    from synack.oracle.judge import to_jsonl as convert

    try:
        code = convert(capture, "linux", iut, out_dir, click.echo)
    except SpecError as exc:
        _fail(str(exc))
    sys.exit(code)


def _trace_vantage(header: dict, vantage: str | None) -> tuple[str, str]:
    """near or far for a JSON Lines trace's IUT, and why (printed with the verdict)."""
    from synack.oracle.events import TraceError
    from synack.oracle.judge import parse_iut, vantage_of

    given = header.get("vantage")
    if vantage is None and given in ("near", "far"):
        return given, f"{given} (the trace header's \"vantage\")"
    if given is not None and given not in ("near", "far"):
        raise TraceError(f"the header's \"vantage\" must be \"near\" or \"far\", got {given!r}")
    if vantage is None:
        return vantage_of(("", 0), None)
    iut = parse_iut(str(header.get("iut", "")) or None, "the header's \"iut\"")
    if iut is None:
        raise TraceError("--vantage on a JSON Lines trace needs the header's \"iut\" (HOST:PORT) to compare with")
    return vantage_of((iut[0], iut[1] or 0), parse_iut(vantage, "--vantage"))


def _parse_params(items: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            eq = ""
        if not eq:
            _fail(f"--param {item!r}: expected NAME=NUMBER, e.g. ka_idle=1")
    return out


def _with_params(prof, params: dict):
    try:
        return prof.with_params(**params) if params else prof
    except SpecError as exc:
        _fail(str(exc))


from .diagram_cli import diagram_group, explain_cmd, why_cmd  # noqa: E402  (the commands register below)

main.add_command(diagram_group)
main.add_command(why_cmd)
main.add_command(explain_cmd)
from .teststack_cli import test_stack_cmd  # noqa: E402
main.add_command(test_stack_cmd)

if __name__ == "__main__":
    main()
