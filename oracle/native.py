"""The native judge: `_judge.c` reads a classic pcap capture, decodes its IPv4 frames, splits
the segments into connections and advances each judged end's monitor by memoized steps, in
C; this module is its Python half.

Why: judging in Python costs about 20 us a segment (reading and decoding 4 us, each end's
monitor 5 us on a memo hit, the judge's bookkeeping the rest), a quarter of the rate at
which tshark merely dissects. Nearly every segment of a capture repeats a whole-set step
the monitor already memoized (`Monitor._fast`): connections differ by their ISNs, ports and
times, which the memo's keys leave out.

The C part knows no TCP rule. Its only steps are the monitor's own memoized ones, handed
over as the monitor's step cache stores them (`stepcache.Tables.listeners`), with the keys the monitor uses.
Everything else comes back here through one callback: a step not memoized (the monitor,
loaded with the C state, takes the event as the Python judge would), a monitor whose state
C cannot hold (candidates not in normal form, a verdict reached, more than MAXM marks),
a connection's verdicts, and IPv6 frames (decoded by capture.decode). So the verdicts are
the Python judge's; tests/oracle/test_native.py compares them on every capture the tests
make.

Limits: classic pcap only (pcapng and unknown link types are judged by the Python engine).
The file is read from the descriptor `inputs.Source` opened once (with pread: a pipe is first
copied to a temporary file), never reopened by its path.
"""
from __future__ import annotations

import ctypes
import ipaddress
import math
import os
import struct
import time
from ctypes import c_double, c_int, c_int32, c_int64, c_uint8, c_uint32, c_uint64, c_void_p
from pathlib import Path
from typing import Callable

from synack.checker.cbuild import FAILED, build, deferred_interrupt
from synack.spec import SpecError
from synack.spec.model import Segment

from .capture import (LINK_TYPES, WHY, CaptureStats, Lost, _addr, decode, oversized_record, pcap_link,
                      truncated_header, truncated_record)
from .events import IgnoredOptions, SegmentEvent, TraceError
from .judge import _ep
from . import judge
from .observation import AUTO, NEAR
from .monitor import CONFORMANT, MAX_CROSSED, MAX_VIOLATIONS, SILENT, UNJUDGEABLE, Monitor, Verdict, _props_of, _Stats
from .stepcache import Form, plain_of

SOURCE = Path(__file__).with_name("_judge.c")
MAXM, MAXNEED, MAXAGE = 4, 16, 32            # as in _judge.c
M_FREE, M_FAST, M_PY, M_DONE = range(4)
CB_FEED, CB_FINISH, CB_DECODE, CB_TICK = range(4)
D_TCP, D_NOT_TCP, D_FRAGMENT, D_MALFORMED = range(4)
E_HEADER, E_RECORD, E_CALLBACK, E_MEMORY, E_IO, E_OVERSIZED = range(1, 7)
P_LOCAL, P_PEER, P_FRESH, P_RESET, P_F2 = 1, 2, 4, 8, 16
FLOORED = {"KEEPALIVE": 0, "FIN-WAIT-2": 1, "USER-TIMEOUT": 2}
#: pcap magic numbers: (big-endian, nanosecond stamps)
MAGIC = {b"\xa1\xb2\xc3\xd4": (1, 0), b"\xd4\xc3\xb2\xa1": (0, 0), b"\xa1\xb2\x3c\x4d": (1, 1),
         b"\x4d\x3c\xb2\xa1": (0, 1)}


class NativeUnavailable(SpecError):
    """The native judge cannot judge this capture here (no C compiler, or a pcapng file)."""


class SegS(ctypes.Structure):
    _fields_ = [("t", c_double), ("seq", c_uint32), ("ack", c_uint32), ("flags", c_int32), ("data", c_int32),
                ("win", c_int32), ("wscale", c_int32), ("mss", c_int32), ("has_ts", c_int32), ("tsval", c_uint32),
                ("tsecr", c_uint32)]


class PktS(ctypes.Structure):
    _fields_ = [("s", SegS), ("src", c_uint8 * 16), ("dst", c_uint8 * 16), ("fam", c_int32), ("sport", c_int32),
                ("dport", c_int32), ("ign", c_int32), ("index", c_int64)]


