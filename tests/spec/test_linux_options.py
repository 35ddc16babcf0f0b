"""The `linux` profile's options from the kernel audit (docs/linux-audit.md): for each, the
step where it answers differently from `rfc9293`, and a trace that `linux` judges conformant,
that `linux` without the option and `rfc9293` judge violations, and whose mutant just outside
the option's rule `linux` rejects. Traces log every user call (calls_logged), so that a RST the
kernel sends cannot be passed off as a hidden ABORT."""
from dataclasses import replace

import pytest

from drive import Endpoint, State, arrive, call, est, one, seg, step
from synack.oracle import Monitor
from synack.oracle.events import CallEvent, SegmentEvent
from synack.spec import Segment, get_profile
from synack.spec.model import TFO_COOKIE, TFO_NONE, TFO_REQUEST

LINUX = get_profile("linux")


def without(option):
    return replace(LINUX, options=LINUX.options - {option})


def judge(profile, events):
    """Events 10 ms apart: no timer (the user timeout, a give-up) can explain them."""
    timed = [replace(e, t=k / 100) for k, e in enumerate(events)]
    return Monitor(profile, calls_logged=True).check(timed)


def i(flags, sq, ak=0, data=0, wnd=65535):
    return SegmentEvent("in", seg(flags, sq, ak, data, wnd))


def o(flags, sq, ak=0, data=0, wnd=65535):
    return SegmentEvent("out", seg(flags, sq, ak, data, wnd), win=wnd)


def c(name, n=0):
    return CallEvent(name, n)


def assert_option_decides(option, events, mutant):
    """`linux` accepts `events`; without `option`, and under rfc9293, it is a violation; the
    mutant is a violation under `linux`."""
    v = judge(LINUX, events)
    assert v.status == "conformant", str(v)
    for prof in (without(option), get_profile("rfc9293")):
        v = judge(prof, events)
        assert v.status == "violation", f"{prof.label()} {sorted(prof.options)}:\n{v}"
    v = judge(LINUX, mutant)
    assert v.status == "violation", str(v)


# --- a passive SYN-RECEIVED is a request socket (tcp_check_req()) -----------------------------

SERVER_OPEN = [c("LISTEN"), i("SYN", 1000), o("SYN,ACK", 5000, 1001, wnd=1000)]


def test_request_socket_resets_a_wrong_ack_even_outside_its_window():
    """tcp_check_req() checks the ACK before the window: a wrong ACK far outside the window gets
    <SEQ=SEG.ACK><CTL=RST> from the listener (RFC 9293 would send an ACK), and the request stays."""
    events = SERVER_OPEN + [i("ACK", 9000, 4242), o("RST", 4242, wnd=0), i("ACK", 1001, 5001)]
    mutant = SERVER_OPEN + [i("ACK", 9000, 5001), o("RST", 5001, wnd=0), i("ACK", 1001, 5001)]
    assert_option_decides("syn-recv-ack-first", events, mutant)


def test_request_socket_follows_rfc_5961_for_rst():
    """This kernel (6.18) answers an inexact in-window RST in SYN-RECEIVED with a challenge ACK
    and keeps the request (checked live: tests/live/test_linux_audit.py); older kernels dropped
    the request on any in-window RST. Linux's rows are RFC 9293's here."""
    sr = one(LINUX, one(LINUX, Endpoint(), call("LISTEN")).endpoint, arrive(seg("SYN", 1000), isn=5000)).endpoint
    for s in (seg("RST", 1010), seg("RST", 1001), seg("RST,ACK", 1001, 777)):
        assert one(LINUX, sr, arrive(s))[:3] == one("rfc9293", sr, arrive(s))[:3]
    assert one(LINUX, sr, arrive(seg("RST", 1010))).sends == (seg("ACK", 5001, 1001),)


def test_in_window_syn_ack_on_a_request_socket_is_reset_at_its_ack():
    sr = one(LINUX, one(LINUX, Endpoint(), call("LISTEN")).endpoint, arrive(seg("SYN", 1000), isn=5000)).endpoint
    t = one(LINUX, sr, arrive(seg("SYN,ACK", 1003, 5001)))
    assert t.sends == (seg("RST", 5001, wnd=0),) and t.endpoint.state is State.LISTEN
    t = one(LINUX, sr, arrive(seg("SYN", 1003)))
    assert t.sends == (seg("RST,ACK", 0, 1004, wnd=0),)


# --- RST at RCV.NXT - 1 after the peer's FIN (tcp_reset_check()) -------------------------------

CLIENT_OPEN = [c("CONNECT"), o("SYN", 100), i("SYN,ACK", 300, 101), o("ACK", 101, 301)]


def test_rst_at_the_fins_sequence_number_resets_close_wait():
    """CLOSE-WAIT resets on a RST at RCV.NXT - 1 (the peer's FIN's own number): a later ACK
    meets CLOSED and gets a RST. RFC 9293 drops that RST as unacceptable."""
    base = CLIENT_OPEN + [i("FIN,ACK", 301, 101), o("ACK", 101, 302)]
    probe = [i("ACK", 302, 101), o("RST", 101, wnd=0)]
    assert_option_decides("rst-after-fin", base + [i("RST", 301)] + probe, base + [i("RST", 300)] + probe)


