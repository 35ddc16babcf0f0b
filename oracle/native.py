"""The native judge: `_judge.c` reads a classic pcap capture, decodes its IPv4 frames, splits
the segments into connections and advances each judged end's monitor by memoized steps, in
C; this module is its Python half.

Why: judging in Python costs about 20 us a segment (reading and decoding 4 us, each end's
monitor 5 us on a memo hit, the judge's bookkeeping the rest), a quarter of the rate at
which tshark merely dissects. Nearly every segment of a capture repeats a whole-set step
the monitor already memoized (`Monitor._fast`): connections differ by their ISNs, ports and
times, which the memo's keys leave out.

The C part knows no TCP rule. Its only steps are the monitor's own memoized ones, handed
over as the monitor stores them (`_Shared.listeners`), with the keys the monitor uses.
Everything else comes back here through one callback: a step not memoized (the monitor,
loaded with the C state, takes the event as the Python judge would), a monitor whose state
C cannot hold (candidates not in normal form, a verdict reached, more than MAXM marks),
a connection's verdicts, and IPv6 frames (decoded by capture.decode). So the verdicts are
the Python judge's; tests/oracle/test_native.py compares them on every capture the tests
make.

Limits: classic pcap only (pcapng and unknown link types are judged by the Python engine).
"""
from __future__ import annotations

import ctypes
import ipaddress
import math
import time
from ctypes import c_double, c_int, c_int32, c_int64, c_uint8, c_uint32, c_uint64, c_void_p
from pathlib import Path
from typing import Callable

from synack.cbuild import build
from synack.spec import SpecError
from synack.spec.model import Segment

from .capture import CaptureStats, _addr, decode, truncated_header, truncated_record
from .events import SegmentEvent, TraceError
from .judge import _ep
from . import judge
from .monitor import CONFORMANT, Monitor, Verdict, _plain_of, _props_of, _Stats

SOURCE = Path(__file__).with_name("_judge.c")
MAXM, MAXNEED, MAXAGE = 4, 16, 32            # as in _judge.c
M_FREE, M_FAST, M_PY, M_DONE = range(4)
CB_FEED, CB_FINISH, CB_DECODE = range(3)
D_TCP, D_NOT_TCP, D_FRAGMENT, D_MALFORMED = range(4)
E_HEADER, E_RECORD, E_CALLBACK, E_MEMORY, E_IO = range(1, 6)
P_LOCAL, P_PEER, P_FRESH, P_RESET, P_F2 = 1, 2, 4, 8, 16
FLOORED = {"KEEPALIVE": 0, "FIN-WAIT-2": 1, "USER-TIMEOUT": 2}
#: pcap magic numbers: (big-endian, nanosecond stamps)
MAGIC = {b"\xa1\xb2\xc3\xd4": (1, 0), b"\xd4\xc3\xb2\xa1": (0, 0), b"\xa1\xb2\x3c\x4d": (1, 1),
         b"\x4d\x3c\xb2\xa1": (0, 1)}
LINKS = frozenset({0, 1, 12, 14, 101, 108, 113, 228, 229, 276})


class NativeUnavailable(SpecError):
    """The native judge cannot judge this capture here (no C compiler, or a pcapng file)."""


class SegS(ctypes.Structure):
    _fields_ = [("t", c_double), ("seq", c_uint32), ("ack", c_uint32), ("flags", c_int32), ("data", c_int32),
                ("win", c_int32), ("wscale", c_int32), ("mss", c_int32), ("has_ts", c_int32), ("tsval", c_uint32),
                ("tsecr", c_uint32)]


class PktS(ctypes.Structure):
    _fields_ = [("s", SegS), ("src", c_uint8 * 16), ("dst", c_uint8 * 16), ("fam", c_int32), ("sport", c_int32),
                ("dport", c_int32), ("pad", c_int32), ("index", c_int64)]