#: `Mon` in _judge.c: C's own header (end, conn, next free slot, pad), then from `mode` on
#: what Python reads and writes (`_load`, `_store`): one struct call each way.
MON_HEAD = struct.Struct("<4i")
MON = struct.Struct("<iiIIii4dq4iii3d")
#: then the ring of `Cross` entries: first, count, incoming ones, pad
RING = struct.Struct("<4i")
RING_AT = MON_HEAD.size + MON.size
#: `Cross`: an event since the oldest incoming segment the stack may not have processed, the
#: state before it, its direction and window (Monitor._crossed); CROSS_SLOTS of them follow MON.
CROSS = struct.Struct("<iIIi4d" + "dII6iII" + "ii")
CROSS_SLOTS = 2 * MAX_CROSSED + 1
#: `Seg` (a packet's segment), and the memo's `TKey` and `TVal`.
SEG = struct.Struct("<dII6iII")
TKEY = struct.Struct("<iBBBBIIIIi3bx4bHxx")
TVAL = struct.Struct("<iIIb4b3x")
RING_IDX = struct.Struct("<ii")        # the monitor's ring in C's pool (-1: none), pad
MON_BUF = ctypes.c_char * (RING_AT + RING.size + RING_IDX.size)
RING_BUF = ctypes.c_char * (CROSS_SLOTS * CROSS.size)


class ConnS(ctypes.Structure):
    _fields_ = [("addr", (c_uint8 * 16) * 2), ("port", c_int32 * 2), ("fam", c_int32), ("incarnation", c_int32),
                ("segments", c_int64), ("first", c_int64), ("first_t", c_double), ("last_t", c_double),
                ("ended", c_int32), ("same", c_int32), ("syn_have", c_int32 * 2), ("syn_seq", c_uint32 * 2),
                ("mon", c_int32 * 2), ("prev", c_int32), ("next", c_int32), ("entry", c_int32), ("sent", c_int32),
                ("eprev", c_int32), ("enext", c_int32), ("lost_arg", c_int32), ("lost_ends", c_int32),
                ("lost_why", c_int32), ("pad2", c_int32), ("lost_frame", c_int64),
                ("min_reply", c_double * 2), ("prev_t", c_double), ("prev_end", c_int32), ("pad3", c_int32),
                ("ign", c_int32 * 2), ("syn_mss", c_int32 * 2),
                ("ts_newest", c_uint32 * 2), ("ts_have", c_int32 * 2)]


CALLBACK = ctypes.CFUNCTYPE(c_int, c_int, c_int, c_int)
#: What the C judge counts (`jd_<name>`), read when a run ends.
COUNTS = ("frames", "tcp", "non_tcp", "fragments", "malformed", "judged_segments", "connections", "fast_steps",
          "python_steps", "finished", "lost")
_lib: "ctypes.CDLL | None | bool" = False
UNAVAILABLE = ["the native judge needs a C compiler (cc or $CC)"]          # why `library()` is None


def library() -> "ctypes.CDLL | None":
    """The compiled `_judge.c`, built on first use; None without a C compiler."""
    global _lib
    if _lib is not False:
        return _lib
    P, I, I64, D = c_void_p, c_int, c_int64, c_double
    B = ctypes.c_char_p
    sigs = {
        "jd_new": (P, [CALLBACK]), "jd_free": (None, [P]),
        "jd_config": (None, [P, I, I, I, I, I, I, I, I, D]),
        "jd_set_ages": (None, [P, ctypes.POINTER(c_double), I]),
        "jd_add_floored": (None, [P, I, ctypes.POINTER(c_double), I]),
        "jd_set_iut": (None, [P, I, B, I]), "jd_set_props": (I, [P, I64, I, I]),
        "jd_last_frame_t": (D, [P]), "jd_set_rto_gap": (None, [P, D]), "jd_gap": (D, [P]),
        "jd_add_trans": (I, [P, B, B]),
        "jd_clear_trans": (None, [P]), "jd_pend": (I, [P, I, B]), "jd_ring": (P, [P, I, I]), "jd_live_sets": (I64, [P, ctypes.POINTER(c_int32), I64]),
        "jd_mon": (P, [P, I]), "jd_conn": (P, [P, I]), "jd_cur": (P, [P]), "jd_frame": (P, [P]),
        "jd_frame_len": (I64, [P]), "jd_templates": (I, [P]), "jd_run": (I, [P, I, I64]), "jd_close": (I, [P]),
        "jd_sizeof": (I64, [I]), "jd_tn": (c_uint64, [P]), "jd_max_live_seen": (c_int32, [P]),
        "jd_scan_icmp": (I64, [I, I64, I, I]),
    }
    for name in COUNTS + ("err_off", "err_declared", "err_held"):
        sigs[f"jd_{name}"] = (I64, [P])
    _lib = lib = build(SOURCE, "judge", sigs)
    if lib is None and "judge" in FAILED:
        UNAVAILABLE[0] = f"the native judge could not be built ({FAILED['judge']})"
    if lib is not None and [lib.jd_sizeof(i) for i in range(10)] != [
            ctypes.sizeof(SegS), ctypes.sizeof(PktS), ctypes.sizeof(MON_BUF), ctypes.sizeof(ConnS), TKEY.size,
            TVAL.size, MON_HEAD.size, ctypes.sizeof(RING_BUF), CROSS.size, CROSS_SLOTS]:
        _lib = None                      # a layout this module does not mirror: never guess
        UNAVAILABLE[0] = "the compiled judge's structures do not match oracle/native.py's"
    return _lib


