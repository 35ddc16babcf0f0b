"""Observed trace events and the JSON Lines trace format (version 1, `oracle/trace.schema.json`).

One JSON object per line. The kind of an event is the key it carries:

    {"dir": "out", "flags": "SYN", "seq": 1000, "t": 0.0}           segment the IUT sent
    {"dir": "in", "flags": "SYN,ACK", "seq": 7, "ack": 1001}          segment the IUT received
    {"call": "close", "result": "ok"}                                 socket call made by the test
    {"state": "FIN-WAIT-1"}                                           state the IUT reported

An optional first line `{"synack_trace": 1, ...}` is a header (IUT address, profile, source).
Unknown fields are ignored; a missing or ill-typed required field is a `TraceError` naming
the line. Segments carry: flags, seq, ack (required when ACK is set), len (payload bytes,
default 0), win, and the options connection management needs (mss, ts = [TSval, TSecr]).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import IO, Iterable, Iterator, Union

from synack.spec.model import ACK, CALLS, MASK, MAXDATA, Segment, SpecError, State, flags_str, parse_flags

#: JSON names of Segment.tfo (RFC 7413 4.1): no option, a cookie request, a cookie.
TFO_NAMES = ("", "request", "cookie")

FORMAT_VERSION = 1


class TraceError(SpecError):
    """A malformed trace: the message names the source and line (or byte offset)."""


@dataclass(frozen=True)
class SegmentEvent:
    """A segment sent (`dir == "out"`) or received (`dir == "in"`) by the implementation under test."""

    dir: str
    seg: Segment
    t: float | None = None
    win: int | None = None          # the window field as sent (unscaled); None: not recorded
    wscale: int | None = None       # window scale option (RFC 7323), on SYNs
    mss: int | None = None
    ts: tuple[int, int] | None = None
    sack_ok: bool = False           # SACK-permitted (RFC 2018 2) on a SYN: recorded, not modelled
    other: frozenset = frozenset()  # further options and flags recorded, not modelled (`OTHER` names)
    #: its TSval is older (RFC 7323 5.3, mod 2^32) than the newest its sender's earlier segments of the
    #: connection carried; None: not computed (the monitor then computes it from `ts`)
    old_ts: bool | None = None

    def __str__(self) -> str:
        arrow = "IUT sends" if self.dir == "out" else "IUT receives"
        return f"{arrow} {seg_text(self.seg)}" + (f" at t={self.t:.6f}" if self.t is not None else "")

    def to_json(self) -> dict:
        d: dict = {"dir": self.dir, "flags": flags_str(self.seg.flags), "seq": self.seg.seq}
        if self.seg.flags & ACK:
            d["ack"] = self.seg.ack
        if self.seg.data:
            d["len"] = self.seg.data
        if self.win is not None:
            d["win"] = self.win
        if self.t is not None:
            d["t"] = self.t
        if self.wscale is not None:
            d["wscale"] = self.wscale
        if self.mss is not None:
            d["mss"] = self.mss
        if self.ts is not None:
            d["ts"] = list(self.ts)
        if self.sack_ok:
            d["sack_ok"] = True
        if self.seg.tfo:
            d["tfo"] = TFO_NAMES[self.seg.tfo]
        if self.other:
            d["other"] = [k for k in OTHER if k in self.other]
        return d


#: What a capture may carry that no rule reads, by the short name a trace uses (`SegmentEvent.other`,
#: JSON "other"): (the report's name, why it is not modelled). SACK-permitted and timestamps have
#: their own fields (`sack_ok`, `ts`); the rest are named here. MSS, window scale and the Fast Open
#: cookie are read (spec/model.py Segment) and so are not listed.
IGNORED = {
    "sack_ok": ("SACK-permitted", "RFC 2018 2"),
    "sack": ("SACK blocks", "RFC 2018 3: selective acknowledgement and recovery"),
    "ts": ("timestamps", "RFC 7323: RTTM, PAWS but the option paws's duplicate ACK"),
    "md5": ("TCP MD5 signature", "RFC 2385"),
    "ao": ("TCP-AO", "RFC 5925"),
    "mptcp": ("MPTCP", "RFC 8684"),
    "option": ("other option kinds", "unknown to the oracle"),
    "ecn": ("ECN flags ECE/CWR", "RFC 3168"),
    "urg": ("URG flag", "RFC 9293 3.8.5: urgent data"),
}
#: The names `SegmentEvent.other` may hold (the two with fields of their own excluded).
OTHER = tuple(k for k in IGNORED if k not in ("sack_ok", "ts"))


class IgnoredOptions:
    """The TCP options (and flags) a connection's segments carried that no rule reads (`IGNORED`:
    SACK-permitted and SACK blocks, RFC 2018; timestamps, RFC 7323; ...). They are recorded so
    that every verdict can say the judgement did not look at them. Feed every segment event of
    one end; `text()` is the verdict's line, "" when none was seen."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = {}

    def add(self, ev: SegmentEvent) -> None:
        if ev.sack_ok:
            self.seen.setdefault("sack_ok", set()).add(ev.dir)
        if ev.ts is not None:
            self.seen.setdefault("ts", set()).add(ev.dir)
        for k in ev.other:
            self.seen.setdefault(k, set()).add(ev.dir)

    def add_bits(self, direction: str, bits: int) -> None:
        """The same from a bit mask over `IGNORED`'s order (bit i: its i-th name), as a reader that
        keeps no events (the native judge) can count them."""
        for i, k in enumerate(IGNORED):
            if bits >> i & 1:
                self.seen.setdefault(k, set()).add(direction)

    def names(self) -> list[str]:
        return [k for k in IGNORED if k in self.seen]

    def text(self) -> str:
        who = {frozenset({"out"}): "sent by the IUT", frozenset({"in"}): "sent by its peer",
               frozenset({"in", "out"}): "both ends"}
        seen = self.names()
        if not seen:
            return ""
        return ("options recorded and ignored: "
                + ", ".join(f"{IGNORED[k][0]} ({who[frozenset(self.seen[k])]})" for k in seen)
                + "; not modelled (" + "; ".join(IGNORED[k][1] for k in seen) + ")")


