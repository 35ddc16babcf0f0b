"""What a test hands the oracle, in any of its shapes, made one: events or JSON Lines dicts, a
path (str or Path) to a JSON Lines trace or a pcap/pcapng capture, a `(header, events)` pair
as `read_jsonl` returns it, or a `Trace` (events with their header, as `strategies.traces`
makes them). A trace's header is honoured: its profile (unless the caller names one), its
params (under any the caller gives) and its calls_logged. A capture judges every connection's
ends (or those matching `iut`) and gives a `CaptureVerdict`."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Union

from synack.spec.model import SpecError
from synack.spec.profiles import Profile, get_profile

from .events import TraceError, as_events, ignored_in, read_jsonl
from .monitor import CONFORMANT, EXIT, INCONCLUSIVE, VIOLATION, Monitor, Verdict
from .judge import with_ignored

#: pcap (both byte orders, micro- and nanosecond) and pcapng magic numbers
CAPTURE_MAGIC = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
                 b"\x0a\x0d\x0d\x0a")


class Trace(list):
    """A list of events that carries its JSON Lines header (profile, params, calls_logged,
    iut, ...): still a list wherever one was expected."""

    def __init__(self, events: Iterable = (), header: dict | None = None):
        super().__init__(events)
        self.header: dict = dict(header or {})


@dataclass(frozen=True)
class EndVerdict:
    """One judged end of one connection in a capture."""

    connection: str
    iut: str
    segments: int
    verdict: Verdict


@dataclass(frozen=True)
class CaptureVerdict:
    """Every judged end of a capture. `ok` when none is a violation or inconclusive and one at
    least was judged (an end that sent nothing is silent, not judged); `status` the worst (a
    violation over inconclusive over conformant), as `synack oracle` exits."""

    capture: str
    profile: str
    ends: tuple[EndVerdict, ...]

    @property
    def status(self) -> str:
        found = {e.verdict.status for e in self.ends}
        return next((s for s in (VIOLATION, INCONCLUSIVE) if s in found), CONFORMANT if CONFORMANT in found
                    else INCONCLUSIVE)

    @property
    def ok(self) -> bool:
        return bool(self.ends) and self.status == CONFORMANT

    @property
    def exit_code(self) -> int:
        return EXIT[self.status]

    def __str__(self) -> str:
        if not self.ends:
            return f"INCONCLUSIVE under {self.profile}: no TCP connection judged in {self.capture}"
        lines = [f"{self.status.upper()} under {self.profile}: {len(self.ends)} ends judged in {self.capture}"]
        for e in self.ends:
            lines.append(f"  {e.connection}  IUT {e.iut}: {e.verdict.status.upper()}")
            if not e.verdict.ok:
                lines.append("    " + str(e.verdict).replace("\n", "\n    "))
        return "\n".join(lines)


TraceLike = Union[str, "os.PathLike[str]", Trace, tuple, Iterable]


def is_capture(path: "str | os.PathLike[str]") -> bool:
    """pcap or pcapng by magic number (names can lie)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in CAPTURE_MAGIC
    except OSError as exc:
        raise TraceError(f"cannot read {os.fspath(path)!r}: {exc.strerror}") from None


def load(source: TraceLike) -> "Trace | str":
    """A `Trace` (header and events) for anything trace-like; a capture's path (str) as is."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if is_capture(path):
            return path
        header, events = read_jsonl(path)
        return Trace(events, header)
    if isinstance(source, Trace):
        return Trace(as_events(source), source.header)
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], dict) \
            and isinstance(source[1], (list, tuple)):            # read_jsonl's (header, events)
        return Trace(as_events(source[1]), source[0])
    items = list(source)
    header: dict = {}
    if items and isinstance(items[0], dict) and "synack_trace" in items[0]:
        header, items = items[0], items[1:]
    return Trace(as_events(items), header)


def _params(given) -> dict:
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise TraceError(f"the trace header's \"params\" must be an object, got {given!r}")
    return dict(given)


def judge(source: TraceLike, profile: "Profile | str | None" = None, *, params: dict | None = None,
          iut: str | None = None, **monitor_kw) -> "Verdict | CaptureVerdict":
    """Judge `source`. `profile` None means the trace header's (else rfc9293; linux for a
    capture, as `synack oracle` does); `params` override the header's; `iut` picks a
    capture's ends (HOST[:PORT]); the rest goes to `Monitor` (start, max_candidates,
    calls_logged)."""
    loaded = load(source)
    if isinstance(loaded, str):
        return _judge_capture(loaded, profile, params, iut, monitor_kw)
    h = loaded.header
    prof = get_profile(profile if profile is not None else h.get("profile", "rfc9293"))
    merged = {**_params(h.get("params")), **(params or {})}
    if merged:
        prof = prof.with_params(**merged)
    kw = dict(monitor_kw)
    kw.setdefault("role", str(h.get("iut", "")))
    kw["calls_logged"] = bool(kw.get("calls_logged")) or h.get("calls_logged") is True
    if h.get("vantage") is not None and "vantage" not in kw:
        if h["vantage"] not in ("near", "far"):
            raise TraceError(f"the header's \"vantage\" must be \"near\" or \"far\", got {h['vantage']!r}")
        kw.update(vantage=h["vantage"], vantage_note=f"{h['vantage']} (the trace header's \"vantage\")")
    end = h.get("end")
    if end is not None and (isinstance(end, bool) or not isinstance(end, (int, float)) or end != end):
        raise TraceError(f"the header's \"end\" must be a time in seconds, got {end!r}")
    mon = Monitor(prof, **kw)
    for ev in loaded:
        if mon.feed(ev) is not None:
            break
    # as `synack oracle` does: deadlines run to the trace's last instant (or the header's "end")
    times = [t for t in (getattr(ev, "t", None) for ev in loaded) if t is not None]
    v = mon.verdict(end=max([*times, float(end)]) if end is not None else (times[-1] if times else None))
    return with_ignored(v, ignored_in(loaded))


def _judge_capture(path: str, profile, params, iut, monitor_kw) -> CaptureVerdict:
    from .capture import read_capture
    from .judge import CaptureJudge, parse_iut

    prof = get_profile(profile if profile is not None else "linux")
    if params:
        prof = prof.with_params(**params)
    unknown = set(monitor_kw) - {"start", "max_candidates"}
    if unknown:
        raise SpecError(f"a capture is judged per connection: {', '.join(sorted(unknown))} does not apply")
    cj = CaptureJudge(prof, parse_iut(iut), monitor_kw.get("start"), monitor_kw.get("max_candidates", 4096))
    results = []
    for p in read_capture(path):
        results += cj.feed(p)
    results += cj.close()
    ends = tuple(EndVerdict(r.conn, r.iut, r.segments, r.verdict) for r in sorted(results, key=lambda r: r.first))
    if iut and not ends:
        raise TraceError(f"{path}: no TCP connection with an endpoint matching iut={iut!r}")
    return CaptureVerdict(path, prof.label(), ends)
