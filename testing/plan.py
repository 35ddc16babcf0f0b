"""Runs of the checker's system that make the implementation under test take a table row.

The kit tests one endpoint of the checker's system, the IUT (side A or B of a scenario),
and plays the other (the peer), the users and the network. A *plan* is a path of system
moves from some system state to the first move in which the IUT's step uses the target row.
Paths are found by a cheapest-first search over `System.successors` (the checker's own
moves; nothing about TCP is decided here), where a move costs what it costs the kit to
make it happen on a real stack: waiting for one of the IUT's timers costs more than
delivering a segment, a long timer (2 MSL, keep-alive) far more, and a step in which the IUT
must take the table's non-default choice (a delayed ACK, say) is avoided when another path
exists, since a real stack picks its own choices. As in `synack.checker.paths`, timers fire
only when nothing is in flight (the round trip is shorter than every timeout).

`Planner.first_hits` explores a scenario once and keeps, for every row the IUT can take in
it, the cheapest path to its first use; `Planner.plan` searches from any state (the kit's
re-synchronised state after the IUT did something else than planned).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

from synack.checker.scenarios import CALL_MENU
from synack.checker.system import ISN_GAP, ISN_START, LONG, MOD, Config, System, make_config
from synack.spec.model import ACK, FIN, RST, SYN, Segment, State

MASK = MOD - 1

#: Move costs (see the module docstring). A loss or duplication costs a little: runs that
#: need one are kept, but a run without is preferred.
COST = {"deliver": 1, "call": 1, "peer-timer": 2, "lose": 3, "dup": 3, "iut-timer": 4, "iut-long-timer": 60,
        "iut-choice": 8, "error": 20, "inject": 6}
#: How many environment segments (`Planner.injections`) and extra user calls (any call of
#: the menu, in any state: `Planner.extra_calls`) one run may add to the scenario.
INJECT_BUDGET = 1

Path = list  # [(state, label, child)]


@dataclass(frozen=True)
class Hit:
    """The cheapest path found to the IUT's first use of `row` in one scenario."""
    row: str
    scenario: str
    iut: int                 # 0: the IUT is side A, 1: side B
    path: "tuple | None"     # ((state, label, child), ...): the last move uses the row (None: not decoded)
    cost: int
    moves: tuple = ()        # the path's moves as plain data (`encode`)

    def waits_for_iut_timer(self) -> bool:
        return any(m[0] == "timer" and m[1] == self.iut for m in self.moves)


def move_cost(label: tuple, iut: int) -> int:
    kind = label[0]
    if kind in ("lose", "dup"):
        return COST[kind]
    if kind == "inject":
        return COST["inject"] + (COST["iut-choice"] if label[3] > 0 else 0)
    res = label[4]
    c = COST["call"] if kind == "call" else COST["deliver"]
    if kind == "timer":
        if label[1] != iut:
            c = COST["peer-timer"]
        else:
            c = COST["iut-long-timer"] if label[2] in LONG else COST["iut-timer"]
    if label[1] == iut and label[3] > 0:
        c += COST["iut-choice"]
    if res.error:
        c += COST["error"]
    return c


def uses(label: tuple, iut: int) -> tuple[str, ...]:
    """The table rows the IUT's step in this move used (none for network and peer moves)."""
    if label[0] in ("deliver", "call", "timer", "inject") and label[1] == iut:
        return label[4].rows
    return ()


