"""Out-of-order text held for later (RFC 9293 3.10.7.4 SHLD-31, 3.9) and acknowledged
cumulatively when the gap fills, or dropped: both conformant. One range is held, as offsets
from RCV.NXT (HELD.START, HELD.END); every ACK while it is held goes out at once (RFC 5681
4.2)."""
from dataclasses import replace

import pytest

from drive import est, seg, step
from synack.oracle import Monitor
from synack.oracle.events import CallEvent, SegmentEvent
from synack.spec import TABLE, Machine, State, arrive, get_profile

PROFILES = ("rfc9293", "linux")


def results(profile, ep, s):
    return {t.rows[-1]: t for t in step(profile, ep, arrive(s))}


@pytest.mark.parametrize("profile", PROFILES)
def test_a_segment_beyond_rcv_nxt_is_held_or_dropped_and_answered_with_a_duplicate_ack(profile):
    ep = est(101, 301)
    res = results(profile, ep, seg("ACK", 401, 101, 100))
    assert set(res) == {"text.ooo", "text.ooo.hold"}
    for t in res.values():
        assert t.sends == (seg("ACK", 101, 301),)               # an ACK of RCV.NXT, at once
    held = res["text.ooo.hold"].endpoint
    assert (held.rcv_nxt, held.held_start, held.held_end, held.unread) == (301, 100, 200, False)
    assert res["text.ooo"].endpoint.held_end == 0


@pytest.mark.parametrize("profile", PROFILES)
def test_the_segment_that_fills_the_gap_is_acknowledged_with_everything_held(profile):
    ep = est(101, 301, held_start=100, held_end=200)
    (t,) = step(profile, ep, arrive(seg("ACK", 301, 101, 100)))
    assert t.rows[-1] == "text.data.fill"
    assert t.sends == (seg("ACK", 101, 501),)
    assert (t.endpoint.rcv_nxt, t.endpoint.held_start, t.endpoint.held_end, t.endpoint.unread) == (501, 0, 0, True)
    # text that reaches past the held range (held text sent again): RCV.NXT moves to its end
    (t,) = step(profile, ep, arrive(seg("ACK", 301, 101, 250)))
    assert t.rows[-1] == "text.data.fill.past" and t.sends == (seg("ACK", 101, 551),)


@pytest.mark.parametrize("profile", PROFILES)
def test_text_filling_part_of_the_gap_moves_the_held_range_with_rcv_nxt(profile):
    ep = est(101, 301, held_start=100, held_end=200)
    (t,) = step(profile, ep, arrive(seg("ACK", 301, 101, 40)))
    assert t.rows[-1] == "text.data.gap" and t.sends == (seg("ACK", 101, 341),)
    assert (t.endpoint.rcv_nxt, t.endpoint.held_start, t.endpoint.held_end) == (341, 60, 160)
    (t,) = step(profile, t.endpoint, arrive(seg("ACK", 341, 101, 60)))
    assert t.rows[-1] == "text.data.fill" and t.sends == (seg("ACK", 101, 501),)


def test_text_that_overlaps_old_data_and_part_of_the_gap_forgets_the_held_range():
    """Not modelled: the shift by SEG.END - RCV.NXT where SEG.SEQ < RCV.NXT (README)."""
    ep = est(101, 301, held_start=100, held_end=200)
    (t,) = step("rfc9293", ep, arrive(seg("ACK", 291, 101, 50)))
    assert t.rows[-1] == "text.data.gap.overlap" and t.sends == (seg("ACK", 101, 341),)
    assert (t.endpoint.rcv_nxt, t.endpoint.held_end) == (341, 0)


def test_one_range_is_held_touching_text_joins_it_a_disjoint_one_is_dropped():
    ep = est(101, 301, held_start=100, held_end=200)
    res = results("rfc9293", ep, seg("ACK", 501, 101, 100))             # adjacent after it
    assert (res["text.ooo.merge"].endpoint.held_start, res["text.ooo.merge"].endpoint.held_end) == (100, 300)
    res = results("rfc9293", ep, seg("ACK", 351, 101, 100))             # adjacent before it
    assert (res["text.ooo.merge"].endpoint.held_start, res["text.ooo.merge"].endpoint.held_end) == (50, 200)
    res = results("rfc9293", ep, seg("ACK", 701, 101, 100))             # a second hole: held (two ranges)
    assert set(res) == {"text.ooo", "text.ooo.hold2"} and res["text.ooo"].endpoint.held_end == 200
    two = res["text.ooo.hold2"].endpoint
    res = results("rfc9293", two, seg("ACK", 901, 101, 100))            # a third: dropped
    assert set(res) == {"text.ooo"} and res["text.ooo"].endpoint == two


def test_text_reaching_past_the_window_or_carrying_a_fin_is_not_held():
    ep = est(101, 301, wnd=1000)
    assert set(results("rfc9293", ep, seg("ACK", 1202, 101, 100))) == {"text.ooo"}   # one past 301 + 1000
    assert "text.ooo.hold" in results("rfc9293", ep, seg("ACK", 1201, 101, 100))      # up to the right edge
    assert set(results("rfc9293", ep, seg("FIN,ACK", 401, 101, 100))) == {"text.ooo"}


def test_a_fin_discards_the_held_range_and_no_ack_is_delayed_while_one_is_held():
    """tcp_fin() purges the out-of-order queue; RFC 5681 4.2: an ACK for text that fills part of
    a gap goes out at once, so linux's delayed ACK does not apply."""
    ep = est(101, 301, held_start=100, held_end=200)
    (t,) = [t for t in step("linux", ep, arrive(seg("FIN,ACK", 301, 101))) if "fin.est" in t.rows]
    assert t.endpoint.state is State.CLOSE_WAIT and t.endpoint.held_end == 0
    rows = [t.rows[-1] for t in step("linux", ep, arrive(seg("ACK", 301, 101, 10)))]
    assert rows == ["text.data.gap"]
    rows = [t.rows[-1] for t in step("linux", est(101, 301), arrive(seg("ACK", 301, 101, 10)))]
    assert sorted(rows) == ["text.data", "text.data.delayed"]


