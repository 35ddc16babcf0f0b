"""Judge every connection in a capture: split by 4-tuple and incarnation, one monitor per
endpoint judged, streaming (a connection that has closed and stayed quiet for twice the
profile's TIME-WAIT is judged and released, so memory follows the live connections, not
the capture's length). The number of open connections is bounded by memory only: closing
one early would judge it on part of its segments and open it again mid-connection, and
would make its verdict depend on other connections' traffic (and so on `--jobs`).
bench/oracle_memory.py measures the memory an open connection takes.

A connection whose frame could not be read (`capture.Lost`: malformed, a fragment, a drop
the capture records) is not followed past it: its ends without a verdict yet are
UNJUDGEABLE, naming the frame, instead of being judged without it."""
from __future__ import annotations

import contextlib
import gc
import json
import os
import time
import zlib
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Callable, Iterator

from synack.spec.model import FIN, RST, SYN, ACK
from synack.spec.profiles import PARAMS, get_profile

from .capture import CaptureStats, IcmpError, Lost, Packet, read_capture
from .events import IcmpEvent, IgnoredOptions, SegmentEvent, TraceError
from .monitor import EXIT, INCONCLUSIVE, LEARNABLE, LEARNABLE_OPTIONS, MAX_VIOLATIONS, SILENT, UNJUDGEABLE, VIOLATION, Monitor, Verdict
from .observation import AUTO, FAR, FAR_RATIO, FAR_REPLY, NEAR


#: A pcap is read as taken on a host: what a near end sent may show before segmentation offload
#: (observation latitude `segmentation-offload`). JSON Lines traces and the test kit see a
#: stack's own wire and keep the default (off).
HOST_CAPTURE = MappingProxyType({"offload": 1})


def learnable(profile, given: "tuple[str, ...] | None") -> tuple[str, ...]:
    """The parameters a monitor learns: every LEARNABLE one not given (`given`: the names a
    user or trace header set; None: those that differ from the base profile's default)."""
    if given is None:
        from synack.spec.profiles import PROFILES
        base = PROFILES.get(profile.base or profile.name)
        given = tuple(k for k in PARAMS if base is None or profile.params[k] != base.params[k])
    # SYN.GIVEUP is derived from SYN.RETRIES (spec.profiles.syn_giveup): giving one gives both
    given = tuple(given) + (("SYN.GIVEUP",) if "SYN.RETRIES" in given else ())
    # and the options a sysctl sets, as "+option" (given as "+option": its setting is known)
    return tuple(k for k in LEARNABLE if k not in given) + tuple(
        "+" + o for o in LEARNABLE_OPTIONS if "+" + o not in given)


def vantage_of(end: tuple[str, int], vantage) -> tuple[str, str]:
    """(near or far, why) for one end: `vantage` is where the capture was taken, (host, port or
    None) from --vantage; without it every end is near (the rule printed with each verdict)."""
    if vantage is None:
        return AUTO, (f"{NEAR} (no --vantage: an end is near unless, at a violation, its quickest reply took over "
                      f"{FAR_REPLY * 1e3:g} ms and {FAR_RATIO:g} times its peer's: then it is judged far)")
    host, port = vantage
    if end[0] == host and (port is None or end[1] == port):
        return NEAR, f"{NEAR} (--vantage {_ep(host, port) if port else host}: captured here)"
    return FAR, (f"{FAR} (--vantage {_ep(host, port) if port else host}: a network lies between, so losses "
                 "are not its violations and no deadline is checked)")


