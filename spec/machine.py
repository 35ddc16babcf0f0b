"""`step`: the one semantics. A profile's rows are compiled once into a dispatch table keyed
by (state, event kind, stage); `step` looks up, evaluates guards, applies actions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .model import CALLS, CHOICES, ICMP, OFFER, SEGMENT, TIMERS, Endpoint, Event, SpecError, State, Transition
from .frames import ignores_isns, row_commutes
from . import fused
from .fused import compile_key
from .profiles import Profile, eval_when, get_profile
from .table import MACRO_OPTION, MACROS, STAGES, TABLE, Row
from .vocab import compile_actions, compile_guard, parse_action, parse_expr


class Unspecified(SpecError):
    """No row of the table matches: the spec does not say what happens (a table bug or bad input)."""

    def __init__(self, state: State, event: Event, stage: str, profile: str):
        self.state, self.event, self.stage = state, event, stage
        where = f" at stage {stage!r}" if stage else ""
        super().__init__(f"profile {profile}: no row for {event} in {state}{where}")


@dataclass(frozen=True)
class CompiledRow:
    row: Row
    guard: Callable
    action: Callable
    next: str | None


class Machine:
    """A profile's table, compiled: parsed guards and actions for every active row."""

    def __init__(self, profile: Profile, table: "tuple[Row, ...] | None" = None,
                 macros: "dict[str, str] | None" = None):
        """`table` and `macros` default to the spec's own; tests pass altered ones to show
        that the proofs catch a broken table."""
        self.profile = profile
        macros = MACROS if macros is None else macros
        self.macros = {k: ("False" if k in MACRO_OPTION and not profile.has(MACRO_OPTION[k]) else v)
                       for k, v in macros.items()}
        self.rows: tuple[Row, ...] = tuple(r for r in (TABLE if table is None else table)
                                           if eval_when(r.when, profile.options))
        params = dict(profile.params)
        self.parsed: dict[str, tuple] = {}
        table: dict[tuple, list[CompiledRow]] = {}
        for r in self.rows:
            guard = parse_expr(r.guard, self.macros)
            actions = tuple(parse_action(a, self.macros) for a in r.actions)
            self.parsed[r.id] = (guard, actions)
            c = CompiledRow(r, compile_guard(guard, params), compile_actions(actions, r.to, params), r.next)
            for s in r.states:
                table.setdefault((s, r.event, r.stage), []).append(c)
        self.table = {k: tuple(v) for k, v in table.items()}
        #: the rows that decide a step (they change the state, send, tell the user, delete the TCB
        #: or restart a timer), as opposed to pass-through stages: what reports cite
        self.deciding: frozenset[str] = frozenset(
            r.id for r in self.rows if r.to is not None or any(
                a.op[0] in ("send", "signal", "delete", "restart") for a in self.parsed[r.id][1]))
        # per (state, event, stage): are all its guards, and which of its rows' actions, free of
        # the sequence frame (spec/frames.py)? step_framed reports whether a result used only those
        # and which neither read nor set ISS and IRS (FRAME_BLIND)
        self.frame_free: dict[tuple, tuple[bool, frozenset[str]]] = {}
        self.frame_peer: dict[tuple, tuple[bool, frozenset[str]]] = {}    # the peer's space alone
        self.isn_blind: dict[tuple, tuple[bool, frozenset[str]]] = {}
        for key, rows in self.table.items():
            for where, peer_only in ((self.frame_free, False), (self.frame_peer, True)):
                ok = {c.row.id: not row_commutes(self.parsed[c.row.id], key[0], c.row.to, peer_only) for c in rows}
                guards = all(not row_commutes((self.parsed[r][0], ()), key[0], None, peer_only) for r in ok)
                where[key] = (guards, frozenset(r for r, v in ok.items() if v))
            self.isn_blind[key] = (all(ignores_isns(self.parsed[r][0]) for r in ok),
                                   frozenset(c.row.id for c in rows if ignores_isns(None, self.parsed[c.row.id][1], c.row.to)))
        # the table compiled to one function per key (spec/fused.py), built on first use, and
        # the last results of `step_framed` (a pure function of the endpoint and the event)
        self._fused: dict[tuple, Callable] = {}
        self._results: dict[tuple, tuple] = {}
        self.entry = {}
        for s in State:
            for stage in STAGES:
                if (s, SEGMENT, stage) in self.table:
                    self.entry[s] = stage
                    break

    def rows_for(self, state: State, event: str, stage: str = "") -> tuple[CompiledRow, ...]:
        return self.table.get((state, event, stage), ())

    def step(self, endpoint: Endpoint, event: Event) -> list[Transition]:
        return self.step_framed(endpoint, event)[0]

    def step_framed(self, endpoint: Endpoint, event: Event) -> tuple[list[Transition], int]:
        """`step`, and what its result does not depend on (spec/frames.py), as bits:
        FRAME_FREE when every guard it evaluated and every row it applied commutes with shifting
        the sequence spaces (the same result, shifted, holds for every connection that differs
        from this one only by its ISNs); FRAME_BLIND when, besides, none of them read or set ISS
        or IRS (then only the distances to SND.UNA and RCV.NXT matter); FRAME_PEER when they
        commute with shifting the peer's space alone (implied by FRAME_FREE).

        Runs the fused functions of spec/fused.py (the same rows as `step_interpreted`, which
        tests compare it with) and keeps the last RESULTS_MAX results of arrivals: the oracle
        asks the same arrival again for candidates that differ only in what the step does not
        read (what they owe, their marks), and on replays of crossed segments."""
        arrival = event.kind == SEGMENT
        if arrival:
            # an arrival runs four or five stages: worth a look-up (the other events' steps
            # cost about what hashing the endpoint does)
            key = (endpoint, event)
            hit = self._results.get(key)
            if hit is not None:
                return list(hit[0]), hit[1]
        kind = event.kind
        # calls and timers have no stage and nothing to check; anything else is checked by `_stage`
        fkey = (endpoint.state, kind, "" if kind in _NO_STAGE else self._stage(endpoint, event))
        fn = self._fused.get(fkey)
        if fn is None:
            fn = self._fuse(fkey)
        out: list[Transition] = []
        bits = fn(endpoint, event.seg, event, (), (), (), out)
        if arrival:
            if len(self._results) >= RESULTS_MAX:
                self._results.clear()
            self._results[key] = (tuple(out), bits)
        return out, bits

    def step_interpreted(self, endpoint: Endpoint, event: Event) -> tuple[list[Transition], int]:
        """`step_framed` by interpreting the compiled rows one by one (`_run`): the reference
        the fused functions are tested against, never cached."""
        out: list[Transition] = []
        return out, self._run(endpoint, event, self._stage(endpoint, event), (), (), (), out)

    def _stage(self, endpoint: Endpoint, event: Event) -> str:
        kind = event.kind
        if kind == SEGMENT:
            if event.seg is None:
                raise SpecError("a SEGMENT event needs a segment")
            return self.entry[endpoint.state]
        if kind in CALLS or kind in TIMERS:
            return ""
        if kind == ICMP:
            if event.seg is None:
                raise SpecError("an ICMP event needs the quoted segment")
            return ""
        if kind == OFFER:
            if event.seg is None:
                raise SpecError("an OFFER event needs a segment carrying the window")
            return ""
        raise SpecError(f"unknown event kind {kind!r}")

    def _fuse(self, key: tuple) -> Callable:
        fn = self._fused[key] = compile_key(self, key, self._go)
        return fn

    def _go(self, key, e, s, x, sends, sigs, rows, out) -> int:
        """A next stage, by its fused function."""
        fn = self._fused.get(key)
        if fn is None:
            fn = self._fuse(key)
        return fn(e, s, x, sends, sigs, rows, out)

    def _run(self, e, x, stage, sends, sigs, rows, out) -> int:
        s = x.seg
        key = (e.state, x.kind, stage)
        matched = [c for c in self.table.get(key, ()) if c.guard(e, s, x)]
        if not matched:
            if x.kind in CHOICES and not stage:
                # the timer is not armed in this state, or the stack may not make this choice
                return FRAME_FREE | FRAME_BLIND | FRAME_PEER
            raise Unspecified(e.state, x, stage, self.profile.label())
        free, free_rows = self.frame_free[key]
        peer, peer_rows = self.frame_peer[key]
        blind, blind_rows = self.isn_blind[key]
        bits = (FRAME_FREE if free else 0) | (FRAME_BLIND if blind else 0) | (FRAME_PEER if peer else 0)
        for c in matched:
            rid = c.row.id
            if rid not in free_rows:
                bits &= FRAME_PEER
            elif rid not in blind_rows:
                bits &= FRAME_FREE | FRAME_PEER
            if rid not in peer_rows:
                bits &= ~FRAME_PEER
            e2, snd, sg = c.action(e, s, x)
            if c.next is not None:
                bits &= self._run(e2, x, c.next, sends + snd, sigs + sg, rows + (rid,), out)
            else:
                out.append(Transition(e2, sends + snd, sigs + sg, rows + (rid,)))
        return bits if bits & FRAME_FREE else bits & FRAME_PEER