# --- judged traces ----------------------------------------------------------------------------

def i(flags, sq, ak=0, data=0):
    return SegmentEvent("in", seg(flags, sq, ak, data))


def o(flags, sq, ak=0, data=0):
    return SegmentEvent("out", seg(flags, sq, ak, data), win=65535)


OPEN = [CallEvent("LISTEN"), i("SYN", 1000), o("SYN,ACK", 5000, 1001), i("ACK", 1001, 5001)]
#: 100 bytes lost, the next 100 arrive first (held: a duplicate ACK), the lost ones arrive: one
#: ACK covers both; then the peer's FIN, after all its data.
HELD = OPEN + [i("ACK", 1101, 5001, 100), o("ACK", 5001, 1001), i("ACK", 1001, 5001, 100),
               o("ACK", 5001, 1201), i("FIN,ACK", 1201, 5001), o("ACK", 5001, 1202)]
#: A stack that drops out-of-order text: the peer sends it again.
DROPPED = OPEN + [i("ACK", 1101, 5001, 100), o("ACK", 5001, 1001), i("ACK", 1001, 5001, 100),
                  o("ACK", 5001, 1101), i("ACK", 1101, 5001, 100), o("ACK", 5001, 1201)]


def judge(profile, events, spec=None):
    timed = [replace(e, t=k / 100) for k, e in enumerate(events)]
    return Monitor(profile, calls_logged=True, spec=spec).check(timed)


@pytest.mark.parametrize("profile", PROFILES)
def test_holding_and_dropping_are_both_conformant(profile):
    for events in (HELD, DROPPED):
        v = judge(profile, events)
        assert v.status == "conformant", str(v)


def test_without_the_hold_rows_a_stack_that_holds_is_a_violation():
    prof = get_profile("rfc9293")
    old = Machine(prof, tuple(r for r in TABLE if r.id not in ("text.ooo.hold", "text.ooo.merge")))
    v = judge(prof, HELD, spec=old)
    assert v.status == "violation" and v.index == 8, str(v)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_gap_filling_ack_that_does_not_cover_the_held_text_is_a_violation(profile):
    """Just outside text.data.fill: the ACK covers the filling segment and half the held text."""
    bad = list(HELD)
    bad[7] = o("ACK", 5001, 1151)
    v = judge(profile, bad)
    assert v.status == "violation" and v.index == 8, str(v)
    # ACK of the filling segment only: explained by a stack that dropped the held text, until
    # the peer's FIN at 1201 is acknowledged as if 1101..1200 had been kept
    bad[7] = o("ACK", 5001, 1101)
    v = judge(profile, bad)
    assert v.status == "violation" and v.index == 10, str(v)


# --- a second held range (tcp_data_queue_ofo(): an rb-tree of ranges) -------------------------

@pytest.mark.parametrize("profile", PROFILES)
def test_a_second_disjoint_range_is_held_and_the_first_fill_acks_only_up_to_the_next_gap(profile):
    """Two out-of-order ranges with a gap between are both held; the text filling the first gap
    is acknowledged up to the end of the first range (the second gap still open), and the second
    range becomes the first; filling that gap then acknowledges everything."""
    ep = est(101, 301, held_start=100, held_end=200)
    res = results(profile, ep, seg("ACK", 601, 101, 100))
    assert set(res) == {"text.ooo", "text.ooo.hold2"}
    two = res["text.ooo.hold2"].endpoint
    assert (two.held_start, two.held_end, two.held2_start, two.held2_end) == (100, 200, 300, 400)
    (t,) = step(profile, two, arrive(seg("ACK", 301, 101, 100)))
    assert t.sends == (seg("ACK", 101, 501),) and t.rows[-1] == "text.data.fill"
    assert (t.endpoint.rcv_nxt, t.endpoint.held_start, t.endpoint.held_end, t.endpoint.held2_end) == (501, 100, 200, 0)
    (t,) = step(profile, t.endpoint, arrive(seg("ACK", 501, 101, 100)))
    assert t.sends == (seg("ACK", 101, 701),)
    # the text between the two ranges joins them
    res = results(profile, two, seg("ACK", 501, 101, 100))
    bridged = res["text.ooo.bridge"].endpoint
    assert (bridged.held_start, bridged.held_end, bridged.held2_end) == (100, 400, 0)


def test_an_ack_past_a_gap_still_open_is_a_violation():
    """Held: 401..501 and 601..701 (relative to RCV.NXT 301). The text 301..401 is acknowledged
    up to 501; an ACK of 701 while 501..601 is missing is a violation."""
    def i(sq, n):
        return SegmentEvent("in", seg("ACK", sq, 101, n))

    def o(ak):
        return SegmentEvent("out", seg("ACK", 101, ak), win=65535)
    base = [SegmentEvent("in", seg("SYN", 300)), SegmentEvent("out", seg("SYN,ACK", 100, 301), win=65535),
            SegmentEvent("in", seg("ACK", 301, 101)), i(401, 100), o(301), i(601, 100), o(301), i(301, 100)]
    timed = lambda evs: [replace(e, t=k / 100) for k, e in enumerate(evs)]  # noqa: E731
    m = lambda: Monitor("linux", start="closed", calls_logged=False)  # noqa: E731
    assert m().check(timed(base + [o(501), i(501, 100), o(701)])).status == "conformant"
    assert m().check(timed(base + [o(701)])).status == "violation"