def test_rst_after_fin_in_last_ack_and_closing():
    cw = one(LINUX, est(101, 301), arrive(seg("FIN,ACK", 301, 101))).endpoint
    la = one(LINUX, cw, call("SHUTDOWN")).endpoint
    assert la.state is State.LAST_ACK
    t = one(LINUX, la, arrive(seg("RST", 301)))
    assert t.endpoint == Endpoint() and t.rows == ("rst.after-fin.closing",)
    assert one("rfc9293", la, arrive(seg("RST", 301))).endpoint == la


# --- an orphaned FIN-WAIT-2 is a timewait socket (tcp_timewait_state_process()) ----------------

F2_ORPHAN = CLIENT_OPEN + [c("CLOSE"), o("FIN,ACK", 101, 301), i("ACK", 301, 102)]


def test_orphaned_fin_wait_2_dies_on_any_rst_in_its_window():
    probe = [i("ACK", 301, 102, data=5), o("RST", 102, wnd=0)]
    # the mutant's RST lies past the window: it is answered by an ACK (soft), and the probe's
    # data then meets the orphan and is reset by text.abort-on-data... so the probe is a pure ACK
    pure = [i("ACK", 301, 102), o("RST", 102, wnd=0)]
    assert_option_decides("fin-wait-2-minisock", F2_ORPHAN + [i("RST", 400)] + pure,
                          F2_ORPHAN + [i("RST", 301 + 70000)] + pure)
    assert judge(LINUX, F2_ORPHAN + [i("RST", 400)] + probe).status == "conformant"


def test_orphaned_fin_wait_2_resets_a_new_syn():
    events = F2_ORPHAN + [i("SYN", 305), o("RST,ACK", 0, 306, wnd=0)]
    mutant = F2_ORPHAN + [i("SYN", 299), o("RST,ACK", 0, 300, wnd=0)]
    assert_option_decides("fin-wait-2-minisock", events, mutant)


def test_orphaned_fin_wait_2_ignores_pure_acks_and_takes_the_fin():
    f2 = Endpoint(State.FIN_WAIT_2, 100, 300, 102, 102, 65535, 301, 65535, orphan=True, fin_sent=True)
    assert one(LINUX, f2, arrive(seg("ACK", 301, 102))).rows == ("finwait2.lx.dup",)
    t = one(LINUX, f2, arrive(seg("FIN,ACK", 301, 102)))
    assert t.endpoint.state is State.TIME_WAIT and t.sends == (seg("ACK", 102, 302),)
    assert t.rows == ("finwait2.lx.fin",) and "restart 2MSL" in t.signals
    shut = f2._replace(orphan=False)   # shutdown(), not close(): a full socket, the RFC's rows
    assert one(LINUX, shut, arrive(seg("RST", 400))).rows[0] == "finwait2.lx.socket"


# --- TIME-WAIT (tcp_timewait_state_process(), TCP_TIME_WAIT substate) -------------------------

TIME_WAIT = CLIENT_OPEN + [c("CLOSE"), o("FIN,ACK", 101, 301), i("FIN,ACK", 301, 102), o("ACK", 102, 302)]


def test_time_wait_acks_anything_but_a_bare_ack_or_rst_at_rcv_nxt():
    """Data at RCV.NXT in TIME-WAIT gets an ACK from Linux; RFC 9293 ignores the text silently,
    so the ACK is a violation there. A bare ACK at RCV.NXT gets nothing."""
    events = TIME_WAIT + [i("ACK", 302, 102, data=10), o("ACK", 102, 302)]
    mutant = TIME_WAIT + [i("ACK", 302, 102), o("ACK", 102, 302)]
    assert_option_decides("time-wait-minisock", events, mutant)


def test_time_wait_drops_an_inexact_rst_and_restarts_on_a_bare_ack():
    tw = Endpoint(State.TIME_WAIT, 100, 300, 102, 102, 65535, 302, 65535, fin_sent=True, orphan=True)
    t = one(LINUX, tw, arrive(seg("RST", 310)))
    assert (t.endpoint, t.sends) == (tw, ())
    assert one("rfc9293", tw, arrive(seg("RST", 310))).sends == (seg("ACK", 102, 302),)
    assert one(LINUX, tw, arrive(seg("RST", 302))).endpoint == Endpoint()
    assert one(LINUX.label() + "+rfc1337", tw, arrive(seg("RST", 302))).endpoint == tw
    assert one(LINUX, tw, arrive(seg("ACK", 302, 102))).signals == ("restart 2MSL",)
    assert one("rfc9293", tw, arrive(seg("ACK", 302, 102))).signals == ()


# --- ACK of unsent data in ESTABLISHED (tcp_ack()) ------------------------------------------

def test_ack_of_unsent_data_is_answered_with_an_ack_in_every_state():
    """This kernel (6.18) answers an ACK of unsent data with <SEQ=SND.NXT><ACK=RCV.NXT> in
    ESTABLISHED too (live: tests/live/scenarios.py ack_of_unsent_data; the test kit found the same),
    as RFC 9293 3.10.7.4 says: the row that dropped it silently there was wrong and is gone. Linux
    rate-limits that answer (tcp_send_challenge_ack()): silence is a choice under its rate limit."""
    e = est(101, 301)
    for prof in (LINUX, "rfc9293"):
        assert one(prof, e, arrive(seg("ACK", 301, 500))).sends == (seg("ACK", 101, 301),)
        cw = e._replace(state=State.CLOSE_WAIT, rcv_nxt=302)
        assert one(prof, cw, arrive(seg("ACK", 302, 500))).sends == (seg("ACK", 101, 302),)
    assert sorted(t.rows[-1] for t in step(LINUX, e, arrive(seg("ACK", 301, 500)))) == ["ack.unsent",
                                                                                       "ack.unsent.limited"]
    assert [t.rows[-1] for t in step("rfc9293", e, arrive(seg("ACK", 301, 500)))] == ["ack.unsent"]