class MonS(ctypes.Structure):
    _fields_ = [("mode", c_int32), ("set", c_int32), ("dl", c_uint32), ("dp", c_uint32), ("nm", c_int32),
                ("started", c_int32), ("marks", c_double * MAXM), ("n", c_int64), ("scaled", c_int32),
                ("wscale", c_int32), ("peer_wscale", c_int32), ("start_closed", c_int32), ("f2_known", c_int32),
                ("maxc", c_int32), ("ka_floor", c_double), ("f2_floor", c_double), ("t0", c_double),
                ("crossed", c_int32), ("cset", c_int32), ("cdl", c_uint32), ("cdp", c_uint32), ("cnm", c_int32),
                ("end", c_int32), ("cmarks", c_double * MAXM), ("cev", SegS), ("conn", c_int32),
                ("next_free", c_int32)]


class ConnS(ctypes.Structure):
    _fields_ = [("addr", (c_uint8 * 16) * 2), ("port", c_int32 * 2), ("fam", c_int32), ("incarnation", c_int32),
                ("segments", c_int64), ("first", c_int64), ("first_t", c_double), ("last_t", c_double),
                ("ended", c_int32), ("same", c_int32), ("syn_have", c_int32 * 2), ("syn_seq", c_uint32 * 2),
                ("mon", c_int32 * 2), ("prev", c_int32), ("next", c_int32), ("entry", c_int32), ("pad", c_int32)]


CALLBACK = ctypes.CFUNCTYPE(c_int, c_int, c_int, c_int)
_lib: "ctypes.CDLL | None | bool" = False


def library() -> "ctypes.CDLL | None":
    """The compiled `_judge.c`, built on first use; None without a C compiler."""
    global _lib
    if _lib is not False:
        return _lib
    P, I, I64, D = c_void_p, c_int, c_int64, c_double
    B = ctypes.c_char_p
    sigs = {
        "jd_new": (P, [CALLBACK]), "jd_free": (None, [P]),
        "jd_config": (None, [P, I, I, I, I, I, I, I, I, I, D]),
        "jd_set_ages": (None, [P, ctypes.POINTER(c_double), I]),
        "jd_add_floored": (None, [P, I, ctypes.POINTER(c_double), I]),
        "jd_set_iut": (None, [P, I, B, I]), "jd_set_props": (I, [P, I64, I, I]),
        "jd_add_trans": (I, [P, I, I, I, c_uint32, c_uint32, c_uint32, c_uint32, c_int32, B, I, B, I, c_uint32,
                             c_uint32, I, B]),
        "jd_clear_trans": (None, [P]), "jd_live_sets": (I64, [P, ctypes.POINTER(c_int32), I64]),
        "jd_mon": (P, [P, I]), "jd_conn": (P, [P, I]), "jd_cur": (P, [P]), "jd_frame": (P, [P]),
        "jd_frame_len": (I64, [P]), "jd_templates": (I, [P]), "jd_run": (I, [P, B, I64]), "jd_close": (I, [P]),
        "jd_sizeof": (I64, [I]), "jd_tn": (c_uint64, [P]), "jd_max_live_seen": (c_int32, [P]),
    }
    for name in ("frames", "tcp", "non_tcp", "fragments", "malformed", "judged_segments", "connections", "err_off",
                 "err_declared", "err_held", "fast_steps", "python_steps", "finished"):
        sigs[f"jd_{name}"] = (I64, [P])
    _lib = lib = build(SOURCE, "judge", sigs)
    if lib is not None and [lib.jd_sizeof(i) for i in range(4)] != [ctypes.sizeof(s) for s in (SegS, PktS, MonS, ConnS)]:
        _lib = None                      # a layout this module does not mirror: never guess
    return _lib


