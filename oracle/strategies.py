"""Hypothesis strategies for other projects' test suites.

- `scenarios(profile=...)`: user-call scripts for two applications (A and B) that a harness
  replays against an implementation: the checker's named scenarios and free ones
  (`named_script(name)` gives one named script directly).
- `environment_segments(state=..., profile=...)`: segments a peer could send to an
  endpoint in `state`, valid and invalid, around the sequence numbers that matter. The
  endpoint they are aimed at is `endpoint_in(state, profile)` (a TCB reached by the spec).
- `traces(profile=..., settled=True)`: whole IUT traces made by the checker's system (two
  endpoints, lossy, duplicating, reordering network), each a `Trace` (a list of events with
  its header: the profile and the capped retry limits it was made under, which the oracle
  honours). A path may stop anywhere, so a trace may end while the spec still owes a
  transmission (the oracle says inconclusive); `settled=True` keeps only traces the oracle
  judges conformant and complete, what `assert_conformant` passes. `settled_traces()` is
  the same. With conformant=False each trace carries one mutation
  (`synack.oracle.generate.MUTATIONS`) that the monitor must reject.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from hypothesis import strategies as st

from synack.checker.scenarios import CALL_MENU, NAMES, SCENARIOS
from synack.checker.system import System
from synack.spec.model import ACK, FIN, MASK, PSH, RST, SYN, Endpoint, Segment, SpecError, State
from synack.spec.profiles import get_profile

from .generate import MUTATIONS, config, mutate, walk
from .monitor import Monitor
from .source import Trace


@dataclass(frozen=True)
class Script:
    """Calls for application A and application B, in order: ("connect", 0), ("send", 3),
    ("await", "established"), ... A harness makes each call when the previous one returned."""

    name: str
    a: tuple[tuple[str, object], ...]
    b: tuple[tuple[str, object], ...]


def _script_of(name: str) -> Script:
    sc = SCENARIOS[name]

    def flat(rounds):
        out = []
        for rnd in rounds:
            for stp in rnd:
                out.append((stp[1].lower(), stp[2]) if stp[0] == "call" else ("await", stp[1]))
        return tuple(out)
    return Script(name, flat(sc.a), flat(sc.b))


def named_script(name: str) -> Script:
    """The user-call script of one of the checker's named scenarios (``client-close``, ...)."""
    if name not in SCENARIOS:
        raise SpecError(f"unknown scenario {name!r}; expected one of: {', '.join(sorted(SCENARIOS))}")
    return _script_of(name)


def scenarios(profile: str = "rfc9293", free: bool = True, max_calls: int = 6) -> st.SearchStrategy[Script]:
    """Named scenarios (``handshake``, ``client-close``, ...) and, with `free`, scripts of up to
    `max_calls` calls of any kind per application."""
    get_profile(profile)
    named = st.sampled_from(sorted(SCENARIOS)).map(_script_of)
    if not free:
        return named
    call = st.sampled_from(CALL_MENU).flatmap(
        lambda c: st.integers(1, 1460).map(lambda n: ("send", n)) if c[0] == "SEND" else st.just((c[0].lower(), 0)))
    calls = st.lists(call, max_size=max_calls).map(tuple)
    return st.one_of(named, st.builds(lambda a, b: Script("free", a, b), calls, calls))


@lru_cache(maxsize=8)
def _reached(profile: str) -> dict[State, Endpoint]:
    """One TCB per state, as the spec reaches it: breadth-first over the checker's system
    (client-close and simultaneous-close, no loss), first TCB seen in each state."""
    found: dict[State, Endpoint] = {}
    for sc in ("client-close", "simultaneous-close", "simultaneous-open", "half-close"):
        sys_ = System(config(profile, sc, loss=False, dup=0, capacity=2, retries=1))
        frontier, seen = [sys_.initial()], {sys_.initial()}
        while frontier and len(seen) < 20000:
            nxt = []
            for s in frontier:
                for side in (0, 1):
                    e = sys_.eps[s[side]]
                    found.setdefault(e.state, e)
                for _, c, _, _ in sys_.successors(s):
                    if c not in seen:
                        seen.add(c)
                        nxt.append(c)
            frontier = nxt
    return found


def endpoint_in(state: "State | str", profile: str = "rfc9293") -> Endpoint:
    """A TCB in `state` that the spec reaches (the target of `environment_segments`)."""
    st_ = state if isinstance(state, State) else State.parse(state)
    eps = _reached(get_profile(profile).label())
    if st_ not in eps:
        raise SpecError(f"profile {profile}: no TCB in {st_} found by the search")
    return eps[st_]


