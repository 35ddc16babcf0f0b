"""Breadth-first exploration with parent links (every counterexample is shortest), safety
checks on every edge, and the liveness analysis over the stored graph.

Liveness under fairness. The fair graph keeps every move except: losing a segment; a
give-up (a timer move that reports an error) while segments are still in flight (the
give-up timer, RFC 1122's R2 of 100 s or more, outlasts any delivery); and a give-up on a
quiet network with no loss since the endpoint's last timer-driven send. That last kind is
the finite witness of an infinite futile retransmission: everything sent was delivered and
the connection still did not move. A give-up after a loss is fair and sets the ghost bit
EXCUSED (the network was not fair; nothing is promised for that run).

`progress` holds iff from every reachable state the fair graph reaches a state at rest
(nothing in flight, nothing unacknowledged, users finished) or an excused quiet state.
This is backward reachability from the goal states; on a finite graph it is equivalent to
"every bottom strongly connected component of the fair graph contains a goal state",
which is what strong fairness (every move enabled infinitely often is taken) needs.
`graceful-close` is the same analysis with the goal "both endpoints completed their close
and hold no connection".
"""
from __future__ import annotations

import os
import resource
import time
from array import array
from collections import deque
from dataclasses import dataclass, field

from synack.spec import SpecError
from synack.spec.machine import Unspecified

from .system import EXCUSED, FAIR, FUTILE, SPURIOUS, System

LIVENESS = ("progress", "graceful-close")
SAFETY = ("handshake-agreement", "no-ghost-acceptance", "time-wait-absorbs-fin", "no-deadlock",
          "no-unspecified-reception", "no-unrequested-listen", "user-signals", "in-order-delivery")
#: A property of the graph's cycles: no endpoint retransmits (or probes) forever while the
#: network loses every copy.
BOUNDED = "bounded-retransmission"
PROPERTIES = SAFETY + LIVENESS + (BOUNDED,)
#: The edge class in a graph edge's byte (the native explorer marks subgraph edges in bit 7).
EDGE_CLASS = 0x7F
DEADLOCK = ("no move is possible, yet the system is not at a terminal state (both CLOSED or LISTEN, "
            "nothing in flight)")


@dataclass
class Limits:
    max_states: int = 0          # 0: no limit
    max_seconds: float = 0.0
    max_memory_mb: int = 0


@dataclass
class Found:
    """A property violation: the path (state indices) and the final move, if any."""

    prop: str
    message: str
    path: list[int]
    last: "tuple | None" = None          # label of the violating move from path[-1]
    loop: list = field(default_factory=list)   # fair continuation (labels) for liveness


@dataclass
class Exploration:
    system: System
    states: list
    parent: array
    found: dict[str, Found]
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    peak_mb: float = 0.0
    complete: bool = True
    stopped: str = ""
    checked: tuple[str, ...] = ()
    engine: str = "python"       # which explorer ran: "native" (C, checker/native.py) or "python"
    native: object = None         # the native engine, which owns `states` and `parent` then
    cores: int = 1                # threads the search ran on

    @property
    def rate(self) -> float:
        return len(self.states) / self.seconds if self.seconds > 0 else 0.0

    def path_to(self, i: int) -> list[int]:
        out = []
        while i >= 0:
            out.append(i)
            i = self.parent[i]
        return out[::-1]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


ENGINES = ("auto", "native", "python")


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def explore(system: System, limits: Limits = Limits(), on_progress=None, properties=None,
            engine: str = "auto", cores: "int | None" = None) -> Exploration:
    """Explore every reachable state of `system` and check `properties` (default: all).

    `engine`: "native" runs the C explorer (checker/native.py), "python" the one below, and
    "auto" the native one when a C compiler is available. Both explore the same states in the
    same order and give the same verdicts and counterexamples. `cores`: threads for the
    native search (default: every core this process may use); any number gives the same
    result, state for state. The Python explorer runs on one."""
    if engine not in ENGINES:
        raise SpecError(f"unknown engine {engine!r}; expected one of: {', '.join(ENGINES)}")
    if cores is None:
        cores = available_cores()
    if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
        raise SpecError(f"cores must be a positive integer, not {cores!r}")
    props = tuple(properties or system.cfg.properties or PROPERTIES)
    unknown = set(props) - set(PROPERTIES)
    if unknown:
        raise SpecError(f"unknown property {sorted(unknown)[0]!r}; expected one of: {', '.join(PROPERTIES)}")
    if not system.cfg.scenario.closes:
        props = tuple(p for p in props if p != "graceful-close")
    system.select(props)
    need_graph = any(p in LIVENESS for p in props)
    bounded = system.bounded if BOUNDED in props else ()
    if engine != "python":
        from .native import NativeUnavailable, explore_native
        try:
            return explore_native(system, limits, on_progress, props, need_graph, bounded, cores)
        except NativeUnavailable:
            if engine == "native":
                raise
    return _explore_python(system, limits, on_progress, props, need_graph, bounded)