def ignored_in(events) -> IgnoredOptions:
    """The options and flags the segment events of one end's trace carried that no rule reads."""
    o = IgnoredOptions()
    for ev in events:
        if isinstance(ev, SegmentEvent):
            o.add(ev)
    return o


def other_bits(names) -> int:
    """`IgnoredOptions.add_bits`' mask of a set of `IGNORED` names."""
    order = list(IGNORED)
    return sum(1 << order.index(k) for k in names)


@dataclass(frozen=True)
class CallEvent:
    """A socket call the test made on the IUT; `result` is "ok", "error[: text]" or None (unknown)."""

    call: str
    n: int = 0
    result: str | None = None
    t: float | None = None

    def __str__(self) -> str:
        s = f"user calls {self.call}" + (f"({self.n})" if self.call == "SEND" else "")
        return s + (f" -> {self.result}" if self.result else "")

    def to_json(self) -> dict:
        d: dict = {"call": self.call.lower()}
        if self.call == "SEND":
            d["n"] = self.n
        if self.result is not None:
            d["result"] = self.result
        if self.t is not None:
            d["t"] = self.t
        return d


@dataclass(frozen=True)
class StateEvent:
    """The IUT reported being in `state` (e.g. from `ss` or its own debug log)."""

    state: State
    t: float | None = None

    def __str__(self) -> str:
        return f"IUT reports state {self.state}"

    def to_json(self) -> dict:
        d: dict = {"state": self.state.value}
        if self.t is not None:
            d["t"] = self.t
        return d


#: ICMPv4 names for the report (RFC 792; RFC 1122 3.2.2.1): (type, code) or (type, None) for any code.
ICMP_NAMES = {(3, 0): "net unreachable", (3, 1): "host unreachable", (3, 2): "protocol unreachable",
              (3, 3): "port unreachable", (3, 4): "fragmentation needed", (3, 5): "source route failed",
              (3, None): "destination unreachable", (4, None): "source quench", (11, None): "time exceeded",
              (12, None): "parameter problem"}


