"""Message sequence charts: two lifelines, time flowing down, one arrow per segment.

A `Chart` is built from a trace, never drawn by hand: from the checker's step records (a
counterexample from `synack check --trace-out`, or a scenario run along one path) or from
an observed JSON Lines trace. The DOT source pins every node (`layout=neato`, `pos=...!`)
so that plain `dot -Tsvg chart.dot` draws exactly this chart.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Callable

from graphviz import Digraph

from synack.spec import flags_str

SIDES = ("A", "B")


@dataclass(frozen=True)
class Message:
    """One segment: sent by `src` (0 = A, 1 = B) at row `sent`, received at row `recv`, or lost
    at row `lost` (None: still in flight when the chart ends)."""

    src: int
    sent: float
    text: str
    recv: float | None = None
    lost: float | None = None
    note: str = ""           # "retransmission", "duplicate", "lost: channel full"


@dataclass(frozen=True)
class Mark:
    """Text beside a lifeline at a row: the event (a user call, a timer) and the state after it."""

    side: int
    row: float
    event: str
    state: str


@dataclass(frozen=True)
class Span:
    """A timer on a lifeline: armed at row `start`, expired at row `end`."""

    side: int
    start: float
    end: float
    label: str


@dataclass
class Chart:
    title: str
    names: tuple[str, str] = SIDES
    rows: int = 0
    messages: list[Message] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    footer: str = ""

    def arrows(self) -> list[Message]:
        """Messages in the order they were sent (what tests compare with the trace)."""
        return sorted(self.messages, key=lambda m: m.sent)

    def states(self, side: int) -> list[str]:
        return [m.state for m in self.marks if m.side == side and m.state]


# ----------------------------------------------------------------------------- builders

def _num(value: int, rel: "int | None", base: str, absolute: bool) -> str:
    if absolute or rel is None:
        return str(value)
    return base if rel == 0 else f"{base}+{rel}"


def seg_label(seg: dict, absolute: bool = False) -> str:
    """"SYN,ACK seq=y ack=x+1" (relative to A's ISN x and B's ISN y) or absolute numbers."""
    me, peer = ("x", "y") if seg["from"] == "A" else ("y", "x")
    t = f"{seg['flags']} seq={_num(seg['seq'], seg.get('rel_seq'), me, absolute)}"
    if seg.get("ack") is not None:
        t += f" ack={_num(seg['ack'], seg.get('rel_ack'), peer, absolute)}"
    if seg.get("len"):
        t += f" len={seg['len']}"
    return t


def _key(seg: dict) -> tuple:
    return (seg["from"], seg["flags"], seg["seq"], seg.get("ack"), seg.get("len", 0), seg.get("incarnation"))


def from_steps(steps: list[dict], title: str, absolute: bool = False,
               seconds: "Callable[[str, int], float | None] | None" = None) -> Chart:
    """A chart from the checker's step records (`synack.checker.trace.steps`, or the
    `steps` of a counterexample written by `synack check --trace-out`). `seconds(timer, k)`
    gives a timer's duration after k consecutive expiries (the profile's backoff), written
    on its span."""
    ch = Chart(title=title, rows=len(steps))
    flight: list[tuple[tuple, int]] = []          # (segment key, message index), oldest first
    msgs: list[dict] = []
    sent_before: set[tuple] = set()
    prev = {"A": "CLOSED", "B": "CLOSED"}
    armed_prev = {"A": [], "B": []}
    span_start: dict[tuple[str, str], int] = {}
    expiries: dict[tuple[str, str], int] = {}      # consecutive expiries of a timer
    ch.marks += [Mark(0, 0, "", "CLOSED"), Mark(1, 0, "", "CLOSED")]

    def take(seg: dict) -> int:
        k = _key(seg)
        for i, (key, mi) in enumerate(flight):
            if key == k:
                del flight[i]
                return mi
        raise ValueError(f"trace delivers {seg_label(seg, True)} that was never sent")

    for st in steps:
        n = st["step"]
        actor, move = st["actor"], st["move"]
        event = {}
        if actor == "network":
            seg = st["segment"]
            if move.startswith("deliver"):
                msgs[take(seg)]["recv"] = n
            elif move.startswith("lose"):
                msgs[take(seg)]["lost"] = n
            else:                                  # duplicate: a second copy of one in flight
                k = _key(seg)
                orig = next(mi for key, mi in flight if key == k)
                msgs.append(dict(msgs[orig], recv=None, lost=None, note="duplicate"))
                flight.append((k, len(msgs) - 1))
        else:
            side = actor.split()[-1]
            event[side] = (move.lower() + "()") if actor.startswith("user") else f"{move.split()[0]} fires"
        for seg in st.get("sends", []):
            side = seg.get("from") or (move[-1] if actor == "network" else actor.split()[-1])
            seg = dict(seg, **{"from": side})
            k = _key(seg)
            note = "lost: channel full" if seg.get("lost") else ("retransmission" if k in sent_before else "")
            sent_before.add(k)
            msgs.append({"src": SIDES.index(side), "sent": n, "text": seg_label(seg, absolute), "note": note,
                         "recv": None, "lost": n if seg.get("lost") else None})
            if not seg.get("lost"):
                flight.append((k, len(msgs) - 1))
        timers = st.get("timers", {})
        for side in SIDES:
            state = st[side]["state"]
            mine = st.get("signals", []) if actor.endswith(side) or (actor == "network" and move.endswith(side)) else []
            if state != prev[side] or side in event:
                ch.marks.append(Mark(SIDES.index(side), n, event.get(side, ""), state if state != prev[side] else ""))
            prev[side] = state
            now = timers.get(side, [])
            fired = event[side].split()[0] if event.get(side, "").endswith(" fires") else None
            for t in set(now) | set(armed_prev[side]):
                began = span_start.pop((side, t), None)
                restarted = f"restart {t}" in mine and t in armed_prev[side]
                if began is not None and (t == fired or restarted):
                    k = expiries.get((side, t), 0)
                    secs = seconds(t, k) if seconds else None
                    label = t + (f" {secs:g} s" if secs else "") + ("" if t == fired else " (restarted)")
                    ch.spans.append(Span(SIDES.index(side), began, n, label))
                if t == fired:
                    expiries[(side, t)] = expiries.get((side, t), 0) + 1
                elif t not in now or t not in armed_prev[side]:
                    expiries.pop((side, t), None)
                elif began is not None and t in now:
                    span_start[(side, t)] = began
                if t in now and (t not in armed_prev[side] or t == fired or restarted):
                    span_start[(side, t)] = n
            armed_prev[side] = now
    ch.messages = [Message(m["src"], m["sent"], m["text"], m["recv"], m["lost"], m["note"]) for m in msgs]
    return ch


#: What an observed chart's marks mean (written under the chart).
OBSERVED_LEGEND = ("{A, B}: the states the IUT could be in after the event (the oracle keeps every TCB the trace "
                   "allows, since it cannot see inside the IUT)")
VIOLATION_LEGEND = "red ✗: the segment no state explains (the violation); nothing is judged after it"


def state_set(states: "set[str] | list[str] | tuple[str, ...]") -> str:
    """One state as is; several as `{A, B}`, in the order of RFC 9293's figure: what the
    IUT may be in (never `A|B`, which reads as a state of its own)."""
    order = ("CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSING",
             "TIME-WAIT", "CLOSE-WAIT", "LAST-ACK")
    uniq = sorted(set(states), key=lambda x: (order.index(x) if x in order else len(order), x))
    return uniq[0] if len(uniq) == 1 else "{" + ", ".join(uniq) + "}"


def from_observed(events: list, states: list[str], title: str, iut: str = "IUT", absolute: bool = False,
                  violation: int | None = None) -> Chart:
    """A chart of an observed trace (one IUT, JSON Lines events): the IUT is the left
    lifeline, its peer the right one; `states` is the monitor's possible IUT states after
    each event (`state_set`: "SYN-SENT", "{ESTABLISHED, CLOSE-WAIT}", or "" when unchanged).
    `violation`: the 1-based index of the event no state explains, drawn in red with ✗;
    the footer's legend says what the marks mean."""
    ch = Chart(title=title, names=(iut, "peer"), rows=len(events))
    ch.marks.append(Mark(0, 0, "", states[0] if states else ""))
    iss = irs = None
    seen: set[tuple] = set()
    for n, (ev, state) in enumerate(zip(events, states[1:]), 1):
        seg = getattr(ev, "seg", None)
        if seg is not None:
            out = ev.dir == "out"
            if seg.flags & 2:
                if out:
                    iss = seg.seq
                else:
                    irs = seg.seq
            mine, theirs = (iss, irs) if out else (irs, iss)
            d = {"from": "A" if out else "B", "flags": flags_str(seg.flags), "seq": seg.seq,
                 "ack": seg.ack if seg.flags & 16 else None, "len": seg.data}
            if mine is not None:
                d["rel_seq"] = (seg.seq - mine) % (1 << 32)
            if theirs is not None and seg.flags & 16:
                d["rel_ack"] = (seg.ack - theirs) % (1 << 32)
            k = (out, seg.flags, seg.seq, seg.data)
            note = "✗ violation" if n == violation else ("retransmission" if k in seen else "")
            seen.add(k)
            ch.messages.append(Message(0 if out else 1, n - 0.6, seg_label(d, absolute), recv=n, note=note))
            event = ""
        else:
            event = str(getattr(ev, "name", "") or getattr(ev, "state", "")).lower()
            event = f"{event}()" if getattr(ev, "name", None) else ""
            if n == violation:
                event = f"✗ {event or 'violation'}"
        if state or event:
            ch.marks.append(Mark(0, n, event, state))
    legend = ["IUT states: " + OBSERVED_LEGEND] + ([VIOLATION_LEGEND] if violation else [])
    ch.footer = "\n".join(legend)
    return ch


