"""The data path of this machine's kernel, judged: segmentation by a small MSS with every
write() logged (the monitor then explains each data segment by the table's OUTPUT only: the
stack chose the size, the table bounds it by the MSS and the window), the FIN queued behind
unsent data, and mutants just outside each rule."""
import dataclasses
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from datapath import SCENARIOS, SMALL_MSS, calls_path  # noqa: E402
from netns import can_unshare, run_in_netns  # noqa: E402

from synack.oracle import Monitor  # noqa: E402
from synack.oracle.capture import read_capture  # noqa: E402
from synack.oracle.events import CallEvent, SegmentEvent, event_from_json  # noqa: E402
from synack.oracle.judge import HOST_CAPTURE, CaptureJudge  # noqa: E402
from synack.spec import ACK, FIN, SYN, get_profile  # noqa: E402
from synack.spec.profiles import timer_seconds  # noqa: E402

pytestmark = pytest.mark.skipif(bool(can_unshare()), reason=can_unshare() or "-")


@pytest.fixture(scope="module")
def bulk(tmp_path_factory):
    """The client's events of small_mss_bulk: its segments and its logged calls, in time order."""
    path = str(tmp_path_factory.mktemp("datapath") / "small_mss_bulk.pcap")
    run_in_netns(SCENARIOS["small_mss_bulk"], path, timeout=60)
    judge = CaptureJudge(get_profile("linux"), None, keep_events=True)
    for p in read_capture(path):
        list(judge.feed(p))
    list(judge.close())
    (conn,) = judge.released
    client = next(end for end in conn.events if end[1] != 5000)
    segs = conn.events[client]
    with open(calls_path(path)) as fh:
        calls = [event_from_json(c) for c in json.load(fh)]
    # a call is logged at the moment it was made: before any segment stamped later
    merged = sorted([(c.t, 0, i, c) for i, c in enumerate(calls)] + [(s.t, 1, i, s) for i, s in enumerate(segs)])
    return [x[3] for x in merged]


def _data(events):
    return [i for i, e in enumerate(events) if isinstance(e, SegmentEvent) and e.dir == "out" and e.seg.data]


def test_small_mss_bulk_with_every_call_logged_is_conformant(bulk):
    """Under `linux`, with the capture taken on the sender's own host (loopback hands the stack's
    segments over unsegmented: the observation model's `segmentation-offload`, on for a pcap),
    every data segment is explained by OUTPUT within the window."""
    assert sum(isinstance(e, CallEvent) and e.call == "SEND" for e in bulk) == 12
    v = Monitor("linux", calls_logged=True, observation=HOST_CAPTURE).check(bulk)
    assert v.status == "conformant", str(v)


def test_segments_within_the_mss_need_no_offload(bulk):
    """Where every data segment is within the announced MSS, `linux` without the offload
    latitude judges the same trace conformant; where one is larger, it is the first violation."""
    big = [i for i in _data(bulk) if bulk[i].seg.data > SMALL_MSS]
    v = Monitor("linux", calls_logged=True).check(bulk)
    if big:
        assert v.status == "violation" and v.index == big[0] + 1, str(v)
    else:
        assert v.status == "conformant", str(v)


def test_a_segment_one_byte_over_the_mss_is_a_violation_without_offload(bulk):
    """A data segment of the MSS plus one byte, at a capture point without offload: rejected
    where it appears, by the MSS rule (the same trace with the offload latitude passes that point)."""
    i = _data(bulk)[0]
    ev = bulk[i]
    bad = bulk[:i] + [SegmentEvent("out", ev.seg._replace(data=SMALL_MSS + 1), ev.t, ev.win)]
    v = Monitor("linux", calls_logged=True).check(bad)
    assert v.status == "violation" and v.index == i + 1, str(v)
    assert Monitor("linux", calls_logged=True, observation=HOST_CAPTURE).check(bad).status != "violation"