@dataclass(frozen=True)
class IcmpEvent:
    """An ICMP error the IUT received about a segment it sent (RFC 9293 3.9.2.2): its type and code
    (RFC 792) and the quoted segment's SEQ. JSON: ``{"icmp": [3, 1], "seq": 1000, "t": 0.5}``."""

    type: int
    code: int
    seq: int
    t: float | None = None

    def __str__(self) -> str:
        name = ICMP_NAMES.get((self.type, self.code)) or ICMP_NAMES.get((self.type, None), "ICMP")
        return (f"IUT receives ICMP {name} (type {self.type} code {self.code}) quoting seq={self.seq}"
                + (f" at t={self.t:.6f}" if self.t is not None else ""))

    def to_json(self) -> dict:
        d: dict = {"icmp": [self.type, self.code], "seq": self.seq}
        if self.t is not None:
            d["t"] = self.t
        return d


TraceEvent = Union[SegmentEvent, CallEvent, StateEvent, IcmpEvent]


def icmp_judged() -> bool:
    """Whether the monitor takes ICMP events (`Monitor.takes_icmp`): until it does, a trace line
    with one is bad input (one line, exit 2) and the capture judge keeps none, rather than a
    monitor meeting an event it cannot judge. (Imported late: the monitor imports this module.)"""
    from .monitor import Monitor
    return bool(getattr(Monitor, "takes_icmp", False))


def seg_text(seg: Segment) -> str:
    s = f"<{flags_str(seg.flags)} seq={seg.seq}"
    if seg.flags & ACK:
        s += f" ack={seg.ack}"
    if seg.data:
        s += f" len={seg.data}"
    return s + ">"


def _int(obj: dict, key: str, where: str, hi: int, default: int | None = None) -> int:
    v = obj.get(key, default)
    if v is None:
        raise TraceError(f"{where}: missing required field {key!r}")
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= hi:
        raise TraceError(f"{where}: field {key!r} must be an integer in 0..{hi}, got {v!r}")
    return v


def _time(obj: dict, where: str) -> float | None:
    t = obj.get("t")
    if t is None:
        return None
    if not isinstance(t, (int, float)) or isinstance(t, bool) or t != t:
        raise TraceError(f"{where}: field 't' must be a number of seconds, got {t!r}")
    return float(t)


def _window(win: int | None) -> int:
    """SEG.WND of a segment whose window field the trace may not record: unrecorded, it is
    the largest the field can say, so that a trace without windows restricts no sending
    (RFC 9293 3.8.6 bounds a sender by the window it was told; this trace does not say)."""
    return 0xFFFF if win is None else win


def _mss_option(obj: dict, mss: int | None) -> int | None:
    """The MSS option of a SYN as the trace records it: its value, ``"mss": null`` for a SYN
    that carried none (the send MSS is then the default, RFC 9293 3.7.1), and without the
    field the trace does not say: the largest the option can say, so that an unrecorded
    option restricts no segment size."""
    if mss is not None:
        return mss
    return None if "mss" in obj else 0xFFFF


