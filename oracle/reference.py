"""`ReferenceEndpoint`: `step` with a deterministic choice policy, one TCB, driven by calls,
segments and timer expiries, for differential tests: feed another implementation and the
reference the same inputs and compare what they send and which state they reach."""
from __future__ import annotations

from synack.spec.machine import Machine, machine
from synack.spec.model import Endpoint, Segment, SpecError, State, Transition, arrive, call, timeout
from synack.spec.profiles import Profile, get_profile


class ReferenceEndpoint:
    """One endpoint that always takes the first result the table lists (the table puts the
    RFC's default before its `choice` alternatives). ISNs come from `isn`, advanced by
    `isn_step` per connection (a clock, as RFC 9293 3.4.1 asks)."""

    def __init__(self, profile: "Profile | str" = "rfc9293", *, isn: int = 1000, isn_step: int = 1 << 24):
        self.profile = get_profile(profile) if not isinstance(profile, Profile) else profile
        self.m: Machine = machine(self.profile)
        self._actions = {r.id: r.actions for r in self.m.rows}
        self.tcb = Endpoint()
        self._isn, self._isn_step = isn & 0xFFFFFFFF, isn_step
        self.signals: list[str] = []
        self.last: Transition | None = None

    @property
    def state(self) -> State:
        return self.tcb.state

    def _apply(self, results: list[Transition]) -> list[Segment]:
        if not results:
            return []
        tr = results[0]
        if any("ISS := ISN" in a for r in tr.rows for a in self._actions[r]):
            self._isn = (self._isn + self._isn_step) & 0xFFFFFFFF
        self.tcb, self.last = tr.endpoint, tr
        self.signals.extend(tr.signals)
        return list(tr.sends)

    def call(self, name: str, n: int = 0) -> list[Segment]:
        """A user call (listen, connect, send, receive, shutdown, close, abort); returns the segments sent."""
        return self._apply(self.m.step(self.tcb, call(name, isn=self._isn, n=n)))

    def receive(self, seg: Segment) -> list[Segment]:
        """A segment arrives; returns the segments sent in response."""
        if not isinstance(seg, Segment):
            raise SpecError(f"receive needs a Segment, got {seg!r}")
        return self._apply(self.m.step(self.tcb, arrive(seg, isn=self._isn)))

    def timeout(self, kind: str) -> list[Segment]:
        """A timer expires (RTO, 2MSL, ...); an unarmed timer does nothing."""
        return self._apply(self.m.step(self.tcb, timeout(kind)))

    def armed(self, kind: str) -> bool:
        return bool(self.m.step(self.tcb, timeout(kind)))