def probe(source) -> "tuple[int, int, int, int] | str":
    """(big-endian, nanosecond, link type, size) when the native reader takes the capture (a
    `inputs.Source` made a regular file), else why not (the Python engine then reads it, and
    reports any error in it)."""
    if not source.regular:
        return "not a regular file"
    head = os.pread(source.fd, 24, 0)
    if len(head) < 24 or head[:4] not in MAGIC:
        return "not a classic pcap file (the native reader reads pcap, not pcapng)"
    be, nano = MAGIC[head[:4]]
    try:
        link = pcap_link(int.from_bytes(head[20:24], "big" if be else "little"))
    except ValueError as exc:                 # not an engine's limit: the file is wrong for both
        raise TraceError(f"{source.name}: {exc}") from None
    if link not in LINK_TYPES:
        return f"link type {link}"
    # ICMP errors are events for the connection whose segment they quote (RFC 9293 3.9.2.2,
    # CaptureJudge.icmp); the native judge does not route them, so such a capture is the Python
    # engine's rather than judged as if they were absent
    lib = library()
    if lib is not None:
        first = lib.jd_scan_icmp(source.fd, source.size, be, link)
        if first > 0:
            return f"frame {first} is an ICMP error quoting a TCP segment, which the native judge does not route"
    return be, nano, link, source.size


def _ignored(v: Verdict, c: "ConnS", e: int) -> Verdict:
    """`v` with the line naming the options and flags end `e`'s connection carried that no rule
    reads, from the bits C collected (`Conn.ign`: what each end sent), as the Python judge's
    `judge.with_ignored` gives it."""
    if not (c.ign[0] | c.ign[1]):
        return v
    o = IgnoredOptions()
    o.add_bits("out", c.ign[e])
    o.add_bits("in", c.ign[1 - e])
    return judge.with_ignored(v, o)


def _none(x: float) -> float | None:
    return None if math.isnan(x) else x


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


def _event(direction: str, t, seq, ack, flags, data, win, wscale, mss, has_ts, tsval, tsecr) -> SegmentEvent:
    """The event of a `Seg` as SEG unpacks it."""
    return SegmentEvent(direction, Segment.with_options(flags, seq, ack, data, win, None if mss < 0 else mss,
                                                        None if wscale < 0 else wscale, has_ts >> 1 & 3), t, win,
                        None if wscale < 0 else wscale,
                        None if mss < 0 else mss, (tsval, tsecr) if has_ts & 1 else None, old_ts=bool(has_ts & 8))


def _seg_fields(ev: SegmentEvent) -> tuple:
    """`_event`'s arguments less the direction (SEG's fields)."""
    seg = ev.seg
    return (ev.t, seg.seq, seg.ack, seg.flags, seg.data, ev.win, -1 if ev.wscale is None else ev.wscale,
            -1 if ev.mss is None else ev.mss,
            (ev.ts is not None) | seg.tfo << 1 | bool(ev.old_ts) << 3,      # has_ts: bit 0, tfo: bits 1-2, old_ts: bit 3
            *(ev.ts if ev.ts is not None else (0, 0)))


def _pad(xs, n: int) -> tuple:
    return (*xs, *(0,) * (n - len(xs)))


