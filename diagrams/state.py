"""The state diagram, built from a profile's table into a small graph (`StateGraph`) that
the DOT renderer draws: one node per state, one arc per (from, to) pair of the table's
state-changing rows, each arc labelled "event / action" in the RFC's notation.

Labels are computed from the rows, never written by hand: the event is the user call, the
timer, or "rcv" with the flags the row's guard requires; the action is "snd" with the flags
of what the row sends. An acknowledgment that reaches SND.NXT in a state whose invariant
says our FIN is out is "ACK of FIN", as in RFC 9293 Figure 5.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from synack.spec import CALLS, SEGMENT, STATES, TIMERS, Profile, State, flags_str, get_profile, machine
from synack.spec.table import INVARIANTS, Row
from synack.spec.vocab import Expr

#: Arc kinds, from most to least central: what the classic diagrams draw, what they leave out.
MAIN, RESET, TIMEOUT, OTHER = "main", "reset", "timeout", "other"


@dataclass(frozen=True)
class Label:
    """One "event / action" line of an arc, with the rows it stands for."""

    text: str
    rows: tuple[str, ...]
    kind: str
    status: str = "same"     # in a variant's diagram: "same", "added" or "removed"


@dataclass(frozen=True)
class Arc:
    src: State
    dst: State
    labels: tuple[Label, ...]
    kind: str                # the most central kind among its labels
    path: str = ""           # "client", "server", "both" or "": the usual paths of a connection
    status: str = "same"


@dataclass(frozen=True)
class StateGraph:
    profile: str
    base: str
    states: tuple[State, ...]
    arcs: tuple[Arc, ...]
    rst_shown: bool = True
    notes: tuple[str, ...] = field(default=())


def _conjuncts(e: Expr) -> list[Expr]:
    if e.node[0] == "and":
        return [x for p in e.node[1] for x in _conjuncts(p)]
    return [e]


def _mentions(e: Expr, name: str) -> bool:
    n = e.node
    if n[0] == "name":
        return n[1] == name
    kids = [x for part in n[1:] for x in (part if isinstance(part, tuple) else (part,)) if isinstance(x, Expr)]
    return any(_mentions(x, name) for x in kids)


def _required_flags(guard: Expr) -> int:
    bits = 0
    for c in _conjuncts(guard):
        if c.node[0] == "name" and c.node[1] in ("SYN", "ACK", "FIN", "RST"):
            bits |= {"SYN": 2, "ACK": 16, "FIN": 1, "RST": 4}[c.node[1]]
    return bits


def _acks_fin(guard: Expr, state: State) -> bool:
    """The row requires SEG.ACK == SND.NXT while the state's invariant says our FIN is sent."""
    if "FIN.SENT" not in INVARIANTS[state].replace("not FIN.SENT", ""):
        return False
    for c in _conjuncts(guard):
        n = c.node
        if n[0] == "cmp" and n[1] == "==" and {a.node for a in n[2:4]} == {("name", "SEG.ACK"), ("name", "SND.NXT")}:
            return True
    return False


def arc_label(row: Row, state: State, parsed: tuple) -> tuple[str, str]:
    """(text, kind) of one row leaving `state`: "rcv SYN / snd SYN,ACK", "CLOSE / snd FIN,ACK"."""
    guard, actions = parsed
    sends = [a.op[1] for a in actions if a.op[0] == "send"]
    if row.event in CALLS:
        event = row.event
    elif row.event in TIMERS:
        event = f"timeout {row.event}"
    elif row.event == "ICMP":
        event = "rcv ICMP error"
    else:
        bits = _required_flags(guard)
        what = flags_str(bits) if bits else ("data" if _mentions(guard, "SEG.END") else "segment")
        if bits == 16 and _acks_fin(guard, state):
            what = "ACK of FIN"
        event = f"rcv {what}"
    action = ""
    if sends:
        action = "snd " + " + ".join(flags_str(f) for f in sends)
    elif row.event not in (SEGMENT,) and any(a.op[0] == "delete" for a in actions):
        action = "delete TCB"
    text = event + (f" / {action}" if action else "")
    resets = row.event == "ABORT" or _required_flags(guard) & 4 or any(f & 4 for f in sends)
    if resets:
        kind = RESET
    elif row.figure5:
        kind = MAIN
    elif row.event in TIMERS:
        kind = TIMEOUT
    else:
        kind = OTHER
    return text, kind


