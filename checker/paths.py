"""One chosen run of a scenario, for charts and walkthroughs: the shortest run to a quiet
end, preferring the moves a textbook draws (deliver the oldest segment first, then user
calls, then timers), and passing through the `via` milestones in order.

A milestone is ``row:ID`` (some step uses table row ID), ``lose:A->B`` / ``lose:B->A``
(the network loses a segment in that direction) or ``dup:A->B`` / ``dup:B->A``. Timers fire
only when no segment is in flight, as on a network whose round trip is shorter than every
timeout: a retransmission in a chosen run always follows a loss.
"""
from __future__ import annotations

import heapq

from synack.spec import SpecError, flags_str

from .system import DIR, Config, System, make_config
from .trace import records

VIA_KINDS = ("row", "lose", "dup")


class NoPath(SpecError):
    """No run of the scenario reaches a quiet end through the milestones within the bound."""


def parse_via(via: "tuple[str, ...] | list[str]") -> tuple[tuple[str, str], ...]:
    out = []
    for v in via:
        kind, _, arg = str(v).partition(":")
        direction = arg.split(":")[0]
        if kind not in VIA_KINDS or not arg or (kind != "row" and direction not in DIR):
            raise SpecError(f"bad milestone {v!r}; use row:ROW-ID, lose:A->B, dup:B->A, or lose:A->B:SYN "
                            "(a segment with exactly these flags)")
        out.append((kind, arg))
    return tuple(out)


def path_config(profile="rfc9293", variants=(), scenario="client-close", via=(), retries=2,
                capacity=3, fifo=True, incarnations=1) -> Config:
    """A config for a chosen run: loss and duplication only as the milestones ask."""
    ms = parse_via(via)
    return make_config(profile, variants, scenario, capacity=capacity, loss=any(k == "lose" for k, _ in ms),
                       dup=sum(k == "dup" for k, _ in ms), fifo=fifo, retries=retries, incarnations=incarnations)


def _hits(system: System, s: tuple, label: tuple, milestone: tuple[str, str]) -> bool:
    kind, arg = milestone
    if kind == "row":
        return label[0] in ("deliver", "call", "timer") and arg in label[4].rows
    direction, _, flags = arg.partition(":")
    if label[0] != kind or DIR[1 - label[1]] != direction:
        return False
    seg = system.segs[system.tsegs[s[3 - label[1]][label[2]]][0]]
    return not flags or flags_str(seg.flags) == flags.upper()


def _rank(label: tuple, calls_first: bool) -> tuple:
    order = {"deliver": 0, "call": 1, "timer": 2, "lose": 3, "dup": 4}
    if calls_first:
        order["call"] = -1
    return (order[label[0]], label[1], label[2] if label[0] in ("deliver", "lose", "dup") else 0)


def choose(cfg: Config, via=(), calls_first: bool = False, max_states: int = 200_000) -> list[dict]:
    """The chosen run as step records (the same records a counterexample has). Runs are
    ranked by (errors reported to users, alternatives taken where the table offers a
    choice, length), then by the textbook's move order."""
    system = System(cfg)
    ms = parse_via(via)
    for kind, arg in ms:
        if kind == "row" and arg not in system.row_rfc:
            raise SpecError(f"milestone {kind}:{arg}: profile {cfg.profile.label()} has no row {arg!r}")
    keepalive_rows = {r.id for r in system.m.rows if r.event == "KEEPALIVE"}
    wants_keepalive = any(k == "row" and a in keepalive_rows for k, a in ms)
    start = (system.initial(), 0)
    best = {start: (0, 0, 0)}
    parent: dict = {start: None}
    heap = [((0, 0, 0), 0, start)]
    counter = 0
    while heap:
        cost, _, node = heapq.heappop(heap)
        if best.get(node) != cost:
            continue
        s, k = node
        if k == len(ms) and _quiet_end(system, s, wants_keepalive):
            return records(system, _unwind(parent, node))
        quiet = not s[2] and not s[3]
        moves = [(lab, c) for lab, c, _, _ in system.successors(s)
                 if lab[0] != "timer" or (quiet and (wants_keepalive or lab[2] != "KEEPALIVE"))]
        moves.sort(key=lambda m: _rank(m[0], calls_first))
        for lab, c in moves:
            nk = k + 1 if k < len(ms) and _hits(system, s, lab, ms[k]) else k
            if lab[0] in ("lose", "dup") and nk == k:
                continue                  # the network misbehaves only where a milestone says so
            res = lab[4] if lab[0] in ("deliver", "call", "timer") else None
            step_cost = (cost[0] + (1 if res is not None and res.error else 0),
                         cost[1] + (1 if res is not None and lab[3] > 0 else 0), cost[2] + 1)
            nxt = (c, nk)
            if nxt not in best or step_cost < best[nxt]:
                best[nxt] = step_cost
                parent[nxt] = (node, lab)
                if len(best) > max_states:
                    raise NoPath(f"no quiet end through {', '.join(via) or 'the scenario'} within "
                                 f"{max_states:,} states ({cfg.describe()})")
                counter += 1
                heapq.heappush(heap, (step_cost, counter, nxt))
    raise NoPath(f"scenario {cfg.scenario.name} never reaches a quiet end through "
                 f"{', '.join(via) or 'its steps'} ({cfg.describe()})")


def _quiet_end(system: System, s: tuple, keepalive: bool) -> bool:
    """Nothing in flight, both users done, and no timer armed but an idle connection's
    keep-alive (two hours away: it fires in a chosen run only when a milestone asks)."""
    return (not s[2] and not s[3] and all(system.user_done(x, s[4 + x]) for x in (0, 1))
            and all(t == "KEEPALIVE" and not keepalive for x in (0, 1) for t in system.armed_timers(s[x])))


def _unwind(parent: dict, node) -> list[tuple]:
    out = []
    while parent[node] is not None:
        prev, lab = parent[node]
        out.append((prev[0], lab, node[0], "path"))
        node = prev
    return out[::-1]
