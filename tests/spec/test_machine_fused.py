"""The fused backend (spec/fused.py) against the reference interpreter (`Machine.step_interpreted`):
the same transitions, in the same order, and the same frame bits, on random endpoints and
events of every profile; Unspecified from both or from neither. And the step's result cache
gives back what it computed."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synack.spec import fused, icmp
from synack.spec.machine import Machine, Unspecified, machine
from synack.spec.model import CALLS, ICMP, MASK, SEGMENT, TIMERS, Endpoint, Event, Segment, State
from synack.spec.profiles import get_profile

PROFILES = ("rfc9293", "linux", "rfc9293+no-time-wait", "rfc9293+rfc1337", "rfc9293+two-way-handshake")
#: with parameters that change which rows apply (a user timeout turns USER.TIMEOUT.ON true)
PARAMS = {"linux": {"user_timeout": 0.2}}
BASES = (0, 1000, MASK - 5, 1 << 31)


def _seq(base: st.SearchStrategy) -> st.SearchStrategy[int]:
    # near a base (guards compare numbers a few bytes apart), or anywhere
    return st.one_of(st.builds(lambda b, d: (b + d) & MASK, base, st.integers(-3, 3)),
                     st.integers(0, MASK))


@st.composite
def endpoints(draw) -> Endpoint:
    lb = draw(st.sampled_from(BASES))
    pb = draw(st.sampled_from(BASES))
    local, peer = _seq(st.just(lb)), _seq(st.just(pb))
    small = st.integers(0, 3)
    return Endpoint(draw(st.sampled_from(list(State))), draw(local), draw(peer), draw(local), draw(local),
                    draw(st.sampled_from((0, 1, 1000, 65535))), draw(peer), draw(st.sampled_from((0, 1, 1000, 65535))),
                    draw(small), draw(small), draw(st.booleans()), draw(st.sampled_from((0, 1, 500))),
                    draw(st.booleans()), draw(st.booleans()), draw(st.booleans()), draw(st.booleans()),
                    draw(st.sampled_from((0, 536, 1000))), draw(st.integers(0, 3)),
                    *draw(st.sampled_from(((0, 0), (1, 3), (2, 1000)))), draw(st.booleans()))


@st.composite
def events(draw, ep: Endpoint) -> Event:
    kind = draw(st.sampled_from(CALLS + TIMERS + (SEGMENT,) * 6 + (ICMP,)))
    if kind == ICMP:
        err = draw(st.sampled_from(((3, 0), (3, 1), (3, 2), (3, 3), (3, 4), (3, 13), (11, 0), (12, 0), (4, 0))))
        return icmp(*err, draw(_seq(st.sampled_from((ep.iss, ep.snd_una, ep.snd_nxt)))))
    if kind == SEGMENT:
        seq = draw(st.one_of(_seq(st.sampled_from((ep.irs, ep.rcv_nxt, ep.rcv_nxt + ep.rcv_wnd))), _seq(st.just(0))))
        ack = draw(st.one_of(_seq(st.sampled_from((ep.iss, ep.snd_una, ep.snd_nxt))), st.just(0)))
        flags = draw(st.integers(0, 31))
        data = draw(st.sampled_from((0, 1, 3, 536, 1000, 1460, 65535)))
        seg = Segment(flags, seq, ack if flags & 0x10 else 0, data, draw(st.sampled_from((0, 1, 1000, 65535))),
                      draw(st.sampled_from((0, 536, 1460))), draw(st.integers(0, 3)), draw(st.integers(0, 2)))
        return Event(SEGMENT, seg)
    return Event(kind, None, draw(_seq(st.just(ep.iss))), draw(st.sampled_from((0, 1, 100, 1000, 65535))))


def _outcome(fn, ep: Endpoint, ev: Event):
    try:
        trs, bits = fn(ep, ev)
    except Unspecified as exc:
        return ("unspecified", str(exc))
    return (tuple(trs), bits)


@pytest.mark.parametrize("profile,params", [(p, {}) for p in PROFILES] + list(PARAMS.items()))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fused_steps_are_the_interpreted_steps(profile, params, data):
    m = Machine(get_profile(profile).with_params(**params)) if params else machine(profile)
    ep = data.draw(endpoints())
    ev = data.draw(events(ep))
    m._results.clear()
    want = _outcome(m.step_interpreted, ep, ev)
    assert _outcome(m.step_framed, ep, ev) == want
    assert _outcome(m.step_framed, ep, ev) == want        # again, from the result cache


def test_every_key_of_every_profile_compiles():
    for name in PROFILES:
        m = Machine(get_profile(name))
        for key in m.table:
            assert callable(m._fuse(key))


def _reached_steps(m: Machine):
    """Steps from endpoints the checker's scenarios reach (every state), every event kind."""
    from synack.oracle.strategies import endpoint_in

    for s in State:
        try:
            ep = endpoint_in(s, m.profile.name)
        except Exception:       # noqa: BLE001 - a state a profile's scenarios do not reach
            continue
        for kind in CALLS + TIMERS:
            yield ep, Event(kind, None, 7, 100)
        for flags in range(32):
            yield ep, Event(SEGMENT, Segment(flags, ep.rcv_nxt, ep.snd_nxt if flags & 0x10 else 0, 10, 1000))


def test_a_wrong_frame_mask_is_caught(monkeypatch):
    """Built to break: fused functions that keep every row's frame bits (as if every row
    commuted with the shift) disagree with the interpreter on some reached step."""
    monkeypatch.setattr(fused, "row_mask", lambda *a: fused.ALL)
    m = Machine(get_profile("linux"))
    assert any(_outcome(m.step_framed, ep, ev) != _outcome(m.step_interpreted, ep, ev)
               for ep, ev in _reached_steps(m))


def test_the_reached_steps_agree():
    for name in ("rfc9293", "linux"):
        m = Machine(get_profile(name))
        for ep, ev in _reached_steps(m):
            assert _outcome(m.step_framed, ep, ev) == _outcome(m.step_interpreted, ep, ev)


def test_cached_results_are_fresh_lists():
    m = Machine(get_profile("linux"))
    ep = Endpoint(State.ESTABLISHED, 100, 200, 101, 101, 1000, 201, 1000, snd_mss=1000)
    ev = Event(SEGMENT, Segment(0x10, 201, 101, 10, 1000))
    a, _ = m.step_framed(ep, ev)
    a.clear()
    b, _ = m.step_framed(ep, ev)
    assert b and b == m.step_interpreted(ep, ev)[0]


@pytest.mark.parametrize("event", [Event("BOGUS"), Event(SEGMENT)])
def test_bad_events_are_refused_by_both(event):
    from synack.spec.model import SpecError

    m = Machine(get_profile("linux"))
    for fn in (m.step_framed, m.step_interpreted):
        with pytest.raises(SpecError):
            fn(Endpoint(), event)