#: `Machine.step_framed` bits.
FRAME_FREE, FRAME_BLIND, FRAME_PEER = 1, 2, 4
#: Event kinds `step` takes without a stage and without a check of their fields.
_NO_STAGE = frozenset(CALLS) | frozenset(TIMERS)
#: `Machine.step_framed` results kept per machine (all dropped together when full). The repeats
#: are near one another (the same connection's candidates, replays of crossed segments): on
#: bench/oracle_bench.py --kernel 2000 16,384 entries took as much time off as 131,072, which
#: cost 50 MB more peak memory.
RESULTS_MAX = 1 << 14

_MACHINES: dict[tuple, Machine] = {}


def machine(profile: "Profile | str") -> Machine:
    """The compiled machine for a profile (cached: compile once, step many times)."""
    if isinstance(profile, str):
        profile = get_profile(profile)
    key = (profile.name, profile.options, tuple(sorted(profile.params.items())))
    m = _MACHINES.get(key)
    if m is None:
        m = _MACHINES[key] = Machine(profile)
    return m


def step(profile: "Profile | str", endpoint: Endpoint, event: Event) -> list[Transition]:
    """All results the spec allows for `event` at `endpoint`, in table order.

    Returns an empty list when a timer event is not armed; raises `Unspecified` when no row
    covers a user call or an arriving segment.
    """
    if not isinstance(endpoint, Endpoint):
        raise SpecError(f"step needs an Endpoint, got {type(endpoint).__name__}")
    if not isinstance(event, Event):
        raise SpecError(f"step needs an Event, got {type(event).__name__}")
    return machine(profile).step(endpoint, event)
assert (FRAME_FREE, FRAME_BLIND, FRAME_PEER) == (fused.FREE, fused.BLIND, fused.PEER)