# --- close() with unread data in CLOSING and LAST-ACK (__tcp_close()) --------------------------

def test_close_with_unread_data_in_last_ack_sends_rst():
    events = CLIENT_OPEN + [i("ACK", 301, 101, data=7), o("ACK", 101, 308), i("FIN,ACK", 308, 101),
                            o("ACK", 101, 309), c("SHUTDOWN"), o("FIN,ACK", 101, 309), c("CLOSE"),
                            o("RST,ACK", 102, 309, wnd=0)]
    assert judge(LINUX, events).status == "conformant"
    v = judge("rfc9293", events)
    assert v.status == "violation" and "RST" in v.event, str(v)
    read = events[:-2] + [c("RECEIVE"), c("CLOSE"), o("RST,ACK", 102, 309, wnd=0)]
    assert judge(LINUX, read).status == "violation"
    tw = Endpoint(State.TIME_WAIT, 100, 300, 102, 102, 65535, 302, 65535, fin_sent=True, unread=True)
    assert one(LINUX, tw, call("CLOSE")).sends == ()


@pytest.mark.parametrize("option", ["syn-recv-ack-first", "rst-after-fin", "fin-wait-2-minisock",
                                    "time-wait-minisock", "past-window-whole"])
def test_audit_options_are_linux_only_and_cite_the_kernel(option):
    from synack.spec import TABLE
    from synack.spec.profiles import OPTIONS

    assert option in LINUX.options and option not in get_profile("rfc9293").options
    assert "Linux" in OPTIONS[option]
    rows = [r for r in TABLE if option in r.when.split()]
    assert rows and all("Linux" in r.rfc for r in rows if f"not {option}" not in r.when)
    assert step(LINUX, Endpoint(), arrive(seg("RST", 1))) == step("rfc9293", Endpoint(), arrive(seg("RST", 1)))


# --- TCP Fast Open (RFC 7413; option tfo, on in linux, variant rfc9293+tfo) -----------------

TFO = get_profile("rfc9293+tfo")


def test_tfo_client_sends_data_on_the_syn_and_the_syn_ack_acknowledges_it():
    """CONNECT with 20 bytes and a cookie: the SYN carries them; the SYN,ACK acknowledges all."""
    events = [c("CONNECT", 20), o("SYN", 100, data=20), i("SYN,ACK", 300, 121), o("ACK", 121, 301)]
    mutant = [c("CONNECT", 20), o("SYN", 100, data=21), i("SYN,ACK", 300, 122), o("ACK", 122, 301)]
    assert_option_decides("tfo", events, mutant)
    assert judge(TFO, events).status == "conformant"


def test_tfo_client_falls_back_when_the_server_acknowledges_only_the_syn():
    """RFC 7413 4.2.2: the SYN,ACK acknowledges only the SYN; the data is still outstanding and
    goes again (rto.data: Linux sends it at once, and the oracle does not time data
    retransmissions), carrying the handshake's ACK; more than was sent on the SYN is not a
    retransmission."""
    events = [c("CONNECT", 20), o("SYN", 100, data=20), i("SYN,ACK", 300, 101), o("ACK", 101, 301, data=20),
              i("ACK", 301, 121)]
    mutant = events[:-2] + [o("ACK", 101, 301, data=21), i("ACK", 301, 122)]
    assert_option_decides("tfo", events, mutant)
    assert judge(TFO, events).status == "conformant"


def test_tfo_client_without_a_cookie_asks_for_one_and_sends_after_the_handshake():
    events = [c("CONNECT", 20), o("SYN", 100), i("SYN,ACK", 300, 101), o("ACK", 101, 301, data=20),
              i("ACK", 301, 121)]
    assert judge(LINUX, events).status == "conformant"
    assert judge(without("tfo"), events).status == "violation"
    assert judge(LINUX, events[:-2] + [o("ACK", 101, 301, data=19), i("ACK", 301, 120)]).status == "violation"


def test_tfo_client_retransmits_the_syn_without_its_data():
    timed = [replace(e, t=t) for e, t in zip(
        [c("CONNECT", 20), o("SYN", 100, data=20), o("SYN", 100), i("SYN,ACK", 300, 101), o("ACK", 101, 301, data=20),
         i("ACK", 301, 121)], (0.0, 0.0, 1.0, 1.01, 1.02, 1.03))]
    assert Monitor(LINUX, calls_logged=True).check(timed).status == "conformant"
    early = [replace(timed[2], t=0.3) if k == 2 else e for k, e in enumerate(timed)]
    assert Monitor(LINUX, calls_logged=True).check(early).status == "violation"


def test_tfo_server_accepts_data_on_the_syn_and_sends_before_the_final_ack():
    events = [c("LISTEN"), i("SYN", 1000, data=10), o("SYN,ACK", 5000, 1011), c("SEND", 100),
              o("ACK", 5001, 1011, data=100), i("ACK", 1011, 5101)]
    mutant = events[:2] + [o("SYN,ACK", 5000, 1012)] + events[3:]
    assert_option_decides("tfo", events, mutant)
    assert judge(TFO, events).status == "conformant"
    ignored = [c("LISTEN"), i("SYN", 1000, data=10), o("SYN,ACK", 5000, 1001), i("ACK", 1001, 5001)]
    for prof in (LINUX, TFO, get_profile("rfc9293")):
        assert judge(prof, ignored).status == "conformant"