def _ep(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_iut(spec: str | None, option: str = "--iut"):
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
        raise TraceError(f"{option} {spec!r}: the port must be 1..65535")
    import ipaddress
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        raise TraceError(f"{option} {spec!r}: {host!r} is not an IP address") from None
    return host, int(port) if port else None


@dataclass
class Conn:
    """One incarnation of a 4-tuple: its two ends, the monitors judging them, what was seen."""

    ends: tuple[tuple[str, int], tuple[str, int]]
    incarnation: int
    monitors: dict = field(default_factory=dict)     # end -> Monitor
    events: dict = field(default_factory=dict)       # end -> list of events (only when kept)
    syn_seq: dict = field(default_factory=dict)      # end -> seq of its SYN
    ts_newest: dict = field(default_factory=dict)    # end -> the newest TSval it sent (SegmentEvent.old_ts)
    segments: int = 0
    first: int = 0                                    # index of its first segment in the capture
    first_t: float = 0.0
    last_t: float = 0.0
    ended: bool = False
    lost: str = ""                                    # why it cannot be followed ("" : it can)
    lost_ends: tuple = ()                             # the ends without a verdict when it was lost
    prev: tuple | None = None                         # (end, time) of the last segment
    replies: dict = field(default_factory=dict)      # end -> its quickest segment after one of its peer's
    options: dict = field(default_factory=dict)      # end -> IgnoredOptions: what its verdict says no rule read

    def name(self) -> str:
        a, b = self.ends
        return f"{_ep(*a)} <-> {_ep(*b)}" + (f" #{self.incarnation}" if self.incarnation > 1 else "")


@dataclass
class Result:
    conn: str
    iut: str
    verdict: Verdict
    segments: int
    first: int = 0
    #: no --vantage, and the end was judged far only from its first violation on (its replies
    #: showed a network between): `_judge` judges its connection again, far from the start
    turned_far: bool = False
    #: the connection's 4-tuple as `conn_key` orders it (what finds its segments again)
    key: tuple = ()


def conn_key(a: tuple, b: tuple) -> tuple:
    """A connection's 4-tuple, its two (host text, port) ends in order: the same from either end."""
    x, y = (str(a[0]), a[1]), (str(b[0]), b[1])
    return (x, y) if x <= y else (y, x)


def turned_far(mon: Monitor, v: Verdict) -> bool:
    """Was `mon`'s end judged near, then far from its first violation on (no --vantage)?"""
    return mon.auto and mon.vantage == FAR and v.status == VIOLATION


#: The vantage note of an end judged again from its connection's start, far.
FAR_AGAIN = (f"{FAR} (no --vantage; at its first violation its replies showed a network between it and the "
             "capture point, so its connection was judged again from the start with it far)")


class CaptureJudge:
    """Feed packets; finished connections come out of `results` as they are judged."""

    def __init__(self, profile, iut=None, start: str | None = None, max_candidates: int = 4096,
                 keep_events: bool = False, vantage=None, max_violations: int = MAX_VIOLATIONS,
                 given: "tuple[str, ...] | None" = None, far_ends: frozenset = frozenset()):
        self.profile = profile
        self.far_ends = far_ends                  # ends judged far from the start (`_judge`'s second pass)
        self.iut = iut
        self.vantage = vantage                    # (host, port or None) where the capture was taken, or None
        self.max_violations = max_violations
        self.learn = learnable(profile, given)
        self.last_t: float | None = None          # the latest segment's time: how far the capture went
        self.start = start
        self.max_candidates = max_candidates
        self.keep = keep_events
        self.live: "OrderedDict[tuple, Conn]" = OrderedDict()     # by last activity
        self.ended: "OrderedDict[tuple, None]" = OrderedDict()    # live ones that sent FIN or RST, likewise
        self.incarnations: Counter = Counter()
        self.expire = 2 * float(profile.params["time_wait"]) + 1
        self.max_live_seen = 0
        self.fed = -1
        self.released: list[Conn] = []           # with keep_events: every connection, in order of release

    def _judged(self, end: tuple[str, int]) -> bool:
        if self.iut is None:
            return True
        host, port = self.iut
        return end[0] == host and (port is None or end[1] == port)

    def _open(self, key, p: "Packet | Lost", index: int) -> Conn:
        self.incarnations[key] += 1
        a, b = (p.src, p.sport), (p.dst, p.dport)
        c = Conn((a, b), self.incarnations[key], first=index, first_t=p.t, last_t=p.t)
        start = self.start or ("closed" if isinstance(p, Packet) and p.seg.flags & SYN else "any")
        for end in (a, b):
            if self._judged(end):
                where, note = (FAR, FAR_AGAIN) if end in self.far_ends else vantage_of(end, self.vantage)
                c.monitors[end] = Monitor(self.profile, role=f"IUT {_ep(*end)}", start=start,
                                          max_candidates=self.max_candidates, vantage=where, vantage_note=note,
                                          max_violations=self.max_violations, learn=self.learn,
                                          observation=HOST_CAPTURE)
                if self.keep:
                    c.events[end] = []
        self.live[key] = c
        return c

    def _drop(self, key) -> None:
        del self.live[key]
        self.ended.pop(key, None)

    def feed(self, p: "Packet | Lost | IcmpError", index: int | None = None) -> Iterator[Result]:
        """Take the capture's next TCP segment (`index`: its position among the capture's
        segments, when the caller feeds only a share of them), a `Lost` frame (as `lose`), or an
        ICMP error (as `icmp`)."""
        if isinstance(p, Lost):
            yield from self.lose(p)
            return
        if isinstance(p, IcmpError):
            self.icmp(p)
            return
        self.fed = index = self.fed + 1 if index is None else index
        a, b = (p.src, p.sport), (p.dst, p.dport)
        key = (a, b) if a <= b else (b, a)
        c = self.live.get(key)
        seg = p.seg
        self.last_t = p.t
        pure_syn = seg.flags & (SYN | ACK | RST) == SYN
        if c is not None and ((pure_syn and a in c.syn_seq and c.syn_seq[a] != seg.seq)
                              or (c.ended and p.t - c.last_t > self.expire)):
            self._drop(key)
            yield from self._finish(c)
            c = None
        if c is None:
            c = self._open(key, p, index)
        else:
            self.live.move_to_end(key)
        if pure_syn:
            c.syn_seq.setdefault(a, seg.seq)
        old_ts = False
        if p.ts is not None:          # RFC 7323 5.3: older than the newest TSval this end sent before
            tsval, newest = p.ts[0] & 0xFFFFFFFF, c.ts_newest.get(a)
            old_ts = newest is not None and (tsval - newest) & 0xFFFFFFFF >= 0x80000000
            if newest is None or (tsval - newest) & 0xFFFFFFFF < 0x80000000:
                c.ts_newest[a] = tsval
        c.segments += 1
        c.last_t = p.t
        if seg.flags & (FIN | RST):
            c.ended = True
        if c.ended:
            self.ended[key] = None
            self.ended.move_to_end(key)
        if c.prev is not None and c.prev[0] != a:
            c.replies[a] = min(c.replies.get(a, float("inf")), p.t - c.prev[1])
        c.prev = (a, p.t)
        if not c.lost:
            for end, mon in c.monitors.items():
                other = b if end == a else a
                mon.replies = (c.replies.get(end, float("inf")), c.replies.get(other, float("inf")))
                ev = SegmentEvent("out" if end == a else "in", seg, p.t, p.win, p.wscale, p.mss, p.ts, p.sack_ok,
                                  p.other, old_ts)
                opts = c.options.get(end)
                if opts is None:
                    opts = c.options[end] = IgnoredOptions()
                opts.add(ev)
                if self.keep:
                    c.events[end].append(ev)
                if mon.done is None:
                    mon.feed(ev)
        self.max_live_seen = max(self.max_live_seen, len(self.live))
        # judge and release what has closed and gone quiet
        while self.ended:
            k0 = next(iter(self.ended))
            c0 = self.live[k0]
            if p.t - c0.last_t > self.expire:
                self._drop(k0)
                yield from self._finish(c0)
            else:
                break

    def icmp(self, e: IcmpError) -> None:
        """An ICMP error quoting a segment of a live connection: an event for the end that sent
        the quoted segment (RFC 9293 3.9.2.2: demultiplexed by the quoted header). One about a
        connection the capture does not hold (or no longer follows) concerns no verdict."""
        a, b = (e.src, e.sport), (e.dst, e.dport)
        c = self.live.get((a, b) if a <= b else (b, a))
        if c is None or c.lost or c.ends not in ((a, b), (b, a)):
            return
        mon = c.monitors.get(a)
        if mon is None:
            return
        if not getattr(mon, "takes_icmp", False):
            return                   # this version's monitor does not judge ICMP (events.icmp_judged)
        ev = IcmpEvent(e.type, e.code, e.seq, e.t)
        if self.keep:
            c.events[a].append(ev)
        if mon.done is None:
            mon.feed(ev)

    def lose(self, lost: Lost, index: int | None = None) -> Iterator[Result]:
        """A frame that cannot be read, or a drop the capture records: every connection it may
        belong to is followed no further (`Lost`'s ports and hosts say which). `index`: the
        capture's next segment's, for a connection the frame opens."""
        why = f"frame {lost.frame} {lost.why}" if lost.src is not None else lost.why.replace(
            "before it", f"before frame {lost.frame}")
        if lost.sport is not None:
            a, b = (lost.src, lost.sport), (lost.dst, lost.dport)
            key = (a, b) if a <= b else (b, a)
            c = self.live.get(key)
            if c is not None and c.ended and lost.t - c.last_t > self.expire:
                self._drop(key)
                yield from self._finish(c)
                c = None
            if c is None:
                c = self._open(key, lost, self.fed + 1 if index is None else index)
            targets = [c]
        elif lost.src is not None:
            hosts = {lost.src, lost.dst}
            targets = [c for c in self.live.values() if {c.ends[0][0], c.ends[1][0]} == hosts]
        else:
            targets = list(self.live.values())
        for c in targets:
            if not c.lost:
                c.lost = why
                c.lost_ends = tuple(end for end, mon in c.monitors.items() if mon.done is None)

    def _finish(self, c: Conn) -> Iterator[Result]:
        if self.keep:
            self.released.append(c)
        for end, mon in c.monitors.items():
            v = unjudgeable(mon, c.lost) if end in c.lost_ends else mon.verdict(end=self.last_t)
            yield Result(c.name(), _ep(*end), with_ignored(v, c.options.get(end)), c.segments, c.first,
                         self.vantage is None and turned_far(mon, v), conn_key(*c.ends))

    def close(self, end: float | None = None) -> Iterator[Result]:
        """Judge what is still live; `end`: the capture's last frame (of any kind), if later."""
        if end is not None and (self.last_t is None or end > self.last_t):
            self.last_t = end
        while self.live:
            key, c = self.live.popitem(last=False)
            self.ended.pop(key, None)
            yield from self._finish(c)


def with_ignored(v: Verdict, opts: "IgnoredOptions | None") -> Verdict:
    """`v` carrying the line that names the options its end's segments carried and no rule read
    (events.IgnoredOptions; issue 22 item 4): the verdict did not look at them, and says so."""
    text = opts.text() if opts is not None else ""
    return replace(v, ignored=text) if text and text != v.ignored else v


def unjudgeable(mon: Monitor, why: str) -> Verdict:
    """The verdict of an end followed up to a frame the capture does not show whole."""
    return Verdict(UNJUDGEABLE, mon.profile.label(), mon.n, f"{why}: not judged past it", role=mon.role,
                   max_candidates=mon.stats.max_candidates)


def shard_of(p: Packet, jobs: int) -> int:
    """Which of `jobs` workers judges this segment's 4-tuple (the same for both directions,
    and in every process: CRC-32 of the addresses and ports, not Python's salted hash)."""
    a, b = (p.src, p.sport), (p.dst, p.dport)
    (h1, p1), (h2, p2) = (a, b) if a <= b else (b, a)
    return zlib.crc32(f"{h1} {p1} {h2} {p2}".encode()) % jobs


@dataclass
class _Tally:
    """What judging (a share of) a capture produced: per-connection lines (unless --summary),
    each with its connection's first segment index, and the counts for the summary."""

    lines: list = field(default_factory=list)        # (first segment index, [lines])
    counts: Counter = field(default_factory=Counter)
    worst: int = 0
    maxc: int = 0
    segments: int = 0
    connections: int = 0
    stats: dict = field(default_factory=dict)
    engine: str = "python"
    lost: int = 0                                     # frames the judge could not follow (capture.Lost)
    work: Counter = field(default_factory=Counter)    # the native judge's `work()`

    def add(self, r: Result, summary: bool, as_json: bool) -> list[str]:
        v = r.verdict
        self.counts[v.status] += 1
        self.counts["violations"] += v.violations
        self.maxc = max(self.maxc, v.max_candidates)
        self.worst = _worse(self.worst, EXIT[v.status])
        if summary:
            return []
        if as_json:
            return [json.dumps({"connection": r.conn, "iut": r.iut, "segments": r.segments, **v.to_json()})]
        line = f"{r.conn}  IUT {r.iut}: {v.status.upper()}"
        if v.status == VIOLATION:
            line += f" at segment {v.index}: {v.event}; " + (v.headline or (v.rows[0] if v.rows else ""))
            if v.more:
                line += f" ({v.violations} violations)"
        elif v.status in (INCONCLUSIVE, UNJUDGEABLE):
            line += f": {v.message}"
        elif v.status == SILENT:
            line += " (not judged: sent nothing)"
        out = [line]
        if v.status == VIOLATION:
            out.append("    " + str(v).replace("\n", "\n    "))
        else:
            if v.vantage == FAR_AGAIN:
                out.append(f"    vantage: {v.vantage}")
            out += [f"    learned: {x}" for x in v.learned]
            if v.ignored:
                out.append(f"    {v.ignored}")
        return out


def _worse(a: int, b: int) -> int:
    """The worse of two exit codes: a violation (1) over inconclusive or unjudgeable (3) over
    conformant (0)."""
    return max(a, b, key=lambda x: (x == 1, x == 3))


#: `engine`: "native" (oracle/native.py: C reads, splits and takes memoized steps), "python"
#: (CaptureJudge), or "auto": native when it can (a C compiler, a classic pcap file).
ENGINES = ("auto", "native", "python")


def _native_plan(source, prof, iut, start, max_candidates: int, emit, share: int, jobs: int, engine: str,
                 vantage=None, max_violations: int = MAX_VIOLATIONS, given=None):
    """(native judge, what `probe` read) when `engine` picks the native judge and it can run;
    None for the Python judge. `engine="native"` that cannot run is an error that says why."""
    if engine == "python":
        return None
    from .native import NativeJudge, NativeUnavailable, probe

    try:
        if vantage is not None:
            raise NativeUnavailable("--vantage: the native judge holds near ends only; use --engine python")
        probed = probe(source)
        if isinstance(probed, str):
            raise NativeUnavailable(f"{source.name}: the native judge cannot read it ({probed}); use --engine python")
        return NativeJudge(prof, iut, start, max_candidates, emit, share, jobs, max_violations,
                           learnable(prof, given), observation=HOST_CAPTURE), probed
    except NativeUnavailable:
        if engine == "native":
            raise
        return None


def _judge(source, prof, iut, start, max_candidates: int, summary: bool, as_json: bool,
           echo: Callable[[str], None] | None, share: int = 0, jobs: int = 1, engine: str = "auto",
           vantage=None, max_violations: int = MAX_VIOLATIONS, given=None) -> _Tally:
    """Judge the connections of `path` whose 4-tuple falls in `share` of `jobs`; lines go to
    `echo` as connections finish when it is given, else into the tally."""
    stats = CaptureStats()
    tally = _Tally()
    again: list[Result] = []              # ends turned far at a violation: judged again (`_again_far`)
    rereadable = not hasattr(source, "regular") or source.regular

    def report(r: Result) -> None:
        lines = tally.add(r, summary, as_json)
        if echo is not None:
            for ln in lines:
                echo(ln)
        elif lines:
            tally.lines.append((r.first, lines))

    def emit(r: Result) -> None:
        if r.turned_far and rereadable:
            again.append(r)
        else:
            report(r)

    # the memo tables and candidate sets are long-lived and acyclic: collecting them
    # generation by generation costs about a tenth of the run and frees nothing
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    plan = None
    try:
        plan = _native_plan(source, prof, iut, start, max_candidates, emit, share, jobs, engine, vantage,
                            max_violations, given)
        if plan is not None:
            nj, probed = plan
            tally.stats = nj.run(source, probed).to_json()
            tally.lost = nj.lost
            tally.segments, tally.connections, tally.engine = nj.segments, nj.connections, "native"
            tally.work.update(nj.work())
            for r in _again_far(source, prof, start, max_candidates, max_violations, given, again, share, jobs):
                report(r)
            return tally
        judge = CaptureJudge(prof, iut, start, max_candidates, vantage=vantage, max_violations=max_violations,
                             given=given)
        i = -1
        for p in read_capture(source, stats):
            if isinstance(p, Lost):
                if jobs > 1 and p.sport is not None and shard_of(p, jobs) != share:
                    continue
                tally.lost += 1
                for r in judge.lose(p, i + 1):
                    emit(r)
                continue
            if isinstance(p, IcmpError):
                if jobs == 1 or shard_of(p, jobs) == share:
                    judge.icmp(p)
                continue
            i += 1
            if jobs > 1 and shard_of(p, jobs) != share:
                continue
            tally.segments += 1
            for r in judge.feed(p, i):
                emit(r)
        for r in judge.close(stats.last_t):
            emit(r)
        for r in _again_far(source, prof, start, max_candidates, max_violations, given, again, share, jobs):
            report(r)
    except KeyboardInterrupt as exc:
        # what was done, for the command's "interrupted after ..." line
        done = getattr(plan[0], "counts", {}).get("judged_segments", 0) if plan else tally.segments
        exc.progress = f"{done:,} segments"
        raise
    finally:
        # and they stay: freeze them, or the collection that the restored thresholds soon
        # start walks them all (0.9 s after judging 30,000 segments of varied sizes). Frozen
        # objects are still freed when dropped (the memo holds no cycles)
        gc.freeze()
        gc.set_threshold(*thresholds)
    tally.connections = sum(judge.incarnations.values())
    tally.stats = stats.to_json()
    return tally


def _again_far(source, prof, start, max_candidates: int, max_violations: int, given, results: "list[Result]",
               share: int, jobs: int) -> "list[Result]":
    """The connections of `results` (ends judged near, then far from their first violation on:
    no --vantage) judged again from their start with those ends far (FAR_AGAIN), by the
    Python judge over the capture's segments of those 4-tuples; each result is replaced by
    the new verdict of its end (observation.py: far ends are far for their whole connection)."""
    if not results:
        return []
    ends = frozenset(tuple(r.iut.rsplit(":", 1)) for r in results)
    far = frozenset((h.strip("[]"), int(p)) for h, p in ends)
    wanted = {(r.first, r.iut) for r in results}
    keys = {r.key for r in results}
    judge = CaptureJudge(prof, None, start, max_candidates, max_violations=max_violations, given=given, far_ends=far)
    found: dict = {}
    i = -1
    stats = CaptureStats()
    for p in read_capture(source, stats):
        if isinstance(p, (Lost, IcmpError)):
            if p.sport is not None and _pkey(p) in keys:
                out = judge.lose(p, i + 1) if isinstance(p, Lost) else judge.icmp(p)
                for r in out or ():
                    found[(r.first, r.iut)] = r
            continue
        i += 1
        if jobs > 1 and shard_of(p, jobs) != share or _pkey(p) not in keys:
            continue
        for r in judge.feed(p, i):
            found[(r.first, r.iut)] = r
    for r in judge.close(stats.last_t):
        found[(r.first, r.iut)] = r
    return [found.get((r.first, r.iut), r) if (r.first, r.iut) in wanted else r for r in results]


def _pkey(p) -> tuple:
    return conn_key((p.src, p.sport), (p.dst, p.dport))


@dataclass(frozen=True)
class _Job:
    """What every shard of a run is judged with, picklable: it goes to a forked process and to a
    Dask worker on another machine alike. The profile travels as its fields (a Profile holds
    mappingproxies, which pickle refuses) and is rebuilt where the shard runs."""

    profile: tuple                  # (field, value, was a mappingproxy) of the Profile
    iut: "tuple | None"
    start: "str | None"
    max_candidates: int
    summary: bool
    as_json: bool
    engine: str
    vantage: "tuple | None"
    max_violations: int
    given: "tuple | None"

    @staticmethod
    def pack(prof) -> tuple:
        values = ((f.name, getattr(prof, f.name)) for f in fields(prof))
        return tuple((k, dict(v) if isinstance(v, MappingProxyType) else v, isinstance(v, MappingProxyType))
                     for k, v in values)

    def prof(self):
        from synack.spec.profiles import Profile

        return Profile(**{k: MappingProxyType(v) if proxy else v for k, v, proxy in self.profile})


@dataclass(frozen=True)
class _Ref:
    """How a shard's process reaches its capture: `fd`, a descriptor it inherited (a forked local
    process: a pipe spooled to a temporary file works there), or else `path`, which it opens and
    checks is the file the client saw (`size` bytes beginning with `head`): a Dask worker, maybe
    on another machine, that must see the capture on a shared filesystem at the same path."""

    name: str
    path: "str | None"
    size: int
    head: bytes
    fd: "int | None" = None

    def open(self) -> "Source":
        from .inputs import Source

        if self.fd is not None:
            return Source(self.name, os.dup(self.fd))
        import socket

        where = f"{self.path} on {socket.gethostname()}"
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise TraceError(f"cannot read {self.name!r} at {where}: {exc.strerror} (the workers read a capture "
                             "by its path: it must be on a filesystem they share, at the same path)") from None
        src = Source(self.name, fd)
        if not src.regular or src.size != self.size or src.head != self.head:
            src.close()
            raise TraceError(f"{self.name}: {where} is not the file judged here ({src.size} bytes, not {self.size}, "
                             "or other first bytes): the workers must see the same capture at the same path")
        return src


@dataclass
class _Capture:
    """One capture of a run, on the side that splits the work: `source`, kept open (a pipe,
    spooled; or the Source a caller gave), and/or `path`, absolute, when it is a regular file."""

    name: str
    source: "Source | None" = None
    path: "str | None" = None
    size: int = -1
    head: bytes = b""

    @classmethod
    def of(cls, source: "Source", keep: bool) -> "_Capture":
        """`source` as a capture; `keep`: hold it open (a pipe is always held: it cannot be
        reopened; a regular file not held is reopened by its path)."""
        path = None
        if source.regular and source.name != "<stdin>":
            try:
                if os.path.samestat(os.stat(source.name), os.fstat(source.fd)):
                    path = os.path.abspath(source.name)
            except OSError:
                pass
        return cls(source.name, source if keep or path is None else None, path, source.size, source.head)

    def ref(self, by_path: bool) -> _Ref:
        if by_path or self.source is None:
            return _Ref(self.name, self.path, self.size, self.head)
        return _Ref(self.name, self.path, self.size, self.head, self.source.fd)

    def open(self) -> "tuple[Source, bool]":
        """(a Source, whether the caller closes it)."""
        return (self.source, False) if self.source is not None else (self.ref(True).open(), True)


def _judge_shard(job: _Job, ref: _Ref, share: int, shares: int) -> _Tally:
    """One shard: the connections of `ref`'s capture whose 4-tuple falls in `share` of `shares`.
    What an executor runs, in a local process or on a Dask worker."""
    source = ref.open()
    try:
        return _judge(source, job.prof(), job.iut, job.start, job.max_candidates, job.summary, job.as_json, None,
                      share, shares, job.engine, job.vantage, job.max_violations, job.given)
    finally:
        source.close()


def _merge(parts: "list[_Tally]") -> _Tally:
    """The shards of one capture as one tally; its lines in order of each connection's first
    segment (each shard read the whole capture, so the first shard's reading stats stand)."""
    tally = parts[0]
    for t in parts[1:]:
        tally.lines += t.lines
        tally.counts += t.counts
        tally.worst = _worse(tally.worst, t.worst)
        tally.maxc = max(tally.maxc, t.maxc)
        tally.segments += t.segments
        tally.connections += t.connections
        for k, v in t.work.items():
            tally.work[k] += v
    tally.lines.sort(key=lambda x: x[0])
    return tally


def judge_capture(path, profile: str, variants, iut: str | None, start: str | None, summary: bool,
                  as_json: bool, max_candidates: int, echo: Callable[[str], None], jobs: int = 1,
                  engine: str = "auto", vantage: str | None = None, max_violations: int = MAX_VIOLATIONS,
                  given: "tuple[str, ...] | None" = None, executor: "str | None" = None) -> int:
    """The `synack oracle CAPTURE` command: one line per judged endpoint of each connection,
    then a summary. Returns the exit code (worst verdict). `path`: a path or an open
    `inputs.Source` (read once; a pipe is copied to a temporary file first when the native
    judge or several processes read it).

    `jobs` > 1 judges the capture in that many shares, each reading the whole file and judging
    the 4-tuples that hash to it (a connection's verdict depends on its own segments only, so
    the verdicts are the same); lines then come in the order of each connection's first
    segment, after all are judged, instead of as each connection finishes. `executor`
    (`processes`, `dask`, `dask=ADDRESS`: oracle/executors.py) runs the shards; on Dask,
    `jobs` 0 means one share per worker thread.

    A capture with no TCP segment (or none of the --iut endpoint) is bad input: TraceError."""
    from .inputs import Source, open_source

    source = path if isinstance(path, Source) else open_source(path)
    try:
        if source.kind == "jsonl":
            raise TraceError(_not_a_capture(source))
        return judge_captures([source], profile, variants, iut, start, summary, as_json, max_candidates, echo,
                              jobs, engine, vantage, max_violations, given, executor)
    finally:
        if source is not path:
            source.close()


def _not_a_capture(source) -> str:
    return (f"{source.name}: not a pcap or pcapng capture (it starts with bytes {source.head.hex(' ') or 'none'}: "
            "no capture's magic number)")


def judge_captures(sources: "list", profile, variants, iut: str | None, start: str | None, summary: bool,
                   as_json: bool, max_candidates: int, echo: Callable[[str], None], jobs: int = 1,
                   engine: str = "auto", vantage: str | None = None, max_violations: int = MAX_VIOLATIONS,
                   given: "tuple[str, ...] | None" = None, executor: "str | None" = None,
                   err: "Callable[[str], None] | None" = None) -> int:
    """Judge several captures in one run (`sources`: open `inputs.Source`s, or paths): each
    capture's lines then its summary, in the order given, and after more than one a `total`
    line; the exit code is the worst verdict, or 2 when a capture was bad input (each such
    capture is one line to `err`, and the others are judged). One capture: exactly
    `judge_capture`, its bad input a TraceError."""
    from .executors import parse_executor
    from .inputs import open_source

    prof = get_profile(profile, tuple(variants))
    where = parse_iut(iut)
    seen_from = parse_iut(vantage, "--vantage")
    if isinstance(max_violations, bool) or not isinstance(max_violations, int) or max_violations < 1:
        raise TraceError(f"--max-violations must be a positive integer, got {max_violations!r}")
    spec = parse_executor(executor)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or not (0 if not spec.local else 1) <= jobs <= 64:
        raise TraceError(f"--jobs must be an integer in {0 if not spec.local else 1}..64, got {jobs!r}")
    if engine not in ENGINES:
        raise TraceError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    job = _Job(_Job.pack(prof), where, None if start == "closed" else start, max_candidates, summary, as_json,
               engine, seen_from, max_violations, given)
    in_process = spec.local and jobs == 1
    caps, opened = [], []
    try:
        for s in sources:
            src = open_source(s) if isinstance(s, str) else s
            if src is not s:
                opened.append(src)
            if src.kind == "jsonl":
                raise TraceError(_not_a_capture(src))
            # one capture judged locally reads the source it was given; several, or shards on
            # Dask, reopen regular files by path (descriptors stay few; workers have no other way)
            cap = _Capture.of(src, keep=len(sources) == 1 and spec.local)
            if not spec.local and cap.path is None:
                raise TraceError(f"{src.name}: a pipe or standard input cannot be judged on a Dask cluster (the "
                                 "workers read each capture by its path); save it to a file they can read")
            if cap.source is not None and (not in_process or (engine != "python" and src.kind == "pcap")):
                src.spooled()       # other processes, or the native judge, read a regular file
            elif cap.source is None and src is not s:
                opened.remove(src)
                src.close()
            caps.append(cap)
        return _judge_all(caps, prof, job, jobs, spec, iut, echo, err or echo)
    finally:
        for src in opened:
            src.close()


def _judge_all(caps: "list[_Capture]", prof, job: _Job, jobs: int, spec, iut, echo, err) -> int:
    """The one loop of every run: split each capture into shares, judge them (in this process,
    lines as connections finish, when one local process does it all; else on the executor,
    at most 2 x its workers captures ahead of the one being printed), merge each capture's lines
    in order of first segment and print its summary; captures in the order given."""
    from collections import deque

    from .executors import open_pool

    one = len(caps) == 1
    in_process = spec.local and jobs == 1
    t_all = time.perf_counter()
    total, worst, bad, reported = Counter(), 0, 0, 0
    pool_cm = contextlib.nullcontext() if in_process else open_pool(spec, jobs)
    with pool_cm as pool:
        shares = 1 if pool is None else (jobs or pool.workers)
        label = None if pool is None or spec.local else pool.label
        ahead = 0 if pool is None else 2 * pool.workers
        queue: deque = deque()
        todo = iter(caps)
        try:
            while True:
                while len(queue) <= ahead and (cap := next(todo, None)) is not None:
                    futs = None if pool is None else [pool.submit(_judge_shard, job, cap.ref(pool.paths), s, shares)
                                                      for s in range(shares)]
                    queue.append((cap, time.perf_counter(), futs))
                if not queue:
                    break
                cap, t0, futs = queue.popleft()
                reported += 1
                if not one and not job.as_json:
                    echo(f"capture: {cap.name}")
                try:
                    if futs is None:
                        t0 = time.perf_counter()
                    tally = _in_process(cap, prof, job, echo) if futs is None else _gathered(cap, futs, echo)
                    code = _summarize(cap.name, tally, time.perf_counter() - t0, shares, label, prof, iut, job, echo)
                except TraceError as exc:
                    if one:
                        raise
                    err(str(exc))
                    bad += 1
                    continue
                worst = _worse(worst, code)
                total.update(tally.counts)
                total["connections"] += tally.connections
                total["segments"] += tally.segments
        except KeyboardInterrupt as exc:
            if pool is not None:
                pool.abort()
                exc.progress = (f"{shares} shares of each capture on {pool.label}; " + (
                    "nothing reported" if one else f"{max(reported - 1, 0)} of {len(caps)} captures reported"))
            raise
        if not one:
            code = 2 if bad else worst
            _total(len(caps), bad, total, time.perf_counter() - t_all, label or (f"{jobs} processes" if jobs > 1 else
                                                                                 "1 process"), code, job, echo)
            return code
    return worst


def _in_process(cap: _Capture, prof, job: _Job, echo) -> _Tally:
    """One capture judged in this process, its lines printed as its connections finish."""
    source, close = cap.open()
    try:
        return _judge(source, prof, job.iut, job.start, job.max_candidates, job.summary, job.as_json, echo,
                      engine=job.engine, vantage=job.vantage, max_violations=job.max_violations, given=job.given)
    finally:
        if close:
            source.close()


def _gathered(cap: _Capture, futures: list, echo) -> _Tally:
    """One capture's shards, once all are judged: their lines printed in order of first segment."""
    tally = _merge([_result(f, cap.name) for f in futures])
    for _, lines in tally.lines:
        for ln in lines:
            echo(ln)
    return tally


def _result(future, name: str) -> _Tally:
    """A shard's tally; a worker that died (a Dask worker over its memory limit, a local one
    killed) is one line naming the capture, not a traceback."""
    try:
        return future.result()
    except (TraceError, KeyboardInterrupt):
        raise
    except Exception as exc:
        kind = type(exc).__name__
        if kind in ("KilledWorker", "BrokenProcessPool", "CommClosedError", "FutureCancelledError",
                    "CancelledError"):
            raise TraceError(f"{name}: the worker judging it stopped ({kind}: "
                             f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})") from None
        raise