def test_data_beyond_the_peers_window_is_a_violation(bulk):
    """The peer's last ACK before a data segment announces a window (in the connection's
    scale) that ends before that segment's end: a violation (RFC 9293 3.8.6), at that segment
    or, where the stack may have sent it before processing the ACK, soon after."""
    segs = [(k, e) for k, e in enumerate(bulk) if isinstance(e, SegmentEvent)]
    syn_in = next(e for _, e in segs if e.dir == "in" and e.seg.flags & SYN)
    syn_out = next(e for _, e in segs if e.dir == "out" and e.seg.flags & SYN)
    shift = syn_in.wscale if syn_in.wscale is not None and syn_out.wscale is not None else 0
    for i in _data(bulk):
        prev = [k for k, e in segs if k < i and e.dir == "in" and e.seg.flags & ACK and not e.seg.flags & SYN]
        if not prev:
            continue
        k = prev[-1]
        una = bulk[k].seg.ack
        end = (bulk[i].seg.seq + bulk[i].seg.data - una) & 0xFFFFFFFF
        # the largest window the field can announce that still ends before the segment does
        win = (end - 1) >> shift
        if end < (1 << shift) or win > 0xFFFF or ((win << shift) >= end):
            continue
        # the segments between the ACK and this one must still fit (or we test an earlier one)
        if any(bulk[j].dir == "out" and bulk[j].seg.data and
               ((bulk[j].seg.seq + bulk[j].seg.data - una) & 0xFFFFFFFF) > (win << shift)
               for j in range(k + 1, i) if isinstance(bulk[j], SegmentEvent)):
            continue
        ack = bulk[k]
        bad = list(bulk)
        bad[k] = SegmentEvent("in", ack.seg._replace(wnd=win), ack.t, win, ack.wscale, ack.mss, ack.ts)
        assert Monitor("linux", calls_logged=True, observation=HOST_CAPTURE).check(bulk).ok
        v = Monitor("linux", calls_logged=True, observation=HOST_CAPTURE).check(bad)
        # the stack may have sent a few segments before it processed the ACK (the monitor's
        # crossing latitude, at most 8 incoming segments): the violation is at or after i
        assert v.status == "violation" and v.index >= i + 1, str(v)
        return
    pytest.skip("no data segment followed an ACK in a way this mutation can use")


def test_the_fin_follows_the_last_queued_byte(bulk):
    """close() came while data was still queued (the FIN rides on, or follows, the last byte:
    RFC 9293 3.10.4); a FIN moved before the last data segment is a violation."""
    fin = next(i for i, e in enumerate(bulk) if isinstance(e, SegmentEvent) and e.dir == "out"
               and e.seg.flags & FIN)
    close = next(i for i, e in enumerate(bulk) if isinstance(e, CallEvent) and e.call == "CLOSE")
    last = _data(bulk)[-1]
    assert close < last <= fin, "close() was not made while data was queued"
    ev = bulk[fin]
    early = SegmentEvent("out", ev.seg._replace(seq=bulk[last].seg.seq, data=0, flags=ev.seg.flags), ev.t, ev.win)
    bad = bulk[:last] + [early]
    v = Monitor("linux", calls_logged=True, observation=HOST_CAPTURE).check(bad)
    assert v.status == "violation" and v.index == last + 1, str(v)


def test_the_zero_window_is_probed_with_backoff(bulk):
    """The reader's window closes for 2 s: the client probes it (RFC 9293 3.8.6.1, MUST-36)
    with SEQ = SND.UNA - 1 (row `persist`, Linux tcp_xmit_probe_skb()), several times, each
    interval at least the profile's lower bound min(rto_min * 2^k, rto_max) less the tolerance
    (`timer_seconds(profile, "PERSIST", k)`)."""
    prof = get_profile("linux")
    segs = [e for e in bulk if isinstance(e, SegmentEvent)]
    assert any(e.dir == "in" and e.win == 0 for e in segs), "the window never closed"
    una, probes = None, []
    for e in segs:
        if e.dir == "in" and e.seg.flags & ACK:
            una = e.seg.ack
        elif e.dir == "out" and not e.seg.data and una is not None and e.seg.seq == (una - 1) & 0xFFFFFFFF:
            probes.append(e.t)
    assert len(probes) >= 3, probes
    tol = prof.params["tolerance"]
    for k, (a, b) in enumerate(zip(probes, probes[1:]), 1):
        assert b - a >= timer_seconds(prof, "PERSIST", k) * (1 - tol), (k, b - a)


def _judged(tmp_path_factory, name: str, read: int):
    """Scenario `name` run in a namespace of its own (it returns the bytes its reader read, which
    must be `read`) and its capture judged under linux: (results, {end: events})."""
    path = str(tmp_path_factory.mktemp(name) / f"{name}.pcap")
    assert run_in_netns(SCENARIOS[name], path, timeout=60) == read
    judge = CaptureJudge(get_profile("linux"), None, keep_events=True)
    results = [r for p in read_capture(path) for r in judge.feed(p)] + list(judge.close())
    (conn,) = judge.released
    return results, conn.events


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    """window_scaled_bulk judged: (results, {end: events})."""
    from datapath import SCALED_BYTES
    return _judged(tmp_path_factory, "window_scaled_bulk", SCALED_BYTES)