def test_tfo_server_child_from_a_syn_with_a_cookie_and_no_data_sends_before_the_final_ack():
    """tcp_try_fastopen(): a valid cookie creates the child whatever the payload, so a SYN with a
    cookie and no data may be answered with data before the handshake's final ACK (packetdrill
    fastopen/server/basic-zero-payload). The same SYN without a cookie (a cookie request, or no
    option) makes a request socket, which cannot send yet."""
    def events(tfo):
        return [c("LISTEN"), SegmentEvent("in", Segment.make("SYN", 1000, wnd=65535, tfo=tfo)),
                o("SYN,ACK", 5000, 1001), c("SEND", 100), o("ACK", 5001, 1001, data=100), i("ACK", 1001, 5101)]
    assert_option_decides("tfo", events(TFO_COOKIE), events(TFO_REQUEST))
    assert judge(TFO, events(TFO_COOKIE)).status == "conformant"
    assert judge(LINUX, events(TFO_NONE)).status == "violation"


def test_tfo_rows_are_unreachable_without_data_on_the_syn():
    """The checker's users never connect with data and its SYNs carry neither data nor a cookie:
    the rows that need them change nothing the checker explores (a plain CONNECT and SYN step as
    before)."""
    for prof in (LINUX, TFO):
        t = step(prof, Endpoint(), call("CONNECT", isn=7))
        assert [r.rows for r in t] == [("closed.connect",)]
        ls = one(prof, Endpoint(), call("LISTEN")).endpoint
        assert [r.rows for r in step(prof, ls, arrive(seg("SYN", 40), isn=9))] == [("listen.syn",)]


# --- text past the right window edge (tcp_sequence() since 6.17, tcp_data_queue()) ----------------

SMALL_WINDOW = SERVER_OPEN + [i("ACK", 1001, 5001)]


def test_text_past_the_window_is_accepted_whole_when_nothing_waits_unread():
    """RFC 9293 3.10.7.4 trims to the window (ACK 2001); Linux takes all 1500 bytes (ACK 2501)."""
    events = SMALL_WINDOW + [i("ACK", 1001, 5001, 1500), o("ACK", 5001, 2501, wnd=0)]
    mutant = SMALL_WINDOW + [i("ACK", 1001, 5001, 1500), o("ACK", 5001, 2502, wnd=0)]
    assert_option_decides("past-window-whole", events, mutant)


def test_text_past_the_window_is_dropped_whole_while_data_waits_unread():
    """100 bytes unread: the next segment, reaching past the window, is dropped with an ACK of
    RCV.NXT (RFC 9293 would take the part within the window); taking it whole is a violation."""
    head = SMALL_WINDOW + [i("ACK", 1001, 5001, 100), o("ACK", 5001, 1101, wnd=900), i("ACK", 1101, 5001, 1000)]
    assert_option_decides("past-window-whole", head + [o("ACK", 5001, 1101, wnd=900)],
                          head + [o("ACK", 5001, 2101, wnd=0)])


def test_a_bare_fin_at_rcv_nxt_is_taken_at_a_zero_window():
    """tcp_data_queue() (2bd99aef1b19) accepts a bare FIN at a zero window; RFC 9293 3.10.7.4
    finds no segment of length 1 acceptable then (ACK 2501 and drop). A FIN one past RCV.NXT
    is not accepted."""
    head = SMALL_WINDOW + [i("ACK", 1001, 5001, 1500), o("ACK", 5001, 2501, wnd=0)]
    assert_option_decides("past-window-whole", head + [i("FIN,ACK", 2501, 5001), o("ACK", 5001, 2502, wnd=0)],
                          head + [i("FIN,ACK", 2502, 5001), o("ACK", 5001, 2503, wnd=0)])


def test_tfo_simultaneous_open_keeps_the_syns_data_in_flight():
    """tcp_rcv_synsent_state_process(): a SYN crosses the client's data-carrying SYN; the client
    answers SYN,ACK from ISS (the crossing SYN's data not taken) and its 1000 bytes stay in flight:
    the peer's SYN,ACK acknowledges ISS + 1001 and the client's ACK carries SEQ = ISS + 1001
    (packetdrill fastopen/client/simultaneous-fast-open). Winding SND.NXT back (the data queued
    again) makes that SYN,ACK acknowledge unsent data."""
    events = [c("CONNECT", 1000), o("SYN", 5000, data=1000), i("SYN", 9000, data=500),
              o("SYN,ACK", 5000, 9001), i("SYN,ACK", 9000, 6001), o("ACK", 6001, 9001)]
    mutant = events[:5] + [o("ACK", 5001, 9001)]
    assert_option_decides("tfo", events, mutant)
    assert judge(TFO, events).status == "conformant"


def _user_timeout_trace(end):
    """Data unacknowledged from t=1.03 on; the connection ends silently (no retransmission), and at
    t=`end` the IUT answers the peer's ACK as a closed port."""
    return [c("CONNECT"), SegmentEvent("out", seg("SYN", 100), t=0.0), SegmentEvent("in", seg("SYN,ACK", 500, 101), t=0.01),
            SegmentEvent("out", seg("ACK", 101, 501), t=0.02), CallEvent("SEND", 10, "ok", 1.03),
            SegmentEvent("out", seg("ACK", 101, 501, 10), t=1.03),
            SegmentEvent("in", seg("ACK", 501, 111), t=end), SegmentEvent("out", seg("RST", 111), t=end + 0.001)]