def _summarize(name: str, tally: _Tally, secs: float, shares: int, label, prof, iut, job: _Job, echo) -> int:
    """Print one capture's summary line; its exit code. Nothing judged is a TraceError."""
    counts, segs, conns, stats = tally.counts, tally.segments, tally.connections, tally.stats
    if not sum(counts.values()):
        if stats.get("tcp_segments", 0) == 0 and not tally.lost:
            raise TraceError(f"{name}: nothing to judge: no TCP segment in the capture ({stats['frames']} "
                             f"frames: {stats['non_tcp']} not TCP, {stats['fragments']} fragments, "
                             f"{stats['malformed']} malformed)")
        raise TraceError(f"{name}: nothing to judge: no TCP connection with an endpoint matching --iut {iut}"
                         + (f" ({conns} connections in the capture)" if conns else ""))
    judged = sum(counts[k] for k in ("conformant", "violation", "inconclusive", "unjudgeable"))
    line = {"capture": name, "profile": prof.label(), "connections": conns, "judged": judged,
            "segments": segs, **{k: counts.get(k, 0) for k in ("conformant", "violation", "inconclusive", "silent",
                                                                 "unjudgeable", "violations")},
            "max_candidates": tally.maxc, "seconds": round(secs, 3),
            "segments_per_second": round(segs / secs) if secs > 0 else 0, "jobs": shares,
            "executor": "dask" if label else "processes", "engine": tally.engine,
            **stats, **({"native": {k: round(v, 3) for k, v in tally.work.items()}} if tally.engine == "native" else {})}
    if job.as_json:
        echo(json.dumps({"summary": line}))
    else:
        unj = counts.get(UNJUDGEABLE, 0)
        drops = stats.get("dropped", 0)
        ran = (f", {shares} share{'s' * (shares != 1)} on {label})" if label else
               f", {shares} processes)" if shares > 1 else ")")
        echo(f"summary: {conns} connections, {segs} TCP segments ({stats['frames']} frames: {stats['non_tcp']} not "
             f"TCP, {stats['fragments']} fragments, {stats['malformed']} malformed"
             + (f", {drops} dropped by the capture" if drops else "") + f"); {counts.get('conformant', 0)} "
             f"conformant, {counts.get('violation', 0)} violation, {counts.get('inconclusive', 0)} inconclusive, "
             + (f"{unj} unjudgeable, " if unj else "") + f"{counts.get('silent', 0)} silent (not judged: sent nothing); "
             f"max {tally.maxc} candidate TCBs; {secs:.2f} s ({line['segments_per_second']:,} segments/s" + ran)
        for k, n in stats.get("unknown_blocks", {}).items():
            echo(f"note: {n} pcapng block{'s' * (n != 1)} of unknown type {k} skipped")
    if not judged:
        if not job.summary:
            echo("no TCP connection in the capture")
        return 3
    return tally.worst


