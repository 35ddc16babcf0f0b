"""The sender's silly-window-syndrome avoidance (RFC 9293 3.8.6.2.1, MUST-38): with more data
queued than the usable window takes, a segment goes out only while that window holds a full
segment or half the largest window the peer offered; otherwise the override timeout (the
persist timer) sends what the window takes. Each bound is tried at it and just outside it.
Option sws-avoidance: rfc9293 has it, linux not (its TSO bursts end in a short piece at the
window's edge: tcp_mss_split_point(), seen in tests/live small_mss_bulk)."""
import pytest

from synack.oracle import Monitor
from synack.oracle.events import CallEvent, SegmentEvent
from synack.spec import Endpoint, Segment, State, arrive, get_profile, output, step, timeout
from synack.spec.model import ACK, SYN

P = "rfc9293"


def est(**kw) -> Endpoint:
    """Nothing outstanding, 3000 bytes queued, a 300-byte window of a peer that once offered 1000."""
    base = dict(state=State.ESTABLISHED, iss=100, irs=300, snd_una=101, snd_nxt=101, snd_wnd=300,
                rcv_nxt=301, rcv_wnd=65535, snd_mss=500, snd_q=3000, max_snd_wnd=1000)
    base.update(kw)
    return Endpoint(**base)


def rows(ep, ev, profile=P):
    return [t.rows for t in step(profile, ep, ev)]


def test_a_small_window_with_more_queued_is_not_sent_into():
    assert step(P, est(), output(300)) == [] and step(P, est(), output(1)) == []


def test_a_full_segment_in_the_usable_window_may_go():
    # the effective MSS is SND.MSS less the segment's options (RFC 9293 3.7.1), at most 40 octets
    assert rows(est(snd_wnd=500, max_snd_wnd=10000), output(500)) == [("output",)]
    assert rows(est(snd_wnd=460, max_snd_wnd=10000), output(460)) == [("output",)]
    assert step(P, est(snd_wnd=459, max_snd_wnd=10000), output(459)) == []      # one short of MSS - 40


def test_half_the_largest_window_may_go():
    assert rows(est(max_snd_wnd=600), output(300)) == [("output",)]             # 2U == Max(SND.WND)
    assert step(P, est(max_snd_wnd=601), output(300)) == []                     # just outside


def test_all_that_is_queued_may_go_when_it_fits():
    assert rows(est(snd_q=300), output(300)) == [("output",)]                   # D <= U: the pushed case
    assert step(P, est(snd_q=301), output(300)) == []


def test_the_usable_window_counts_what_is_outstanding():
    # a 1000-byte window with 800 outstanding: U = 200, below the MSS less 40 and half of 1000
    ep = est(snd_wnd=1000, snd_nxt=901)
    assert step(P, ep, output(200)) == []
    assert rows(ep._replace(snd_nxt=501), output(500)) == [("output",)]         # U = 600: a full segment


def test_the_override_timeout_sends_what_the_window_takes():
    (t,) = step(P, est(), timeout("PERSIST"))
    assert t.rows == ("output.override",)
    assert t.sends == (Segment(ACK, 101, 301, 300, 65535),) and t.endpoint.snd_q == 2700
    assert step(P, est(max_snd_wnd=600), timeout("PERSIST")) == []              # nothing blocked
    assert step(P, est(snd_nxt=151, snd_wnd=350), timeout("PERSIST")) == []     # data outstanding: its ACK comes


def test_the_largest_window_is_raised_by_every_window_and_never_lowered():
    ep = est(snd_nxt=601, snd_una=101, snd_wnd=1000)
    smaller = step(P, ep, arrive(Segment(ACK, 301, 601, 0, 300)))[0].endpoint
    assert (smaller.snd_wnd, smaller.max_snd_wnd) == (300, 1000)
    larger = step(P, ep, arrive(Segment(ACK, 301, 601, 0, 4000)))[0].endpoint
    assert (larger.snd_wnd, larger.max_snd_wnd) == (4000, 4000)
    # where no rule reads it (linux: no sws-avoidance) it is not kept, so TCBs do not differ by it
    assert step("linux", ep._replace(max_snd_wnd=0), arrive(Segment(ACK, 301, 601, 0, 4000)))[0].endpoint.max_snd_wnd == 0


def _handshake(t0=0.0):
    """A client whose peer offers 1000 bytes and an MSS of 500, then 1400 bytes written."""
    return [CallEvent("CONNECT", 0, t=t0), SegmentEvent("out", Segment.make(SYN, 100, 0, 0, 65535), t=t0),
            SegmentEvent("in", Segment.make(SYN | ACK, 300, 101, 0, 1000, 500), t=t0 + 0.01),
            SegmentEvent("out", Segment.make(ACK, 101, 301, 0, 65535), t=t0 + 0.01, win=65535),
            CallEvent("SEND", 1400, "ok", t=t0 + 0.02),
            SegmentEvent("out", Segment.make(ACK, 101, 301, 500, 65535), t=t0 + 0.02, win=65535),
            SegmentEvent("out", Segment.make(ACK, 601, 301, 500, 65535), t=t0 + 0.02, win=65535),
            # the peer takes 1000 bytes but its application reads slowly: only 300 offered
            SegmentEvent("in", Segment.make(ACK, 301, 1101, 0, 300), t=t0 + 0.05)]


def _small_send(t):
    """The 300 bytes the window takes, their ACK opening the window again, the last 100 bytes and
    their ACK: nothing is owed when the trace ends."""
    return [SegmentEvent("out", Segment.make(ACK, 1101, 301, 300, 65535), t=t, win=65535),
            SegmentEvent("in", Segment.make(ACK, 301, 1401, 0, 1000), t=t + 0.01),
            SegmentEvent("out", Segment.make(ACK, 1401, 301, 100, 65535), t=t + 0.01, win=65535),
            SegmentEvent("in", Segment.make(ACK, 301, 1501, 0, 1000), t=t + 0.02)]


def test_a_trace_that_fills_a_small_window_at_once_is_a_violation():
    v = Monitor(get_profile(P), calls_logged=True).check(_handshake() + _small_send(0.06))
    assert v.status == "violation", str(v)
    # linux has no sws-avoidance: the same trace is not judged by it
    assert Monitor(get_profile("linux"), calls_logged=True).check(_handshake() + _small_send(0.06)).ok
    assert step("linux", est(), output(300)) and step("linux", est(), timeout("PERSIST")) == []


@pytest.mark.parametrize("wait", [1.1, 3.0])
def test_a_trace_that_waits_for_the_override_timeout_conforms(wait):
    p = get_profile(P)
    v = Monitor(p, calls_logged=True).check(_handshake() + _small_send(0.05 + wait))
    assert v.status == "conformant", str(v)
    # the timeout is the first zero-window probe's (rto_min, less the tolerance): just before is too soon
    early = 0.05 + float(p.params["rto_min"]) * (1 - float(p.params["tolerance"])) * 0.95
    v = Monitor(p, calls_logged=True).check(_handshake() + _small_send(early))
    assert v.status == "violation", str(v)


def test_a_window_that_opens_lets_the_rest_go_at_once():
    opened = SegmentEvent("in", Segment.make(ACK, 301, 1101, 0, 1000), t=0.07)
    rest = [SegmentEvent("out", Segment.make(ACK, 1101, 301, 400, 65535), t=0.07, win=65535),
            SegmentEvent("in", Segment.make(ACK, 301, 1501, 0, 1000), t=0.08)]
    v = Monitor(get_profile(P), calls_logged=True).check(_handshake() + [opened] + rest)
    assert v.status == "conformant", str(v)