def test_tcp_user_timeout_is_a_linux_parameter_whose_zero_means_none():
    """Option user-timeout is on in linux with user_timeout 0 (TCP_USER_TIMEOUT's default) meaning
    none (row guard USER.TIMEOUT.ON; tcp_write_timeout() tests icsk_user_timeout for non-zero). A
    socket with TCP_USER_TIMEOUT = 100 ms gives up silently before its first retransmission (RTO
    200 ms): conformant when the parameter is given; just outside, with the default 0 (none) or
    without the option, the missing retransmission is a violation. (When the timer may fire is the
    monitor's floor, tested with the observation model.)"""
    ut = LINUX.with_params(user_timeout=0.1)
    ep = est(111, 501)._replace(snd_una=101)
    assert [t.rows for t in step(ut, ep, call_timeout())] == [("user-timeout",)]
    assert step(LINUX, ep, call_timeout()) == []
    assert Monitor(ut, calls_logged=True).check(_user_timeout_trace(1.2)).status == "conformant"
    assert Monitor(LINUX, calls_logged=True).check(_user_timeout_trace(1.2)).status == "violation"
    assert Monitor(without("user-timeout").with_params(user_timeout=0.1),
                   calls_logged=True).check(_user_timeout_trace(1.2)).status == "violation"


def call_timeout():
    from synack.spec import timeout
    return timeout("USER-TIMEOUT")


# --- a segment ending at RCV.NXT passes tcp_sequence() (option dup-end-acceptable) -------------

def test_a_segment_ending_at_rcv_nxt_is_acceptable_and_its_ack_processed():
    """tcp_sequence() accepts a segment unless its end_seq lies before RCV.WUP (<= RCV.NXT): old
    text ending exactly at RCV.NXT passes, its ACK advances SND.UNA, and tcp_data_queue() drops
    the text as a duplicate with an ACK at once. RFC 9293's first check finds it unacceptable:
    the same ACK, but SND.UNA stays. One octet short of RCV.NXT, Linux agrees with the RFC."""
    e = est(101, 301)._replace(snd_nxt=111)
    dup = seg("ACK", 296, 111, data=5)
    t = one(LINUX, e, arrive(dup))
    assert t.endpoint.snd_una == 111 and t.sends == (seg("ACK", 111, 301),) and t.rows[-1] == "text.dup.lx"
    for prof in (without("dup-end-acceptable"), "rfc9293"):
        r = one(prof, e, arrive(dup))
        assert r.endpoint.snd_una == 101 and r.sends == (seg("ACK", 111, 301),), prof
    short = one(LINUX, e, arrive(seg("ACK", 295, 111, data=5)))
    assert short.endpoint.snd_una == 101 and "seq.bad" in short.rows


def test_a_rst_ending_at_rcv_nxt_gets_a_challenge_ack():
    """A RST whose data ends at RCV.NXT passes tcp_sequence() and, not being at RCV.NXT, is
    challenged (tcp_validate_incoming()); RFC 9293 drops it as unacceptable. Ending one below
    RCV.NXT it is dropped by Linux too, so an ACK after it is a violation."""
    base = CLIENT_OPEN + [i("ACK", 301, 101, data=5), o("ACK", 101, 306)]
    challenged = [o("ACK", 101, 306)]
    assert_option_decides("dup-end-acceptable", base + [i("RST", 301, data=5)] + challenged,
                          base + [i("RST", 300, data=5)] + challenged)


def test_a_retransmitted_fin_in_close_wait_is_a_duplicate():
    """CLOSE-WAIT: the peer's FIN again (SEG.SEQ = RCV.NXT - 1) passes tcp_sequence() and
    tcp_data_queue() ACKs it as a duplicate; the state and RCV.NXT remain, no second EOF."""
    cw = one(LINUX, est(101, 301), arrive(seg("FIN,ACK", 301, 101))).endpoint
    t = one(LINUX, cw, arrive(seg("FIN,ACK", 301, 101)))
    assert t.endpoint == cw and t.sends == (seg("ACK", 101, 302),) and t.signals == ()
    assert "text.dup.lx.closing" in t.rows and "seq.ok" in t.rows
    assert "seq.bad" in one("rfc9293", cw, arrive(seg("FIN,ACK", 301, 101))).rows


def test_closing_takes_the_ack_of_its_fin_from_a_retransmitted_fin_and_sends_nothing():
    """CLOSING: the peer's FIN retransmitted with the ACK of our FIN ends at RCV.NXT, so Linux
    processes the ACK: TIME-WAIT (tcp_time_wait(); goto consume), nothing sent. RFC 9293 finds it
    unacceptable: an ACK, and CLOSING remains."""
    cg = Endpoint(State.CLOSING, 100, 300, 101, 102, 65535, 302, 65535, fin_sent=True)
    t = one(LINUX, cg, arrive(seg("FIN,ACK", 301, 102)))
    assert t.endpoint.state is State.TIME_WAIT and t.sends == () and t.rows[-1] == "text.dup.lx.tw"
    r = one("rfc9293", cg, arrive(seg("FIN,ACK", 301, 102)))
    assert r.endpoint == cg and r.sends == (seg("ACK", 102, 302),)