def _total(n: int, bad: int, total: Counter, secs: float, label: str, code: int, job: _Job, echo) -> None:
    """The line after several captures: what all of them held, and the one exit code."""
    keys = ("conformant", "violation", "inconclusive", "unjudgeable", "silent")
    if job.as_json:
        echo(json.dumps({"total": {"captures": n, "bad_input": bad, "connections": total["connections"],
                                   "segments": total["segments"], **{k: total.get(k, 0) for k in keys},
                                   "violations": total.get("violations", 0), "seconds": round(secs, 3),
                                   "executor": label, "exit": code}}))
        return
    echo(f"total: {n} captures" + (f" ({bad} bad input)" if bad else "") + f", {total['connections']} connections, "
         f"{total['segments']} TCP segments; " + ", ".join(f"{total.get(k, 0)} {k}" for k in keys)
         + f"; {secs:.2f} s ({label}); exit {code}")


def to_jsonl(path, profile: str, iut: str | None, out_dir: str | None, echo) -> int:
    """`synack trace CAPTURE --to-jsonl`: one JSON Lines trace per connection and IUT end.
    `-o DIR`: a directory, made when missing; one that cannot be is a one-line TraceError."""
    import os

    from .events import write_jsonl
    from .inputs import Source, open_source

    if out_dir is not None:
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as exc:
            raise TraceError(f"cannot write to -o {out_dir!r}: {exc.strerror}") from None
    prof = get_profile(profile)
    judge = CaptureJudge(prof, parse_iut(iut), None, keep_events=True)
    source = path if isinstance(path, Source) else open_source(path)
    written = []
    stats = CaptureStats()
    try:
        for p in read_capture(source, stats):
            for _ in (judge.lose(p) if isinstance(p, Lost) else judge.feed(p)):
                pass
    finally:
        if source is not path:
            source.close()
    for _ in judge.close():
        pass
    traces = [(c, end, evs) for c in judge.released for end, evs in c.events.items()]
    if not traces:
        raise TraceError(f"{source.name}: nothing to convert: no TCP connection in the capture"
                         + (f" with an endpoint matching --iut {iut}" if iut else ""))
    name = os.path.basename(source.name)
    if out_dir is None:
        if len(traces) != 1:
            raise TraceError(f"{len(traces)} traces in the capture (connections x ends); give --iut HOST:PORT "
                             "to pick one, or -o DIR to write them all")
        import io
        buf = io.StringIO()
        c, end, evs = traces[0]
        write_jsonl(buf, evs, {"iut": _ep(*end), "source": name, "profile": prof.label()})
        echo(buf.getvalue().rstrip("\n"))
        return 0
    try:
        for c, end, evs in traces:
            stem = f"{_ep(*c.ends[0])}-{_ep(*c.ends[1])}-{c.incarnation}-iut-{_ep(*end)}".replace(":", "_")
            fn = os.path.join(out_dir, stem.replace("[", "").replace("]", "") + ".jsonl")
            with open(fn, "w") as fh:
                write_jsonl(fh, evs, {"iut": _ep(*end), "source": name, "profile": prof.label()})
            written.append(fn)
    except OSError as exc:
        raise TraceError(f"cannot write to -o {out_dir!r}: {exc.strerror}") from None
    echo(f"wrote {len(written)} traces to {out_dir}")
    return 0