def event_from_json(obj: object, where: str = "event") -> TraceEvent:
    """Decode one event object; `where` names it in errors (e.g. ``trace.jsonl:12``)."""
    if not isinstance(obj, dict):
        raise TraceError(f"{where}: an event must be a JSON object, got {type(obj).__name__}")
    t = _time(obj, where)
    if "dir" in obj:
        d = obj["dir"]
        if d not in ("in", "out"):
            raise TraceError(f"{where}: field 'dir' must be \"in\" or \"out\", got {d!r}")
        if "flags" not in obj:
            raise TraceError(f"{where}: missing required field 'flags'")
        try:
            flags = parse_flags(obj["flags"]) if isinstance(obj["flags"], str) else _int(obj, "flags", where, 0xFF)
        except SpecError as exc:
            raise TraceError(f"{where}: {exc}") from None
        seq = _int(obj, "seq", where, MASK)
        ack = _int(obj, "ack", where, MASK) if flags & ACK else 0
        win = _int(obj, "win", where, 0xFFFF) if obj.get("win") is not None else None
        mss = _int(obj, "mss", where, 0xFFFF) if obj.get("mss") is not None else None
        wscale = _int(obj, "wscale", where, 14) if obj.get("wscale") is not None else None
        tfo = obj.get("tfo")
        if tfo is not None and tfo not in TFO_NAMES[1:]:
            raise TraceError(f"{where}: field 'tfo' must be \"request\" or \"cookie\", got {tfo!r}")
        sack_ok = obj.get("sack_ok", False)
        if not isinstance(sack_ok, bool):
            raise TraceError(f"{where}: field 'sack_ok' must be true or false, got {sack_ok!r}")
        seg = Segment.with_options(flags, seq, ack, _int(obj, "len", where, MAXDATA, 0), _window(win),
                                   _mss_option(obj, mss), wscale, TFO_NAMES.index(tfo) if tfo else 0)
        ts = obj.get("ts")
        if ts is not None:
            if (not isinstance(ts, list) or len(ts) != 2
                    or not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= MASK for x in ts)):
                raise TraceError(f"{where}: field 'ts' must be [TSval, TSecr], two 32-bit integers, got {ts!r}")
            ts = (ts[0], ts[1])
        other = obj.get("other", [])
        if not isinstance(other, list) or not all(isinstance(k, str) and k in OTHER for k in other):
            raise TraceError(f"{where}: field 'other' must be a list of names from {', '.join(OTHER)}, got {other!r}")
        return SegmentEvent(d, seg, t, win, wscale, mss, ts, sack_ok, frozenset(other))
    if "icmp" in obj:
        tc = obj["icmp"]
        if (not isinstance(tc, list) or len(tc) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 255 for x in tc)):
            raise TraceError(f"{where}: field 'icmp' must be [type, code], two integers 0..255, got {tc!r}")
        if not icmp_judged():
            raise TraceError(f"{where}: an ICMP event, which this version's monitor does not judge yet")
        return IcmpEvent(tc[0], tc[1], _int(obj, "seq", where, MASK), t)
    if "call" in obj:
        name = str(obj["call"]).upper()
        if name not in CALLS:
            raise TraceError(f"{where}: unknown call {obj['call']!r}; expected one of: "
                             f"{', '.join(c.lower() for c in CALLS)}")
        n = _int(obj, "n", where, MAXDATA) if name == "SEND" else 0
        res = obj.get("result")
        if res is not None and (not isinstance(res, str) or not (res == "ok" or res.startswith("error"))):
            raise TraceError(f"{where}: field 'result' must be \"ok\" or \"error: ...\", got {res!r}")
        return CallEvent(name, n, res, t)
    if "state" in obj:
        try:
            return StateEvent(State.parse(obj["state"]), t)
        except SpecError as exc:
            raise TraceError(f"{where}: {exc}") from None
    raise TraceError(f"{where}: not an event: needs one of the fields 'dir' (a segment), 'call', 'state' or 'icmp'")


#: The longest line a JSON Lines trace may have (a line of /dev/zero never ends).
MAX_LINE = 1 << 20


def _constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    x = float(text)
    if x in (math.inf, -math.inf):
        raise ValueError(f"{text} is too large for a number")
    return x


def _loads(line: str):
    """json.loads, refusing NaN and infinities (written or overflowing): they order no event."""
    return json.loads(line, parse_constant=_constant, parse_float=_finite)


def parse_jsonl(lines: Iterable[str], source: str = "trace") -> Iterator[tuple[dict, TraceEvent | None]]:
    """Yield (raw object, event) per non-blank line; the header line yields (header, None).
    A header must come before every event, once; times must be finite and must not go
    backwards (a trace is one observer's record, in the order it saw them)."""
    for _, obj, ev in _parse(lines, source):
        yield obj, ev