def test_the_syn_ack_in_syn_sent_is_acknowledged_once():
    """A SYN,ACK ends at the RCV.NXT it sets: it is not a duplicate (one ACK, the handshake's)."""
    ss = one(LINUX, Endpoint(), call("CONNECT", isn=100)).endpoint
    t = one(LINUX, ss, arrive(seg("SYN,ACK", 300, 101)))
    assert t.sends == (seg("ACK", 101, 301),) and t.endpoint.state is State.ESTABLISHED


# --- a request socket's third ACK not taken (variants defer-accept, listen-overflow, abort-on-overflow) --

def timed(events, times):
    return [replace(e, t=t) for e, t in zip(events, times)]


DEFERRED = SERVER_OPEN + [i("ACK", 1001, 5001), o("SYN,ACK", 5000, 1001, wnd=1000), i("ACK", 1001, 5001, data=5),
                          o("ACK", 5001, 1006, wnd=1000)]
AT = [0.0, 0.01, 0.02, 0.03, 1.1, 1.2, 1.21]


def test_defer_accept_drops_the_bare_third_ack_and_resends_the_syn_ack():
    """TCP_DEFER_ACCEPT (tcp_check_req()): the bare third ACK is dropped, the SYN,ACK comes
    again at its RTO (reqsk_timer_handler()), the ACK with data opens the connection. Without
    the variant the bare ACK opened it and the SYN,ACK is a violation; an ACK with data is never
    deferred (its end_seq is not rcv_isn + 1)."""
    events = timed(DEFERRED, AT)
    assert Monitor("linux+defer-accept", calls_logged=True).check(events).status == "conformant"
    for prof in ("linux", "rfc9293", "linux+listen-overflow+abort-on-overflow"):
        assert Monitor(prof, calls_logged=True).check(events).status == "violation", prof
    data_first = timed(SERVER_OPEN + [i("ACK", 1001, 5001, data=5), o("SYN,ACK", 5000, 1001, wnd=1000)], AT)
    assert Monitor("linux+defer-accept", calls_logged=True).check(data_first).status == "violation"


def test_defer_accept_ends_with_the_syn_ack_retransmissions():
    """The deferral is bounded by the request's SYN,ACK retransmissions (SYNACK.RETRIES): after
    the last one a bare ACK opens the connection (one row), before it either may happen."""
    sr = one(LINUX, one(LINUX, Endpoint(), call("LISTEN")).endpoint, arrive(seg("SYN", 1000), isn=5000)).endpoint
    prof = get_profile("linux+defer-accept")
    ends = lambda ep: sorted(t.endpoint.state.name for t in step(prof, ep, arrive(seg("ACK", 1001, 5001))))  # noqa: E731
    assert ends(sr) == ["ESTABLISHED", "SYN_RECEIVED"]
    assert ends(sr._replace(rtx=LINUX.params["SYNACK.RETRIES"])) == ["ESTABLISHED"]


def test_a_full_accept_queue_drops_the_third_ack_even_with_data():
    events = timed(SERVER_OPEN + [i("ACK", 1001, 5001, data=5), o("SYN,ACK", 5000, 1001, wnd=1000),
                                  i("ACK", 1001, 5001, data=5), o("ACK", 5001, 1006, wnd=1000)], AT)
    assert Monitor("linux+listen-overflow", calls_logged=True).check(events).status == "conformant"
    assert Monitor("linux", calls_logged=True).check(events).status == "violation"


def test_abort_on_overflow_resets_the_third_ack_at_its_ack_number():
    """tcp_abort_on_overflow = 1: embryonic_reset answers <SEQ=SEG.ACK><CTL=RST>; the request is
    gone, the listener stays (a new SYN is answered)."""
    events = timed(SERVER_OPEN + [i("ACK", 1001, 5001), o("RST", 5001, wnd=0)], [k / 100 for k in range(5)])
    assert Monitor("linux+abort-on-overflow", calls_logged=True).check(events).status == "conformant"
    sr = one(LINUX, one(LINUX, Endpoint(), call("LISTEN")).endpoint, arrive(seg("SYN", 1000), isn=5000)).endpoint
    reset = [t for t in step("linux+abort-on-overflow", sr, arrive(seg("ACK", 1001, 5001))) if t.sends]
    assert [(t.endpoint.state, t.sends) for t in reset] == [(State.LISTEN, (seg("RST", 5001, wnd=0),))]
    for prof in ("linux", "linux+listen-overflow"):
        assert Monitor(prof, calls_logged=True).check(events).status == "violation", prof
    wrong = events[:4] + [replace(events[4], seg=seg("RST", 5002, wnd=0))] + events[5:]
    assert Monitor("linux+abort-on-overflow", calls_logged=True).check(wrong).status == "violation"


@pytest.mark.parametrize("variant", ["defer-accept", "listen-overflow", "abort-on-overflow"])
def test_request_socket_variants_are_linux_settings_not_defaults(variant):
    from synack.oracle.monitor import LEARNABLE_OPTIONS
    from synack.spec.profiles import OPTIONS, VARIANTS

    assert variant not in LINUX.options and variant in VARIANTS and "tcp_check_req()" in OPTIONS[variant]
    assert LEARNABLE_OPTIONS[variant][1] == ("linux",)


