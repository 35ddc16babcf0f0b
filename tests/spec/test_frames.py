"""Sequence frames: which rows commute with shifting the two sequence spaces (spec/frames.py),
and `step_framed` keeps its word: a result it calls frame-free, shifted, is the result for the
shifted TCB and event."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drive import handshake
from test_properties import events

from synack.spec import Endpoint, Event, State, machine
from synack.spec.frames import UNMOVED, row_commutes, shift_endpoint, shift_received, shift_sent
from synack.spec.machine import Unspecified
from synack.spec.model import MASK, SEGMENT
from synack.spec.vocab import parse_action, parse_expr

ES, CL, LI, SS = State.ESTABLISHED, State.CLOSED, State.LISTEN, State.SYN_SENT


def commutes(guard, actions=(), state=ES, to=None):
    m = machine("rfc9293")
    return row_commutes((parse_expr(guard, m.macros), tuple(parse_action(a, m.macros) for a in actions)), state, to)


def test_the_rfc_s_own_absolute_segment_is_found():
    """RFC 9293 3.10.7.1 answers an ACK-less segment in CLOSED with <SEQ=0>: that RST does not
    move with the connection's ISNs, so the row must not be memoized; it does move with the
    peer's space alone (its ACK is SEG.SEQ + SEG.LEN)."""
    m = machine("rfc9293")
    row = next(r for r in m.rows if r.id == "closed.noack")
    assert "SEQ" in row_commutes(m.parsed[row.id], CL, row.to)
    assert row_commutes(m.parsed[row.id], CL, row.to, peer_only=True) == ""
    common = ("seq.ok", "ack.new", "text.data", "est.shutdown", "fin.est")
    for rid in common:
        r = next(r for r in m.rows if r.id == rid)
        assert all(not row_commutes(m.parsed[rid], s, r.to) for s in r.states), rid


@pytest.mark.parametrize("guard,actions,state,to,reason", [
    ("True", ["send <SEQ=0><CTL=RST>"], ES, None, "SEQ outside"),
    ("ACK and SEG.ACK == RCV.NXT", [], ES, None, "across"),
    ("ACK and SEG.ACK == SND.NXT + 0", ["SND.NXT := IRS"], ES, None, "other space"),
    ("SEG.ACK == SND.NXT", [], ES, None, "without requiring ACK"),
    ("True", ["SND.UNA := 5"], ES, None, "other space or a constant"),
    ("SEG.SEQ == ISS", [], CL, None, "reads ISS in a state"),
    ("True", ["SND.NXT := SND.NXT + 1"], CL, None, "holds no sequence number"),
    ("True", ["RCV.WND := 0"], ES, CL, "without deleting"),
    ("True", ["ISS := ISN", "SND.UNA := ISS", "SND.NXT := ISS + 1"], CL, ES, "IRS, RCV.NXT unset"),
    # SYN-SENT holds no number of the peer's space: CONNECT need not set it, the SYN,ACK must
    ("True", ["ISS := ISN", "SND.UNA := ISS", "SND.NXT := ISS + 1"], CL, SS, ""),
    ("ACK and SEG.SEQ == RCV.NXT", [], SS, None, "reads RCV.NXT in a state"),
    ("True", ["send <SEQ=SND.NXT><ACK=IRS><CTL=ACK>"], SS, None, "reads IRS in a state"),
    ("True", ["RCV.NXT := SEG.SEQ + 1"], SS, ES, "IRS unset"),
    ("True", ["IRS := SEG.SEQ"], SS, None, "holds no sequence number in SYN-SENT"),
    ("True", ["IRS := SEG.SEQ", "RCV.NXT := SEG.SEQ + 1", "send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>"], SS,
     State.SYN_RECEIVED, ""),
    ("True", ["RCV.WND := 0"], ES, SS, "without deleting"),
    ("SEG.END - RCV.NXT <= 5", [], ES, None, ""),
    ("ACK and SEG.ACK == SND.NXT", ["send <SEQ=SEG.ACK><ACK=SEG.SEQ + 1><CTL=RST,ACK>"], ES, None, ""),
    ("True", ["delete TCB", "RCV.WND := WINDOW"], ES, LI, ""),
])
def test_seeded_rows(guard, actions, state, to, reason):
    why = commutes(guard, actions, state, to)
    assert (reason in why and why) if reason else why == "", why


