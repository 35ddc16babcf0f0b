"""Rules the test kit's runs on real stacks showed missing (issue 23; stacks/*/stack.json
"causes"): a zero-window probe that carries one octet (RFC 9293 3.8.6.1; lwIP
tcp_zero_window_probe()), and RFC 5961 5.2's ACK range (RFC 9293 3.10.7.4 fifth, MAY-12;
Linux tcp_ack()). Each: a trace the profile accepts, the table without the rows rejects, and a
mutant just outside."""
from dataclasses import replace

import pytest

from drive import est, seg, step
from synack.oracle import Monitor
from synack.oracle.events import CallEvent, SegmentEvent, StateEvent
from synack.spec import TABLE, Event, Machine, Segment, arrive, get_profile, timeout


def i(flags, sq, ak=0, data=0, wnd=65535):
    return SegmentEvent("in", seg(flags, sq, ak, data, wnd))


def o(flags, sq, ak=0, data=0, wnd=65535):
    return SegmentEvent("out", seg(flags, sq, ak, data, wnd), win=wnd)


def judge(profile, events, spec=None, pause_at=None):
    """Events 0.1 s apart; from index `pause_at` on, a second later (a zero-window probe comes only
    after the first probe interval: RFC 9293 3.8.6.1, an RTO; rfc9293's rto_min is 1 s)."""
    timed = [replace(e, t=k / 10 + (1.0 if pause_at is not None and k >= pause_at else 0.0))
             for k, e in enumerate(events)]
    return Monitor(profile, calls_logged=True, spec=spec).check(timed)


def without(profile, *ids, option=""):
    """The profile's machine without some rows (and, where they need it, without their option)."""
    prof = get_profile(profile)
    if option:
        prof = replace(prof, options=prof.options - {option})
    return Machine(prof, tuple(r for r in TABLE if r.id not in ids))


OPEN = [CallEvent("LISTEN"), i("SYN", 1000), o("SYN,ACK", 5000, 1001), i("ACK", 1001, 5001)]


# --- zero-window probe with one octet ---------------------------------------------------------

def test_a_zero_window_probe_may_carry_the_next_queued_octet():
    """RFC 9293 3.8.6.1: 'transmit at least one octet of new data (if available)': the probe
    carries SND.NXT's octet and SND.NXT moves past it; with data outstanding, the first
    outstanding octet is sent again."""
    shut = est(101, 301, snd_q=5)._replace(snd_wnd=0)
    res = {t.rows: t for t in step("rfc9293", shut, timeout("PERSIST"))}
    assert set(res) == {("persist",), ("persist.data",)}
    assert res[("persist.data",)].sends == (seg("ACK", 101, 301, 1),)
    assert (res[("persist.data",)].endpoint.snd_nxt, res[("persist.data",)].endpoint.snd_q) == (102, 4)
    out = est(101, 301)._replace(snd_wnd=0, snd_nxt=111)
    rows = {t.rows: t.sends for t in step("rfc9293", out, timeout("PERSIST"))}
    assert rows[("persist.resend",)] == (seg("ACK", 101, 301, 1),)


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
def test_lwips_probe_with_one_octet_is_conformant_and_two_octets_are_not(profile):
    """lwIP's trace from the kit: a zero window, SEND(1), CLOSE, then the probe carrying that
    octet. Two octets past a zero window are a violation, and so is the one octet without the
    persist rows."""
    probe = len(OPEN) + 4
    events = OPEN + [i("ACK", 1001, 5001, wnd=0), CallEvent("SEND", 1), CallEvent("CLOSE"),
                     o("ACK", 5001, 1001, 1), i("ACK", 1001, 5002, wnd=1000), o("FIN,ACK", 5002, 1001),
                     i("ACK", 1001, 5003)]
    v = judge(profile, events, pause_at=probe - 1)
    assert v.status == "conformant", str(v)
    v = judge(profile, events, spec=without(profile, "persist.data", "persist.resend"), pause_at=probe - 1)
    assert v.status == "violation" and v.index == probe, str(v)
    bad = OPEN + [i("ACK", 1001, 5001, wnd=0), CallEvent("SEND", 2), CallEvent("CLOSE"), o("ACK", 5001, 1001, 2)]
    v = judge(profile, bad, pause_at=probe - 1)
    assert v.status == "violation" and v.index == probe, str(v)


