"""The step cache (oracle/stepcache.py): a step computed for one connection is reused, shifted,
for another that differs only by its ISNs; a step that does not commute with the shift is
never stored; and the candidate engine (oracle/monitor.py) sees none of its mechanism."""
import ast
import dataclasses
from pathlib import Path

from synack.oracle import Monitor
from synack.oracle.candidate import Cand
from synack.oracle.events import SegmentEvent
from synack.oracle.stepcache import FRAME_ALL, Memo, Stepper, Tables
from synack.spec.frames import shift_endpoint, shift_received, shift_sent
from synack.spec.machine import FRAME_FREE, machine
from synack.spec.model import ACK, MASK, Endpoint, Segment, State

from test_memo import exchange, shifted  # noqa: E402 (tests/oracle is on sys.path under pytest)

MONITOR = Path(__file__).resolve().parents[2] / "oracle" / "monitor.py"


def _memo(profile="linux") -> Memo:
    st = Stepper(machine(profile))
    return Memo(st, Tables(), (1.0, 2.0), (), lambda: (None, None, None))


def _established(iss: int, irs: int) -> Cand:
    return Cand(Endpoint(State.ESTABLISHED, iss=iss, irs=irs, snd_una=iss + 1, snd_nxt=iss + 1, rcv_nxt=irs + 1))


def test_a_step_is_reused_shifted_for_other_isns():
    memo, calls = _memo(), []
    m = machine("linux")

    def slow(c, ev, wnd):
        calls.append(c)
        memo.stepper.step(c.ep, ev_arrive(ev))       # the bits of a real step
        return [(c._replace(ep=c.ep._replace(rcv_nxt=(c.ep.rcv_nxt + ev.seg.data) & MASK)), "row")]

    def ev_arrive(ev):
        from synack.spec.model import arrive
        return arrive(ev.seg)

    a = _established(1000, 5000)
    ev = SegmentEvent("in", Segment(ACK, 5001, 1001, 100, 1000))
    first = memo.advance(a, ev, None, slow)
    assert len(calls) == 1 and m is memo.stepper.m
    dl, dp = 123456, (1 << 31) + 7
    b = Cand(shift_endpoint(a.ep, dl, dp))
    moved = dataclasses.replace(ev, seg=shift_received(ev.seg, dl, dp))
    again = memo.advance(b, moved, None, slow)
    assert len(calls) == 1, "the shifted step was computed again"
    assert again == [(Cand(shift_endpoint(c.ep, dl, dp), c.owed, c.fresh, c.mark, c.due), r) for c, r in first]


def test_a_step_that_does_not_commute_is_not_stored():
    memo, calls = _memo(), []

    def slow(c, ev, wnd):
        calls.append(c)
        memo.stepper.bits &= ~FRAME_FREE          # as a row reading a sequence constant would
        return [(c, "row")]

    a = _established(1000, 5000)
    ev = SegmentEvent("in", Segment(ACK, 5001, 1001, 0, 1000))
    memo.advance(a, ev, None, slow)
    memo.advance(a, ev, None, slow)
    assert len(calls) == 2
    assert memo.stepper.bits & FRAME_ALL != FRAME_ALL


def test_whole_set_steps_are_replayed_across_connections():
    """The second connection's segments are taken by whole-set lookups (no candidate step)."""
    first, other = exchange(1000, 5000), exchange(3_000_000_000, 77)
    assert Monitor("linux").check(first).ok
    mon = Monitor("linux")
    slow = []
    real = mon._memo.advance_all
    mon._memo.advance_all = lambda *a: slow.append(1) or real(*a)
    assert mon.check(other).ok
    assert len(other) > 30 and len(slow) <= 2, len(slow)


def test_the_engine_sees_no_keys_shifts_or_rebases():
    """The monitor calls the cache (advance_all, silent, after, record, form, expand) and
    `step`; it never builds a key, shifts a set into normal form or rebases a TCB."""
    tree = ast.parse(MONITOR.read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not names & {"rebase", "shift_received", "shift_sent", "shift_owed", "bisect_right_ages"}
    assert not attrs & {"trans", "cand", "blind", "sets", "plain", "per_set", "step_framed", "listeners"}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                and n.module.endswith("frames") for a in n.names}
    assert imported <= {"shift_endpoint"}       # learning the IUT's ISN from its SYN, not memo


def test_memo_and_no_memo_agree_on_a_shifted_exchange():
    trace = exchange(10, 20)
    moved = shifted(trace, 2 ** 32 - 5, 2 ** 31)
    Monitor("linux").check(trace)
    assert Monitor("linux").check(moved).to_json() == Monitor("linux", memo=False).check(moved).to_json()
