"""Counterexamples as message-sequence listings: each step names its actor, the segment
(flags, SEQ and ACK, relative to the incarnation's ISNs and absolute), both endpoints'
states after it, and the table rows with their RFC sections."""
from __future__ import annotations

import json
from collections import Counter

from synack.spec.model import flags_str

from .explore import Exploration, Found
from .system import DIR, SIDE, System


def _moves_between(system: System, s: tuple, child: tuple):
    for label, c, edge, _ in system.successors(s):
        if c == child:
            return label
    raise AssertionError("trace replay found no move between two consecutive states")


def _move_with(system: System, s: tuple, label: tuple):
    for lab, c, edge, _ in system.successors(s):
        if lab[:4] == label[:4]:
            return lab, c
    raise AssertionError("trace replay lost a move")


def steps(ex: Exploration, found: Found) -> list[dict]:
    """The counterexample as a list of step records (what `--json` prints)."""
    system, states = ex.system, ex.states
    pairs: list[tuple[tuple, tuple, tuple, str]] = []
    path = found.path
    for a, b in zip(path, path[1:]):
        pairs.append((states[a], _moves_between(system, states[a], states[b]), states[b], "prefix"))
    if found.last is not None:
        lab, c = _move_with(system, states[path[-1]], found.last)
        pairs.append((states[path[-1]], lab, c, "violation"))
    for kind, v, w in found.loop:
        pairs.append((states[v], _moves_between(system, states[v], states[w]), states[w],
                      {"giveup": "then only giving up is left", "cycle": "repeats forever"}.get(kind, "fair continuation")))
    return records(system, pairs)


def records(system: System, pairs: list[tuple[tuple, tuple, tuple, str]]) -> list[dict]:
    """Step records for a path given as (state, move label, next state, phase) tuples."""
    out, iss = [], [None, None]
    for n, (s, label, c, phase) in enumerate(pairs, 1):
        for side in (0, 1):
            e = system.eps[c[side]]
            if e.state.value not in ("CLOSED", "LISTEN"):
                iss[side] = e.iss
        out.append(_describe(system, n, s, label, c, phase, iss))
    return out


def _seg_record(system: System, tseg: "int | None", sender: int, iss, segv: "int | None" = None) -> dict:
    """A segment in flight (`tseg`), or one lost at once because the channel was full (`segv`)."""
    tag = None
    if tseg is not None:
        segv, tag = system.tsegs[tseg]
    seg = system.segs[segv]
    rec = {"flags": flags_str(seg.flags), "seq": seg.seq, "ack": seg.ack if seg.flags & 0x10 else None,
           "len": seg.data, "from": SIDE[sender]}
    if tag is not None:
        rec["incarnation"] = tag
    if iss[sender] is not None:
        rec["rel_seq"] = (seg.seq - iss[sender]) % (1 << 32)
    if seg.flags & 0x10 and iss[1 - sender] is not None:
        rec["rel_ack"] = (seg.ack - iss[1 - sender]) % (1 << 32)
    return rec


def _describe(system: System, n: int, s: tuple, label: tuple, c: tuple, phase: str, iss) -> dict:
    kind, side = label[0], label[1]
    rec: dict = {"step": n, "phase": phase}
    if kind in ("deliver", "lose", "dup"):
        sender = 1 - side
        rec["actor"] = "network"
        rec["move"] = {"deliver": f"deliver {DIR[sender]}", "lose": f"lose {DIR[sender]}",
                       "dup": f"duplicate {DIR[sender]}"}[kind]
        rec["segment"] = _seg_record(system, s[3 - side][label[2]], sender, iss)
    elif kind == "call":
        rec["actor"] = f"user {SIDE[side]}"
        rec["move"] = label[2]
    else:
        rec["actor"] = f"timer {SIDE[side]}"
        rec["move"] = f"{label[2]} expires"
    if kind in ("deliver", "call", "timer"):
        res = label[4]
        rec["rows"] = [{"id": r, "rfc": system.row_rfc.get(r, "")} for r in res.rows]
        rec["signals"] = list(res.signals)
        rec["sends"] = []
        grown = Counter(c[2 + side])
        grown.subtract(s[2 + side])
        for sv in res.sends:
            tid = next((t for t, k in grown.items() if k > 0 and system.tsegs[t][0] == sv), None)
            if tid is not None:
                grown[tid] -= 1
            if tid is None:
                rec["sends"].append(dict(_seg_record(system, None, side, iss, sv), lost="channel full"))
            else:
                rec["sends"].append(_seg_record(system, tid, side, iss))
    rec["A"] = _ep(system, c[0])
    rec["B"] = _ep(system, c[1])
    rec["timers"] = {SIDE[x]: list(system.armed_timers(c[x])) for x in (0, 1)}
    rec["in_flight"] = {DIR[0]: len(c[2]), DIR[1]: len(c[3])}
    return rec


def _ep(system: System, e: int) -> dict:
    ep = system.eps[e]
    d = {"state": ep.state.value}
    if ep.state.value not in ("CLOSED", "LISTEN"):
        d.update(iss=ep.iss, irs=ep.irs, snd_una=ep.snd_una, snd_nxt=ep.snd_nxt, rcv_nxt=ep.rcv_nxt)
    return d


def _seg_text(r: dict) -> str:
    rel = ""
    if "rel_seq" in r:
        rel = f" (rel {r['rel_seq']}" + (f"/{r['rel_ack']}" if "rel_ack" in r else "") + ")"
    t = f"<{r['flags']} seq={r['seq']}" + (f" ack={r['ack']}" if r.get("ack") is not None else "")
    t += (f" len={r['len']}" if r.get("len") else "") + ">" + rel
    if "incarnation" in r:
        t += f" #{r['incarnation']}"
    return t


def render_text(ex: Exploration, found: Found) -> str:
    lines = [f"property {found.prop} FAILS: {found.message}",
             f"  shortest counterexample ({ex.system.cfg.describe()}):"]
    for st in steps(ex, found):
        head = f"  {st['step']:>3}. {st['actor']}: {st['move']}"
        if "segment" in st:
            head += " " + _seg_text(st["segment"])
        if st.get("sends"):
            head += " -> sends " + ", ".join(_seg_text(x) + (" [lost: channel full]" if x.get("lost") else "")
                                             for x in st["sends"])
        if st.get("signals"):
            head += " -> tells user: " + "; ".join(st["signals"])
        if st["phase"] != "prefix":
            head += f"   <-- {st['phase']}"
        lines.append(head)
        if st.get("rows"):
            lines.append("       rows: " + ", ".join(f"{r['id']} [{r['rfc']}]" for r in st["rows"]))
        lines.append(f"       A: {_ep_text(st['A'])} | B: {_ep_text(st['B'])} | in flight "
                     f"A->B {st['in_flight']['A->B']}, B->A {st['in_flight']['B->A']}")
    return "\n".join(lines)


def _ep_text(d: dict) -> str:
    if len(d) == 1:
        return d["state"]
    return (f"{d['state']} ISS={d['iss']} IRS={d['irs']} UNA={d['snd_una']} NXT={d['snd_nxt']} "
            f"RCV.NXT={d['rcv_nxt']}")


def render_json(ex: Exploration, found: Found) -> dict:
    return {"property": found.prop, "message": found.message, "config": ex.system.cfg.describe(),
            "steps": steps(ex, found)}


def dumps(obj) -> str:
    return json.dumps(obj, indent=2)
