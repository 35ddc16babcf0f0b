"""z3 proofs about the table itself, over full 32-bit sequence arithmetic.

For every state and event kind (and every segment-processing stage a state can reach):
- exhaustive: some row applies to every segment and every user call (timers need not be
  armed, so timer rows are only checked for overlap);
- exclusive: no two rows apply at once, unless one of them is a declared `choice`;
- invariant: each row, from a TCB satisfying its state's invariant, leaves a TCB that
  satisfies the invariant of the state it enters; rows between synchronized states move
  SND.UNA only forward within [SND.UNA, SND.NXT] and RCV.NXT only forward by at most
  RCV.WND + 1 (the window plus a FIN) or, on a segment, its own length;
- frame: every row that `spec/frames.py` says commutes with shifting the two sequence spaces
  does (its guard decides the same and its result moves with the shift, for every shift),
  which is what lets the oracle reuse one connection's results for another's.
A failure carries a concrete counterexample (the z3 model) in the table's own names.
"""
from __future__ import annotations

from collections.abc import Iterable

import time
from dataclasses import dataclass, field
from itertools import combinations

import z3

from synack.spec.frames import LOCAL, PEER, fixed
from synack.spec.machine import Machine, machine
from synack.spec.model import CALLS, FLAG_BITS, ICMP, MAXDATA, SEGMENT, SYNCHRONIZED, CHOICES, State, flags_str
from synack.spec.profiles import Profile, get_profile
from synack.spec.table import INVARIANTS
from synack.spec.vocab import NAMES, parse_expr, z3_actions, z3_term

SEG_FIELDS = ("SEG.SEQ", "SEG.ACK", "SEG.WND", "SEG.DATA")
FLAGS = tuple(n for n, _ in FLAG_BITS)


@dataclass
class Finding:
    kind: str  # "gap" | "overlap" | "invariant" | "frame"
    state: State
    event: str
    stage: str
    rows: tuple[str, ...]
    example: dict
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.state} on {self.event}" + (f" (stage {self.stage})" if self.stage else "")
        ex = _describe(self.example, self.event)
        if self.kind == "gap":
            return f"GAP: no row applies to {where}: {ex}"
        if self.kind == "overlap":
            return f"OVERLAP: rows {self.rows[0]} and {self.rows[1]} both apply to {where}: {ex}"
        if self.kind == "frame":
            return f"FRAME: row {self.rows[0]} in {where} does not commute with shifting sequence numbers " \
                   f"({self.detail}): {ex}"
        return f"INVARIANT: row {self.rows[0]} from {where} breaks {self.detail}: {ex}"


@dataclass
class ProofReport:
    profile: str
    findings: list[Finding] = field(default_factory=list)
    groups: int = 0
    pairs: int = 0
    rows: int = 0
    frames: int = 0
    seconds: float = 0.0
    obligations: "object | None" = None     # checker.obligations.ObligationReport, when asked for

    @property
    def ok(self) -> bool:
        return not self.findings and (self.obligations is None or self.obligations.ok)

    def summary(self) -> str:
        verdict = "PROVED" if not self.findings else f"FAILED ({len(self.findings)} findings)"
        out = (f"{self.profile}: {verdict}: {self.groups} (state, event, stage) groups exhaustive, "
               f"{self.pairs} row pairs exclusive, {self.rows} row/state invariant cases, "
               f"{self.frames} rows shift-free, {self.seconds:.1f} s")
        if self.obligations is not None:
            out += "\n" + self.obligations.summary()
        return out

    def problems(self) -> list:
        """Every finding, then every obligation breach: what `synack prove` lists."""
        return list(self.findings) + (list(self.obligations.breaches) if self.obligations is not None else [])