_FLAGS = [SYN, SYN | ACK, ACK, ACK | PSH, FIN | ACK, RST, RST | ACK, FIN, 0, SYN | FIN, FIN | ACK | PSH]


def environment_segments(state: "State | str" = State.ESTABLISHED, profile: str = "rfc9293"
                         ) -> st.SearchStrategy[Segment]:
    """Segments a peer could send to `endpoint_in(state)`: SEQ and ACK at, just around, and far
    from RCV.NXT, SND.UNA and SND.NXT (and random), with any flags the spec distinguishes."""
    e = endpoint_in(state, profile)
    seqs = st.one_of(st.sampled_from([e.rcv_nxt, e.irs, e.rcv_nxt - 1, e.rcv_nxt + 1, e.rcv_nxt + e.rcv_wnd,
                                      e.rcv_nxt + (1 << 31)]).map(lambda v: v & MASK),
                     st.integers(0, MASK))
    acks = st.one_of(st.sampled_from([e.snd_nxt, e.snd_una, e.snd_nxt + 1, e.snd_una - 1, e.iss,
                                      e.snd_una + (1 << 31)]).map(lambda v: v & MASK),
                     st.integers(0, MASK))
    return st.builds(lambda f, s, a, n, w: Segment(f, s, a if f & ACK else 0, n, w),
                     st.sampled_from(_FLAGS), seqs, acks, st.sampled_from([0, 0, 1, 100, 1460]),
                     st.integers(0, 0xFFFF))


def traces(profile: str = "rfc9293", conformant: bool = True, scenario: str | None = None,
           max_steps: int = 60, settled: bool = False) -> st.SearchStrategy[Trace]:
    """IUT traces (`Trace`: a list of events with a header) from random paths of the checker's
    system, under `profile` with its retry limits capped at 2 (the header says so, in
    "params"; `trace_profile(profile)` is the same profile).

    `settled=False` (the default, as before): a path may stop anywhere, so a trace may end
    while the spec still owes a transmission (a retransmission, a FIN, an ACK): the oracle
    calls those inconclusive. `settled=True`: only traces the oracle judges conformant and
    complete. `conformant=False`: each trace carries exactly one mutation the monitor must
    reject (settled does not apply)."""
    prof = get_profile(profile)
    if settled and not conformant:
        raise SpecError("traces(settled=True) yields conformant traces; settled does not apply to conformant=False")
    names = [scenario] if scenario else [n for n in NAMES if n != "reconnect"]
    for n in names:
        if n not in NAMES:
            raise SpecError(f"unknown scenario {n!r}; expected one of: {', '.join(NAMES)}")
    judged = trace_profile(prof.label())
    header = {"synack_trace": 1, "profile": prof.label(), "source": "synack.oracle.strategies.traces",
              "params": {k: judged.params[k] for k in judged.params if judged.params[k] != prof.params[k]}}

    def build(name, choices, side, seed, kind):
        run = walk(config(prof.label(), name), choices, max_steps, _system(prof.label(), name))
        tr = run.trace(side)
        if conformant:
            return Trace(tr, header)
        for k in [kind] + [m for m in MUTATIONS if m != kind]:
            m = mutate(tr, k, random.Random(seed))
            if m is not None:
                return Trace(m[0], header)
        return None
    strat = st.builds(build, st.sampled_from(names), st.lists(st.integers(0, 255), min_size=4, max_size=max_steps),
                      st.integers(0, 1), st.integers(0, 2 ** 16), st.sampled_from(MUTATIONS))
    strat = strat.filter(lambda t: t is not None)
    if settled:
        strat = strat.filter(lambda t: Monitor(judged).check(t).ok)
    return strat


def settled_traces(profile: str = "rfc9293", scenario: str | None = None,
                   max_steps: int = 60) -> st.SearchStrategy[Trace]:
    """`traces(profile, settled=True, ...)`: conformant and complete traces only."""
    return traces(profile, True, scenario, max_steps, settled=True)


@lru_cache(maxsize=32)
def _system(profile: str, scenario: str) -> System:
    return System(config(profile, scenario))


def trace_profile(profile: str = "rfc9293"):
    """The profile `traces` generates under (retry limits capped at 2), for the monitor."""
    return config(profile, "handshake").profile
