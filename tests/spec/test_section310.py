"""Transitions of RFC 9293 section 3.10 that Figure 5 omits, driven through `step`."""
import pytest

from drive import Endpoint, State, arrive, call, est, one, seg, step, timeout
from synack.spec import get_profile

P = "rfc9293"


def tw():
    fw1 = one(P, est(100, 300), call("CLOSE")).endpoint
    return one(P, fw1, arrive(seg("FIN,ACK", 300, 101))).endpoint


def test_closed_answers_with_acceptable_resets():
    assert one(P, Endpoint(), arrive(seg("ACK", 5, 77))).sends == (seg("RST", 77, wnd=0),)
    r = one(P, Endpoint(), arrive(seg("SYN", 5, data=3))).sends[0]
    assert (r.seq, r.ack, r.flags) == (0, 9, seg("RST,ACK", 0, 0).flags)
    assert one(P, Endpoint(), arrive(seg("RST", 5))).sends == ()


def test_listen_ignores_rst_and_resets_acks():
    ls = one(P, Endpoint(), call("LISTEN")).endpoint
    assert one(P, ls, arrive(seg("RST", 1))).sends == ()
    assert one(P, ls, arrive(seg("ACK", 1, 42))).sends == (seg("RST", 42, wnd=0),)


def test_synsent_bad_ack_gets_reset_and_rst_without_ack_is_dropped():
    ss = one(P, Endpoint(), call("CONNECT", isn=1000)).endpoint
    assert one(P, ss, arrive(seg("SYN,ACK", 5, 1000))).sends == (seg("RST", 1000, wnd=0),)
    t = one(P, ss, arrive(seg("RST", 5)))
    assert t.endpoint == ss and t.sends == ()


def test_synrcvd_active_rst_refuses_and_bad_ack_resets():
    a = one(P, Endpoint(), call("CONNECT", isn=1)).endpoint
    sr = one(P, a, arrive(seg("SYN", 50))).endpoint
    t = one(P, sr, arrive(seg("RST", 51)))
    assert t.endpoint.state is State.CLOSED and "error: connection refused" in t.signals
    assert one(P, sr, arrive(seg("ACK", 51, 99))).sends == (seg("RST", 99, wnd=0),)


@pytest.mark.parametrize("state_ep", ["est", "fw1", "cw"])
def test_exact_rst_resets_and_inexact_rst_gets_challenge_ack(state_ep):
    ep = {"est": est(100, 300), "fw1": one(P, est(100, 300), call("CLOSE")).endpoint,
          "cw": one(P, est(100, 300), arrive(seg("FIN,ACK", 300, 100))).endpoint}[state_ep]
    assert one(P, ep, arrive(seg("RST", ep.rcv_nxt))).endpoint.state is State.CLOSED
    ch = one(P, ep, arrive(seg("RST", ep.rcv_nxt + 5)))
    assert ch.endpoint == ep and ch.sends[0].ack == ep.rcv_nxt and ch.rows[-1] == "rst.challenge"
    # RFC 793 behaviour without RFC 5961: any in-window RST resets
    plain = get_profile("rfc9293")
    from dataclasses import replace
    old = replace(plain, options=plain.options - {"challenge-ack"}, name="rfc793-rst")
    assert one(old, ep, arrive(seg("RST", ep.rcv_nxt + 5))).endpoint.state is State.CLOSED


def test_syn_in_synchronized_state_gets_challenge_ack():
    t = one(P, est(100, 300), arrive(seg("SYN", 305)))
    assert t.endpoint.state is State.ESTABLISHED and (t.sends[0].seq, t.sends[0].ack) == (100, 300)
    assert "syn.challenge" in t.rows


def test_unacceptable_segment_is_acked_and_dropped():
    t = one(P, est(100, 300, wnd=10), arrive(seg("ACK", 5000, 100, data=5)))
    assert t.endpoint == est(100, 300, wnd=10) and t.sends[0].ack == 300 and t.rows == ("seq.bad",)


