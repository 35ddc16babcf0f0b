"""The monitor's memo (steps reused across connections that differ only by their ISNs) never
changes a verdict, and does get reused."""
import dataclasses
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synack.checker.scenarios import NAMES
from synack.oracle import Monitor, ReferenceEndpoint
from synack.oracle.events import SegmentEvent
from synack.oracle.generate import MUTATIONS, config, mutate, walk
from synack.spec.frames import shift_received, shift_sent
from synack.spec.model import MASK


def _cfg(profile, scenario):
    return config(profile, scenario, **({"incarnations": 2} if scenario == "reconnect" else {}))


def shifted(trace, dl, dp):
    """The same trace from a connection whose IUT chose its ISN dl later and its peer dp later."""
    out = []
    for ev in trace:
        if isinstance(ev, SegmentEvent):
            f = shift_received if ev.dir == "in" else shift_sent
            ev = dataclasses.replace(ev, seg=f(ev.seg, dl, dp))
        out.append(ev)
    return out


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
@pytest.mark.parametrize("scenario", NAMES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choices=st.lists(st.integers(0, 255), min_size=1, max_size=90), side=st.integers(0, 1),
       calls=st.booleans(), seed=st.integers(0, 2 ** 16), dl=st.integers(0, MASK), dp=st.integers(0, MASK))
def test_memo_changes_no_verdict(profile, scenario, choices, side, calls, seed, dl, dp):
    """Generated runs and their mutants, judged with and without the memo, also shifted to other
    ISNs after the memo has seen the original: the same verdict every time."""
    cfg = _cfg(profile, scenario)
    trace = walk(cfg, choices, 90).trace(side, calls=calls)
    rng = random.Random(seed)
    traces = [trace] + [m[0] for m in (mutate(trace, k, rng) for k in MUTATIONS) if m is not None]
    for tr in traces:
        plain = Monitor(cfg.profile, memo=False).check(tr).to_json()
        assert Monitor(cfg.profile).check(tr).to_json() == plain
        # shifted: not always the same verdict (RFC 9293's <SEQ=0> reset does not move), but
        # the memo, warmed by the original, must agree with a fresh computation
        moved = shifted(tr, dl, dp)
        assert Monitor(cfg.profile).check(moved).to_json() == Monitor(cfg.profile, memo=False).check(moved).to_json()


def timed(trace, gaps, t0=0.0):
    """The trace with times: gaps (seconds between events) cycled, starting at t0."""
    out, t = [], t0
    for i, ev in enumerate(trace):
        t += gaps[i % len(gaps)]
        out.append(dataclasses.replace(ev, t=t))
    return out