def test_the_oracle_learns_defer_accept_from_the_trace():
    from synack.oracle.monitor import LEARNABLE

    v = Monitor("linux", calls_logged=True, learn=LEARNABLE).check(timed(DEFERRED, AT))
    assert v.status == "conformant" and "defer-accept" in str(v), str(v)
    v = Monitor("rfc9293", calls_logged=True, learn=LEARNABLE).check(timed(DEFERRED, AT))
    assert v.status == "violation"


# --- a FIN after the peer's FIN (option closing-fin-ignored) ---------------------------------

def test_a_fin_at_rcv_nxt_after_the_peers_fin_is_ignored():
    """CLOSE-WAIT: a FIN at RCV.NXT (past the peer's first FIN) never reaches tcp_fin():
    tcp_rcv_state_process() step 7 breaks out for a segment not before RCV.NXT, so nothing is
    sent and RCV.NXT stays, as the FIN that LAST-ACK then sends shows. RFC 9293's eighth step
    advances RCV.NXT over it and ACKs it. The mutant's FIN acknowledges the ignored one."""
    base = CLIENT_OPEN + [i("FIN,ACK", 301, 101), o("ACK", 101, 302), i("FIN,ACK", 302, 101), c("SHUTDOWN")]
    assert_option_decides("closing-fin-ignored", base + [o("FIN,ACK", 101, 302), i("ACK", 302, 102)],
                          base + [o("FIN,ACK", 101, 303), i("ACK", 302, 102)])


def test_closing_and_last_ack_ignore_a_fin_at_rcv_nxt():
    cg = Endpoint(State.CLOSING, 100, 300, 101, 102, 65535, 302, 65535, fin_sent=True, max_snd_wnd=65535)
    t = one(LINUX, cg, arrive(seg("FIN,ACK", 302, 101)))
    assert (t.endpoint, t.sends, t.rows[-1]) == (cg, (), "fin.remain.lx.ignored")
    r = one("rfc9293", cg, arrive(seg("FIN,ACK", 302, 101)))
    assert r.endpoint.rcv_nxt == 303 and r.sends == (seg("ACK", 102, 303),)
    # the same FIN acknowledging CLOSING's: TIME-WAIT, the rest consumed (goto consume)
    t = one(LINUX, cg, arrive(seg("FIN,ACK", 302, 102)))
    assert t.endpoint.state is State.TIME_WAIT and t.endpoint.rcv_nxt == 302 and t.sends == ()
    la = cg._replace(state=State.LAST_ACK)
    assert one(LINUX, la, arrive(seg("FIN,ACK", 302, 101))).endpoint == la


def test_time_wait_acks_a_fin_without_advancing_rcv_nxt():
    """TIME-WAIT (tcp_timewait_state_process()): a FIN is answered with an ACK of the old
    RCV.NXT and TIME-WAIT restarts, whether it is the retransmission or one at RCV.NXT."""
    tw = Endpoint(State.TIME_WAIT, 100, 300, 102, 102, 65535, 302, 65535, fin_sent=True, orphan=True)
    for sq in (301, 302):
        t = one(LINUX, tw, arrive(seg("FIN,ACK", sq, 102)))
        assert (t.endpoint, t.sends) == (tw, (seg("ACK", 102, 302),)) and "restart 2MSL" in t.signals


# --- CLOSE's FIN at a zero send window (option fin-fits-window) -------------------------------

def test_close_at_a_zero_window_holds_the_fin_and_probes():
    """tcp_send_fin() queues the FIN and tcp_write_xmit() sends it only if tcp_snd_wnd_test()
    passes: end_seq = SND.NXT + 1 must not pass SND.UNA + SND.WND. At a zero window the FIN
    waits, the window is probed (SEQ = SND.UNA - 1), and once an ACK opens it the FIN goes out.
    RFC 9293 3.10.4 sends the FIN at once."""
    from synack.spec import Event, timeout

    e = est(101, 301)._replace(snd_wnd=0)
    t = one(LINUX, e, call("CLOSE"))
    assert t.sends == () and t.endpoint.state is State.FIN_WAIT_1 and not t.endpoint.fin_sent
    assert one("rfc9293", e, call("CLOSE")).sends == (seg("FIN,ACK", 101, 301),)
    assert one(without("fin-fits-window"), e, call("CLOSE")).sends == (seg("FIN,ACK", 101, 301),)
    f1 = t.endpoint
    assert one(LINUX, f1, timeout("PERSIST")).sends == (seg("ACK", 100, 301),)
    assert not [x for x in step(LINUX, f1, Event("OUTPUT", None, 0, 0)) if x.sends]
    opened = one(LINUX, f1, arrive(seg("ACK", 301, 101, wnd=1000))).endpoint
    out = [x for x in step(LINUX, opened, Event("OUTPUT", None, 0, 0)) if x.sends]
    assert [x.sends for x in out] == [(seg("FIN,ACK", 101, 301),)]


def test_the_fin_rides_the_last_bytes_only_when_the_window_takes_both():
    """Five bytes queued behind CLOSE and a window of five: the bytes may go, the FIN on them may
    not (tcp_snd_wnd_test() counts it); a window of six takes both."""
    from synack.spec import Event

    f1 = est(101, 301)._replace(state=State.FIN_WAIT_1, snd_q=5, orphan=True, snd_wnd=5, snd_mss=536)
    sends = lambda ep: {x.sends for x in step(LINUX, ep, Event("OUTPUT", None, 0, 5))}  # noqa: E731
    assert sends(f1) == {(seg("ACK", 101, 301, data=5),)}
    assert sends(f1._replace(snd_wnd=6)) == {(seg("ACK", 101, 301, data=5),), (seg("FIN,ACK", 101, 301, data=5),)}
    assert (seg("FIN,ACK", 101, 301, data=5),) in {x.sends for x in step("rfc9293", f1, Event("OUTPUT", None, 0, 5))}