class NativeJudge:
    """Judge one pcap file (or the 4-tuples of `share` of `jobs`) with the C judge; every
    connection's verdicts go to `on_result` as it is released, as `CaptureJudge` yields them."""

    def __init__(self, profile, iut, start: str | None, max_candidates: int, on_result: "Callable[[judge.Result], None]",
                 share: int = 0, jobs: int = 1, max_violations: int = MAX_VIOLATIONS, learn=(),
                 observation: "dict | None" = None):
        lib = library()
        if lib is None:
            raise NativeUnavailable(UNAVAILABLE[0] + "; use --engine python")
        self.lib, self.on_result, self.exc = lib, on_result, None
        self.make = lambda s: Monitor(profile, start=s, max_candidates=max_candidates, max_violations=max_violations,
                                      vantage=AUTO, vantage_note=judge.vantage_of(("", 0), None)[1], learn=learn,
                                      observation=observation)
        self.scratch = [self.make(s) for s in ("any", "closed")]
        m = self.scratch[0]
        self.sh = sh = m._sh
        self.memo = sh.memo
        if not m._memo.memoized or any(len(n) > MAXNEED for n in (m._ka_needs, m._f2_needs, m._ut_needs)) \
                or len(m._ages) > MAXAGE:
            raise NativeUnavailable("this profile's timers need more time keys than the native judge holds")
        self.held: dict[int, Monitor] = {}           # slot -> a monitor C cannot hold
        self.kept: dict[int, tuple] = {}              # slot -> (normal form, its candidates) after a Python step
        self.rings: dict[int, tuple] = {}             # slot -> (C's event count n, the `_crossed` C holds)

        self.spent = [0.0, 0.0, 0.0, 0.0]             # seconds in Python per callback kind
        self.final: dict[int, bool | None] = {}       # set index -> `Monitor.settled`
        self.label = profile.label()
        self.sets: list = []                          # set index -> interned normal-form set (None: free)
        self.idx: dict[int, int] = {}                 # id(set) -> index
        self.free: list[int] = []
        self._cb = CALLBACK(self._callback)           # kept alive while C may call it
        self.j = lib.jd_new(self._cb)
        if not self.j:
            raise NativeUnavailable("out of memory")
        self.iut, self.start, self.share, self.jobs = iut, start, share, jobs
        self.closing = False
        self.limit = max_candidates
        self.expire = 2 * float(profile.params["time_wait"]) + 1
        lib.jd_set_ages(self.j, (c_double * len(m._ages))(*m._ages), len(m._ages))
        lib.jd_set_rto_gap(self.j, min(m._rto_gap, 1e300))     # past it, Python checks the deadline
        for kind in sh.floored:
            need = m._floor_of(kind)[1]
            lib.jd_add_floored(self.j, FLOORED[kind], (c_double * len(need))(*need), len(need))
        if iut is not None:
            raw = ipaddress.ip_address(iut[0]).packed
            lib.jd_set_iut(self.j, 4 if len(raw) == 4 else 6, raw.ljust(16, b"\0"), iut[1] or 0)
        if lib.jd_templates(self.j):
            raise NativeUnavailable("out of memory")
        for slot, s in enumerate(("closed", "any")):         # C's templates: slot 0 "closed", 1 "any"
            if not self._store(slot, self.make(s)):
                raise NativeUnavailable("a fresh monitor's state does not fit the native judge")
        self.cur = PktS.from_address(lib.jd_cur(self.j))
        self.cur_buf = (ctypes.c_char * SEG.size).from_address(lib.jd_cur(self.j))
        # what the monitors memoized before this judge existed
        interned = {id(s): s for s in self.memo.sets.values()}
        for (pid, d, seg, wnd, tk, ages), step in list(self.memo.trans.items()):
            if pid in interned:
                self.added(interned[pid], d, seg, wnd, tk, ages, step)

    def __del__(self):
        self._release()

    def _release(self) -> None:
        """Free the C judge, and the callback that refers back to this object (a cycle only the
        collector would break)."""
        j, self.j = getattr(self, "j", None), None
        if j:
            self.lib.jd_free(j)
        self._cb = None

    # ---------------------------------------------------------------- the run
    def run(self, source, probed: tuple[int, int, int, int]) -> CaptureStats:
        """Judge the whole capture (a regular-file `inputs.Source`); the counts of what it held."""
        be, nano, link, size = probed
        path = source.name
        self.link = link
        lib, j = self.lib, self.j
        lib.jd_config(j, link, be, nano, self.jobs, self.share, -1 if self.start is None else 1,
                      self.limit, int(self.sh.floors_move), self.expire)
        self.memo.listeners.append(self)
        try:
            with deferred_interrupt():
                rc = lib.jd_run(j, source.fd, size)
                self._check(rc, path, size)
                self.closing = True           # what is left is judged at the capture's last frame
                self._check(lib.jd_close(j), path, size)
        finally:
            self.memo.listeners.remove(self)
            self.counts = {name: getattr(lib, f"jd_{name}")(j) for name in COUNTS}
            self.counts["memo"] = lib.jd_tn(j)
            self._release()
        c = self.counts
        return CaptureStats(frames=c["frames"], tcp=c["tcp"], non_tcp=c["non_tcp"], fragments=c["fragments"],
                            malformed=c["malformed"], link_type=link)

    def _check(self, rc: int, path: str, size: int) -> None:
        if self.exc is not None:
            exc, self.exc = self.exc, None
            raise exc
        lib, j = self.lib, self.j
        if rc == E_HEADER:
            raise TraceError(truncated_header(path, lib.jd_err_off(j), size))
        if rc == E_RECORD:
            raise TraceError(truncated_record(path, lib.jd_err_off(j), lib.jd_err_declared(j), lib.jd_err_held(j)))
        if rc == E_OVERSIZED:
            raise TraceError(oversized_record(path, lib.jd_err_off(j), lib.jd_err_declared(j)))
        if rc:
            raise TraceError(f"{path}: the native judge failed: "
                             + {E_CALLBACK: "a callback failed", E_MEMORY: "out of memory",
                                E_IO: "a read error"}.get(rc, f"error {rc}"))

    @property
    def segments(self) -> int:
        return self.counts["judged_segments"]

    @property
    def connections(self) -> int:
        return self.counts["connections"]

    @property
    def lost(self) -> int:
        return self.counts["lost"]

    def work(self) -> dict[str, int]:
        """Where the work went: monitor steps taken in C and in Python, connections released
        (their verdicts come from Python), memo entries mirrored in C, sets registered, and
        the seconds spent in Python on steps, verdicts and IPv6 decoding."""
        c = self.counts
        return {"fast_steps": c["fast_steps"], "python_steps": c["python_steps"], "released": c["finished"],
                "memo": c["memo"], "sets": len(self.sets) - len(self.free),
                "python_step_s": round(self.spent[CB_FEED], 3), "verdict_s": round(self.spent[CB_FINISH], 3),
                "ipv6_decode_s": round(self.spent[CB_DECODE], 3)}

    # ---------------------------------------------------------------- C asks
    def _callback(self, kind: int, a: int, b: int) -> int:
        if deferred_interrupt.pending():          # Ctrl-C: stop C now; _check raises it
            self.exc = KeyboardInterrupt()
            return -1
        t0 = time.perf_counter()
        try:
            if kind == CB_FEED:
                self._feed(a, b)
            elif kind == CB_FINISH:
                self._finish(a)
            elif kind == CB_DECODE:
                return self._decode()
            return 0
        except BaseException as exc:          # never unwind through C
            self.exc = exc
            return -1
        finally:
            self.spent[kind] += time.perf_counter() - t0

    def _feed(self, slot: int, direction: int) -> None:
        mon = self.held.pop(slot, None)
        if mon is None:
            mon = self._load(slot)
            # C's bit for this end: it sent before this segment (C sets it after feeding)
            mon.sent = self._sent_bits(slot)
            mon._last_t = self.cur.s.t - self.lib.jd_gap(self.j)     # its connection's previous segment
        end, conn, _, _ = MON_HEAD.unpack_from(MON_BUF.from_address(self.lib.jd_mon(self.j, slot)))
        c = ConnS.from_address(self.lib.jd_conn(self.j, conn))
        mon.replies = (c.min_reply[end], c.min_reply[1 - end])
        mon.feed(_event("out" if direction == 0 else "in", *SEG.unpack(self.cur_buf)))
        self._store(slot, mon)

    def _finish(self, idx: int) -> None:
        c = ConnS.from_address(self.lib.jd_conn(self.j, idx))
        ends = [(_addr(bytes(c.addr[e])[:4 if c.fam == 4 else 16]), c.port[e]) for e in (0, 1)]
        name = f"{_ep(*ends[0])} <-> {_ep(*ends[1])}" + (f" #{c.incarnation}" if c.incarnation > 1 else "")
        end_t = self.lib.jd_last_frame_t(self.j) if self.closing else self.cur.s.t
        why = f"frame {c.lost_frame} {WHY[c.lost_why].format(c.lost_arg)}" if c.lost_frame else ""
        for e in (0, 1):
            slot = c.mon[e]
            if slot < 0:
                continue
            self.kept.pop(slot, None)
            self.rings.pop(slot, None)
            mon = self.held.pop(slot, None)
            if c.lost_ends >> e & 1:
                if mon is None:
                    mon = self._load(slot)
                v = _ignored(judge.unjudgeable(mon, why), c, e)
                self.on_result(judge.Result(name, _ep(*ends[e]), v, c.segments, c.first))
                continue
            if mon is None and not c.sent >> e & 1:
                v = MON.unpack_from(MON_BUF.from_address(self.lib.jd_mon(self.j, slot)), MON_HEAD.size)
                v = Verdict(SILENT, self.label, v[10], "not judged: it sent nothing", max_candidates=v[16],
                            role=f"IUT {_ep(*ends[e])}", vantage=self.scratch[0].vantage_note)
                self.on_result(judge.Result(name, _ep(*ends[e]), _ignored(v, c, e), c.segments, c.first))
                continue
            if mon is None:
                v = MON.unpack_from(MON_BUF.from_address(self.lib.jd_mon(self.j, slot)), MON_HEAD.size)
                if self._settled(v[1]):
                    # what verdict() gives a monitor in this set (v[10]: events, v[16]: most
                    # candidates): its rows cite nothing
                    v = Verdict(CONFORMANT, self.label, v[10], max_candidates=v[16], role=f"IUT {_ep(*ends[e])}",
                                vantage=self.scratch[0].vantage_note)
                    self.on_result(judge.Result(name, _ep(*ends[e]), _ignored(v, c, e), c.segments, c.first))
                    continue
                mon = self._load(slot)
                mon.sent = 1
                mon._last_t = c.last_t                # its connection's last segment
            mon.replies = (c.min_reply[e], c.min_reply[1 - e])   # a deadline missed at the end may show it far
            v = mon.verdict(end=end_t)
            self.on_result(judge.Result(name, _ep(*ends[e]), _ignored(v, c, e), c.segments, c.first,
                                        judge.turned_far(mon, v), judge.conn_key(*ends)))

    def _sent_bits(self, slot: int) -> int:
        end, conn, _, _ = MON_HEAD.unpack_from(MON_BUF.from_address(self.lib.jd_mon(self.j, slot)))
        return ConnS.from_address(self.lib.jd_conn(self.j, conn)).sent >> end & 1

    def _settled(self, idx: int) -> bool | None:
        """`Monitor.settled` of the set C knows by `idx`, asked once."""
        got = self.final.get(idx)
        if got is None and idx not in self.final:
            got = self.final[idx] = self.scratch[1].settled(self.sets[idx])
        return got

    def _decode(self) -> int:
        """An IPv6 frame: capture.decode reads it (dpkt), and the packet goes back to C."""
        lib, j = self.lib, self.j
        cur = self.cur
        stats = CaptureStats()
        p = decode(cur.s.t, ctypes.string_at(lib.jd_frame(j), lib.jd_frame_len(j)), self.link, stats)
        if p is None or isinstance(p, Lost):
            return D_MALFORMED if stats.malformed else D_FRAGMENT if stats.fragments else D_NOT_TCP
        ctypes.memset(ctypes.addressof(cur), 0, ctypes.sizeof(cur))
        SEG.pack_into(self.cur_buf, 0, *_seg_fields(SegmentEvent("in", p.seg, p.t, p.win, p.wscale, p.mss, p.ts)))
        src, dst = ipaddress.ip_address(p.src).packed, ipaddress.ip_address(p.dst).packed
        cur.fam = 4 if len(src) == 4 else 6
        ctypes.memmove(cur.src, src, len(src))
        ctypes.memmove(cur.dst, dst, len(dst))
        cur.sport, cur.dport = p.sport, p.dport
        # what it carried that no rule reads (`Conn.ign`, as C sets it for IPv4 frames)
        cur.ign = (1 if getattr(p, "sack_ok", False) else 0) | (4 if p.ts is not None else 0)
        if getattr(p, "other", None):
            from .events import other_bits
            cur.ign |= other_bits(p.other)
        return D_TCP

    # ---------------------------------------------------------------- monitor state, C <-> Python
    def _load(self, slot: int) -> Monitor:
        """The scratch monitor, in the state C holds for `slot` (every field `reset` sets)."""
        buf = MON_BUF.from_address(self.lib.jd_mon(self.j, slot))
        end, conn, _, _ = MON_HEAD.unpack_from(buf)
        (_, idx, dl, dp, nm, started, m0, m1, m2, m3, n, scaled, wscale, peer_ws, start_closed, f2_known, maxc,
         ka, f2, t0) = MON.unpack_from(buf, MON_HEAD.size)
        m = self.scratch[start_closed]
        lazy = Form(self.sets[idx], dl, dp, (m0, m1, m2, m3)[:nm])
        kept = self.kept.pop(slot, None)
        c = ConnS.from_address(self.lib.jd_conn(self.j, conn))
        m.role = f"IUT {_ep(_addr(bytes(c.addr[end])[:4 if c.fam == 4 else 16]), c.port[end])}"
        # the candidates themselves when C has not moved since Python's last step (else they
        # are rebuilt from the normal form: the same ones)
        m._cands = kept[1] if kept is not None and kept[0][0] is lazy[0] and kept[0][1:] == lazy[1:] else None
        m._form = lazy
        m.n, m.done, m.stats, m.found = n, None, _Stats(maxc), []
        m.wscale = None if wscale < 0 else wscale
        m.peer_wscale, m._scaled, m._started = bool(peer_ws), bool(scaled), bool(started)
        ring = self.rings.get(slot)
        if ring is None or ring[0] != n:            # C stepped since Python last saw the ring
            chead, ncross, _, _ = RING.unpack_from(buf, RING_AT)
            crossed = []
            rbuf = RING_BUF.from_address(self.lib.jd_ring(self.j, slot, 0)) if ncross else None
            for k in range(ncross):
                at = (chead + k) % CROSS_SLOTS * CROSS.size
                cset, cdl, cdp, cnm, c0, c1, c2, c3, *cev, cdir, cwnd = CROSS.unpack_from(rbuf, at)
                crossed.append(((None, Form(self.sets[cset], cdl, cdp, (c0, c1, c2, c3)[:cnm])),
                                _event("out" if cdir == 0 else "in", *cev), None if cwnd < 0 else cwnd))
            ring = self.rings[slot] = (n, tuple(crossed))
        m._crossed = ring[1] or None
        # the SYNs' MSS options (far-segmentation); a monitor C holds is near (or not yet known
        # far), so it has no history of earlier states (far-reorder keeps one once it is far)
        m._mss_seen = {d: c.syn_mss[e] for d, e in (("out", end), ("in", 1 - end)) if c.syn_mss[e] > 0}
        m._recent = ()
        m._ka_floor, m._f2_floor, m._f2_known, m._t0 = _none(ka), _none(f2), bool(f2_known), _none(t0)
        return m

    def _store(self, slot: int, m: Monitor) -> bool:
        """Hand the monitor's state to C; a state C cannot hold stays here with its monitor."""
        buf = MON_BUF.from_address(self.lib.jd_mon(self.j, slot))
        lazy, cr = m._form, m._crossed or ()
        if m.done is not None or m.found or m.learned or m.vantage != NEAR or lazy is None or len(lazy[3]) > MAXM or len(cr) > CROSS_SLOTS - 1 or any(
                b is None or len(b[3]) > MAXM for (_, b), _, _ in cr):
            struct.pack_into("<i", buf, MON_HEAD.size, M_DONE if m.done is not None else M_PY)
            self.kept.pop(slot, None)
            self.rings.pop(slot, None)
            self.held[slot] = m
            if m is self.scratch[m.start == "closed"]:
                fresh = self.make(m.start)
                fresh._memo.own = m._memo.own         # a cache of the table's steps: share it
                self.scratch[m.start == "closed"] = fresh
            return False
        # the ring: what C holds plus the one entry this step appended (as C appends), else
        # written whole
        old = self.rings.get(slot)                # None: C's ring is not known to match anything
        keep = len(cr) - 1
        if old is not None and cr and keep <= len(old[1]) and all(
                a is b for a, b in zip(cr[:keep], old[1][len(old[1]) - keep:])):
            if self.lib.jd_pend(self.j, slot, self._packed(cr[-1])):
                raise MemoryError("native judge: pending lists")
        elif old is None or cr is not old[1]:
            RING.pack_into(buf, RING_AT, 0, len(cr), sum(e.dir == "in" for _, e, _ in cr), 0)
            addr = self.lib.jd_ring(self.j, slot, bool(cr))     # allocated, or released when empty
            if cr and not addr:
                raise MemoryError("native judge: pending lists")
            if cr:
                rbuf = RING_BUF.from_address(addr)
                for k, e in enumerate(cr):
                    rbuf[k * CROSS.size:(k + 1) * CROSS.size] = self._packed(e)
        self.rings[slot] = (m.n, cr)
        if m._cands is not None:
            self.kept[slot] = (lazy, m._cands)
        MON.pack_into(buf, MON_HEAD.size, M_FAST, self._idx(lazy[0]), lazy[1], lazy[2], len(lazy[3]), m._started,
                      *_pad(lazy[3], MAXM), m.n, m._scaled, -1 if m.wscale is None else m.wscale, m.peer_wscale,
                      m.start == "closed", m._f2_known, m.stats.max_candidates, _nan(m._ka_floor),
                      _nan(m._f2_floor), _nan(m._t0))
        return True

    def _packed(self, entry: tuple) -> bytes:
        """One `Monitor._crossed` entry as a `Cross`."""
        (_, b), e, w = entry
        return CROSS.pack(self._idx(b[0]), b[1], b[2], len(b[3]), *_pad(b[3], MAXM), *_seg_fields(e), e.dir == "in",
                          -1 if w is None else w)

    def _idx(self, nset: tuple) -> int:
        """The index C knows a normal-form set by (registered with its properties on first use)."""
        i = self.idx.get(id(nset))
        if i is None:
            if self.free:
                i = self.free.pop()
                self.sets[i] = nset
            else:
                i = len(self.sets)
                self.sets.append(nset)
            self.idx[id(nset)] = i
            self.final.pop(i, None)
            local, peer, fresh = plain_of(nset)
            reset, f2 = _props_of(self.sh, nset)
            flags = P_LOCAL * local | P_PEER * peer | P_FRESH * fresh | P_RESET * reset | P_F2 * f2
            if self.lib.jd_set_props(self.j, i, flags, len(nset)):
                raise MemoryError("native judge: set table")
        return i

    # ---------------------------------------------------------------- the monitors' memo, mirrored
    def added(self, pset, direction: str, seg: Segment, wnd, tk: tuple, ages: tuple, step: tuple) -> None:
        """A whole-set step the monitor's step cache stored (`stepcache.Tables.listeners`): C keeps a copy."""
        nset, ddl, ddp, mmap = step
        if tk[0] or len(ages) > MAXM or len(mmap) > MAXM or seg.tfo or seg.ots:
            return            # untimed events, more marks than C holds, Fast Open SYNs, PAWS-old segments: Python only
        key = TKEY.pack(self._idx(pset), direction == "in", seg.flags, len(ages), seg.ws, seg.seq, seg.ack, seg.wnd,
                        seg.data, -1 if wnd is None else wnd, *_pad([-1 if k is None else k for k in tk[1:]], 3),
                        *_pad(ages, MAXM), seg.mss)
        if self.lib.jd_add_trans(self.j, key, TVAL.pack(self._idx(nset), ddl, ddp, len(mmap), *_pad(mmap, MAXM))):
            raise MemoryError("native judge: memo table")

    def cleared(self) -> None:
        """The monitors' memo was cleared: so is C's copy, and every set no C monitor holds
        is forgotten."""
        lib, j = self.lib, self.j
        lib.jd_clear_trans(j)
        n = lib.jd_live_sets(j, None, 0)
        buf = (c_int32 * max(n, 1))()
        lib.jd_live_sets(j, buf, n)
        keep = set(buf[:n])
        for i, s in enumerate(self.sets):
            if s is not None and i not in keep:
                del self.idx[id(s)]
                self.sets[i] = None
                self.free.append(i)