# ----------------------------------------------------------------------------- DOT

ROW = 44.0            # points per row
GAP = 420.0           # points between the lifelines
LEFT = 190.0          # x of A's lifeline
TIMER = "#a0522d"
LOST = "#c01c28"
RETX = "#1a5fb4"


def _wrap(text: str, width: int) -> str:
    """Break a long line at ", " (never inside a `{state set}`) so that footers stay
    narrower than the chart."""
    parts, depth, cur = [], 0, ""
    for i, ch in enumerate(text):
        depth += (ch == "{") - (ch == "}")
        if ch == "," and depth == 0 and text[i + 1:i + 2] == " ":
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    out, line = [], ""
    for part in (p.lstrip(" ") if k else p for k, p in enumerate(parts)):
        if line and len(line) + len(part) + 2 > width:
            out.append(line + ",")
            line = part
        else:
            line = f"{line}, {part}" if line else part
    return "\n".join(out + [line])


def _y(row: float, rows: int) -> float:
    return (rows + 1 - row) * ROW


def chart_dot(ch: Chart) -> str:
    """The DOT source of a chart, every node pinned."""
    xa, xb = LEFT, LEFT + GAP
    xs = (xa, xb)
    top, bottom = _y(-0.6, ch.rows), _y(ch.rows + 0.8, ch.rows)
    d = Digraph("chart", graph_attr={
        "layout": "neato", "inputscale": "72", "splines": "line", "overlap": "true", "outputorder": "edgesfirst",
        "label": ch.title, "labelloc": "t", "fontname": "Helvetica",
        "fontsize": "14", "bgcolor": "white", "pad": "0.3"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"}, edge_attr={"fontname": "Helvetica", "fontsize": "10"})

    def pin(x: float, y: float) -> str:
        return f"{x:.1f},{y:.1f}!"

    def point(name: str, x: float, y: float) -> None:
        d.node(name, "", shape="point", width="0.02", style="invis", pos=pin(x, y))

    for i, name in enumerate(ch.names):
        d.node(f"head{i}", name, shape="box", style="filled", fillcolor="#e8e8e8", fontname="Helvetica-Bold",
               fontsize="13", pos=pin(xs[i], top + 18))
        point(f"foot{i}", xs[i], bottom)
        d.edge(f"head{i}", f"foot{i}", arrowhead="none", color="#555555")
    if ch.footer:
        d.node("footer", "\n".join(_wrap(line, 110) for line in ch.footer.split("\n")), shape="plaintext",
               fontsize="9", fontcolor="#555555", pos=pin((xa + xb) / 2, bottom - 22))
    for j, m in enumerate(ch.marks):
        x = xs[m.side]
        parts = []
        if m.event:
            parts.append(f'<FONT COLOR="#26a269"><I>{html.escape(m.event)}</I></FONT>')
        if m.state:
            parts.append(f"<B>{html.escape(m.state)}</B>")
        text = " ".join(parts)
        width = 7.0 * (len(m.event) + len(m.state) + 1)
        dx = -(width / 2 + 26) if m.side == 0 else width / 2 + 26
        d.node(f"mark{j}", f"<{text}>", shape="plaintext", pos=pin(x + dx, _y(m.row, ch.rows)))
    for j, s in enumerate(ch.spans):
        x = xs[s.side] + (-12 if s.side == 0 else 12)
        y0, y1 = _y(s.start, ch.rows), _y(s.end, ch.rows)
        point(f"span{j}a", x, y0)
        point(f"span{j}b", x, y1)
        d.edge(f"span{j}a", f"span{j}b", color=TIMER, penwidth="3", arrowhead="none")
        w = 2.6 * len(s.label) + 22
        d.node(f"span{j}t", f'<<FONT COLOR="{TIMER}">{html.escape(s.label)}</FONT>>', shape="plaintext",
               fontsize="9", height="0.15", margin="0", pos=pin(xs[s.side] + (w if s.side == 0 else -w), (y0 + y1) / 2))
    for j, m in enumerate(ch.messages):
        x0, y0 = xs[m.src], _y(m.sent, ch.rows)
        x1 = xs[1 - m.src]
        end = m.recv if m.recv is not None else (m.lost if m.lost is not None else ch.rows + 0.7)
        y1 = _y(end, ch.rows)
        if m.recv is None:
            frac = 0.55
            x1, y1 = x0 + (x1 - x0) * frac, y0 + (_y(max(end, m.sent + 1), ch.rows) - y0) * frac
        colour = (LOST if (m.recv is None and m.lost is not None) or m.note.startswith("✗")
                  else (RETX if m.note else "black"))
        point(f"msg{j}a", x0, y0)
        if m.recv is None and m.lost is not None:
            d.node(f"msg{j}b", f'<<FONT COLOR="{LOST}"><B>✕</B></FONT>>', shape="plaintext", fontsize="16",
                   width="0.2", height="0.2", margin="0", pos=pin(x1, y1))
            d.edge(f"msg{j}a", f"msg{j}b", color=colour, arrowhead="none")
        else:
            point(f"msg{j}b", x1, y1)
            d.edge(f"msg{j}a", f"msg{j}b", color=colour, style="dashed" if m.recv is None else "solid",
                   arrowsize="0.8")
        label = m.text + (f" ({m.note})" if m.note else "")
        f = 0.3 if m.recv is not None else 0.5   # near the sender: crossing arrows keep their labels apart
        mx, my = x0 + (x1 - x0) * f, y0 + (y1 - y0) * f
        d.node(f"msg{j}t", f'<<FONT COLOR="{colour}">{html.escape(label)}</FONT>>', shape="plaintext",
               fontsize="10", height="0.2", margin="0", pos=pin(mx, my + 11))
    return d.source