_ORDER = {MAIN: 0, TIMEOUT: 1, OTHER: 2, RESET: 3}


def _merge(labels: list[Label]) -> list[Label]:
    """Labels of one arc that do the same thing on the same kind of event share a line:
    "SHUTDOWN, CLOSE / snd FIN,ACK", "timeout RTO, USER-TIMEOUT / delete TCB"."""
    groups: dict[tuple, list[Label]] = {}
    for lb in sorted(labels, key=lambda lb: _ORDER[lb.kind]):
        event, _, action = lb.text.partition(" / ")
        cls = "timeout" if event.startswith("timeout ") else ("rcv" if event.startswith("rcv ") else "call")
        groups.setdefault((cls, action, lb.status, cls == "rcv" and event), []).append(lb)
    out = []
    for (cls, action, status, _), group in groups.items():
        names = [g.text.partition(" / ")[0] for g in group]
        if cls == "timeout":
            names = ["timeout " + ", ".join(n[len("timeout "):] for n in names)]
        event = ", ".join(dict.fromkeys(names))
        out.append(Label(event + (f" / {action}" if action else ""), tuple(r for g in group for r in g.rows),
                         min((g.kind for g in group), key=_ORDER.get), status))
    out.sort(key=lambda lb: _ORDER[lb.kind])
    resets = [lb for lb in out if lb.kind == RESET and lb.status == "same"]
    if len(resets) > 1:   # RST and abort arcs share one line, to stay out of the way
        out = [lb for lb in out if lb not in resets] + [
            Label("; ".join(lb.text for lb in resets), tuple(r for lb in resets for r in lb.rows), RESET)]
    return out


def _arcs(profile: Profile) -> dict[tuple[State, State], dict[str, tuple[list[str], str]]]:
    """(from, to) -> label text -> (row ids, kind), for every state-changing row."""
    m = machine(profile)
    out: dict = {}
    for r in m.rows:
        if r.to is None:
            continue
        for s in r.states:
            if r.to is s:
                continue
            text, kind = arc_label(r, s, m.parsed[r.id])
            rows, k0 = out.setdefault((s, r.to), {}).setdefault(text, ([], kind))
            rows.append(r.id)
            if _ORDER[kind] < _ORDER[k0]:
                out[(s, r.to)][text] = (rows, kind)
    return out


def state_graph(profile: "Profile | str", *, paths: "dict[str, set[tuple[State, State]]] | None" = None,
                show_rst: bool = True) -> StateGraph:
    """The state diagram of `profile`. `paths` maps "client" and "server" to the (from, to)
    pairs of their usual paths (the CLI computes them from the checker's happy-path runs).
    A profile with variants is compared with its base: arcs and labels only the variant has
    are "added", those only the base has are "removed"."""
    if isinstance(profile, str):
        profile = get_profile(profile)
    mine = _arcs(profile)
    base = _arcs(get_profile(profile.base)) if profile.variants else mine
    paths = paths or {}
    arcs = []
    for key in sorted(set(mine) | set(base), key=lambda k: (STATES.index(k[0]), STATES.index(k[1]))):
        a, b = mine.get(key, {}), base.get(key, {})
        labels = []
        for text in list(a) + [t for t in b if t not in a]:
            rows, kind = a[text] if text in a else b[text]
            status = "same" if text in a and text in b else ("added" if text in a else "removed")
            if not show_rst and kind == RESET:
                continue
            labels.append(Label(text, tuple(rows), kind, status))
        if not labels:
            continue
        labels = _merge(labels)
        kind = labels[0].kind
        statuses = {lb.status for lb in labels}
        status = "added" if "added" in statuses else ("removed" if statuses == {"removed"} else "same")
        on = [p for p in ("client", "server") if key in paths.get(p, ())]
        path = "both" if len(on) == 2 else (on[0] if on else "")
        arcs.append(Arc(key[0], key[1], tuple(labels), kind, path, status))
    return StateGraph(profile.label(), profile.base, STATES, tuple(arcs), show_rst)