# --- RFC 5961 5.2: the ACK range ------------------------------------------------------------------

def test_an_old_ack_may_be_challenged_and_one_before_the_iss_must_be():
    ep = est(5101, 1001, iss=5000)._replace(snd_wnd=40)
    rows = sorted(t.rows[-1] for t in step("rfc9293", ep, arrive(seg("ACK", 1001, 5050))))
    assert rows == ["ack.old.challenge", "fin.none"]              # challenged, or ignored (on to text, fin)
    # within SND.WND of SND.UNA (so within MAX.SND.WND): never challenged
    rows = sorted(t.rows[-1] for t in step("rfc9293", ep, arrive(seg("ACK", 1001, 5061))))
    assert rows == ["fin.none"]
    # RFC 5961 5.2 bounds the distance by MAX.SND.WND only: an ACK before the ISS may be ignored
    rows = sorted(t.rows[-1] for t in step("rfc9293", ep, arrive(seg("FIN,ACK", 1001, 4999))))
    assert rows == ["ack.old.challenge", "fin.est", "fin.est.delayed"]
    # Linux (ack-bytes-acked) challenges it always, or stays silent under the rate limit
    res = step("linux", ep, arrive(seg("FIN,ACK", 1001, 4999)))
    assert sorted(t.rows[-1] for t in res) == ["ack.old.never-sent", "ack.old.never-sent.limited"]
    assert {t.sends for t in res} == {(seg("ACK", 5101, 1001),), ()}
    # a client's bytes_acked counts its SYN: an ACK of ISS is old, not never sent
    assert "fin.est" in [t.rows[-1] for t in step("linux", ep, arrive(seg("FIN,ACK", 1001, 5000)))]
    server = ep._replace(passive=True)
    assert "fin.est" not in [t.rows[-1] for t in step("linux", server, arrive(seg("FIN,ACK", 1001, 5000)))]


def test_a_fin_carrying_an_ack_older_than_anything_sent_is_challenged_and_dropped():
    """The kit's FIN with SEG.ACK = SND.UNA - 1 to a server that has sent nothing yet (Linux
    tcp_ack(): bytes_acked = 0, so the bound is SND.UNA itself): the FIN is not processed, a
    challenge ACK goes out. linux accepts it; RFC 5961 5.2 as written bounds the distance by
    MAX.SND.WND, at least the peer's window here, so rfc9293 (and linux without
    ack-bytes-acked) take the FIN and reject the challenge; taking the FIN is a violation under
    linux."""
    events = OPEN + [i("FIN,ACK", 1001, 5000), o("ACK", 5001, 1001)]
    assert judge("linux", events).status == "conformant", str(judge("linux", events))
    linux = get_profile("linux")
    for prof in (get_profile("rfc9293"), replace(linux, options=linux.options - {"ack-bytes-acked"})):
        assert judge(prof, events).status == "violation", prof.label()
    took = OPEN + [i("FIN,ACK", 1001, 5000), o("ACK", 5001, 1002)]
    v = judge("linux", took)
    assert v.status == "violation" and v.index == len(took), str(v)
    for prof in (get_profile("rfc9293"), replace(linux, options=linux.options - {"ack-bytes-acked"})):
        assert judge(prof, took).status == "conformant", prof.label()


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
def test_an_ack_older_than_the_peers_window_may_be_challenged(profile):
    """RFC 5961 5.2 with MAX.SND.WND at least SND.WND: after 2000 bytes acknowledged and a
    window of 1000, an ACK 1500 below SND.UNA may be challenged (a choice); one 500 below may
    not."""
    syn = SegmentEvent("in", Segment.make("SYN", 1000, wnd=65535, mss=1460))
    head = [OPEN[0], syn] + OPEN[2:] + [CallEvent("SEND", 1000), o("ACK", 5001, 1001, 1000), i("ACK", 1001, 6001, wnd=1000),
                   CallEvent("SEND", 1000), o("ACK", 6001, 1001, 1000), i("ACK", 1001, 7001, wnd=1000)]
    ok = head + [i("ACK", 1001, 5501, 10, wnd=1000), o("ACK", 7001, 1001, wnd=65535)]
    assert judge(profile, ok).status == "conformant", str(judge(profile, ok))
    bad = head + [i("ACK", 1001, 6501, 10, wnd=1000), o("ACK", 7001, 1001, wnd=65535)]
    v = judge(profile, bad)
    assert v.status == "violation" and v.index == len(bad), str(v)


