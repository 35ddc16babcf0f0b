"""Traces made by the checker's system: two endpoints running `step`, a lossy, duplicating,
reordering network and the users of a named scenario, walked along one path. Each run is
projected onto one endpoint as the IUT's trace: its own segments "out" (as a capture next to
it sees them, lost or not) and the segments delivered to it "in". User calls and timers are
hidden unless asked for. The monitor must accept every such projection; `mutate` makes
traces it must reject.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from synack.checker.system import Config, System, make_config
from synack.spec.model import ACK, FIN, RST, SYN, MASK, Segment

from .events import CallEvent, SegmentEvent, TraceEvent


@dataclass(frozen=True)
class Run:
    """A path of the checker's system: states and the labels of the moves between them."""

    system: System
    states: tuple[tuple, ...]
    labels: tuple[tuple, ...]

    @property
    def finished(self) -> bool:
        """The run ended where the system may legitimately end (both endpoints at rest)."""
        return self.system.terminal(self.states[-1])

    def trace(self, side: int, calls: bool = False, before: "list | None" = None) -> list[TraceEvent]:
        """The run as endpoint `side` (0 = A, 1 = B) saw it. When `before` is a list, it receives,
        per event, the endpoint's TCB before the move that made the event (None for the second
        and later events of one move): where a trace cut there starts."""
        sys_ = self.system
        out: list[TraceEvent] = []
        for s, label in zip(self.states, self.labels):
            n0 = len(out)
            kind = label[0]
            if kind in ("lose", "dup"):
                continue
            if label[1] != side:
                continue
            res = label[4]
            if kind == "deliver":
                seg = sys_.segs[sys_.tsegs[s[3 - side][label[2]]][0]]
                out.append(SegmentEvent("in", seg))
            elif kind == "call" and calls:
                err = next((x for x in res.signals if x.startswith("error")), None)
                name = label[2]
                out.append(CallEvent(name, 1 if name == "SEND" else 0, err or "ok"))
            for sv in res.sends:
                seg = sys_.segs[sv]
                out.append(SegmentEvent("out", seg, win=None if seg.flags & RST else seg.wnd))
            if before is not None and len(out) > n0:
                before += [sys_.eps[s[side]]] + [None] * (len(out) - n0 - 1)
        return out


def config(profile: str = "rfc9293", scenario: str = "client-close", **bounds) -> Config:
    """A checker configuration for trace generation (small retry limits keep runs short)."""
    kw = dict(capacity=2, loss=True, dup=1, retries=2)
    kw.update(bounds)
    return make_config(profile, (), scenario, **kw)


def walk(cfg: Config, choices: "Sequence[int] | random.Random", max_steps: int = 80,
         system: System | None = None) -> Run:
    """Walk the system from its initial state. `choices` picks each move: a Random, or a list
    of integers (taken modulo the number of moves; hypothesis shrinks such lists well)."""
    sys_ = system or System(cfg)
    s = sys_.initial()
    states, labels = [s], []
    for i in range(max_steps):
        succ = [(lab, c) for lab, c, _, _ in sys_.successors(s)]
        if not succ:
            break
        if isinstance(choices, random.Random):
            k = choices.randrange(len(succ))
        else:
            if i >= len(choices):
                break
            k = choices[i] % len(succ)
        lab, s = succ[k]
        labels.append(lab)
        states.append(s)
    return Run(sys_, tuple(states), tuple(labels))


# ---------------------------------------------------------------------------- mutations
#: Single mutations of an IUT's trace, each built so that no TCB the table allows could have
#: produced the mutated segment; the monitor must reject the trace at that event. Each names
#: the rows the verdict should cite (any one of them), or () when the rule is general.
MUTATIONS = ("ack-beyond-received", "ack-on-unprovoked-syn", "drop-ack-flag", "syn-on-fin-or-data", "rst-with-data",
             "data-before-third-segment", "data-after-own-fin", "syn-answered-with-ack")
EXPECTED_ROWS = {
    "data-before-third-segment": ("queue.send",),
    "data-after-own-fin": ("closing.send", "late.close", "finwait.close", "finwait.shutdown"),
    "syn-answered-with-ack": ("listen.syn", "synsent.syn", "timewait.reopen", "rto.synack", "synrcvd.syn-copy"),
}


