"""Out-of-order text held and acknowledged cumulatively, live: this kernel, in a namespace of its
own, receives a scripted peer's data out of order (tests/live/scenarios.py out_of_order_held).
RFC 9293 3.10.7.4 lets it hold the text (SHLD-31), and both profiles judge the capture
conformant; the capture with a gap-filling ACK that does not cover the held text is a violation."""
import os
import sys
from dataclasses import replace

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from netns import can_unshare, run_in_netns  # noqa: E402
from scenarios import out_of_order_held  # noqa: E402

from synack.oracle import Monitor  # noqa: E402
from synack.oracle.capture import read_capture  # noqa: E402
from synack.oracle.judge import CaptureJudge  # noqa: E402
from synack.oracle.monitor import LEARNABLE  # noqa: E402
from synack.spec import TABLE, Machine, get_profile  # noqa: E402

pytestmark = pytest.mark.skipif(bool(can_unshare()), reason=can_unshare() or "-")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("held") / "held.pcap")
    caps, seen = run_in_netns(out_of_order_held, path, timeout=60)
    return caps, seen


def judged(caps, profile):
    (path, iut), = caps
    judge = CaptureJudge(profile, (iut, None), keep_events=True, given=tuple(LEARNABLE))
    results = [r for p in read_capture(path) for r in judge.feed(p)] + list(judge.close())
    (conn,) = judge.released
    (events,) = conn.events.values()
    return results, events


def test_the_kernel_held_the_text_and_acknowledged_it_when_the_gap_filled(run):
    _, (got, acks) = run
    assert got == b"A" * 100 + b"B" * 100 + b"C" * 100 + b"D" * 100
    assert acks == [0, 200, 200, 240, 400]


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_the_capture_is_conformant(run, profile):
    results, _ = judged(run[0], get_profile(profile))
    assert [r.verdict.status for r in results] == ["conformant"], str(results[0].verdict)


def test_without_the_hold_rows_the_capture_is_a_violation(run):
    prof = get_profile("linux")
    results, events = judged(run[0], prof)
    old = Machine(prof, tuple(r for r in TABLE if r.id not in ("text.ooo.hold", "text.ooo.merge")))
    v = Monitor(prof, calls_logged=False, spec=old).check(events)
    assert v.status == "violation", str(v)


def _fill_ack(events, base, ack):
    """The index of the IUT's first ACK of `ack` (relative to `base`) without data."""
    k = next(k for k, e in enumerate(events) if getattr(e, "dir", "") == "out" and not e.seg.data
             and (e.seg.ack - base) % (1 << 32) == ack)
    return k


def test_a_gap_filling_ack_that_does_not_cover_the_held_text_is_a_violation(run):
    prof = get_profile("linux")
    _, events = judged(run[0], prof)
    first = next(e for e in events if getattr(e, "dir", "") == "in" and e.seg.data)
    base = (first.seg.seq - 100) % (1 << 32)          # the held segment came first, 100 bytes in
    assert Monitor(prof).check(events).status == "conformant"
    for ack in (200, 400):
        k = _fill_ack(events, base, ack)
        # half the held text; one past it; the filling segment alone (a stack that dropped the held
        # text would send that ACK, but then the later ACKs show the text was kept)
        for wrong in (ack - 50, ack + 1, ack - 100):
            bad = list(events)
            bad[k] = replace(bad[k], seg=bad[k].seg._replace(ack=(base + wrong) % (1 << 32)))
            v = Monitor(prof).check(bad)
            assert v.status == "violation", f"ACK {wrong} for {ack}:\n{v}"
