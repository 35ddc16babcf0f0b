"""Step-by-step narratives of a run (`synack explain`), in English or Chinese, generated from
the same step records the charts draw: what each side sends and why (the deciding table
row and its RFC section), the state it enters, and the SEQ/ACK arithmetic."""
from __future__ import annotations

from synack.spec import Segment

from .chart import seg_label

LANGS = ("en", "zh")

_T = {
    "en": {
        "call": "{side} calls {call}()", "deliver": "{side} receives {seg} from {peer}",
        "lose": "the network loses {seg} on its way from {peer} to {side}",
        "dup": "the network duplicates {seg} on its way from {peer} to {side}",
        "timer": "{side}'s {timer} timer expires", "sends": "{side} sends {segs}", "enters": "{side} enters {state}",
        "stays": "{side} stays in {state}", "tells": "{side} tells its user: {what}", "why": "why: row {row} ({rfc}): {note}",
        "ack": "ack={ack} acknowledges everything up to and including the received segment: "
               "RCV.NXT = SEG.SEQ + SEG.LEN = {seq} + {ln}{flags}",
        "flags": " (SYN and FIN each take one sequence number)", "start": "Both endpoints start CLOSED. x is A's ISN, "
        "y is B's ISN.", "lost": " (lost: the channel is full)",
        "established": "connection established", "eof": "end of file (the peer closed)",
    },
    "zh": {
        "call": "{side} 调用 {call}()", "deliver": "{side} 收到 {peer} 发来的 {seg}",
        "lose": "网络丢失了从 {peer} 发往 {side} 的 {seg}", "dup": "网络复制了从 {peer} 发往 {side} 的 {seg}",
        "timer": "{side} 的 {timer} 定时器超时", "sends": "{side} 发送 {segs}", "enters": "{side} 进入 {state} 状态",
        "stays": "{side} 仍处于 {state} 状态", "tells": "{side} 通知应用：{what}", "why": "依据：表行 {row}（{rfc}）",
        "ack": "ack={ack} 确认收到的报文段及其之前的全部序号：RCV.NXT = SEG.SEQ + SEG.LEN = {seq} + {ln}{flags}",
        "flags": "（SYN 和 FIN 各占一个序号）", "start": "两端都从 CLOSED 开始。x 是 A 的初始序号（ISN），y 是 B 的初始序号。",
        "lost": "（信道已满，丢失）", "established": "连接已建立", "eof": "读到文件结束（对端已关闭）",
    },
}


def narrate(steps: list[dict], rows: dict[str, tuple[str, str, bool]], lang: str = "en",
            absolute: bool = False) -> list[str]:
    """Lines of the narrative. `rows` maps a row id to (note, RFC section, has actions)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of: {', '.join(LANGS)}")
    t = _T[lang]
    out = [t["start"]]
    prev = {"A": "CLOSED", "B": "CLOSED"}
    for st in steps:
        actor, move = st["actor"], st["move"]
        if actor == "network":
            sender, side = move.split()[-1].split("->")
            seg = st["segment"]
            kind = move.split()[0].replace("duplicate", "dup")
            head = t[kind].format(side=side, peer=sender, seg=seg_label(seg, absolute))
        else:
            side = actor.split()[-1]
            head = (t["call"].format(side=side, call=move.lower()) if actor.startswith("user")
                    else t["timer"].format(side=side, timer=move.split()[0]))
        out.append(f"{st['step']:>2}. {head}")
        if "rows" not in st:
            continue
        deciding = [r["id"] for r in st["rows"] if rows.get(r["id"], ("", "", False))[2]] or [st["rows"][-1]["id"]]
        for rid in deciding:
            note, rfc, _ = rows.get(rid, ("", "", False))
            out.append("    " + t["why"].format(row=rid, rfc=rfc, note=note))
        if st.get("sends"):
            segs = ", ".join(seg_label(dict(x, **{"from": x.get("from", side)}), absolute)
                             + (t["lost"] if x.get("lost") else "") for x in st["sends"])
            out.append("    " + t["sends"].format(side=side, segs=segs))
            if actor == "network" and kind == "deliver":
                out += ["    " + line for line in _arithmetic(st["segment"], st["sends"], t, absolute)]
        for sg in st.get("signals", []):
            if sg.startswith("restart"):
                continue
            out.append("    " + t["tells"].format(side=side, what=t.get(sg, sg)))
        now = st[side]["state"]
        out.append("    " + (t["enters"] if now != prev[side] else t["stays"]).format(side=side, state=now))
        prev.update({s: st[s]["state"] for s in ("A", "B")})
    return out


def _arithmetic(seg: dict, sends: list[dict], t: dict, absolute: bool) -> list[str]:
    """Why the answer's ACK number is what it is, when it acknowledges the received segment."""
    flags = seg["flags"].split(",")
    ln = Segment.make(seg["flags"], seg["seq"], seg.get("ack") or 0, seg.get("len", 0)).length
    if "rel_seq" not in seg or ln == 0:
        return []
    out = []
    for x in sends:
        if x.get("rel_ack") is not None and x["rel_ack"] == (seg["rel_seq"] + ln) % (1 << 32):
            base = "x" if seg["from"] == "A" else "y"
            seq = str(seg["seq"]) if absolute else (base if seg["rel_seq"] == 0 else f"{base}+{seg['rel_seq']}")
            ack = seg_label(dict(x, **{"from": "B" if seg["from"] == "A" else "A"}), absolute).split("ack=")[1].split()[0]
            out.append(t["ack"].format(ack=ack, seq=seq, ln=ln, flags=t["flags"] if "SYN" in flags or "FIN" in flags else ""))
            break
    return out


#: Chinese titles of the gallery's runs (`synack explain NAME --lang zh`).
TITLES_ZH = {
    "three-way-handshake": "三次握手（RFC 9293 3.5，图 6）",
    "four-way-close": "四次挥手：A 先关闭（RFC 9293 3.6，图 12）",
    "simultaneous-open": "同时打开（RFC 9293 3.5，图 7）",
    "simultaneous-close": "同时关闭：双方的 FIN 交叉（RFC 9293 3.6，图 13）",
    "half-close": "半关闭：A 关闭发送方向，B 仍发送数据（RFC 9293 3.6）",
    "abort-rst": "中止：A 的 ABORT 发送 RST，B 被重置（RFC 9293 3.10.5）",
    "three-segment-close": "三段关闭：B 的延迟 ACK 搭载在它的 FIN 上（RFC 1122 4.2.3.2）",
    "lost-final-ack": "最后的 ACK 丢失：TIME-WAIT 吸收重传的 FIN（RFC 9293 3.6.1）",
    "syn-backoff": "SYN 重传与指数退避（RFC 6298 5.5，RFC 9293 3.8.1）",
}


def title(name: str, english: str, lang: str = "en", scenario: str = "") -> str:
    """A run's title in `lang`: the gallery's Chinese titles, else "场景 SCENARIO" for a
    scenario run named on the command line."""
    if lang != "zh":
        return english
    return TITLES_ZH.get(name) or f"场景 {scenario or name}"