def _limit_hit(limits: Limits, n: int, el: float) -> str:
    """Which limit stops the run now, or ""."""
    if limits.max_states and n >= limits.max_states:
        return f"--max-states {limits.max_states} reached"
    if limits.max_seconds and el >= limits.max_seconds:
        return f"--max-seconds {limits.max_seconds:g} reached"
    if limits.max_memory_mb and _rss_mb() >= limits.max_memory_mb:
        return f"--max-memory {limits.max_memory_mb} MB reached"
    return ""


def _explore_python(system: System, limits: Limits, on_progress, props, need_graph, bounded) -> Exploration:
    # edges of the retransmit-and-lose subgraph: losses, and sends of a timer with a give-up
    sub_src, sub_dst = array("I"), array("I")
    t0 = time.perf_counter()
    init = system.initial()
    index: dict = {init: 0}
    states = [init]
    parent = array("i", [-1])
    found: dict[str, Found] = {}
    # the graph in CSR form: successors of state i are succ[start[i]:start[i+1]]
    start = array("I", [0])
    succ = array("I")
    cls = bytearray()
    transitions = 0
    depth_end, depth = 1, 0
    complete, stopped = True, ""
    i = 0
    successors = system.successors
    check_deadlock = "no-deadlock" in props
    cap = limits.max_states or float("inf")      # checked at every state: the run stops at its bound
    index_get, states_append, parent_append = index.get, states.append, parent.append
    succ_append, cls_append = succ.append, cls.append
    while i < len(states):
        if i == depth_end:
            depth += 1
            depth_end = len(states)
        if (i & 4095 == 0 and i) or len(states) >= cap:
            el = time.perf_counter() - t0
            if on_progress is not None and i & 4095 == 0:
                on_progress(len(states), len(states) - i, transitions, el, depth)
            stopped = _limit_hit(limits, len(states), el)
            if stopped:
                complete = False
                break
        s = states[i]
        n = 0
        try:
            for label, child, edge, viol in successors(s):
                n += 1
                j = index_get(child)
                if j is None:
                    j = index[child] = len(states)
                    states_append(child)
                    parent_append(i)
                if need_graph:
                    succ_append(j)
                    cls_append(edge)
                if bounded and (label[0] == "lose" or (label[0] == "timer" and label[2] in bounded
                                                       and label[4].sends)):
                    sub_src.append(i)
                    sub_dst.append(j)
                if viol:
                    for v in viol:
                        if v.prop in props and v.prop not in found:
                            found[v.prop] = Found(v.prop, v.message, [i], label)
        except Unspecified as exc:
            # always reported: the state's other moves are not explored, so no verdict is sound
            if "no-unspecified-reception" not in found:
                found["no-unspecified-reception"] = Found("no-unspecified-reception", str(exc), [i])
        transitions += n
        if need_graph:
            start.append(len(succ))
        if n == 0 and check_deadlock and "no-deadlock" not in found and not system.terminal(s):
            found["no-deadlock"] = Found("no-deadlock", DEADLOCK, [i])
        i += 1
    ex = Exploration(system, states, parent, found, transitions, depth, 0.0, 0.0, complete, stopped, props)
    for f in found.values():
        f.path = ex.path_to(f.path[0])
    if complete and need_graph:
        rev = _reverse_fair(len(states), start, succ, cls)      # shared by both properties
        for p in props:
            if p in LIVENESS:
                goal = _goal_progress if p == "progress" else _goal_close
                ok = _backward(len(states), [goal(system, s) for s in states], rev)
                bad = next((v for v in range(len(states)) if not ok[v]), None)
                if bad is not None:
                    _liveness_found(ex, p, bad, start, succ, cls, ok)
    if complete and bounded:
        indeg = _peel(len(states), sub_src, sub_dst)
        if any(indeg[v] for v in sub_dst):
            _cycle_found(ex, sub_src, sub_dst, indeg)
    ex.seconds = time.perf_counter() - t0
    ex.peak_mb = _rss_mb()
    return ex


def _reverse_fair(n: int, start: array, succ: array, cls: bytearray) -> tuple[array, array]:
    """The fair edges reversed, in CSR form: (offsets, predecessors)."""
    rcount = array("I", bytes(4 * (n + 1)))
    for v, c in zip(succ, cls):
        if c == FAIR:
            rcount[v + 1] += 1
    for v in range(n):
        rcount[v + 1] += rcount[v]
    fill = array("I", rcount)
    rev = array("I", bytes(4 * rcount[n]))
    src = array("I")                       # each edge's source, for one flat pass below
    for u in range(n):
        src.extend(array("I", [u]) * (start[u + 1] - start[u]))
    for u, v, c in zip(src, succ, cls):
        if c == FAIR:
            rev[fill[v]] = u
            fill[v] += 1
    return rcount, rev