def test_ack_of_unsent_data_is_acked_and_dropped_including_distance_2_31():
    e = est(100, 300)
    for ack in (150, (100 + (1 << 31)) % (1 << 32)):
        t = one(P, e, arrive(seg("ACK", 300, ack)))
        assert t.rows[-1] == "ack.unsent" and t.endpoint == e


def test_old_ack_is_ignored_and_new_ack_advances_with_wraparound():
    e = est(0xFFFFFFF0, 300)._replace(snd_nxt=0x10)        # 32 bytes outstanding across the wrap
    t = one(P, e, arrive(seg("ACK", 300, 0x5)))
    assert t.endpoint.snd_una == 0x5 and "ack.new" in t.rows
    assert "ack.old" in one(P, t.endpoint, arrive(seg("ACK", 300, 0xFFFFFFF8))).rows


def test_data_advances_rcv_nxt_and_is_trimmed_to_the_window():
    t = one(P, est(100, 300, wnd=10), arrive(seg("ACK", 300, 100, data=4)))
    assert t.endpoint.rcv_nxt == 304 and t.endpoint.unread is True and t.sends[0].ack == 304
    t = one(P, est(100, 300, wnd=10), arrive(seg("FIN,ACK", 300, 100, data=15)))
    assert t.endpoint.rcv_nxt == 310 and t.endpoint.state is State.ESTABLISHED and "text.trim" in t.rows
    t = one(P, est(100, 300, wnd=10), arrive(seg("ACK", 298, 100, data=4)))      # overlaps old data
    assert t.endpoint.rcv_nxt == 302


def test_time_wait_absorbs_a_retransmitted_fin():
    t = one(P, tw(), arrive(seg("FIN,ACK", 300, 101)))     # the FIN again: SEQ = RCV.NXT - 1
    assert t.endpoint.state is State.TIME_WAIT and t.sends[0].ack == 301 and "restart 2MSL" in t.signals


def test_rst_in_time_wait_assassinates_it_unless_rfc1337():
    assert one(P, tw(), arrive(seg("RST", 301))).endpoint.state is State.CLOSED
    assert one("rfc9293+rfc1337", tw(), arrive(seg("RST", 301))).endpoint.state is State.TIME_WAIT


def test_retransmission_backoff_counts_and_gives_up():
    ss = one(P, Endpoint(), call("CONNECT", isn=5)).endpoint
    limit = get_profile(P).params["SYN.RETRIES"]
    for i in range(limit):
        t = one(P, ss, timeout("RTO"))
        assert t.sends == (seg("SYN", 5),) and t.endpoint.rtx == i + 1
        ss = t.endpoint
    t = one(P, ss, timeout("RTO"))
    assert t.endpoint.state is State.CLOSED and "error: connection timed out" in t.signals


def test_fin_retransmission_and_user_timeout():
    la = one(P, one(P, est(100, 300), arrive(seg("FIN,ACK", 300, 100))).endpoint, call("CLOSE")).endpoint
    t = one(P, la, timeout("RTO"))
    assert t.sends[0].seq == 100 and t.sends[0].flags & seg("FIN", 0).flags
    assert one(P, la, timeout("USER-TIMEOUT")).endpoint.state is State.CLOSED
    assert step(P, est(100, 300), timeout("RTO")) == []        # nothing outstanding: not armed


def test_keepalive_probe_and_give_up():
    e = est(100, 300)
    t = one(P, e, timeout("KEEPALIVE"))
    assert (t.sends[0].seq, t.sends[0].ack) == (99, 300)
    # the peer's answer (an ACK for the probe) resets the probe count
    assert one(P, t.endpoint, arrive(seg("ACK", 300, 100))).endpoint.probes == 0
    dead = e._replace(probes=get_profile(P).params["KA.PROBES"])
    assert one(P, dead, timeout("KEEPALIVE")).endpoint.state is State.CLOSED


@pytest.mark.parametrize("ep,sends_rst", [(est(100, 300), True), (Endpoint(State.LISTEN), False)])
def test_abort(ep, sends_rst):
    t = one(P, ep, call("ABORT"))
    assert t.endpoint.state is State.CLOSED and bool(t.sends) == sends_rst


