"""Traces that start mid-connection: the monitor's starts come from the state invariants
(spec/midstream.py), and a conformant trace cut where the IUT's TCB is one of those starts
stays conformant."""
import random

import pytest

from synack.checker.scenarios import NAMES
from synack.oracle import Monitor
from synack.oracle.events import SegmentEvent
from synack.oracle.generate import config, walk
from synack.spec.machine import machine
from synack.spec.midstream import midstream_tcbs
from synack.spec.model import ACK, SYN, SYNCHRONIZED, Segment, State
from synack.spec.table import INVARIANTS

KEY = ("state", "snd_una", "snd_nxt", "rcv_nxt", "fin_sent", "orphan", "unread", "rtx")


def _key(ep):
    return tuple(getattr(ep, f) for f in KEY)


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
@pytest.mark.parametrize("direction", ["in", "out"])
def test_starts_meet_the_invariants_and_anchor_on_the_segment(profile, direction):
    m = machine(profile)
    seg = Segment(ACK, seq=0xFFFFFFFF, ack=7)           # anchors on both sides of the wrap
    tcbs = midstream_tcbs(m, direction, seg)
    assert {e.state for e in tcbs} == set(SYNCHRONIZED)
    for e in tcbs:
        if direction == "out":
            assert (e.snd_una, e.rcv_nxt) == (seg.seq, seg.ack)
        else:
            assert (e.rcv_nxt, e.snd_nxt) == (seg.seq, seg.ack)
    # the FIN-sent states are the ones the table's invariants say have sent a FIN
    fin_states = {e.state for e in tcbs if e.fin_sent}
    assert fin_states == {s for s in SYNCHRONIZED if INVARIANTS[s].startswith("FIN.SENT")}


def test_starts_follow_an_altered_invariant(monkeypatch):
    """Nothing in the derivation names a state: make ESTABLISHED require an outstanding
    sequence number and its start moves with it."""
    import synack.spec.midstream as ms
    m = machine("rfc9293")
    monkeypatch.setitem(ms.INVARIANTS, State.ESTABLISHED, "SND.NXT - SND.UNA == 1 and not FIN.SENT")
    monkeypatch.setattr(ms, "_CHECKS", ms.WeakKeyDictionary())
    est = [e for e in midstream_tcbs(m, "out", Segment(ACK, seq=100, ack=200)) if e.state is State.ESTABLISHED]
    assert est and all(e.snd_nxt - e.snd_una == 1 for e in est)


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
def test_a_conformant_trace_cut_at_a_start_stays_conformant(profile):
    """Checker-made runs of every scenario, cut at each segment where the IUT's real TCB
    matches a start's sequence variables, FIN, closed and unread flags and retry count: the rest is never a violation."""
    rng = random.Random(7)
    cuts = 0
    for scenario in NAMES:
        cfg = config(profile, scenario, **({"incarnations": 2} if scenario == "reconnect" else {}))
        for _ in range(16):
            run = walk(cfg, rng, 90)
            for side in (0, 1):
                before: list = []
                trace = run.trace(side, before=before)
                for k, (ev, ep) in enumerate(zip(trace, before)):
                    if ep is None or not isinstance(ev, SegmentEvent) or ev.seg.flags & SYN:
                        continue
                    if ep.state not in SYNCHRONIZED:
                        continue
                    if _key(ep) not in {_key(c) for c in midstream_tcbs(machine(cfg.profile), ev.dir, ev.seg)}:
                        continue
                    cuts += 1
                    v = Monitor(cfg.profile, start="any").check(trace[k:])
                    assert v.status != "violation", f"{scenario} side {side} cut at {k} ({ep}):\n{v}"
    assert cuts > 200