def test_window_scaling_on_both_sides_past_64_kb_is_conformant(scaled):
    """Both SYNs carry a window scale (RFC 7323 2.2); the server's windows, scaled, reach past
    65,535 bytes, the client has more than that outstanding, and both ends are conformant."""
    results, events = scaled
    assert [r.verdict.status for r in results] == ["conformant", "conformant"], [str(r.verdict) for r in results]
    client = next(end for end in events if end[1] != 5000)
    evs = events[client]
    syns = [e for e in evs if e.seg.flags & SYN]
    assert len(syns) == 2 and all(e.wscale is not None for e in syns), syns
    shift = next(e.wscale for e in syns if e.dir == "in")
    una, nxt, widest, most = None, None, 0, 0
    for e in evs:
        if e.dir == "in" and e.seg.flags & ACK and not e.seg.flags & SYN:
            una = e.seg.ack
            widest = max(widest, e.win << shift)
        elif e.dir == "out" and e.seg.data:
            nxt = (e.seg.seq + e.seg.data) & 0xFFFFFFFF
        if una is not None and nxt is not None:
            most = max(most, (nxt - una) & 0xFFFFFFFF)
    assert widest > 65535 and most > 65535, (widest, most)


def test_the_same_transfer_with_the_scale_option_taken_away_is_a_violation(scaled):
    """Just outside: had the server announced no window scale, its windows would be at most
    65,535 bytes and the client's data past them a violation (RFC 9293 3.8.6)."""
    _, events = scaled
    client = next(end for end in events if end[1] != 5000)
    evs = list(events[client])
    k = next(k for k, e in enumerate(evs) if e.dir == "in" and e.seg.flags & SYN)
    evs[k] = SegmentEvent("in", evs[k].seg._replace(ws=0), evs[k].t, evs[k].win, None, evs[k].mss, evs[k].ts,
                          evs[k].sack_ok)
    v = Monitor("linux", observation=HOST_CAPTURE).check(evs)
    assert v.status == "violation", str(v)


@pytest.fixture(scope="module")
def slow_reader(tmp_path_factory):
    """slow_small_reader judged under linux: (results, the server's events)."""
    from datapath import TINY_BYTES
    results, events = _judged(tmp_path_factory, "slow_small_reader", TINY_BYTES)
    server = next(end for end in events if end[1] == 5000)
    return results, list(events[server])


def _openings(evs):
    """[(index, window, window still offered before)] for each of the server's segments whose window
    moves the right edge it last offered (windows unscaled: the small buffer announces no scale)."""
    out, edge = [], None
    for k, e in enumerate(evs):
        if e.dir != "out" or e.seg.flags & SYN or e.win is None:
            continue
        new = (e.seg.ack + e.win) & 0xFFFFFFFF
        if edge is not None and e.win and 0 < ((new - edge) & 0xFFFFFFFF) < (1 << 31):
            out.append((k, e.win, (edge - e.seg.ack) & 0xFFFFFFFF))
        edge = new
    return out


def test_a_slow_small_reader_opens_its_window_in_steps_of_its_mss_estimate(slow_reader):
    """Linux's receiver SWS avoidance measures an opening against its estimate of the peer's
    segment size (__tcp_select_window(): rcv_mss, here about the 88-byte MSS it announced), not
    the effective send MSS: windows between 76 and 496 bytes open the edge, and `linux` (option
    rcv-mss-estimate) judges the server conformant; without the option the first such window is
    the violation, by offer.open (RFC 9293 3.8.6.2.2)."""
    results, evs = slow_reader
    assert [r.verdict.status for r in results] == ["conformant", "conformant"], [str(r.verdict) for r in results]
    small = [(k, w) for k, w, _ in _openings(evs) if 76 <= w < 496]
    assert small, _openings(evs)
    lx = get_profile("linux")
    without = dataclasses.replace(lx, options=lx.options - {"rcv-mss-estimate"})
    v = Monitor(without, observation=HOST_CAPTURE).check(evs)
    assert v.status == "violation" and v.index == small[0][0] + 1 and "offer.open" in " ".join(v.rows), str(v)


def test_an_opening_just_below_the_estimates_floor_is_a_violation(slow_reader):
    """Just outside: the first of those windows made 75 bytes (below the 76 octets rcv_mss may
    fall to, tcp_measure_rcv_mss()) is a violation where it appears; made 76, it conforms."""
    _, evs = slow_reader
    k = next(k for k, w, _ in _openings(evs) if 76 <= w < 496)
    for win, status in ((76, "conformant"), (75, "violation")):
        e = evs[k]
        mutant = evs[:k] + [SegmentEvent("out", e.seg._replace(wnd=win), e.t, win, e.wscale, e.mss, e.ts, e.sack_ok)]
        v = Monitor("linux", observation=HOST_CAPTURE).check(mutant)
        assert v.status == status and (status == "conformant" or v.index == k + 1), (win, str(v))