def _describe(ex: dict, event: str) -> str:
    parts = []
    if event == SEGMENT and "SEG.SEQ" in ex:
        flags = sum(b for n, b in FLAG_BITS if ex.get(n))
        seg = f"<SEQ={ex['SEG.SEQ']}>" + (f"<ACK={ex['SEG.ACK']}>" if ex.get("ACK") else "")
        seg += f"<CTL={flags_str(flags)}><LEN={ex.get('SEG.DATA', 0)}><WND={ex.get('SEG.WND', 0)}>"
        parts.append("segment " + seg)
    tcb = [f"{k}={v}" for k, v in ex.items() if k in NAMES and NAMES[k][1][0] == "tcb"]
    if tcb:
        parts.append("TCB " + " ".join(tcb))
    for k in ("ISN", "N"):
        if k in ex and event in ("CONNECT", "SEND", SEGMENT):
            parts.append(f"{k}={ex[k]}")
    return "; ".join(parts)


class _Symbols:
    """Fresh z3 variables for one TCB, one segment and one event."""

    def __init__(self, tag: str = ""):
        self.env: dict[str, z3.ExprRef] = {}
        for name, (typ, where) in NAMES.items():
            if where[0] in ("tcb", "seg", "event"):
                self.env[name] = z3.Bool(name + tag) if typ == "bool" else z3.BitVec(name + tag, 32)
            elif where[0] == "flag":
                self.env[name] = z3.Bool(name + tag)
        one, zero = z3.BitVecVal(1, 32), z3.BitVecVal(0, 32)
        syn = z3.If(self.env["SYN"], one, zero)
        fin = z3.If(self.env["FIN"], one, zero)
        self.env["SEG.LEN"] = self.env["SEG.DATA"] + syn + fin
        self.env["SEG.END"] = self.env["SEG.SEQ"] + syn + self.env["SEG.DATA"]
        # N counts a SEND's bytes (1 or more) or an OUTPUT's payload (0: a FIN queued behind data)
        self.wellformed = z3.And(z3.ULE(self.env["SEG.DATA"], MAXDATA), z3.ULE(self.env["N"], MAXDATA))

    def value(self, model: z3.ModelRef, names) -> dict:
        out = {}
        for n in names:
            v = model.eval(self.env[n], model_completion=True)
            out[n] = z3.is_true(v) if z3.is_bool(v) else v.as_long()
        return out


def _groups(m: Machine):
    """Every (state, event, stage) that can be reached, with its rows."""
    seen = set()
    for s in State:
        for c in CALLS:
            seen.add((s, c, ""))
        seen.add((s, SEGMENT, m.entry[s]))
        for t in CHOICES:
            if m.rows_for(s, t, ""):
                seen.add((s, t, ""))
        if m.rows_for(s, ICMP, ""):                # an ICMP error may come in any state: exhaustive
            seen.add((s, ICMP, ""))
    for r in m.rows:
        if r.next:
            for s in r.states:
                seen.add((r.to or s, r.event, r.next))
    order = {s: i for i, s in enumerate(State)}
    return sorted(seen, key=lambda g: (order[g[0]], g[1], g[2]))


def _setup(m: Machine, env: dict, params: dict):
    """What every proof over a table starts from: each state's invariant as a z3 term, the
    names a counterexample shows, and `check(*constraints)`: a model when they are
    satisfiable, None when not (a timeout is an error, never a pass)."""
    inv = {s: z3_term(parse_expr(INVARIANTS[s], m.macros), env, params) for s in State}
    shown = [n for n in NAMES if NAMES[n][1][0] in ("tcb", "seg", "event", "flag")]
    solver = z3.Solver()
    solver.set("timeout", 20000)

    def check(*constraints, where: str = ""):
        solver.push()
        solver.add(*constraints)
        res = solver.check()
        model = solver.model() if res == z3.sat else None
        solver.pop()
        if res == z3.unknown:
            raise RuntimeError("z3 returned unknown (timeout)" + (f" on {where}" if where else ""))
        return model
    return inv, shown, check