GAPS = (0.0, 0.0001, 0.3, 0.9, 1.5, 3.0, 45.0, 70.0, 400.0)


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
@pytest.mark.parametrize("scenario", ["client-close", "server-close", "simultaneous-close", "handshake", "data"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choices=st.lists(st.integers(0, 255), min_size=1, max_size=90), side=st.integers(0, 1),
       gaps=st.lists(st.sampled_from(GAPS), min_size=1, max_size=6), again=st.lists(st.sampled_from(GAPS),
       min_size=1, max_size=6), seed=st.integers(0, 2 ** 16), dl=st.integers(0, MASK))
def test_memo_of_timed_steps_changes_no_verdict(profile, scenario, choices, side, gaps, again, seed, dl):
    """Timed traces (backoff, TIME-WAIT, keep-alive and user timeouts all read the clock), and
    their mutants: the memo, warmed by the same trace at other times, agrees with a fresh
    computation."""
    cfg = _cfg(profile, scenario)
    trace = walk(cfg, choices, 90).trace(side)
    rng = random.Random(seed)
    traces = [trace] + [m[0] for m in (mutate(trace, k, rng) for k in MUTATIONS) if m is not None]
    for tr in traces:
        Monitor(cfg.profile).check(timed(shifted(tr, dl, 0), again, 1000.0))      # warm the memo
        tr = timed(tr, gaps)
        assert Monitor(cfg.profile).check(tr).to_json() == Monitor(cfg.profile, memo=False).check(tr).to_json()


def exchange(isn_a: int, isn_b: int, rounds: int = 8) -> list:
    """Client A's view of a connection between two reference endpoints: handshake, data both
    ways, each side reads, then A closes first."""
    a, b = ReferenceEndpoint("linux", isn=isn_a), ReferenceEndpoint("linux", isn=isn_b)
    b.call("listen")
    trace = []
    wire = [(0, s) for s in a.call("connect")]
    script = [(0, "send", 500), (1, "send", 700)] * rounds + [(0, "receive", 0), (1, "receive", 0),
                                                              (0, "close", 0), (1, "close", 0)]
    while wire or script:
        if not wire:
            side, name, n = script.pop(0)
            wire += [(side, s) for s in (a, b)[side].call(name, n)]
            continue
        side, seg = wire.pop(0)
        trace.append(SegmentEvent("out" if side == 0 else "in", seg, win=seg.wnd))
        wire += [(1 - side, s) for s in (b, a)[side].receive(seg)]
    return trace


def test_a_second_connection_reuses_the_first_s_steps(monkeypatch):
    """The same exchange with other ISNs costs a fraction of the table steps the first did."""
    import weakref

    import synack.oracle.monitor as monitor_module
    from synack.spec.machine import Machine
    monkeypatch.setattr(monitor_module, "_SHARED", weakref.WeakKeyDictionary())   # start cold
    calls = []
    real = Machine.step_framed
    monkeypatch.setattr(Machine, "step_framed", lambda self, ep, ev: calls.append(1) or real(self, ep, ev))
    first_trace = exchange(1000, 5000)
    other = exchange(3_000_000_000, 77)      # made before counting: only the monitors' steps count
    calls.clear()
    assert Monitor("linux").check(first_trace).status == "conformant"
    first = len(calls)
    calls.clear()
    v = Monitor("linux").check(other)
    assert len(first_trace) > 30 and len(calls) < first / 3, (len(first_trace), first, len(calls))
    assert v.status == "conformant" and v.to_json() == Monitor("linux", memo=False).check(other).to_json()


def test_a_step_that_reads_the_clock_is_not_reused():
    """TIME-WAIT entered in an untimed trace must not teach the memo a TIME-WAIT without its
    start time: the timed trace after it still may not end TIME-WAIT after 1 s."""
    from synack.oracle.events import as_events
    from test_monitor import CLIENT, s
    close = CLIENT[:6] + [s("in", "ACK", 5001, 1012), s("in", "FIN,ACK", 5001, 1012), s("out", "ACK", 1012, 5002)]
    Monitor("linux").check(close)                                      # untimed: warms the memo
    timed = [dataclasses.replace(e, t=float(i)) for i, e in enumerate(as_events(close))]
    early = timed + [dataclasses.replace(e, t=len(timed) + 1.0) for e in
                     as_events([s("in", "ACK", 5002, 1012), s("out", "RST", 1012)])]
    assert Monitor("linux").check(early).status == "violation"


def test_backoff_learned_at_one_pace_is_still_checked_at_another():
    """A SYN,ACK retransmitted on time teaches the memo that step; the same step 0.2 s after
    the first SYN,ACK is still too early."""
    from test_monitor import s as seg
    ok = [seg("in", "SYN", 7, t=10.0), seg("out", "SYN,ACK", 50, 8, t=10.0), seg("out", "SYN,ACK", 50, 8, t=11.0),
          seg("in", "ACK", 8, 51, t=11.5)]
    assert Monitor("linux").check(ok).ok
    early = [dict(e, t=e["t"] + 100.0) for e in ok]
    early[2]["t"] = 110.2
    early[3]["t"] = 110.3
    assert Monitor("linux").check(early).status == "violation"