def missed_mutations(trace: list[TraceEvent], profile, rng: random.Random, *, start: str = "closed",
                     learn=()) -> tuple[int, list[str]]:
    """Each mutation kind applied once to `trace` and judged by a fresh monitor: (how many were
    tried, a line for each that was not a violation at the mutated event). The check every
    captured corpus runs to show its conformant verdicts were not waved through."""
    from .monitor import Monitor

    tried, missed = 0, []
    for kind in MUTATIONS:
        m = mutate(trace, kind, rng)
        if m is None:
            continue
        bad, i = m
        v = Monitor(profile, start=start, learn=learn).check(bad)
        if not (v.status == "violation" and v.index == i + 1):
            missed.append(f"{kind} at event {i + 1}:\n{v}")
        tried += 1
    return tried, missed


def mutate(trace: list[TraceEvent], kind: str, rng: random.Random) -> "tuple[list[TraceEvent], int] | None":
    """Apply mutation `kind` at a random applicable place: (mutated trace, 0-based index of
    the mutated event), or None when the trace has no such place."""
    if kind not in MUTATIONS:
        raise ValueError(f"unknown mutation {kind!r}; expected one of: {', '.join(MUTATIONS)}")
    spots = []
    top = None                                   # highest sequence end received so far
    for i, ev in enumerate(trace):
        if not isinstance(ev, SegmentEvent):
            continue
        seg = ev.seg
        if ev.dir == "in":
            end = (seg.seq + seg.length) & MASK
            if top is None or (end - top) & MASK < 1 << 31:
                top = end
            continue
        if kind == "ack-on-unprovoked-syn" and seg.flags & (SYN | ACK | RST) == SYN and top is None:
            # a SYN,ACK answers a SYN; before any segment arrived there is nothing to answer
            spots.append((i, SegmentEvent("out", seg._replace(flags=seg.flags | ACK, ack=seg.seq), ev.t, ev.win)))
        if kind == "ack-beyond-received" and seg.flags & ACK and top is not None:
            spots.append((i, SegmentEvent("out", seg._replace(ack=(top + 1) & MASK), ev.t, ev.win)))
        elif kind == "drop-ack-flag" and seg.flags & ACK and not seg.flags & (SYN | RST):
            spots.append((i, SegmentEvent("out", seg._replace(flags=seg.flags & ~ACK, ack=0), ev.t, ev.win)))
        elif kind == "syn-on-fin-or-data" and not seg.flags & (SYN | RST) and (seg.flags & FIN or seg.data):
            spots.append((i, SegmentEvent("out", seg._replace(flags=seg.flags | SYN), ev.t, ev.win)))
        elif kind == "rst-with-data" and seg.data and not seg.flags & SYN:
            spots.append((i, SegmentEvent("out", seg._replace(flags=(seg.flags | RST) & ~FIN), ev.t, ev.win)))
    if kind == "data-before-third-segment":
        # the IUT answered a SYN with SYN,ACK (passive open): it sends data before anything else arrives
        for i, ev in enumerate(trace):
            if (isinstance(ev, SegmentEvent) and ev.dir == "out" and ev.seg.flags & (SYN | ACK) == SYN | ACK
                    and i > 0 and isinstance(trace[i - 1], SegmentEvent) and trace[i - 1].dir == "in"
                    and trace[i - 1].seg.flags & (SYN | ACK) == SYN):
                seg = ev.seg
                data = SegmentEvent("out", Segment(ACK, (seg.seq + 1) & MASK, seg.ack, 5, seg.wnd), ev.t, ev.win)
                spots.append((i + 1, data, "insert"))
                break
    if kind == "data-after-own-fin":
        for i, ev in enumerate(trace):
            if isinstance(ev, SegmentEvent) and ev.dir == "out" and ev.seg.flags & FIN and ev.seg.flags & ACK:
                seg = ev.seg
                data = SegmentEvent("out", Segment(ACK, (seg.seq + seg.length) & MASK, seg.ack, 5, seg.wnd), ev.t,
                                    ev.win)
                spots.append((i + 1, data, "insert"))
                break
    if kind == "syn-answered-with-ack":
        for i, ev in enumerate(trace):
            if (isinstance(ev, SegmentEvent) and ev.dir == "out" and ev.seg.flags & (SYN | ACK) == SYN | ACK
                    and i > 0 and isinstance(trace[i - 1], SegmentEvent) and trace[i - 1].dir == "in"
                    and trace[i - 1].seg.flags & (SYN | ACK | RST) == SYN):
                spots.append((i, SegmentEvent("out", ev.seg._replace(flags=ACK), ev.t, ev.win)))
                break
    if not spots:
        return None
    spot = spots[rng.randrange(len(spots))]
    i, ev = spot[0], spot[1]
    out = list(trace)
    if len(spot) == 3:
        out.insert(i, ev)
    else:
        out[i] = ev
    return out, i
