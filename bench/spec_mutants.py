"""Seeded spec bugs: how many single mutations of the table `synack prove` and `synack check`
catch, and which ones survive.

    python bench/spec_mutants.py [--profile rfc9293] [--sample 150 | --per-operator 15] [--seed 1] [--jobs 2]
                                 [--operators swap,field,...] [--rows id,...] [--only earlier.json]
                                 [--stream results.jsonl] [--out bench/out/mutants.json] [--full-prove]

Each mutant changes one row of the profile's table in one way:
  drop         the row is removed
  negate       its guard is negated
  cmp          its guard's first comparison is weakened or strengthened (< and <=, == and !=)
  retarget     its next state is another state
  drop-action  one of its actions is removed
  plus-one     one sequence assignment is off by one (X := E + 1)
  swap         two adjacent actions change places (an update before the send that reads it)
  field        a sent segment's SEQ or ACK reads the wrong variable (SND.UNA for SND.NXT,
               SND.NXT for RCV.NXT, ...)
  next-stage   a row that continues to the next stage of RFC 9293 3.10.7 stops, or one that
               stops continues
  timer        a timer row counts the wrong retries (RTX for PROBES and back), or a
               `restart` is dropped or added
  signal       a user signal is replaced by another (reset, refused, closing, eof,
               established), dropped, or added
  flags        a sent segment's control bits change (FIN, RST or ACK added or removed)
Three detectors run on every mutant: the z3 proofs (a gap, an overlap, a broken invariant or
frame), the row obligations of the mutated row and of the rows of every group it changed
(checker/obligations.py), and the checker (a property violated on a small configuration: every
single-incarnation scenario and `reconnect` with 2 incarnations, capacity 1, loss, dup 1,
retries 1; client-close and simultaneous-close at capacity 2). A mutant is *caught* when
either finds something, or when the table no longer compiles (a type error in the vocabulary). Survivors are listed: each is either equivalent
(no observable difference within the bounds) or a hole in the properties, to be read. A
survivor whose row z3 proves to behave exactly as the original in every state it applies in
(same guard, same TCB left, same segments, signals and next state, under the state
invariant) is reported as *equivalent*, with that reason, and left out of the kill rate. A
surviving `drop` of a row whose group has a `choice` alternative is reported as *narrowing*:
the table still describes correct TCP, only less of what the RFCs allow, which no property can
object to (a capture of a stack doing it can); it counts as a survivor.
The proofs run on the groups the mutant changes (`changed_groups`); `--full-prove` proves the
whole table instead. `--only` judges again the mutants an earlier run left uncaught (after a
new obligation or property, which can only add kills).
Prints a table and writes the figures as JSON.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path

import z3

from synack.checker.explore import PROPERTIES, Limits, explore
from synack.checker.obligations import check_obligations
from synack.checker import proofs
from synack.checker.proofs import _Symbols, prove
from synack.checker.scenarios import NAMES
from synack.checker.system import System, make_config
from synack.spec import SpecError, State, get_profile
from synack.spec.machine import Machine
from synack.spec.profiles import eval_when
from synack.spec.table import INVARIANTS, STAGES, TABLE
from synack.spec.vocab import parse_action, parse_expr, z3_actions, z3_term

ROOT = Path(__file__).resolve().parent.parent
OPERATORS = ("drop", "negate", "cmp", "retarget", "drop-action", "plus-one",
             "swap", "field", "next-stage", "timer", "signal", "flags")
#: field confusions: a variable a send reads, and the one a wrong row would read instead
FIELD_SWAP = (("SND.NXT", "SND.UNA"), ("SND.UNA", "SND.NXT"), ("RCV.NXT", "SND.NXT"), ("SEG.ACK", "SEG.SEQ"),
              ("SEG.SEQ", "SEG.ACK"), ("ISS", "IRS"))
SIGNALS = ("error: connection reset", "error: connection refused", "error: connection closing", "eof",
           "established")
_SEND_FIELDS = re.compile(r"<(SEQ|ACK)=([^>]*)>")
SEQ_VARS = ("SND.UNA", "SND.NXT", "RCV.NXT", "ISS", "IRS")
CMP_SWAP = (("<=", "<"), ("<", "<="), ("==", "!="), ("!=", "=="))
#: checker configurations: (scenario, capacity, incarnations)
#: the real table's largest run here has 77,845 states (client-close C=2); a mutant that passes
#: LIMITS has made sequence numbers or counters grow without bound: reported, not counted as caught
LIMITS = Limits(max_states=400_000, max_seconds=60)
RUNS = [(s, 1, 2 if s == "reconnect" else 1) for s in NAMES if s != "any"] + \
       [("client-close", 2, 1), ("simultaneous-close", 2, 1)]


def mutants(profile) -> list[tuple[str, str, str, tuple]]:
    """Every single mutation of the rows in force for `profile`: (operator, row id, what, table)."""
    rows = [r for r in TABLE if eval_when(r.when, profile.options)]
    out = []

    def table(old, new):
        return tuple(new if r is old else r for r in TABLE if new is not None or r is not old)

    for r in rows:
        out.append(("drop", r.id, "row removed", table(r, None)))
        if r.guard.strip() != "True":
            out.append(("negate", r.id, f"not ({r.guard})", table(r, replace(r, guard=f"not ({r.guard})"))))
        for a, b in CMP_SWAP:
            m = re.search(rf"(?<![<>=!]){re.escape(a)}(?![<>=])", r.guard)
            if m:
                g = r.guard[:m.start()] + b + r.guard[m.end():]
                out.append(("cmp", r.id, g, table(r, replace(r, guard=g))))
                break
        if r.to is not None:
            order = list(State)
            to = order[(order.index(r.to) + 1) % len(order)]
            out.append(("retarget", r.id, f"to {to}", table(r, replace(r, to=to))))
        for i, act in enumerate(r.actions):
            acts = r.actions[:i] + r.actions[i + 1:]
            out.append(("drop-action", r.id, f"without {act!r}", table(r, replace(r, actions=acts))))
            lhs = act.split(":=")[0].strip() if ":=" in act else ""
            if lhs in SEQ_VARS:
                acts = r.actions[:i] + (f"{act} + 1",) + r.actions[i + 1:]
                out.append(("plus-one", r.id, f"{act} + 1", table(r, replace(r, actions=acts))))
        out += [(op, r.id, what, table(r, new)) for op, what, new in _more(r)]
    return out


def _more(r):
    """The operators of issue 25: (operator, what, mutated row)."""
    acts = r.actions
    for i in range(len(acts) - 1):
        sw = acts[:i] + (acts[i + 1], acts[i]) + acts[i + 2:]
        yield "swap", f"{acts[i]!r} after {acts[i + 1]!r}", replace(r, actions=sw)
    for i, act in enumerate(acts):
        if act.split(" ", 1)[0] in ("send", "resend", "probe", "reply"):
            for m in _SEND_FIELDS.finditer(act):
                for old, new in FIELD_SWAP:
                    if old in m.group(2):
                        field = f"<{m.group(1)}={m.group(2).replace(old, new, 1)}>"
                        a2 = act[:m.start()] + field + act[m.end():]
                        yield "field", f"{m.group(0)} -> {field}", replace(r, actions=acts[:i] + (a2,) + acts[i + 1:])
                        break
            ctl = re.search(r"<CTL=([^>]*)>", act)
            if ctl:
                flags = [f for f in ctl.group(1).split(",") if f]
                for bit in ("FIN", "RST", "ACK"):
                    if bit == "ACK":
                        continue        # ACK must come with an <ACK=..> field: a compile error, not a mutant
                    nf = [f for f in flags if f != bit] if bit in flags else flags + [bit]
                    if nf:
                        a2 = act[:ctl.start()] + f"<CTL={','.join(nf)}>" + act[ctl.end():]
                        yield "flags", f"CTL {ctl.group(1)} -> {','.join(nf)}", \
                            replace(r, actions=acts[:i] + (a2,) + acts[i + 1:])
        if act.startswith("signal ") and not act.startswith("signal to queued"):
            for other in SIGNALS:
                if other != act[len("signal "):]:
                    yield "signal", f"{act!r} -> 'signal {other}'", \
                        replace(r, actions=acts[:i] + (f"signal {other}",) + acts[i + 1:])
                    break
        for a, b in (("RTX", "PROBES"), ("PROBES", "RTX")):
            if act.startswith(f"{a} :="):
                yield "timer", f"{act!r} counts {b}", \
                    replace(r, actions=acts[:i] + (act.replace(a, b),) + acts[i + 1:])
        if act.startswith("restart "):
            yield "timer", f"without {act!r}", replace(r, actions=acts[:i] + acts[i + 1:])
    if r.event == "SEGMENT" and not any(a.startswith("signal") for a in acts):
        yield "signal", "adds 'signal error: connection reset'", replace(r, actions=acts + ("signal error: connection reset",))
    if r.stage:
        if r.next is not None:
            yield "next-stage", f"stops instead of going on to {r.next!r}", replace(r, next=None)
        elif r.stage in STAGES and STAGES.index(r.stage) + 1 < len(STAGES) and r.to is None:
            nxt = STAGES[STAGES.index(r.stage) + 1]
            yield "next-stage", f"goes on to {nxt!r}", replace(r, next=nxt)


def reached_stages(m: Machine) -> set[tuple]:
    """The (state, SEGMENT, stage) groups an arriving segment can reach: from each state's entry
    stage along the rows' `next` (linux's TIME-WAIT rows all stop at stage `pre`, so its
    RFC-stage rows there are never reached)."""
    todo = [(s, "SEGMENT", m.entry[s]) for s in State]
    seen = set(todo)
    while todo:
        st, ev, stage = todo.pop()
        for c in m.rows_for(st, ev, stage):
            if c.next is not None:
                g = (c.row.to or st, ev, c.next)
                if g not in seen:
                    seen.add(g)
                    todo.append(g)
    return seen


def equivalent(prof, tbl, rid: str) -> str:
    """Why the mutated row `rid` of `tbl` behaves as the original in every state it applies
    in (z3, under the state invariants), or '' when that cannot be shown. Timer restarts are
    compared as a set (their order among a row's user signals is not observable), user
    signals in order."""
    orig = next((r for r in TABLE if r.id == rid), None)
    new = next((r for r in tbl if r.id == rid), None)
    if orig is None or new is None:
        return ""
    m = Machine(prof)
    if orig.event == "SEGMENT" and orig.stage and not any(
            (st, "SEGMENT", orig.stage) in reached_stages(m) for st in orig.states):
        return ("equivalent: the row is never reached in this profile (no arriving segment's path leads to "
                f"stage {orig.stage!r} in {', '.join(s.value for s in orig.states)})")
    if (orig.to, orig.next, orig.states, orig.event) != (new.to, new.next, new.states, new.event):
        return ""
    params = dict(prof.params)
    sym = _Symbols(".eq")
    env = sym.env
    try:
        g1, g2 = (z3_term(parse_expr(r.guard, m.macros), env, params) for r in (orig, new))
        acts = [tuple(parse_action(a, m.macros) for a in r.actions) for r in (orig, new)]
    except SpecError:
        return ""
    sig = [[a.op[1] for a in x if a.op[0] == "signal"] for x in acts]
    restarts = [sorted(a.op[1] for a in x if a.op[0] == "restart") for x in acts]
    if sig[0] != sig[1] or restarts[0] != restarts[1]:
        return ""
    (p1, s1), (p2, s2) = (z3_actions(x, env, params) for x in acts)
    if len(s1) != len(s2) or any(a[0] != b[0] for a, b in zip(s1, s2)):
        return ""
    same = [g1 == g2] + [p1[k] == p2[k] for k in p1 if not k.startswith("@")]
    for a, b in zip(s1, s2):
        same += [x == y for x, y in zip(a[1:], b[1:]) if x is not None and y is not None]
    # a segment's window is RCV.WND when it is sent (0 on a RST): an update moved across a send changes it
    wnd = [[e["RCV.WND"] for e in _windows(x, env, params)] for x in acts]
    same += [a == b for a, b in zip(*wnd)]
    solver = z3.Solver()
    solver.set("timeout", 10000)
    for st in orig.states:
        inv = z3_term(parse_expr(INVARIANTS[st], m.macros), env, params)
        solver.push()
        solver.add(sym.wellformed, inv, z3.Or(g1, g2), z3.Not(z3.And(*same)))
        res = solver.check()
        solver.pop()
        if res != z3.unsat:
            return ""
    return "equivalent: same guard, TCB, segments and signals in every state it applies in (z3, under the invariant)"


def _windows(actions, env: dict, params: dict) -> list[dict]:
    """The TCB each send of `actions` sees (for the window it carries)."""
    out = []
    for i, a in enumerate(actions):
        if a.op[0] == "send":
            out.append(z3_actions(actions[:i], env, params)[0])
    return out


def narrowing(prof, m: Machine, op: str, rid: str) -> str:
    """Why a surviving mutant only removes behaviour the table allows as an alternative: the
    row was dropped (or lost an action) and, the proofs having found no gap, another row of
    its group, a `choice` alternative, still takes every case it took. Such a table still
    describes correct TCP, so no property or obligation can object; only a capture of a stack
    that takes the removed alternative (the oracle) can. Reported, not counted as equivalent."""
    orig = next((r for r in TABLE if r.id == rid), None)
    if orig is None or op != "drop":
        return ""
    for st in orig.states:
        stage = orig.stage or ("" if orig.event != "SEGMENT" else m.entry[st])
        if any(c.row.choice for c in m.rows_for(st, orig.event, stage)) or orig.choice:
            return (f"narrowing: the row's cases are still taken by a choice alternative of its group "
                    f"({st.value}, {orig.event}); only a capture of a stack that does what it did can tell")
    return ""


_ORIGINAL: dict[str, Machine] = {}


def changed_groups(prof, m: Machine) -> list[tuple]:
    """The (state, event, stage) groups of mutant machine `m` whose rows (or frame analysis)
    differ from the original table's. `prove` checks each group from its own rows, the state
    invariants and the parameters alone, and the original table proves clean, so a group the
    original also reaches, with the same rows, proves clean again: proving only the changed groups finds what the full
    proof finds (checked by `--full-prove`), at a fraction of the time (10.8 s -> about
    0.3 s of CPU a mutant)."""
    m0 = _ORIGINAL.get(prof.label())
    if m0 is None:
        m0 = _ORIGINAL[prof.label()] = Machine(prof)
    out = []
    before = set(proofs._groups(m0))
    for g in proofs._groups(m):
        same = g in before and [c.row for c in m.rows_for(*g)] == [c.row for c in m0.rows_for(*g)] and \
            m.frame_free.get(g) == m0.frame_free.get(g) and m.frame_peer.get(g) == m0.frame_peer.get(g)
        if not same:
            out.append(g)
    return out


def prove_changed(prof, m: Machine):
    """`prove` over the groups `changed_groups` names."""
    return prove(prof, m, groups=changed_groups(prof, m))


_BASELINE: dict[tuple, tuple[str, ...]] = {}


def baseline_properties(prof, sc: str, cap: int, k: int) -> tuple[str, ...]:
    """The properties the original table keeps in this configuration: only those can tell a
    mutant (linux's original table fails graceful-close in most of these small configurations,
    which counted every linux mutant as caught)."""
    key = (prof.label(), sc, cap, k)
    if key not in _BASELINE:
        cfg = make_config(prof, (), sc, capacity=cap, retries=1, incarnations=k, properties=PROPERTIES)
        ex = explore(System(cfg, Machine(cfg.profile)), LIMITS, cores=1)   # --jobs processes share the cores
        _BASELINE[key] = tuple(p for p in PROPERTIES if p not in ex.found)
    return _BASELINE[key]


def judge(args) -> dict:
    """Run the proofs and the checker on one mutant: what each finds."""
    label, full, op, rid, what, tbl = args
    prof = get_profile(label)
    t0 = time.perf_counter()
    res = dict(op=op, row=rid, what=what, compile="", prove="", oblig="", check="", unbounded="", equiv="",
               narrowing="")
    try:
        m = Machine(prof, table=tbl)
    except SpecError as exc:
        res["compile"] = str(exc).splitlines()[0][:160]
        return res
    rep = prove(prof, m) if full else prove_changed(prof, m)
    if not rep.ok:
        f = rep.findings[0]
        res["prove"] = f"{f.kind} {f.state} {f.event} {','.join(f.rows)}".strip()[:160]
    # the mutated row and the rows of every group it changed (a dropped row leaves its siblings to
    # answer for its cases)
    ids = frozenset({rid} | {c.row.id for g in changed_groups(prof, m) for c in m.rows_for(*g)})
    if ids & {r.id for r in m.rows}:
        ob = check_obligations(prof, m, rows=ids)
        if not ob.ok:
            res["oblig"] = str(ob.breaches[0])[:160]
    for sc, cap, k in RUNS:
        props = baseline_properties(prof, sc, cap, k)
        cfg = make_config(prof, (), sc, capacity=cap, retries=1, incarnations=k, properties=props)
        try:
            ex = explore(System(cfg, Machine(cfg.profile, table=tbl)), LIMITS, cores=1)
        except SpecError as exc:
            res["check"] = f"{sc}: error {exc}"[:160]
            break
        if ex.found:
            res["check"] = f"{sc} C={cap}: {', '.join(sorted(ex.found))}"
            break
        if not ex.complete:
            res["unbounded"] = f"{sc} C={cap}: {ex.stopped}"
            break
    if not any(res[k] for k in ("compile", "prove", "oblig", "check")):
        res["equiv"] = equivalent(prof, tbl, rid)
        if not res["equiv"]:
            res["narrowing"] = narrowing(prof, m, op, rid)
    res["seconds"] = round(time.perf_counter() - t0, 2)
    return res


def _load(path: str) -> list[dict]:
    """The results of an earlier run: its --out JSON or its --stream JSON lines."""
    text = Path(path).read_text()
    try:
        return json.loads(text)["results"]
    except ValueError:              # not one JSON document: JSON lines
        return [json.loads(x) for x in text.splitlines() if x.strip()]


def report(label: str, total: int, tried: int, seed: int, secs: float, results: list[dict], out: str) -> None:
    """Print the table per operator and the survivors, and write the figures as JSON to `out`."""
    cols = ("compile", "prove", "oblig", "check")
    print(f"profile {label}: {total} mutants in all, {tried} tried (seed {seed}), {secs:.0f} s")
    print(f"{'operator':<12} {'tried':>6} {'compile':>8} {'prove':>6} {'oblig':>6} {'check':>6} {'caught':>7}"
          f" {'equiv':>6} {'narrow':>7} {'survive':>8} {'kill rate':>10}")
    rows = {}
    for op in OPERATORS + ("all",):
        rs = [r for r in results if op in ("all", r["op"])]
        if not rs:
            continue
        caught_n = sum(1 for r in rs if any(r[k] for k in cols))
        equiv_n = sum(1 for r in rs if r["equiv"])
        c = [len(rs)] + [sum(1 for r in rs if r[k]) for k in cols] + [caught_n]
        narrow_n = sum(1 for r in rs if r.get("narrowing"))
        surv_n = len(rs) - caught_n - equiv_n
        rows[op] = dict(zip(("tried",) + cols + ("caught",), c), equivalent=equiv_n, narrowing=narrow_n,
                        survivors=surv_n)
        rate = f"{100 * caught_n / (len(rs) - equiv_n):.0f}%" if len(rs) > equiv_n else "n/a"
        print(f"{op:<12} {c[0]:>6} {c[1]:>8} {c[2]:>6} {c[3]:>6} {c[4]:>6} {c[5]:>7} {equiv_n:>6} {narrow_n:>7}"
              f" {surv_n:>8} {rate:>10}")
    only = {k: sum(1 for r in results if r[k] and not any(r[j] for j in cols if j != k)) for k in cols}
    print("caught by one alone: " + ", ".join(f"{k} {v}" for k, v in only.items()))
    unb = [r for r in results if r["unbounded"] and not any(r[k] for k in cols)]
    print(f"not caught, state space beyond the limits (sequence numbers or counters that grow): {len(unb)}")
    surv = sorted((r for r in results if not any(r[k] for k in cols) and not r["unbounded"]),
                  key=lambda r: (bool(r["equiv"]), r["op"], r["row"]))
    if surv:
        print("survivors (equivalent ones last, with the reason):")
        for r in surv:
            why = r["equiv"] or r.get("narrowing", "")
            print(f"  {r['op']:<12} {r['row']:<28} {r['what']}" + (f"  [{why}]" if why else ""))
    for r in unb:
        print(f"  unbounded: {r['op']:<12} {r['row']:<28} {r['what']}  ({r['unbounded']})")
    caught = rows["all"]["caught"]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(dict(profile=label, total=total, tried=tried,
                                           seed=seed, seconds=round(secs, 1), caught=caught, by_operator=rows, alone=only,
                                           results=sorted(results, key=lambda r: (r["op"], r["row"]))), indent=1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="rfc9293")
    ap.add_argument("--sample", type=int, default=150, help="mutants to try (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "mutants.json"))
    ap.add_argument("--operators", default=",".join(OPERATORS), help="comma-separated operators to try")
    ap.add_argument("--per-operator", type=int, default=0,
                    help="a stratified sample: this many mutants of each operator (all when fewer); overrides --sample")
    ap.add_argument("--rows", default="", help="comma-separated row ids: only mutants of these rows")
    ap.add_argument("--stream", default="", help="also write each mutant's result to this file as it comes (JSON lines)")
    ap.add_argument("--only", default="",
                    help="a JSON results file (--out or --stream): judge again only the mutants it lists as not caught")
    ap.add_argument("--report", nargs="+", default=None, metavar="FILE",
                    help="judge nothing: merge earlier runs' results (a later file's result for a mutant replaces "
                         "an earlier one's, e.g. a run and its --only re-run) and print the table")
    ap.add_argument("--full-prove", action="store_true",
                    help="prove the whole mutated table, not only its changed groups (slow; checks the shortcut)")
    a = ap.parse_args()
    try:
        prof = get_profile(a.profile)
    except SpecError as exc:
        print(f"spec_mutants: {exc}", file=sys.stderr)
        return 2
    if a.sample < 0 or a.jobs < 1 or a.per_operator < 0:
        print("spec_mutants: --sample and --per-operator must be >= 0 and --jobs >= 1", file=sys.stderr)
        return 2
    if a.report:
        merged: dict = {}
        try:
            for f in a.report:
                for r in _load(f):
                    merged[(r["op"], r["row"], r["what"])] = r
        except (OSError, ValueError, KeyError) as exc:
            print(f"spec_mutants: --report: {exc}", file=sys.stderr)
            return 2
        results = list(merged.values())
        report(prof.label(), len(mutants(prof)), len(results), a.seed, 0, results, a.out)
        return 0
    ops = [o for o in a.operators.split(",") if o]
    if set(ops) - set(OPERATORS):
        print(f"spec_mutants: unknown operator(s) {sorted(set(ops) - set(OPERATORS))}; expected {', '.join(OPERATORS)}",
              file=sys.stderr)
        return 2
    only_rows = {r for r in a.rows.split(",") if r}
    allm = [m for m in mutants(prof) if m[0] in ops and (not only_rows or m[1] in only_rows)]
    if a.per_operator:
        rng = random.Random(a.seed)
        chosen = []
        for op in ops:
            of = [m for m in allm if m[0] == op]
            chosen += of if len(of) <= a.per_operator else rng.sample(of, a.per_operator)
    else:
        chosen = allm if not a.sample or a.sample >= len(allm) else random.Random(a.seed).sample(allm, a.sample)
    if a.only:
        try:
            prev = _load(a.only)
        except (OSError, ValueError, KeyError) as exc:
            print(f"spec_mutants: --only {a.only}: {exc}", file=sys.stderr)
            return 2
        keep = {(r["op"], r["row"], r["what"]) for r in prev
                if not any(r[k] for k in ("compile", "prove", "oblig", "check"))}
        chosen = [m for m in allm if m[:3] in keep]
    random.Random(a.seed).shuffle(chosen)      # a run stopped early has judged a random sample
    stream = open(a.stream, "w") if a.stream else None
    t0 = time.perf_counter()
    with Pool(a.jobs) as pool:
        results = []
        for i, r in enumerate(pool.imap_unordered(judge, [(prof.label(), a.full_prove) + m for m in chosen]), 1):
            results.append(r)
            if stream:
                stream.write(json.dumps(r) + "\n")
                stream.flush()
            print(f"\r{i}/{len(chosen)} mutants", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    secs = time.perf_counter() - t0
    report(prof.label(), len(allm), len(chosen), a.seed, secs, results, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