def _parse(lines: Iterable[str], source: str) -> Iterator[tuple[int, dict, TraceEvent | None]]:
    """parse_jsonl with each line's number."""
    seen = False
    last_t: float | None = None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}:{no}"
        try:
            obj = _loads(line)
        except json.JSONDecodeError as exc:
            raise TraceError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise TraceError(f"{where}: JSON nested too deeply") from None
        except ValueError as exc:               # an integer of more than 4,300 digits, NaN, Infinity
            raise TraceError(f"{where}: not a usable JSON value ({str(exc).split(';')[0]})") from None
        if isinstance(obj, dict) and "synack_trace" in obj:
            if seen:
                raise TraceError(f"{where}: a second header line; a trace has one header, on its first line")
            seen = True
            if obj["synack_trace"] != FORMAT_VERSION:
                raise TraceError(f"{where}: trace format version {obj['synack_trace']!r} is not supported "
                                 f"(this synack reads version {FORMAT_VERSION})")
            check_header(obj, where)
            yield no, obj, None
            continue
        seen = True
        ev = event_from_json(obj, where)
        if ev.t is not None:
            if last_t is not None and ev.t < last_t:
                raise TraceError(f"{where}: time t={ev.t!r} goes backwards (an earlier event has t={last_t!r}); "
                                 "events must be in the order they happened")
            last_t = ev.t
        yield no, obj, ev


#: Header fields and the JSON type each must have.
HEADER_TYPES = {"iut": (str, "a string"), "profile": (str, "a string"), "source": (str, "a string"),
                "calls_logged": (bool, "true or false"), "params": (dict, "an object")}


def check_header(obj: dict, where: str) -> None:
    """A header field of the wrong type is an error, never ignored."""
    for key, (typ, says) in HEADER_TYPES.items():
        if key in obj and not isinstance(obj[key], typ):
            raise TraceError(f"{where}: the header's {key!r} must be {says}, got {obj[key]!r}")


@dataclass(frozen=True)
class Trace:
    """A JSON Lines trace as read: its header (or {}), the header's line (0: none), events."""

    name: str
    header: dict
    header_line: int
    events: list


def _lines(src) -> Iterator[str]:
    """The decoded lines of a source; bad bytes or an endless line are errors naming the line."""
    stream = src.stream()
    no = 0
    while True:
        raw = stream.readline(MAX_LINE)
        if not raw:
            return
        no += 1
        if len(raw) > MAX_LINE:
            raise TraceError(f"{src.name}:{no}: a line longer than {MAX_LINE} bytes")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if no == 1:
                raise TraceError(f"{src.name}: neither a JSON Lines trace nor a pcap/pcapng capture (it starts "
                                 f"with bytes {src.head.hex(' ')}: no capture's magic number, and line 1 is "
                                 f"not UTF-8 text at byte {exc.start})") from None
            raise TraceError(f"{src.name}:{no}: not UTF-8 text (byte {exc.start} of the line)") from None


def read_trace(path_or_source) -> Trace:
    """Read a whole JSON Lines trace from a path or an open `inputs.Source`. A trace with no
    event (an empty file, a header only) is an error: there is nothing to judge."""
    from .inputs import Source, open_source

    src = path_or_source if isinstance(path_or_source, Source) else open_source(path_or_source)
    header: dict = {}
    header_line = 0
    events: list[TraceEvent] = []
    try:
        for no, obj, ev in _parse(_lines(src), src.name):
            if ev is None:
                header, header_line = obj, no
            else:
                events.append(ev)
    finally:
        if src is not path_or_source:
            src.close()
    if not events:
        raise TraceError(f"{src.name}: nothing to judge: no events" + (" (a header only)" if header else
                                                                        " (an empty input)"))
    return Trace(src.name, header, header_line, events)


def read_jsonl(path) -> tuple[dict, list[TraceEvent]]:
    """Read a whole JSON Lines trace: (header or {}, events)."""
    tr = read_trace(path)
    return tr.header, tr.events


def write_jsonl(fh: IO[str], events: Iterable[TraceEvent], header: dict | None = None) -> None:
    fh.write(json.dumps({"synack_trace": FORMAT_VERSION, **(header or {})}) + "\n")
    for ev in events:
        fh.write(json.dumps(ev.to_json()) + "\n")


def as_events(trace: Iterable) -> list[TraceEvent]:
    """Accept events, or dicts in the JSON Lines shape, and return events."""
    out = []
    for i, x in enumerate(trace, 1):
        out.append(x if isinstance(x, (SegmentEvent, CallEvent, StateEvent, IcmpEvent)) else event_from_json(x, f"event {i}"))
    return out