def _goal_progress(system: System, s: tuple) -> bool:
    """`progress`'s goal: at rest, or quiet after a give-up the network excused."""
    return system.at_rest(s) or bool(s[10] & EXCUSED and not s[2] and not s[3])


def _goal_close(system: System, s: tuple) -> bool:
    """`graceful-close`'s goal: both closes completed, or quiet after an excused give-up."""
    return system.close_goal(s) or bool(s[10] & EXCUSED and not s[2] and not s[3])


def _backward(n: int, goal: list, reverse) -> bytearray:
    """ok[v] = 1 iff v reaches a goal state over fair edges."""
    rcount, rev = reverse
    ok = bytearray(n)
    queue = deque()
    for v in range(n):
        if goal[v]:
            ok[v] = 1
            queue.append(v)
    while queue:
        v = queue.popleft()
        for k in range(rcount[v], rcount[v + 1]):
            u = rev[k]
            if not ok[u]:
                ok[u] = 1
                queue.append(u)
    return ok


def _liveness_found(ex: Exploration, prop: str, bad: int, start, succ, cls, ok) -> None:
    """Record a liveness violation at `bad`, a state from which no goal is reachable."""
    # continuation: follow fair edges inside the bad region until a dead end or a repeat,
    # and show a futile give-up when that is where the run ends.
    loop, seen, v = [], {bad}, bad
    for _ in range(200):
        nxt = None
        futile = None
        for k in range(start[v], start[v + 1]):
            c = cls[k] & EDGE_CLASS
            if c == FAIR and not ok[succ[k]]:
                nxt = succ[k]
                break
            if c in (FUTILE, SPURIOUS) and futile is None:
                futile = succ[k]
        if nxt is None:
            if futile is not None:
                loop.append(("giveup", v, futile))
            break
        loop.append(("fair", v, nxt))
        if nxt in seen:
            break
        seen.add(nxt)
        v = nxt
    what = ("under fairness no state at rest is reachable: retransmissions never resolve it"
            if prop == "progress" else
            "under fairness the close never completes on both sides without a reset or an error")
    ex.found[prop] = Found(prop, what, ex.path_to(bad), None, loop)


def _peel(n: int, src: array, dst: array) -> array:
    """`bounded-retransmission` (RFC 1122 4.2.3.5: after R2 the connection is closed; RFC 9293
    3.8.3): the subgraph of losses and of sends by timers that have a give-up row (RTO,
    keep-alive) must have no cycle, or an endpoint can retransmit forever into a network
    that loses every copy. With a sound table the retry count grows on each such send and
    losses only empty channels, so the subgraph is acyclic. Kahn's algorithm peels nodes
    with no incoming subgraph edge; what remains lies on or behind a cycle, and walking
    back through remaining predecessors finds one."""
    indeg = array("I", bytes(4 * n))
    for v in dst:
        indeg[v] += 1
    out_start = array("I", bytes(4 * (n + 1)))
    for u in src:
        out_start[u + 1] += 1
    for v in range(n):
        out_start[v + 1] += out_start[v]
    fill = array("I", out_start)
    out = array("I", bytes(4 * len(src)))
    for u, v in zip(src, dst):
        out[fill[u]] = v
        fill[u] += 1
    stack = [v for v in set(src) if indeg[v] == 0]
    while stack:
        u = stack.pop()
        for k in range(out_start[u], out_start[u + 1]):
            v = out[k]
            indeg[v] -= 1
            if indeg[v] == 0:
                stack.append(v)
    return indeg


def _cycle_found(ex: Exploration, src, dst, indeg) -> None:
    """Record a retransmit-and-lose cycle among the states Kahn's peel left (indeg > 0)."""
    left = {v for v in dst if indeg[v] > 0}
    pred: dict[int, int] = {}
    for u, v in zip(src, dst):
        if u in left and v in left and v not in pred:
            pred[v] = u
    # walk back from the remaining state found first by the BFS (so the prefix is shortest)
    v, seen = min(left), []
    while v not in seen:
        seen.append(v)
        v = pred[v]
    cycle = seen[seen.index(v):][::-1]        # the cycle in forward order (each entry's successor next)
    entry = cycle[0]
    loop = [("cycle", a, b) for a, b in zip(cycle, cycle[1:] + cycle[:1])]
    ex.found[BOUNDED] = Found(BOUNDED, "an endpoint retransmits forever while the network loses every copy: "
                              "its retry count never reaches the give-up (RFC 1122 4.2.3.5 R2, RFC 9293 3.8.3)",
                              ex.path_to(entry), None, loop)