def test_send_in_syn_sent_is_queued_and_rides_on_the_third_segment():
    ss = one(P, Endpoint(), call("CONNECT", isn=1)).endpoint
    ss = one(P, ss, call("SEND", n=5)).endpoint
    t = one(P, ss, arrive(seg("SYN,ACK", 50, 2)))
    assert t.sends[0].data == 5 and t.endpoint.snd_nxt == 7


def test_calls_on_closed_and_closing_connections_are_errors():
    assert one(P, Endpoint(), call("SEND", n=1)).signals == ("error: connection does not exist",)
    assert one(P, tw(), call("SEND", n=1)).signals == ("error: connection closing",)


def test_linux_options():
    L = "linux"
    e = est(100, 300)._replace(unread=True)
    t = one(L, e, call("CLOSE"))
    assert t.endpoint.state is State.CLOSED and t.sends[0].flags == seg("RST,ACK", 0, 0).flags
    assert one(L, e, call("SHUTDOWN")).endpoint.state is State.FIN_WAIT_1
    ab = one(L, est(100, 300), call("ABORT")).sends[0]
    assert (ab.seq, ab.ack) == (100, 300) and ab.flags & seg("ACK", 0, 0).flags
    re = one(L, tw()._replace(passive=True), arrive(seg("SYN", 5000)))
    assert re.endpoint.state is State.SYN_RECEIVED and re.endpoint.iss == 101 + 65537
    # a client's TIME-WAIT: no listener holds the port, so the SYN gets TIME-WAIT's ACK (tcp_v4_rcv())
    kept = one(L, tw(), arrive(seg("SYN", 5000)))
    assert kept.endpoint.state is State.TIME_WAIT and [x.flags for x in kept.sends] == [seg("ACK", 0, 0).flags]
    fw2 = one(L, one(L, est(100, 300), call("CLOSE")).endpoint, arrive(seg("ACK", 300, 101))).endpoint
    assert one(L, fw2, timeout("FIN-WAIT-2")).endpoint.state is State.CLOSED
    assert step(P, fw2, timeout("FIN-WAIT-2")) == []
    sr = one(L, one(L, Endpoint(), call("LISTEN")).endpoint, arrive(seg("SYN", 9), isn=1)).endpoint
    assert one(L, sr, arrive(seg("SYN", 9))).sends[0].flags == seg("SYN,ACK", 0, 0).flags
    assert len(step(L, est(100, 300), arrive(seg("SYN", 305)))) == 2        # challenge ACK or rate-limited


def test_simultaneous_open_syn_ack_may_be_acknowledged_under_rfc9293():
    """RFC 9293 3.10.7.4's first check answers the SYN,ACK (its SYN below RCV.NXT) with an ACK;
    Figure 7 shows none: both are allowed (libslirp sends it, a false alarm before)."""
    from synack.spec import ACK, SYN, Endpoint, Segment, State, arrive, step
    ep = Endpoint(State.SYN_RECEIVED, iss=100, irs=300, snd_una=100, snd_nxt=101, rcv_nxt=301, rcv_wnd=1000)
    out = step("rfc9293", ep, arrive(Segment(SYN | ACK, 300, 101, 0, 1000)))
    sends = sorted(tuple(t.sends) for t in out)
    assert [t.endpoint.state for t in out] == [State.ESTABLISHED] * len(out)
    assert () in sends and any(s and s[0].flags == ACK and s[0].ack == 301 for s in sends)


def test_shutdown_after_the_fin_may_return_ok_but_never_sends_a_second_fin():
    from synack.spec import Endpoint, State, call, step
    for st in (State.FIN_WAIT_1, State.FIN_WAIT_2):
        ep = Endpoint(st, iss=100, irs=300, snd_una=101 if st is State.FIN_WAIT_2 else 100, snd_nxt=101,
                      rcv_nxt=301, rcv_wnd=1000, fin_sent=True)
        out = step("rfc9293", ep, call("SHUTDOWN"))
        assert {bool(t.signals) for t in out} == {True, False} and all(not t.sends for t in out)