def test_a_fin_sent_into_a_zero_window_is_a_linux_violation():
    """The trace: the peer's SYN,ACK offers no window; the client closes; it probes, the window
    opens, and only then the FIN. RFC 9293 owed the FIN at the CLOSE (so the probe comes past its
    deadline); the mutant sends the FIN at the CLOSE, which Linux never does."""
    head = [c("CONNECT"), o("SYN", 100), i("SYN,ACK", 300, 101, wnd=0), o("ACK", 101, 301), c("CLOSE")]
    tail = [o("ACK", 100, 301), i("ACK", 301, 101, wnd=1000), o("FIN,ACK", 101, 301), i("ACK", 301, 102)]
    at = [0.0, 0.0, 0.01, 0.01, 0.02, 0.6, 0.61, 0.61, 0.62]
    events = timed(head + tail, at)
    v = Monitor(LINUX, calls_logged=True).check(events)
    assert v.status == "conformant", str(v)
    for prof in (without("fin-fits-window"), get_profile("rfc9293")):
        assert Monitor(prof, calls_logged=True).check(events).status == "violation", prof.label()
    mutant = timed(head + [o("FIN,ACK", 101, 301)] + tail[:2], [0.0, 0.0, 0.01, 0.01, 0.02, 0.03, 0.6, 0.61])
    assert Monitor(LINUX, calls_logged=True).check(mutant).status == "violation"


# --- PAWS (RFC 7323 5.3 R1; option paws, a variant of rfc9293) ---------------------------------

def _ts(ev, tsval):
    return replace(ev, ts=(tsval, 1)) if isinstance(ev, SegmentEvent) else ev


PAWS_BASE = [_ts(e, k) for k, e in enumerate(CLIENT_OPEN, start=10)] + [
    _ts(i("ACK", 301, 101, data=5), 20), _ts(o("ACK", 101, 306), 21)]


def test_an_old_tsval_is_answered_with_an_ack_and_dropped():
    """tcp_paws_discard(): a segment whose TSval is below the peer's newest (here a pure ACK the
    network held back) is answered with a duplicate ACK (tcp_send_dupack()) and dropped. The same
    ACK with a TSval not older is in the window and gets nothing, so that answer is a violation;
    so is any other answer to the old one."""
    old = PAWS_BASE + [_ts(i("ACK", 306, 101), 15), _ts(o("ACK", 101, 306), 22)]
    assert_option_decides("paws", old, PAWS_BASE + [_ts(i("ACK", 306, 101), 20), _ts(o("ACK", 101, 306), 22)])
    other = PAWS_BASE + [_ts(i("ACK", 306, 101), 15), _ts(o("ACK", 101, 305), 22)]
    assert judge(LINUX, other).status == "violation"
    assert judge(get_profile("rfc9293+paws"), old).status == "conformant"


def test_paws_is_a_choice_beside_normal_processing():
    """TS.Recent is not observable (RFC 7323 5.3 R3 updates it only at or below Last.ACK.sent),
    so an old TSval may also be processed normally; a RST is never PAWS-dropped by this row."""
    e = est(101, 301)
    old = seg("ACK", 301, 101, data=5)._replace(ots=1)
    res = {t.rows[-1]: t for t in step(LINUX, e, arrive(old))}
    assert res["seq.paws"].endpoint == e and res["seq.paws"].sends == (seg("ACK", 101, 301),)
    assert any(t.endpoint.rcv_nxt == 306 for t in res.values())
    assert "seq.paws" not in {r for t in step(LINUX, e, arrive(seg("RST", 301)._replace(ots=1))) for r in t.rows}
    assert "seq.paws" not in {r for t in step("rfc9293", e, arrive(old)) for r in t.rows}


# --- the first zero-window probe waits for the probe interval (oracle timing) -------------------

def test_a_zero_window_probe_comes_only_after_the_first_probe_interval():
    """RFC 9293 3.8.6.1: the first probe when the zero window has lasted an RTO; Linux
    tcp_probe0_base(): at least max(icsk_rto, TCP_RTO_MIN), so rto_min (0.2 s) less the
    tolerance. A probe just after that is conformant, one just before is a violation (a 1-byte
    send into a shut window at once is no probe)."""
    t_shut = 0.04
    need = LINUX.params["rto_min"] * (1 - LINUX.params["tolerance"])
    head = CLIENT_OPEN + [i("ACK", 301, 101, wnd=0), c("SEND", 10)]
    at = [0.0, 0.0, 0.01, 0.02, t_shut, 0.05]
    for dt, status in ((need + 0.01, "conformant"), (need - 0.01, "violation")):
        events = timed(head + [o("ACK", 100, 301)], at + [t_shut + dt])
        assert Monitor(LINUX, calls_logged=True).check(events).status == status, dt
        one_byte = timed(head + [o("ACK", 101, 301, data=1)], at + [t_shut + dt])
        assert Monitor("rfc9293", calls_logged=True).check(one_byte).status == (
            "violation" if dt < need or dt < get_profile("rfc9293").params["rto_min"] * 0.75 else "conformant")