def prove(profile: "Profile | str", m: Machine | None = None, obligations: bool = False,
          groups: "Iterable[tuple] | None" = None) -> ProofReport:
    """Prove exhaustiveness, exclusivity and invariant preservation for a profile's table; with
    `obligations`, also every row obligation of `checker/obligations.py` (what `synack prove`
    does). `groups`: only these (state, event, stage) groups, default all (each group is proved
    from its own rows, the invariants and the parameters, so a subset is sound on its own:
    bench/spec_mutants.py proves only the groups a mutant changed)."""
    if isinstance(profile, str):
        profile = get_profile(profile)
    m = m or machine(profile)
    params = dict(profile.params)
    report = ProofReport(profile.label())
    t0 = time.perf_counter()
    sym = _Symbols()
    env = sym.env
    inv, shown, check = _setup(m, env, params)

    for state, event, stage in (_groups(m) if groups is None else groups):
        rows = m.rows_for(state, event, stage)
        guards = [z3_term(m.parsed[c.row.id][0], env, params) for c in rows]
        pre = z3.And(sym.wellformed, inv[state])
        if event not in CHOICES:
            report.groups += 1
            model = check(pre, z3.Not(z3.Or(*guards)) if guards else z3.BoolVal(True))
            if model is not None:
                report.findings.append(Finding("gap", state, event, stage, (), sym.value(model, shown)))
        for (i, a), (j, b) in combinations(enumerate(rows), 2):
            if a.row.choice or b.row.choice:
                continue
            report.pairs += 1
            model = check(pre, guards[i], guards[j])
            if model is not None:
                report.findings.append(Finding("overlap", state, event, stage, (a.row.id, b.row.id),
                                               sym.value(model, shown)))
        for i, c in enumerate(rows):
            report.rows += 1
            post, _ = z3_actions(m.parsed[c.row.id][1], env, params)
            to = c.row.to or state
            post_inv = z3_term(parse_expr(INVARIANTS[to], m.macros), post, params)
            model = check(pre, guards[i], z3.Not(post_inv), where=f"row {c.row.id} from {state} (invariant)")
            if model is not None:
                report.findings.append(Finding("invariant", state, event, stage, (c.row.id,),
                                               sym.value(model, shown), f"the {to} invariant"))
                continue
            new_incarnation = any(a.text.startswith("IRS :=") for a in m.parsed[c.row.id][1])
            if state in SYNCHRONIZED and to in SYNCHRONIZED and not new_incarnation:
                una, nxt, rcv, wnd = env["SND.UNA"], env["SND.NXT"], env["RCV.NXT"], env["RCV.WND"]
                moved = post["RCV.NXT"] - rcv
                # over the window (and a FIN), or over the arriving segment itself (Linux takes
                # in-order text past the window whole: option past-window-whole)
                rcv_ok = z3.ULE(moved, wnd + 1)
                if event == SEGMENT:
                    rcv_ok = z3.Or(rcv_ok, z3.ULE(moved, env["SEG.LEN"]))
                monotone = z3.And(z3.ULE(post["SND.UNA"] - una, nxt - una), rcv_ok)
                model = check(pre, guards[i], z3.Not(monotone), where=f"row {c.row.id} from {state} (monotone)")
                if model is not None:
                    report.findings.append(Finding(
                        "invariant", state, event, stage, (c.row.id,), sym.value(model, shown),
                        "monotone bookkeeping (SND.UNA within [SND.UNA, SND.NXT], RCV.NXT + at most RCV.WND + 1 or SEG.LEN)"))
        report.frames += _prove_frames(m, state, event, stage, sym, pre, params, check, shown, report.findings)
    report.seconds = time.perf_counter() - t0
    if obligations:
        from .obligations import check_obligations     # it builds on this module's symbols
        report.obligations = check_obligations(profile, m)
    return report