def probe(path: str) -> "tuple[int, int, int, int] | str":
    """(big-endian, nanosecond, link type, size) when the native reader takes the file, else
    why not (the Python engine then reads it, and reports any error in it)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
            size = fh.seek(0, 2)
    except OSError as exc:
        return f"cannot read {path!r}: {exc.strerror}"
    if len(head) < 24 or head[:4] not in MAGIC:
        return "not a classic pcap file (the native reader reads pcap, not pcapng)"
    be, nano = MAGIC[head[:4]]
    link = int.from_bytes(head[20:24], "big" if be else "little") & 0x0FFFFFFF
    if link not in LINKS:
        return f"link type {link}"
    return be, nano, link, size


def _none(x: float) -> float | None:
    return None if math.isnan(x) else x


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


def _event(s: SegS, direction: str) -> SegmentEvent:
    return SegmentEvent(direction, Segment(s.flags, s.seq, s.ack, s.data, s.win), s.t, s.win,
                        None if s.wscale < 0 else s.wscale, None if s.mss < 0 else s.mss,
                        (s.tsval, s.tsecr) if s.has_ts else None)


def _put_event(s: SegS, ev: SegmentEvent) -> None:
    seg = ev.seg
    s.t, s.seq, s.ack, s.flags, s.data, s.win = ev.t, seg.seq, seg.ack, seg.flags, seg.data, ev.win
    s.wscale = -1 if ev.wscale is None else ev.wscale
    s.mss = -1 if ev.mss is None else ev.mss
    s.has_ts = ev.ts is not None
    s.tsval, s.tsecr = ev.ts if ev.ts is not None else (0, 0)


def _i8(xs) -> bytes:
    return bytes(x & 0xFF for x in xs)


class NativeJudge:
    """Judge one pcap file (or the 4-tuples of `share` of `jobs`) with the C judge; every
    connection's verdicts go to `on_result` as it is released, as `CaptureJudge` yields them."""

    def __init__(self, profile, iut, start: str | None, max_candidates: int, on_result: "Callable[[judge.Result], None]",
                 share: int = 0, jobs: int = 1):
        lib = library()
        if lib is None:
            raise NativeUnavailable("the native judge needs a C compiler (cc or $CC); use --engine python")
        self.lib, self.on_result, self.exc = lib, on_result, None
        self.scratch = [Monitor(profile, start=s, max_candidates=max_candidates) for s in ("any", "closed")]
        m = self.scratch[0]
        self.sh = sh = m._sh
        if m._memo is None or any(len(n) > MAXNEED for n in (m._ka_needs, m._f2_needs, m._ut_needs)) \
                or len(m._ages) > MAXAGE:
            raise NativeUnavailable("this profile's timers need more time keys than the native judge holds")
        self.make = lambda s: Monitor(profile, start=s, max_candidates=max_candidates)
        self.held: dict[int, Monitor] = {}           # slot -> a monitor C cannot hold
        self.spent = [0.0, 0.0, 0.0]                  # seconds in Python per callback kind
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
        self.limit = max_candidates
        self.expire = 2 * float(profile.params["time_wait"]) + 1
        lib.jd_set_ages(self.j, (c_double * len(m._ages))(*m._ages), len(m._ages))
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
        # what the monitors memoized before this judge existed
        interned = {id(s): s for s in sh.sets.values()}
        for (pid, d, seg, wnd, tk, ages), step in list(sh.trans.items()):
            if pid in interned:
                self.added(interned[pid], d, seg, wnd, tk, ages, step)

    def __del__(self):
        j, self.j = getattr(self, "j", None), None
        if j:
            self.lib.jd_free(j)

    # ---------------------------------------------------------------- the run
    def run(self, path: str, probed: tuple[int, int, int, int]) -> CaptureStats:
        """Judge the whole file; the counts of what it held."""
        be, nano, link, size = probed
        self.link = link
        lib, j = self.lib, self.j
        lib.jd_config(j, link, be, nano, self.jobs, self.share, -1 if self.start is None else 1, judge.MAX_LIVE,
                      self.limit, int(self.sh.floors_move), self.expire)
        self.sh.listeners.append(self)
        try:
            rc = lib.jd_run(j, path.encode(), size)
            self._check(rc, path, size)
            self._check(lib.jd_close(j), path, size)
        finally:
            self.sh.listeners.remove(self)
        return CaptureStats(frames=lib.jd_frames(j), tcp=lib.jd_tcp(j), non_tcp=lib.jd_non_tcp(j),
                            fragments=lib.jd_fragments(j), malformed=lib.jd_malformed(j), link_type=link)

    def _check(self, rc: int, path: str, size: int) -> None:
        if self.exc is not None:
            exc, self.exc = self.exc, None
            raise exc
        lib, j = self.lib, self.j
        if rc == E_HEADER:
            raise TraceError(truncated_header(path, lib.jd_err_off(j), size))
        if rc == E_RECORD:
            raise TraceError(truncated_record(path, lib.jd_err_off(j), lib.jd_err_declared(j), lib.jd_err_held(j)))
        if rc:
            raise TraceError(f"{path}: the native judge failed: "
                             + {E_CALLBACK: "a callback failed", E_MEMORY: "out of memory",
                                E_IO: "a read error"}.get(rc, f"error {rc}"))

    @property
    def segments(self) -> int:
        return self.lib.jd_judged_segments(self.j)

    @property
    def connections(self) -> int:
        return self.lib.jd_connections(self.j)

    def work(self) -> dict[str, int]:
        """Where the work went: monitor steps taken in C and in Python, connections released
        (their verdicts come from Python), memo entries mirrored in C, sets registered, and
        the seconds spent in Python on steps, verdicts and IPv6 decoding."""
        lib, j = self.lib, self.j
        return {"fast_steps": lib.jd_fast_steps(j), "python_steps": lib.jd_python_steps(j),
                "released": lib.jd_finished(j), "memo": lib.jd_tn(j), "sets": len(self.sets) - len(self.free),
                "python_step_s": round(self.spent[CB_FEED], 3), "verdict_s": round(self.spent[CB_FINISH], 3),
                "ipv6_decode_s": round(self.spent[CB_DECODE], 3)}

    # ---------------------------------------------------------------- C asks
    def _callback(self, kind: int, a: int, b: int) -> int:
        t0 = time.perf_counter()
        try:
            if kind == CB_FEED:
                self._feed(a, b)
            elif kind == CB_FINISH:
                self._finish(a)
            else:
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
        mon.feed(_event(self.cur.s, "out" if direction == 0 else "in"))
        self._store(slot, mon)

    def _finish(self, idx: int) -> None:
        c = ConnS.from_address(self.lib.jd_conn(self.j, idx))
        ends = [(_addr(bytes(c.addr[e])[:4 if c.fam == 4 else 16]), c.port[e]) for e in (0, 1)]
        name = f"{_ep(*ends[0])} <-> {_ep(*ends[1])}" + (f" #{c.incarnation}" if c.incarnation > 1 else "")
        for e in (0, 1):
            slot = c.mon[e]
            if slot < 0:
                continue
            mon = self.held.pop(slot, None)
            if mon is None:
                st = MonS.from_address(self.lib.jd_mon(self.j, slot))
                if self._settled(st.set):
                    # what verdict() gives a monitor in this set: its rows cite nothing
                    v = Verdict(CONFORMANT, self.label, st.n, max_candidates=st.maxc, role=f"IUT {_ep(*ends[e])}")
                    self.on_result(judge.Result(name, _ep(*ends[e]), v, c.segments, c.first))
                    continue
                mon = self._load(slot)
            self.on_result(judge.Result(name, _ep(*ends[e]), mon.verdict(), c.segments, c.first))

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
        if p is None:
            return D_MALFORMED if stats.malformed else D_FRAGMENT if stats.fragments else D_NOT_TCP
        ctypes.memset(ctypes.addressof(cur), 0, ctypes.sizeof(cur))
        _put_event(cur.s, SegmentEvent("in", p.seg, p.t, p.win, p.wscale, p.mss, p.ts))
        src, dst = ipaddress.ip_address(p.src).packed, ipaddress.ip_address(p.dst).packed
        cur.fam = 4 if len(src) == 4 else 6
        ctypes.memmove(cur.src, src, len(src))
        ctypes.memmove(cur.dst, dst, len(dst))
        cur.sport, cur.dport = p.sport, p.dport
        return D_TCP

    # ---------------------------------------------------------------- monitor state, C <-> Python
    def _load(self, slot: int) -> Monitor:
        """The scratch monitor, in the state C holds for `slot` (every field `reset` sets)."""
        st = MonS.from_address(self.lib.jd_mon(self.j, slot))
        m = self.scratch[st.start_closed]
        c = ConnS.from_address(self.lib.jd_conn(self.j, st.conn))
        m.role = f"IUT {_ep(_addr(bytes(c.addr[st.end])[:4 if c.fam == 4 else 16]), c.port[st.end])}"
        m._cands = None
        m._lazy = (self.sets[st.set], st.dl, st.dp, tuple(st.marks[:st.nm]))
        m.n, m.done, m.stats = st.n, None, _Stats(st.maxc)
        m.wscale = None if st.wscale < 0 else st.wscale
        m.peer_wscale, m._scaled, m._started = bool(st.peer_wscale), bool(st.scaled), bool(st.started)
        m._crossed = ((None, (self.sets[st.cset], st.cdl, st.cdp, tuple(st.cmarks[:st.cnm]))), _event(st.cev, "in")) \
            if st.crossed else None
        m._ka_floor, m._f2_floor, m._f2_known, m._t0 = _none(st.ka_floor), _none(st.f2_floor), bool(st.f2_known), \
            _none(st.t0)
        m._tk = (True,)
        return m

    def _store(self, slot: int, m: Monitor) -> bool:
        """Hand the monitor's state to C; a state C cannot hold stays here with its monitor."""
        st = MonS.from_address(self.lib.jd_mon(self.j, slot))
        lazy, cr = m._lazy, m._crossed
        before = cr[0][1] if cr is not None else None
        if m.done is not None or lazy is None or len(lazy[3]) > MAXM or (
                cr is not None and (before is None or len(before[3]) > MAXM)):
            st.mode = M_DONE if m.done is not None else M_PY
            self.held[slot] = m
            if m is self.scratch[m.start == "closed"]:
                fresh = self.make(m.start)
                fresh._silent = m._silent             # a cache of the table's steps: share it
                self.scratch[m.start == "closed"] = fresh
            return False
        st.mode, st.set, st.dl, st.dp, st.nm = M_FAST, self._idx(lazy[0]), lazy[1], lazy[2], len(lazy[3])
        for i, x in enumerate(lazy[3]):
            st.marks[i] = x
        st.n, st.started, st.scaled = m.n, m._started, m._scaled
        st.wscale = -1 if m.wscale is None else m.wscale
        st.peer_wscale, st.start_closed, st.f2_known, st.maxc = m.peer_wscale, m.start == "closed", m._f2_known, \
            m.stats.max_candidates
        st.ka_floor, st.f2_floor, st.t0 = _nan(m._ka_floor), _nan(m._f2_floor), _nan(m._t0)
        st.crossed = cr is not None
        if cr is not None:
            st.cset, st.cdl, st.cdp, st.cnm = self._idx(before[0]), before[1], before[2], len(before[3])
            for i, x in enumerate(before[3]):
                st.cmarks[i] = x
            _put_event(st.cev, cr[1])
        return True

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
            local, peer, fresh = _plain_of(nset)
            reset, f2 = _props_of(self.sh, nset)
            flags = P_LOCAL * local | P_PEER * peer | P_FRESH * fresh | P_RESET * reset | P_F2 * f2
            if self.lib.jd_set_props(self.j, i, flags, len(nset)):
                raise MemoryError("native judge: set table")
        return i

    # ---------------------------------------------------------------- the monitors' memo, mirrored
    def added(self, pset, direction: str, seg: Segment, wnd, tk: tuple, ages: tuple, step: tuple) -> None:
        """A whole-set step the monitor memoized (`_Shared.listeners`): C keeps a copy."""
        nset, ddl, ddp, mmap = step
        if tk[0] or len(ages) > MAXM or len(mmap) > MAXM:
            return                             # untimed events, or more marks than C holds: Python only
        if self.lib.jd_add_trans(self.j, self._idx(pset), direction == "in", seg.flags, seg.seq, seg.ack, seg.data,
                                 seg.wnd, -1 if wnd is None else wnd, _i8(-1 if k is None else k for k in tk[1:]),
                                 len(ages), _i8(ages), self._idx(nset), ddl, ddp, len(mmap), _i8(mmap)):
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
