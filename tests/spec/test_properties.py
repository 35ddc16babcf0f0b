"""Hypothesis properties of `step` over random walks from a connected pair."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drive import handshake
from synack.spec import SYNCHRONIZED, TABLE, Endpoint, Segment, State, arrive, call, step, timeout
from synack.spec.model import ACK, CALLS, MASK, RST, TIMERS

ROW_IDS = {r.id for r in TABLE}
FLAGS = st.sampled_from([ACK, ACK | 0x01, ACK | 0x04, 0x04, 0x02, 0x02 | ACK, ACK | 0x08, 0x01, 0])


@st.composite
def events(draw, ep: Endpoint):
    kind = draw(st.sampled_from(["seg", "seg", "seg", "call", "timer"]))
    if kind == "call":
        c = draw(st.sampled_from(CALLS))
        return call(c, isn=draw(st.integers(0, MASK)), n=draw(st.integers(1, 3000)) if c == "SEND" else 0)
    if kind == "timer":
        return timeout(draw(st.sampled_from(TIMERS)))
    near = st.integers(-3, 3)
    flags = draw(FLAGS)
    seq = (ep.rcv_nxt + draw(near)) & MASK if draw(st.booleans()) else draw(st.integers(0, MASK))
    ack = (ep.snd_una + draw(near)) & MASK if flags & ACK else 0
    return arrive(Segment.make(flags, seq, ack, draw(st.integers(0, 3)), draw(st.integers(0, 100))),
                  isn=draw(st.integers(0, MASK)))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data(), st.sampled_from(["rfc9293", "linux", "rfc9293+two-way-handshake"]))
def test_random_walks_respect_the_spec(data, profile):
    a, b, _ = handshake(profile.split("+")[0], data.draw(st.integers(0, MASK)), data.draw(st.integers(0, MASK)))
    ep = data.draw(st.sampled_from([a, b]))
    for _ in range(12):
        ev = data.draw(events(ep))
        results = step(profile, ep, ev)          # never raises: every segment and call has a row
        if ev.kind not in TIMERS:
            assert results, f"no result for {ev} in {ep}"
        if not results:
            continue
        t = data.draw(st.sampled_from(results))
        assert set(t.rows) <= ROW_IDS
        e2 = t.endpoint
        # SND.UNA <= SND.NXT, modulo 2^32
        assert (e2.snd_nxt - e2.snd_una) & MASK < 2**31
        if e2.state in SYNCHRONIZED:
            for s in t.sends:
                if s.flags & ACK and not s.flags & RST:
                    assert s.ack == e2.rcv_nxt, (ev, t)
        ep = e2
        if ep.state is State.CLOSED:
            break
