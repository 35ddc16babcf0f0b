"""Seeded spec bugs: how many single mutations of the table `synack prove` and `synack check`
catch, and which ones survive.

    python bench/spec_mutants.py [--profile rfc9293] [--sample 150] [--seed 1] [--jobs 2]
                                 [--out bench/out/mutants.json]

Each mutant changes one row of the profile's table in one way:
  drop         the row is removed
  negate       its guard is negated
  cmp          its guard's first comparison is weakened or strengthened (< and <=, == and !=)
  retarget     its next state is another state
  drop-action  one of its actions is removed
  plus-one     one sequence assignment is off by one (X := E + 1)
Both detectors run on every mutant: the z3 proofs (a gap, an overlap, a broken invariant or
frame) and the checker (a property violated on a small configuration: every
single-incarnation scenario and `reconnect` with 2 incarnations, capacity 1, loss, dup 1,
retries 1; client-close and simultaneous-close at capacity 2). A mutant is *caught* when
either finds something, or when the table no longer compiles (a type error in the vocabulary). Survivors are listed: each is either equivalent
(no observable difference within the bounds) or a hole in the properties, to be read.
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

from synack.checker.explore import PROPERTIES, Limits, explore
from synack.checker.proofs import prove
from synack.checker.scenarios import NAMES
from synack.checker.system import System, make_config
from synack.spec import SpecError, State, get_profile
from synack.spec.machine import Machine
from synack.spec.profiles import eval_when
from synack.spec.table import TABLE

ROOT = Path(__file__).resolve().parent.parent
OPERATORS = ("drop", "negate", "cmp", "retarget", "drop-action", "plus-one")
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
    return out


def judge(args) -> dict:
    """Run the proofs and the checker on one mutant: what each finds."""
    label, op, rid, what, tbl = args
    prof = get_profile(label)
    t0 = time.perf_counter()
    res = dict(op=op, row=rid, what=what, compile="", prove="", check="", unbounded="")
    try:
        m = Machine(prof, table=tbl)
    except SpecError as exc:
        res["compile"] = str(exc).splitlines()[0][:160]
        return res
    rep = prove(prof, m)
    if not rep.ok:
        f = rep.findings[0]
        res["prove"] = f"{f.kind} {f.state} {f.event} {','.join(f.rows)}".strip()[:160]
    for sc, cap, k in RUNS:
        cfg = make_config(prof, (), sc, capacity=cap, retries=1, incarnations=k, properties=PROPERTIES)
        try:
            ex = explore(System(cfg, Machine(cfg.profile, table=tbl)), LIMITS)
        except SpecError as exc:
            res["check"] = f"{sc}: error {exc}"[:160]
            break
        if ex.found:
            res["check"] = f"{sc} C={cap}: {', '.join(sorted(ex.found))}"
            break
        if not ex.complete:
            res["unbounded"] = f"{sc} C={cap}: {ex.stopped}"
            break
    res["seconds"] = round(time.perf_counter() - t0, 2)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="rfc9293")
    ap.add_argument("--sample", type=int, default=150, help="mutants to try (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "mutants.json"))
    a = ap.parse_args()
    try:
        prof = get_profile(a.profile)
    except SpecError as exc:
        print(f"spec_mutants: {exc}", file=sys.stderr)
        return 2
    if a.sample < 0 or a.jobs < 1:
        print("spec_mutants: --sample must be >= 0 and --jobs >= 1", file=sys.stderr)
        return 2
    allm = mutants(prof)
    chosen = allm if not a.sample or a.sample >= len(allm) else random.Random(a.seed).sample(allm, a.sample)
    t0 = time.perf_counter()
    with Pool(a.jobs) as pool:
        results = []
        for i, r in enumerate(pool.imap_unordered(judge, [(prof.label(),) + m for m in chosen]), 1):
            results.append(r)
            print(f"\r{i}/{len(chosen)} mutants", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    secs = time.perf_counter() - t0
    cols = ("compile", "prove", "check")
    print(f"profile {prof.label()}: {len(allm)} mutants in all, {len(chosen)} tried (seed {a.seed}), {secs:.0f} s")
    print(f"{'operator':<12} {'tried':>6} {'compile':>8} {'prove':>6} {'check':>6} {'caught':>7}")
    rows = {}
    for op in OPERATORS + ("all",):
        rs = [r for r in results if op in ("all", r["op"])]
        c = [len(rs)] + [sum(1 for r in rs if r[k]) for k in cols] + [sum(1 for r in rs if any(r[k] for k in cols))]
        rows[op] = dict(zip(("tried",) + cols + ("caught",), c))
        print(f"{op:<12} {c[0]:>6} {c[1]:>8} {c[2]:>6} {c[3]:>6} {c[4]:>7}"
              + (f"  ({100 * c[4] / max(1, c[0]):.0f}%)" if op == "all" else ""))
    only = {k: sum(1 for r in results if r[k] and not any(r[j] for j in cols if j != k)) for k in cols}
    print("caught by one alone: " + ", ".join(f"{k} {v}" for k, v in only.items()))
    unb = [r for r in results if r["unbounded"] and not any(r[k] for k in cols)]
    print(f"not caught, state space beyond the limits (sequence numbers or counters that grow): {len(unb)}")
    surv = sorted((r for r in results if not any(r[k] for k in cols) and not r["unbounded"]),
                  key=lambda r: (r["op"], r["row"]))
    if surv:
        print("survivors:")
        for r in surv:
            print(f"  {r['op']:<12} {r['row']:<28} {r['what']}")
    for r in unb:
        print(f"  unbounded: {r['op']:<12} {r['row']:<28} {r['what']}  ({r['unbounded']})")
    caught = rows["all"]["caught"]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(dict(profile=prof.label(), total=len(allm), tried=len(chosen),
                                           seed=a.seed, seconds=round(secs, 1), caught=caught, by_operator=rows, alone=only,
                                           results=sorted(results, key=lambda r: (r["op"], r["row"]))), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