class Planner:
    """Plans over one scenario of one profile, with the IUT on side `iut`. The network may
    lose and duplicate (bounded by the config) and, with `fifo=False`, reorder."""

    def __init__(self, profile, scenario: str, iut: int, *, capacity: int = 2, dup: int = 1, loss: bool = True,
                 fifo: bool = True, retries: int = 2, max_states: int = 60_000, keepalive: bool = True,
                 inject: int = INJECT_BUDGET):
        self.cfg: Config = make_config(profile, (), scenario, capacity=capacity, loss=loss, dup=dup, fifo=fifo,
                                       retries=retries)
        self.system = System(self.cfg)
        self.iut, self.max_states, self.keepalive = iut, max_states, keepalive
        self.scenario, self.inject = scenario, inject
        self._menu: dict[tuple[int, int], tuple] = {}

    def uses_of(self, label: tuple) -> tuple[str, ...]:
        return uses(label, self.iut)

    def injections(self, s: tuple) -> tuple:
        """Environment segments the kit may send the IUT in state `s` (RFC 9293 3.10.7's
        cases: SYNs, RSTs, ACKs and FINs, in window, old duplicates one below RCV.NXT, far
        out of window; acknowledging SND.NXT, old data, or data never sent), each as the
        (segment, result index, result) the IUT's step gives. Cached per (IUT, peer) TCB."""
        sysm, x = self.system, self.iut
        key = (s[x], s[1 - x])
        menu = self._menu.get(key)
        if menu is not None:
            return menu
        e, peer = sysm.eps[s[x]], sysm.eps[s[1 - x]]
        wnd = int(self.cfg.profile.params["WINDOW"])
        base = e.rcv_nxt if e.state not in (State.CLOSED, State.LISTEN, State.SYN_SENT) else (
            peer.snd_nxt if peer.state not in (State.CLOSED, State.LISTEN) else ISN_START + 7 * ISN_GAP)
        seqs = {base & MASK, (base - 1) & MASK, (base + (1 << 30)) & MASK}
        acks = {e.snd_nxt & MASK, (e.snd_una - 1) & MASK, (e.snd_nxt + 1) & MASK}
        segs = set()
        for f in (SYN, SYN | ACK, ACK, RST, RST | ACK, FIN | ACK, FIN):
            for q in seqs:
                for a in (acks if f & ACK else (0,)):
                    segs.add(Segment(f, q, a, 0, wnd))
        segs.add(Segment(ACK, base & MASK, e.snd_nxt & MASK, 1, wnd))      # data, in window
        segs.add(Segment(ACK, base & MASK, e.snd_nxt & MASK, 0, 0))        # a zero window
        out = []
        for seg in sorted(segs):
            sv = sysm.intern_seg(seg)
            for ri, res in enumerate(sysm.results(s[x], "SEGMENT", sv, s[7])):
                out.append((seg, ri, res))
        menu = self._menu[key] = tuple(out)
        return menu

    def drivable(self, s: tuple, name: str, gone: bool) -> bool:
        """Whether the IUT's user can make call `name` through a sockets-style driver in state
        `s`: an OPEN (LISTEN, CONNECT) needs a user with no connection in use; every other
        call needs a handle: none before the user opened anything, none after its close() or
        abort() freed it, none on a passive connection not accepted yet (SYN-RECEIVED), and
        on a listening socket only close()."""
        x = self.iut
        state = self.system.st[s[x]]
        if name in ("LISTEN", "CONNECT"):
            return state == "CLOSED"
        if gone or s[4 + x] == 0:
            return False
        if state == "LISTEN":
            return name == "CLOSE"
        return not (state == "SYN-RECEIVED" and self.system.eps[s[x]].passive)

    def _moves(self, node: tuple):
        s, inj, gone = node
        x = self.iut
        quiet = not s[2] and not s[3]
        for lab, child, _, _ in self.system.successors(s):
            if lab[0] == "timer" and not quiet:
                continue
            if lab[0] == "timer" and lab[2] == "KEEPALIVE" and (lab[1] != x or not self.keepalive):
                continue
            g = gone
            if lab[0] == "call" and lab[1] == x:
                if not self.drivable(s, lab[2], gone):
                    continue
                g = lab[2] in ("CLOSE", "ABORT") or gone and lab[2] not in ("LISTEN", "CONNECT")
            yield lab, child, (child, inj, g)
        if quiet and inj < self.inject:
            for seg, ri, res in self.injections(s):
                lab = ("inject", x, seg, ri, res)
                child = self.system._apply(s, x, ("deliver", x, -1, ri, res), res, s[3 - x], 0, seg)[1]
                yield lab, child, (child, inj + 1, gone)
            for name, n in CALL_MENU:
                if not self.drivable(s, name, gone):
                    continue
                for ri, res in enumerate(self.system.results(s[x], name, (name, n), s[7])):
                    lab = ("call", x, name, ri, res)
                    child = self.system._apply(s, x, lab, res, None, None, None, pc2=s[4 + x])[1]
                    # an extra call is outside the user's script: its result (even an error,
                    # which would end a scripted round) leaves the script where it was
                    child = child[:4 + x] + (s[4 + x],) + child[5 + x:]
                    g = name in ("CLOSE", "ABORT") or gone and name not in ("LISTEN", "CONNECT")
                    yield lab, child, (child, inj + 1, g)

    def quiet(self, s: tuple) -> bool:
        """Nothing in flight and no short timer (retransmission, delayed ACK, probe) pending at
        the IUT: a run may stop here with nothing owed."""
        return not s[2] and not s[3] and not self.system.pending(s[self.iut])

    def settle(self, start: tuple, gone: bool = False) -> "Path | None":
        """The cheapest path from `start` to a quiet state (`quiet`), without injections;
        `gone`: the IUT's user has closed its handle (see `drivable`)."""
        for _, p, _ in self._search(start, set(), settle=True, gone=gone):
            return p
        return None

    def _search(self, start: tuple, targets: "set[str] | None", settle: bool = False, gone: bool = False):
        """Cheapest-first from `start`; yields (row, path, cost) for each row of `targets`
        (every row when None) at its first use by the IUT found (the search pops states in
        cost order, so this is the cheapest up to the cost of one move); with `settle`, yields
        ("", path, cost) once for the first quiet state popped."""
        start = (start, self.inject if settle else 0, gone)
        best = {start: 0}
        parent: dict = {start: None}
        heap = [(0, 0, start)]
        counter, found = 0, set()
        while heap:
            cost, _, node = heapq.heappop(heap)
            if best.get(node) != cost:
                continue
            if settle and self.quiet(node[0]):
                yield "", _unwind(parent, node), cost
                return
            for lab, child, nxt in self._moves(node):
                c2 = cost + move_cost(lab, self.iut)
                for row in uses(lab, self.iut):
                    if row not in found and (targets is None or row in targets):
                        found.add(row)
                        yield row, _unwind(parent, node) + [(node[0], lab, child)], c2
                        if targets is not None and found >= targets:
                            return
                if nxt not in best or c2 < best[nxt]:
                    if len(best) >= self.max_states:
                        continue
                    best[nxt] = c2
                    parent[nxt] = (node, lab)
                    counter += 1
                    heapq.heappush(heap, (c2, counter, nxt))

    def first_hits(self) -> dict[str, Hit]:
        """Every row the IUT takes in this scenario (within the bounds), with its cheapest path."""
        return {row: Hit(row, self.scenario, self.iut, tuple(p), c, tuple(tuple(encode(lab)) for _, lab, _ in p))
                for row, p, c in self._search(self.system.initial(), None)}

    def decode(self, moves: list) -> "Path | None":
        """A path from the initial state replaying `encode`d moves (None if one is not offered:
        the table or the planner changed since they were stored)."""
        node, path = (self.system.initial(), 0, False), []
        for mv in moves:
            for lab, child, nxt in self._moves(node):
                if encode(lab) == list(mv):
                    path.append((node[0], lab, child))
                    node = nxt
                    break
            else:
                return None
        return path

    def plan(self, start: tuple, row: str, gone: bool = False) -> "Path | None":
        """The cheapest path from `start` to the IUT's next use of `row`, or None."""
        for _, p, _ in self._search(start, {row}, gone=gone):
            return p
        return None


def encode(lab: tuple) -> list:
    """A move as plain data (JSON), independent of the System instance's interning."""
    if lab[0] == "inject":
        return ["inject", lab[1], list(lab[2]), lab[3]]
    if lab[0] in ("lose", "dup"):
        return list(lab[:3])
    return [lab[0], lab[1], lab[2], lab[3]]


def _unwind(parent: dict, node) -> list:
    out = []
    while parent[node] is not None:
        prev, lab = parent[node]
        out.append((prev[0], lab, node[0]))
        node = prev
    return out[::-1]
