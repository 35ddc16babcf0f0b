"""Drive two endpoints over a lossless, in-order wire, each replaying its application's part of
a `synack.oracle.strategies.Script`. An endpoint is ToyTCP (the implementation under test) or
synack's ReferenceEndpoint (the spec, one deterministic choice at each step). This is the
glue a user writes once for their own stack."""
from __future__ import annotations

from synack.oracle import ReferenceEndpoint
from synack.oracle.strategies import Script
from synack.spec.model import Segment

from toytcp import Seg, ToyTCP

EOF_STATES = {"CLOSE-WAIT", "CLOSING", "TIME-WAIT", "LAST-ACK"}


class ToySide:
    def __init__(self, toy: ToyTCP):
        self.toy, self.seen = toy, {toy.state}

    def _note(self):
        self.seen.add(self.toy.state)

    def call(self, name: str, n: int) -> None:
        getattr(self.toy, name)(*((n,) if name == "send" else ()))
        self._note()

    def deliver(self, seg: Segment) -> None:
        self.toy.segment_arrives(Seg(seg.flags, seg.seq, seg.ack, seg.data, seg.wnd))
        self._note()

    def take(self) -> list[Segment]:
        out = [Segment(s.flags, s.seq, s.ack, s.n, s.win) for s in self.toy.outbox]
        self.toy.outbox.clear()
        return out

    def tick(self) -> bool:
        fired = self.toy.retransmit()
        self._note()
        return fired

    def reached(self, what: str) -> bool:
        return "ESTABLISHED" in self.seen if what == "established" else bool(self.seen & EOF_STATES)

    @property
    def state(self) -> str:
        return self.toy.state


class ReferenceSide:
    def __init__(self, ref: ReferenceEndpoint):
        self.ref, self.out = ref, []

    def call(self, name: str, n: int) -> None:
        self.out += self.ref.call(name, n)

    def deliver(self, seg: Segment) -> None:
        self.out += self.ref.receive(seg)

    def take(self) -> list[Segment]:
        out, self.out = self.out, []
        return out

    def tick(self) -> bool:
        if not self.ref.armed("RTO"):
            return False
        self.out += self.ref.timeout("RTO")
        return True

    def reached(self, what: str) -> bool:
        return what in self.ref.signals

    @property
    def state(self) -> str:
        return str(self.ref.state)


def run(script: Script, a, b, max_steps: int = 300) -> list[tuple[str, Segment]]:
    """Play `script` (a's calls for side a, b's for side b); returns what crossed the wire, in
    order, as (sender "a"/"b", segment). Deterministic: calls first, then one delivery, and a
    retransmission timer fires only when nothing else can happen."""
    sides = {"a": (a, list(script.a)), "b": (b, list(script.b))}
    wire: list[tuple[str, Segment]] = []
    sent: list[tuple[str, Segment]] = []
    for _ in range(max_steps):
        moved = False
        for name, (side, calls) in sides.items():
            while calls:
                what, arg = calls[0]
                if what == "await" and not side.reached(arg):
                    break
                if what != "await":
                    side.call(what, arg)
                calls.pop(0)
                moved = True
            for seg in side.take():
                wire.append((name, seg))
                sent.append((name, seg))
        if wire:
            src, seg = wire.pop(0)
            (b if src == "a" else a).deliver(seg)
            continue
        if moved:
            continue
        if not (a.tick() or b.tick()):
            break
    return sent
