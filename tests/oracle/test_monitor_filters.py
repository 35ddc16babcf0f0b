"""The monitor's static filters on hidden events lose nothing: on random TCBs, the silent steps
taken only for the events `_Shared.silent_by_state` keeps are every silent step the table allows,
and the explanations tried only for the events `can_send` keeps are every explanation of an
observed segment that trying every hidden event gives."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synack.oracle.candidate import Cand
from synack.oracle.monitor import Monitor
from synack.oracle.strategies import endpoint_in
from synack.spec.model import ACK, FIN, MASK, PSH, RST, SYN, Endpoint, Segment, State

PROFILES = ("rfc9293", "linux")


@st.composite
def endpoints(draw) -> Endpoint:
    """Any state, sequence numbers near two bases (as tests/spec/test_machine_fused.py draws them)."""
    lb, pb = draw(st.sampled_from((0, 1000, MASK - 5))), draw(st.sampled_from((0, 1000, MASK - 5)))
    near = lambda b: st.builds(lambda d: (b + d) & MASK, st.integers(-3, 3))      # noqa: E731
    return Endpoint(draw(st.sampled_from(list(State))), draw(near(lb)), draw(near(pb)), draw(near(lb)),
                    draw(near(lb)), draw(st.sampled_from((0, 1000))), draw(near(pb)), draw(st.sampled_from((0, 1000))),
                    draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.booleans()),
                    draw(st.sampled_from((0, 500))), draw(st.booleans()), draw(st.booleans()), draw(st.booleans()),
                    draw(st.booleans()), draw(st.sampled_from((0, 1000))), 0, 0, 0, draw(st.booleans()))


def _all_silent(mon: Monitor, ep) -> tuple:
    """`Monitor._silent_of` over every hidden event with rows in the state (no filter)."""
    res = []
    for ev in mon._sh.silent_ev:
        if (ep.state, ev.kind, "") not in mon.m.table:
            continue
        for tr in mon.m.step(ep, ev):
            if not tr.sends and tr.endpoint != ep:
                res.append((ev.kind, tr.endpoint, ",".join(tr.rows)))
    return tuple(res)


@pytest.mark.parametrize("profile", PROFILES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ep=endpoints())
def test_the_silent_filter_keeps_every_silent_step(profile, ep):
    mon = Monitor(profile)
    assert mon._silent_of(ep) == _all_silent(mon, ep)


@pytest.mark.parametrize("profile", PROFILES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ep=endpoints(), flags=st.sampled_from([ACK, ACK | PSH, FIN | ACK, RST, RST | ACK, SYN, SYN | ACK, FIN]),
       dseq=st.integers(-2, 2), data=st.sampled_from((0, 1, 100, 1000)))
def test_the_send_filter_keeps_every_explanation(profile, ep, flags, dseq, data):
    mon = Monitor(profile)
    obs = Segment(flags, (ep.snd_una + dseq) & 0xFFFFFFFF, ep.rcv_nxt if flags & ACK else 0, data, 1000)
    c = Cand(ep)
    got = list(mon._explain(c, obs, None))
    everything = {k: fs | {f & ~FIN for f in fs} for k, fs in mon._sh.can_send.items()}
    saved = mon.can_send
    try:
        mon.can_send = everything            # every flag any row of the kind sends, with and without FIN
        want = list(mon._explain(c, obs, None))
    finally:
        mon.can_send = saved
    assert got == want


def test_a_filter_that_drops_a_quiet_event_is_caught(monkeypatch):
    """Built to break: a filter without RECEIVE (which reads delivered data silently, clearing
    UNREAD) loses a silent step the table allows."""
    mon = Monitor("linux")
    est = endpoint_in(State.ESTABLISHED, "linux")._replace(unread=True)
    assert any(k == "RECEIVE" for k, _, _ in mon._silent_of(est))
    broken = {**mon._sh.silent_by_state, State.ESTABLISHED: tuple(
        e for e in mon._sh.silent_by_state[State.ESTABLISHED] if e.kind != "RECEIVE")}
    monkeypatch.setattr(mon._sh, "silent_by_state", broken)
    assert mon._silent_of(est) != _all_silent(mon, est)


def test_a_send_filter_without_the_fin_less_rto_flags_is_caught(monkeypatch):
    """Built to break: if RTO rows did not also offer their flags less FIN, a data-and-FIN
    retransmission repacketized without its FIN (a part of its range) would go unexplained."""
    mon = Monitor("linux")
    ep = Endpoint(State.FIN_WAIT_1, MASK, 99, 0, 101, 65535, 100, 65535, fin_sent=True, snd_mss=1000)
    obs = Segment(ACK, 0, 100, 50, 1000)            # the first half of <SEQ=0><LEN=100><CTL=FIN,ACK>
    assert [r for _, r in mon._explain(Cand(ep), obs, None)] == ["rto.fin"]
    monkeypatch.setattr(mon, "can_send", {**mon.can_send, "RTO": mon.can_send["RTO"] - {ACK}})
    assert list(mon._explain(Cand(ep), obs, None)) == []