# --- the simultaneous open's SYN,ACK: the SYN's retransmission timer keeps running ------------

def _simopen(rtx_at):
    """CONNECT, the SYN at t=0, the peer's SYN at 0.5 answered by the SYN,ACK at once, then the
    SYN,ACK retransmitted at `rtx_at` (ToyTCP's and gVisor's trace from the kit's pauses)."""
    return [CallEvent("CONNECT", t=0.0), SegmentEvent("out", seg("SYN", 1000), t=0.0),
            SegmentEvent("in", seg("SYN", 5000), t=0.5), SegmentEvent("out", seg("SYN,ACK", 1000, 5001), t=0.5),
            SegmentEvent("out", seg("SYN,ACK", 1000, 5001), t=rtx_at)]


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
def test_a_simultaneous_opens_synack_may_be_retransmitted_one_rto_after_the_syn(profile):
    """RFC 6298 5.1 starts the retransmission timer only when it is not running; in RFC 9293
    3.10.7.3's simultaneous open the SYN's timer runs when the SYN,ACK goes out (synsent.syn),
    so it fires one RTO after the SYN (Linux tcp_send_synack() does not rearm it), 0.5 s after
    the SYN,ACK here. Just outside: 0.7 s after the SYN, less than the initial RTO less the
    tolerance; and a monitor whose SYN,ACK restarts the backoff (no row keeps the timer) rejects
    the real trace, the false alarm the kit found."""
    mon = lambda spec=None: Monitor(profile, calls_logged=True, spec=spec)
    assert mon().check(_simopen(1.0)).status != "violation"
    early = mon().check(_simopen(0.7))
    assert early.status == "violation" and early.index == 5
    restarted = mon(Machine(get_profile(profile)))
    assert "synsent.syn" in restarted._sh.timer_kept
    restarted._sh.timer_kept = frozenset()
    assert restarted.check(_simopen(1.0)).status == "violation"


# --- Linux: a segment with none of ACK, RST and SYN is dropped before the sequence check ----

FAR = 1000 + 2 ** 30        # far outside any window of the ESTABLISHED endpoint below (RCV.NXT = 301)


def _sends(profile, ep, s, spec=None):
    m = spec or Machine(get_profile(profile))
    return {t.rows: t.sends for t in m.step(ep, arrive(s))}


@pytest.mark.parametrize("state", ["ESTABLISHED", "FIN-WAIT-1", "CLOSE-WAIT", "LAST-ACK", "FIN-WAIT-2"])
def test_linux_drops_a_flagless_segment_before_the_sequence_check(state):
    """tcp_rcv_state_process() / tcp_rcv_established(): `if (!th->ack && !th->rst && !th->syn)`
    discards (SKB_DROP_REASON_TCP_FLAGS) before tcp_validate_incoming(): an out-of-window FIN
    without ACK gets no ACK on linux (the kit's variation on this kernel); rfc9293 ACKs it (first
    check). Just outside: the same FIN with ACK is answered on linux too."""
    from synack.spec import State
    ep = est(101, 301)._replace(state=State(state))
    fin = seg("FIN", FAR)
    assert list(_sends("linux", ep, fin).values()) == [()]
    assert list(_sends("rfc9293", ep, fin).values()) == [(seg("ACK", 101, 301),)]
    answered = [s for s in _sends("linux", ep, seg("FIN,ACK", FAR, 101)).values() if s]
    assert answered == [(seg("ACK", 101, 301),)]


