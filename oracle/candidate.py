"""A candidate: one TCB value the implementation under test could have, with what the spec
made it owe that the capture has not shown yet. The monitor (oracle/monitor.py) keeps a set
of them; the step cache (oracle/stepcache.py) stores and shifts them."""
from __future__ import annotations

from typing import NamedTuple

from synack.spec.frames import UNMOVED
from synack.spec.model import ACK, PSH, SYN, Endpoint, Segment


class Cand(NamedTuple):
    ep: Endpoint
    owed: tuple[tuple[Segment, str], ...] = ()
    fresh: bool = False
    mark: float | None = None
    #: when the candidate's oldest outstanding obligation began (an owed segment, or a delayed
    #: ACK in its TCB): the deadline runs from here (`Monitor._overdue`); None: owes nothing
    due: float | None = None


def soft(seg: Segment) -> bool:
    """A pure ACK: RFC 1122 4.2.3.2 lets it be delayed and merged into a later one."""
    return (seg.flags & ~PSH) == ACK and seg.data == 0


def inert(c: Cand) -> bool:
    """A CLOSED or LISTEN candidate that explains no SYN the IUT sends, whatever its owed
    segments' numbers: it owes none, or owes a required segment without SYN, which must go
    out first (`Monitor._explain`). Beside fresh candidates, its numbers stay absolute."""
    return c.ep[0] in UNMOVED and all(not soft(w) and not w.flags & SYN for w, _ in c.owed)