def _shifted(sym: _Symbols, state: State):
    """The environment moved by symbolic shifts: d on the local space, dp on the peer's."""
    d, dp = z3.BitVec("shift.local", 32), z3.BitVec("shift.peer", 32)
    env = sym.env
    moved = dict(env)
    for name in LOCAL | PEER:
        if name in ("SEG.END",) or (NAMES[name][1][0] == "tcb" and name in fixed(state)):
            continue
        moved[name] = env[name] + (d if name in LOCAL else dp)
    one, zero = z3.BitVecVal(1, 32), z3.BitVecVal(0, 32)
    moved["SEG.END"] = moved["SEG.SEQ"] + z3.If(env["SYN"], one, zero) + env["SEG.DATA"]
    # an ACK-less segment's ACK field does not move: one environment per value of the ACK bit
    # (two plain cases prove far faster than one If)
    unacked = dict(moved, **{"SEG.ACK": env["SEG.ACK"]})
    return ((True, moved), (False, unacked)), d, dp


def _prove_frames(m: Machine, state, event, stage, sym, pre, params, check, shown, findings) -> int:
    """Each row `Machine.frame_free` accepts: its guard, its result and what it sends move with
    the shift (TCB fields that hold no sequence number, `frames.fixed`, do not move). Each row
    only `Machine.frame_peer` accepts: the same with the local space held still."""
    key = (state, event, stage)
    if key not in m.frame_free:
        return 0
    cases, d, dp = _shifted(sym, state)
    free_guards, free_rows = m.frame_free[key]
    peer_guards, peer_rows = m.frame_peer[key]
    zero = z3.BitVecVal(0, 32)
    n = 0
    for c in m.rows_for(*key):
        rid = c.row.id
        for held, guards, row_ok in ((False, free_guards, rid in free_rows),
                                     (True, peer_guards and not free_guards, rid in peer_rows - free_rows)):
            if not guards and not row_ok:
                continue
            n += 1
            shift = zero if held else d
            for acked, moved in cases:
                fix = [(sym.env["ACK"], z3.BoolVal(acked))] + ([(d, zero)] if held else [])
                env = {k: z3.substitute(v, *fix[:1]) for k, v in sym.env.items()}
                moved = {k: z3.substitute(v, *fix) for k, v in moved.items()}
                for what, claim, premise in _frame_claims(m, c, state, env, moved, shift, dp, params, guards,
                                                          row_ok):
                    claim = z3.simplify(claim)
                    if z3.is_true(claim):
                        continue
                    model = check(pre, sym.env["ACK"] == acked, premise, z3.Not(claim))
                    if model is not None:
                        ex = sym.value(model, shown)
                        ex["shift"] = (0 if held else model.eval(d, model_completion=True).as_long(),
                                       model.eval(dp, model_completion=True).as_long())
                        findings.append(Finding("frame", state, event, stage, (rid,), ex,
                                                what + (" (the peer's space alone)" if held else "")))
    return n


def _frame_claims(m: Machine, c, state, env, moved, d, dp, params, guards: bool, row_ok: bool):
    """(what fails, claim, premise) for one row: the guard decides the same (`guards`); the TCB
    left and every segment sent move with the shift (`row_ok`)."""
    guard, actions = m.parsed[c.row.id]
    g1, g2 = z3_term(guard, env, params), z3_term(guard, moved, params)
    if guards:
        yield "the guard decides differently", g1 == g2, z3.BoolVal(True)
    if not row_ok:
        return
    post1, sends1 = z3_actions(actions, env, params)
    post2, sends2 = z3_actions(actions, moved, params)
    target = c.row.to or state
    same = []
    for name, (_, where) in NAMES.items():
        if where[0] != "tcb":
            continue
        if name in LOCAL | PEER and name not in fixed(target):
            same.append(post2[name] == post1[name] + (d if name in LOCAL else dp))
        else:
            same.append(post2[name] == post1[name])
    yield "the TCB it leaves does not move with the shift", z3.And(*same), g1
    for (f, s1, a1, l1), (_, s2, a2, l2) in zip(sends1, sends2):
        parts = [s2 == s1 + d, l2 == l1] + ([a2 == a1 + dp] if a1 is not None else [])
        yield f"the {flags_str(f)} it sends does not move with the shift", z3.And(*parts), g1