def test_a_request_socket_answers_a_flagless_segment_and_a_simultaneous_open_does_not():
    """A passive SYN-RECEIVED is a request socket: tcp_check_req() tests the window first and
    ACKs an unacceptable segment, flags or none; a simultaneous open's SYN-RECEIVED is a full
    socket and drops it (tcp_rcv_state_process())."""
    from synack.spec import State
    sr = est(101, 301)._replace(state=State.SYN_RECEIVED, snd_una=100)
    fin = seg("FIN", FAR)
    assert [s for s in _sends("linux", sr._replace(passive=True), fin).values() if s] == [(seg("ACK", 101, 301),)]
    assert list(_sends("linux", sr._replace(passive=False), fin).values()) == [()]


def test_the_kernels_trace_is_conformant_on_linux_and_not_without_the_rule():
    """The variation's trace shape on Linux: ESTABLISHED, a FIN without ACK 2^30 past RCV.NXT,
    nothing answers it within the deadline. Without the flagless rows (and their option) the
    linux profile owes the first check's ACK and the trace is a violation."""
    ev = [CallEvent("LISTEN", t=0.0), SegmentEvent("in", seg("SYN", 1000), t=0.0),
          SegmentEvent("out", seg("SYN,ACK", 5000, 1001), t=0.0), SegmentEvent("in", seg("ACK", 1001, 5001), t=0.1),
          SegmentEvent("in", seg("FIN", FAR), t=0.2), SegmentEvent("in", seg("ACK", 1001, 5001), t=2.0)]
    assert Monitor("linux", calls_logged=True).check(ev).status != "violation"
    ids = [r.id for r in TABLE if r.id.startswith("flagless.")]
    bad = Monitor("linux", calls_logged=True, spec=without("linux", *ids, option="flagless-drop")).check(ev)
    assert bad.status == "violation" and "seq.bad" in str(bad)


# --- a RST whose sequence number lies below the window -------------------------------------

def test_a_rst_below_the_window_is_dropped_and_one_in_it_challenged():
    """RFC 9293 3.10.7.4 second check (RFC 5961 3.2): a RST whose sequence number is outside the
    window is dropped silently, even when its data reaches into the window (the segment passes
    the first check); one inside it but not at RCV.NXT is challenged (lwIP tcp_process(), gVisor
    handleReset(): the kit's RST of 100 bytes at RCV.NXT - 1). Linux judges a RST by
    tcp_sequence() and challenges both (tcp_validate_incoming(); option rst-challenge-below)."""
    ep = est(101, 301)
    below, inside = seg("RST", 300, 0, 100), seg("RST", 302, 0, 100)
    assert list(_sends("rfc9293", ep, below).values()) == [()]
    assert list(_sends("rfc9293", ep, inside).values()) == [(seg("ACK", 101, 301),)]
    assert [s for s in _sends("linux", ep, below).values() if s] == [(seg("ACK", 101, 301),)]
    assert list(_sends("rfc9293", ep, seg("RST", 301)).values()) == [()]      # at RCV.NXT: reset


# --- queued data MAY ride on the handshake's ACK ---------------------------------------------

def test_queued_data_may_follow_the_handshakes_ack():
    """RFC 9293 3.10.7.3: on the SYN,ACK, 'Data or controls that were queued for transmission
    MAY be included' in the ACK: with one byte queued the ACK carries it or not (then OUTPUT
    sends it). Just outside: with nothing queued there is one result."""
    from synack.spec import Endpoint, State
    ss = Endpoint(State.SYN_SENT, iss=100, snd_una=100, snd_nxt=101, rcv_wnd=65535, snd_q=1)
    res = {t.rows: t for t in step("rfc9293", ss, arrive(seg("SYN,ACK", 300, 101)))}
    assert {r[0] for r in res} == {"synsent.synack", "synsent.synack.defer"}
    later = next(t for r, t in res.items() if r[0] == "synsent.synack.defer")
    assert later.sends == (seg("ACK", 101, 301),) and later.endpoint.snd_q == 1
    out = [t for t in step("rfc9293", later.endpoint, Event("OUTPUT", None, 0, 1)) if t.sends]
    assert out and out[0].sends == (seg("ACK", 101, 301, 1),)
    assert len(step("rfc9293", ss._replace(snd_q=0), arrive(seg("SYN,ACK", 300, 101)))) == 1