@pytest.mark.parametrize("guard,actions,state,to,reason", [
    # the local space held still: its numbers, constants and an ACK-less SEG.ACK stay alike
    ("True", ["send <SEQ=0><CTL=RST>"], ES, None, ""),
    ("True", ["SND.UNA := 5"], ES, None, ""),
    ("SEG.ACK == SND.NXT", [], ES, None, ""),
    ("SEG.SEQ == ISS", [], CL, None, "across"),
    ("True", ["send <SEQ=SND.NXT><ACK=0><CTL=RST,ACK>"], ES, None, "ACK outside"),
    ("True", ["RCV.NXT := 7"], ES, None, "other space or a constant"),
    ("SEG.SEQ == RCV.NXT", [], SS, None, "reads RCV.NXT in a state"),
    ("True", ["IRS := SEG.SEQ", "RCV.NXT := SEG.SEQ + 1"], CL, State.SYN_RECEIVED, ""),
    ("True", ["ISS := ISN", "SND.UNA := ISS", "SND.NXT := ISS + 1"], CL, ES, "IRS, RCV.NXT unset"),
])
def test_seeded_rows_peer_only(guard, actions, state, to, reason):
    m = machine("rfc9293")
    why = row_commutes((parse_expr(guard, m.macros), tuple(parse_action(a, m.macros) for a in actions)), state, to,
                       peer_only=True)
    assert (reason in why and why) if reason else why == "", why


def _shifted_event(ev: Event, dl: int, dp: int) -> Event:
    if ev.kind == SEGMENT:
        return ev._replace(seg=shift_received(ev.seg, dl, dp), isn=(ev.isn + dl) & MASK)
    return ev._replace(isn=(ev.isn + dl) & MASK)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data(), st.sampled_from(["rfc9293", "linux"]), st.integers(0, MASK), st.integers(0, MASK))
def test_frame_free_steps_move_with_the_shift(data, profile, dl, dp):
    """From connected endpoints, random events: whenever step_framed says a step is frame-free,
    the shifted TCB and event give exactly the shifted results."""
    m = machine(profile)
    a, b, _ = handshake(profile, data.draw(st.integers(0, MASK)), data.draw(st.integers(0, MASK)))
    syn_sent = m.step(Endpoint(), Event("CONNECT", None, data.draw(st.integers(0, MASK)), 0))[0].endpoint
    ep = data.draw(st.sampled_from([a, b, Endpoint(), Endpoint(LI, rcv_wnd=65535, passive=True), syn_sent]))
    free_seen = blind_seen = 0
    for _ in range(10):
        ev = data.draw(events(ep))
        try:
            res, bits = m.step_framed(ep, ev)
            free = bits & 1
        except Unspecified:
            break
        assert not free or bits & 4, "FRAME_FREE implies FRAME_PEER"
        for on, sl in ((free, dl), (bits & 4, 0)):      # both spaces; the peer's alone (FRAME_PEER)
            if not on:
                continue
            free_seen += 1
            moved = m.step(shift_endpoint(ep, sl, dp), _shifted_event(ev, sl, dp))
            expect = [(shift_endpoint(t.endpoint, sl, dp), tuple(shift_sent(s, sl, dp) for s in t.sends),
                       t.signals, t.rows) for t in res]
            assert [(t.endpoint, t.sends, t.signals, t.rows) for t in moved] == expect, (ep, ev)
        if bits & 2 and ep.state not in UNMOVED:
            # blind to the ISNs: other ISS and IRS, the same step (results keep the new ones)
            blind_seen += 1
            other = ep._replace(iss=(ep.iss + dl) & MASK, irs=(ep.irs + dp) & MASK)
            again = [(t.endpoint, t.sends, t.signals, t.rows) for t in m.step(other, ev)]
            assert again == [(t.endpoint._replace(iss=other.iss, irs=other.irs) if t.endpoint.state not in UNMOVED
                              else t.endpoint, t.sends, t.signals, t.rows) for t in res], (ep, ev)
        if not res:
            continue
        ep = data.draw(st.sampled_from(res)).endpoint
