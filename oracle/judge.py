"""Judge every connection in a capture: split by 4-tuple and incarnation, one monitor per
endpoint judged, streaming (a connection that has closed and stayed quiet for twice the
profile's TIME-WAIT is judged and released, so memory follows the live connections, not
the capture's length)."""
from __future__ import annotations

import json
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Iterator

from synack.spec.model import FIN, RST, SYN, ACK
from synack.spec.profiles import get_profile

from .capture import CaptureStats, Packet, read_capture
from .events import SegmentEvent, TraceError
from .monitor import EXIT, INCONCLUSIVE, VIOLATION, Monitor, Verdict

#: More live connections than this and the quietest are judged early (memory bound).
MAX_LIVE = 20000


def _ep(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_iut(spec: str | None):
    """`HOST[:PORT]` (IPv6 as `[addr]:port` or bare) -> (host, port or None)."""
    if not spec:
        return None
    s = spec.strip()
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif s.count(":") == 1:
        host, port = s.split(":")
    else:
        host, port = s, ""
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise TraceError(f"--iut {spec!r}: the port must be 1..65535")
    import ipaddress
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        raise TraceError(f"--iut {spec!r}: {host!r} is not an IP address") from None
    return host, int(port) if port else None


@dataclass
class Conn:
    """One incarnation of a 4-tuple: its two ends, the monitors judging them, what was seen."""

    ends: tuple[tuple[str, int], tuple[str, int]]
    incarnation: int
    monitors: dict = field(default_factory=dict)     # end -> Monitor
    events: dict = field(default_factory=dict)       # end -> list of events (only when kept)
    syn_seq: dict = field(default_factory=dict)      # end -> seq of its SYN
    segments: int = 0
    first_t: float = 0.0
    last_t: float = 0.0
    ended: bool = False

    def name(self) -> str:
        a, b = self.ends
        return f"{_ep(*a)} <-> {_ep(*b)}" + (f" #{self.incarnation}" if self.incarnation > 1 else "")


@dataclass
class Result:
    conn: str
    iut: str
    verdict: Verdict
    segments: int


class CaptureJudge:
    """Feed packets; finished connections come out of `results` as they are judged."""

    def __init__(self, profile, iut=None, start: str | None = None, max_candidates: int = 4096,
                 keep_events: bool = False):
        self.profile = profile
        self.iut = iut
        self.start = start
        self.max_candidates = max_candidates
        self.keep = keep_events
        self.live: "OrderedDict[tuple, Conn]" = OrderedDict()
        self.incarnations: Counter = Counter()
        self.expire = 2 * float(profile.params["time_wait"]) + 1
        self.max_live_seen = 0
        self.released: list[Conn] = []           # with keep_events: every connection, in order of release

    def _judged(self, end: tuple[str, int]) -> bool:
        if self.iut is None:
            return True
        host, port = self.iut
        return end[0] == host and (port is None or end[1] == port)

    def _open(self, key, p: Packet) -> Conn:
        self.incarnations[key] += 1
        a, b = (p.src, p.sport), (p.dst, p.dport)
        c = Conn((a, b), self.incarnations[key], first_t=p.t, last_t=p.t)
        start = self.start or ("closed" if p.seg.flags & SYN else "any")
        for end in (a, b):
            if self._judged(end):
                c.monitors[end] = Monitor(self.profile, role=f"IUT {_ep(*end)}", start=start,
                                          max_candidates=self.max_candidates)
                if self.keep:
                    c.events[end] = []
        self.live[key] = c
        return c

    def feed(self, p: Packet) -> Iterator[Result]:
        a, b = (p.src, p.sport), (p.dst, p.dport)
        key = (a, b) if a <= b else (b, a)
        c = self.live.get(key)
        seg = p.seg
        pure_syn = seg.flags & (SYN | ACK | RST) == SYN
        if c is not None and pure_syn and a in c.syn_seq and c.syn_seq[a] != seg.seq:
            del self.live[key]                      # a new SYN: a new incarnation of the 4-tuple
            yield from self._finish(c)
            c = None
        if c is None:
            c = self._open(key, p)
        else:
            self.live.move_to_end(key)
        if pure_syn:
            c.syn_seq.setdefault(a, seg.seq)
        c.segments += 1
        c.last_t = p.t
        if seg.flags & (FIN | RST):
            c.ended = True
        for end, mon in c.monitors.items():
            ev = SegmentEvent("out" if end == a else "in", seg, p.t, p.win, p.wscale, p.mss, p.ts)
            if self.keep:
                c.events[end].append(ev)
            if mon.done is None:
                mon.feed(ev)
        self.max_live_seen = max(self.max_live_seen, len(self.live))
        # judge and release what has gone quiet
        while self.live:
            k0, c0 = next(iter(self.live.items()))
            if (c0.ended and p.t - c0.last_t > self.expire) or len(self.live) > MAX_LIVE:
                del self.live[k0]
                yield from self._finish(c0)
            else:
                break

    def _finish(self, c: Conn) -> Iterator[Result]:
        if self.keep:
            self.released.append(c)
        for end, mon in c.monitors.items():
            yield Result(c.name(), _ep(*end), mon.verdict(), c.segments)

    def close(self) -> Iterator[Result]:
        while self.live:
            _, c = self.live.popitem(last=False)
            yield from self._finish(c)


def judge_capture(path: str, profile: str, variants, iut: str | None, start: str | None, summary: bool,
                  as_json: bool, max_candidates: int, echo: Callable[[str], None]) -> int:
    """The `synack oracle CAPTURE` command: one line per judged endpoint of each connection,
    then a summary. Returns the exit code (worst verdict)."""
    prof = get_profile(profile, tuple(variants))
    judge = CaptureJudge(prof, parse_iut(iut), None if start == "closed" else start, max_candidates)
    stats = CaptureStats()
    counts: Counter = Counter()
    worst = 0
    maxc = 0
    t0 = time.perf_counter()
    segs = 0

    def emit(r: Result):
        nonlocal worst, maxc
        v = r.verdict
        counts[v.status] += 1
        maxc = max(maxc, v.max_candidates)
        code = EXIT[v.status]
        worst = max(worst, code, key=lambda x: (x == 1, x == 3))
        if summary:
            return
        if as_json:
            echo(json.dumps({"connection": r.conn, "iut": r.iut, "segments": r.segments, **v.to_json()}))
            return
        line = f"{r.conn}  IUT {r.iut}: {v.status.upper()}"
        if v.status == VIOLATION:
            line += f" at segment {v.index}: {v.event}; " + (v.rows[0] if v.rows else "")
        elif v.status == INCONCLUSIVE:
            line += f": {v.message}"
        echo(line)
        if v.status == VIOLATION:
            echo("    " + str(v).replace("\n", "\n    "))

    for p in read_capture(path, stats):
        segs += 1
        for r in judge.feed(p):
            emit(r)
    for r in judge.close():
        emit(r)
    secs = time.perf_counter() - t0
    conns = sum(judge.incarnations.values())
    line = {"capture": path, "profile": prof.label(), "connections": conns, "judged": sum(counts.values()),
            "segments": segs, **{k: counts.get(k, 0) for k in ("conformant", "violation", "inconclusive")},
            "max_candidates": maxc, "seconds": round(secs, 3),
            "segments_per_second": round(segs / secs) if secs > 0 else 0, **stats.to_json()}
    if as_json:
        echo(json.dumps({"summary": line}))
    else:
        echo(f"summary: {conns} connections, {segs} TCP segments ({stats.frames} frames: {stats.non_tcp} not TCP, "
             f"{stats.fragments} fragments, {stats.malformed} malformed); {counts.get('conformant', 0)} conformant, "
             f"{counts.get('violation', 0)} violation, {counts.get('inconclusive', 0)} inconclusive; "
             f"max {maxc} candidate TCBs; {secs:.2f} s ({line['segments_per_second']:,} segments/s)")
    if not sum(counts.values()):
        if not summary:
            echo("no TCP connection" + (f" with an endpoint matching --iut {iut}" if iut else "") + " in the capture")
        return 3
    return worst


def to_jsonl(path: str, profile: str, iut: str | None, out_dir: str | None, echo) -> int:
    """`synack trace CAPTURE --to-jsonl`: one JSON Lines trace per connection and IUT end."""
    import os

    from .events import write_jsonl

    prof = get_profile(profile)
    judge = CaptureJudge(prof, parse_iut(iut), None, keep_events=True)
    written = []
    for p in read_capture(path):
        for _ in judge.feed(p):
            pass
    for _ in judge.close():
        pass
    traces = [(c, end, evs) for c in judge.released for end, evs in c.events.items()]
    if not traces:
        echo("no TCP connection in the capture")
        return 3
    if out_dir is None:
        if len(traces) != 1:
            raise TraceError(f"{len(traces)} traces in the capture (connections x ends); give --iut HOST:PORT "
                             "to pick one, or -o DIR to write them all")
        import io
        buf = io.StringIO()
        c, end, evs = traces[0]
        write_jsonl(buf, evs, {"iut": _ep(*end), "source": os.path.basename(path), "profile": prof.label()})
        echo(buf.getvalue().rstrip("\n"))
        return 0
    os.makedirs(out_dir, exist_ok=True)
    for c, end, evs in traces:
        name = f"{_ep(*c.ends[0])}-{_ep(*c.ends[1])}-{c.incarnation}-iut-{_ep(*end)}".replace(":", "_")
        fn = os.path.join(out_dir, name.replace("[", "").replace("]", "") + ".jsonl")
        with open(fn, "w") as fh:
            write_jsonl(fh, evs, {"iut": _ep(*end), "source": os.path.basename(path), "profile": prof.label()})
        written.append(fn)
    echo(f"wrote {len(written)} traces to {out_dir}")
    return 0
