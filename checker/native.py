"""The native explorer: `_bfs.c` does the breadth-first search, the network's moves and the
graph analyses in C; every endpoint move still comes from `System` (the spec table's
`step`), asked once per distinct (move, side, state without its channels) and memoized in C.

Why: the Python explorer spends about 3 microseconds per transition building and hashing
tuples, a tenth of SPIN's rate on the same kind of model; the state space is a product of
a few hundred endpoint and segment values, so nearly every move repeats one already asked.
The C part knows nothing of TCP: what endpoints do, which move is fair and which violates
a property all come from the Python side. It must explore exactly what the Python explorer
explores, in the same order (tests/checker/test_native.py compares states, transitions,
verdicts and counterexamples).

On several cores (`cores`), worker threads in C expand each chunk of the frontier from the
memoized answers and look the children up, read-only; the main thread asks Python for what
is new and stores children in order, so any number of threads gives the same result
(docs/checker-scale.md).

The library is compiled on first use with the system C compiler (`cc`, or `$CC`) into
`$XDG_CACHE_HOME/synack` (default ~/.cache/synack), keyed by the source's hash. Without
a compiler, `explore` falls back to the Python explorer.
"""
from __future__ import annotations

import ctypes
import time
from array import array
from collections.abc import Sequence
from pathlib import Path

from .cbuild import build, deferred_interrupt
from synack.spec import SpecError
from synack.spec.machine import Unspecified

from .explore import (DEADLOCK, FAIR, LIVENESS, PROPERTIES, Exploration, Found, _cycle_found, _goal_close,
                      _goal_progress, _limit_hit, _liveness_found, _rss_mb)

SOURCE = Path(__file__).with_name("_bfs.c")
NCORE = 9
Q_DELIVER, Q_LOCAL, Q_STATE = 0, 1, 2
FIELD_MAX = 0xFFFF
#: The C explorer's ways to fail (`error` in _bfs.c).
ERRORS = {1: "out of memory", 2: "the successor callback failed", 3: "a state field exceeds 16 bits"}

_lib: "ctypes.CDLL | None | bool" = False      # False: not tried yet


class NativeUnavailable(SpecError):
    """The native explorer cannot run here (no C compiler, or a model too large for it)."""


def library() -> "ctypes.CDLL | None":
    """The compiled library, built on first use; None when no compiler is available."""
    global _lib
    if _lib is not False:
        return _lib
    P, U64, I64, INT = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64, ctypes.c_int
    sigs = {
        "bfs_new": (P, [INT, INT, INT, INT, INT, INT, ASK]), "bfs_free": (None, [P]),
        "bfs_init": (INT, [P, ctypes.POINTER(ctypes.c_uint16)]), "bfs_run": (INT, [P, U64]),
        "bfs_threads": (INT, [P, INT, INT]), "bfs_cpu_ns": (U64, [P, INT]),
        "bfs_expand": (I64, [P, ctypes.POINTER(ctypes.c_uint16), U64, INT, ctypes.POINTER(ctypes.c_uint16), U64,
                             ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_int32)]),
        "bfs_owner": (INT, [P, ctypes.POINTER(ctypes.c_uint16), INT]),
        "bfs_translate": (None, [P, ctypes.POINTER(ctypes.c_uint16), U64, ctypes.POINTER(ctypes.c_uint16),
                                 ctypes.POINTER(ctypes.c_uint16), INT, ctypes.POINTER(ctypes.c_int32)]),
        "bfs_liveness": (I64, [P, INT, INT]), "bfs_kahn": (I64, [P]),
        "bfs_found_state": (I64, [P, INT]), "bfs_found_move": (INT, [P, INT]),
        "bfs_error": (INT, [P]), "bfs_unspec_state": (I64, [P]), "bfs_deadlock_state": (I64, [P]),
        "bfs_found_mask": (ctypes.c_uint32, [P]), "bfs_decode": (ctypes.POINTER(ctypes.c_uint16), [P, U64]),
    }
    for name in ("nst", "i", "transitions", "depth", "nsucc", "nb", "ncore"):
        sigs[f"bfs_{name}"] = (U64, [P])
    for name in ("st", "parent", "start", "succ", "cls", "bsrc", "bdst", "ok", "indeg", "flags"):
        sigs[f"bfs_{name}"] = (P, [P])
    _lib = build(SOURCE, "bfs", sigs)
    return _lib


ASK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_uint16), ctypes.c_int,
                       ctypes.c_int, ctypes.POINTER(ctypes.c_int32), ctypes.c_int)


class _Asker:
    """Answers the C explorer's questions with System's own code (the one semantics)."""

    def __init__(self, system, masks: dict[str, int], bounded: frozenset[str]):
        self.sys, self.masks, self.bounded = system, masks, bounded
        self.exc: "BaseException | None" = None

    def __call__(self, kind, side, core, arg, quiet, buf, cap):
        if deferred_interrupt.pending():      # Ctrl-C: stop C now; Engine.check raises it
            self.exc = KeyboardInterrupt()
            return -2
        try:
            out = self.answer(kind, side, core[:NCORE], arg, quiet)
        except BaseException as exc:          # never unwind through C
            self.exc = exc
            return -2
        if len(out) > cap:
            self.exc = NativeUnavailable(f"one state has more than {cap} integers of successors")
            return -2
        if max(out, default=0) > FIELD_MAX:
            return -3
        data = array("i", out)               # kept alive until the copy is done
        ctypes.memmove(buf, data.buffer_info()[0], 4 * len(out))
        return len(out)

    def answer(self, kind: int, side: int, c: list, arg: int, quiet: int) -> list[int]:
        sys = self.sys
        chans = () if quiet else (0,)
        s = (c[0], c[1], chans, chans, c[2], c[3], c[4], c[5], c[6], c[7], c[8])
        if kind == Q_STATE:
            # the same goal predicates the Python explorer evaluates (the fake channels are empty
            # exactly when the state is quiet)
            return [sys.terminal(s) | _goal_progress(sys, s) << 1 | _goal_close(sys, s) << 2]
        out, sink, masks, count, stop = [0, 0], [], self.masks, 0, 0

        def put(child, edge, viol, sub):
            sends = sink.pop()
            mask = 0
            for v in viol:
                mask |= masks.get(v.prop, 0)
            out.extend((child[side], child[4 + side], child[7], child[8 + side], child[10], edge, mask, sub,
                        len(sends)))
            out.extend(sends)

        try:
            if kind == Q_DELIVER:
                segv, tag = sys.tsegs[arg]
                seg = sys.segs[segv]
                for ri, res in enumerate(sys.results(s[side], "SEGMENT", segv, s[7])):
                    _, child, edge, viol = sys._apply(s, side, ("deliver", side, 0, ri, res), res, (), tag, seg,
                                                      sink=sink)
                    put(child, edge, viol, 0)
                    count += 1
            else:
                for label, child, edge, viol in sys.local_moves(s, side, bool(quiet), sink):
                    put(child, edge, viol, int(label[0] == "timer" and label[2] in self.bounded
                                               and bool(label[4].sends)))
                    count += 1
        except Unspecified:
            stop = 1                          # the Python explorer stops this state here too
        out[0], out[1] = count, stop
        return out


class NativeStates(Sequence):
    """The explored states, decoded on demand into System's tuples."""

    def __init__(self, engine: "Engine"):
        self.engine = engine
        self.n = engine.count("nst")
        self.w = NCORE + 2 * engine.capacity

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        eng = self.engine
        w = eng.lib.bfs_decode(eng.e, i)[:self.w]
        c = eng.capacity
        ab = tuple(x - 1 for x in w[NCORE:NCORE + c] if x)
        ba = tuple(x - 1 for x in w[NCORE + c:] if x)
        return (w[0], w[1], ab, ba, w[2], w[3], w[4], w[5], w[6], w[7], w[8])


def encode(s: tuple, capacity: int) -> list[int]:
    core = [s[0], s[1], s[4], s[5], s[6], s[7], s[8], s[9], s[10]]
    chans = []
    for ch in (s[2], s[3]):
        chans += [x + 1 for x in ch] + [0] * (capacity - len(ch))
    return core + chans


class Engine:
    """One C exploration (owns the C memory; views into it keep it alive)."""

    def __init__(self, system, props: tuple[str, ...], all_props: tuple[str, ...], need_graph: bool,
                 bounded: tuple[str, ...], cores: int = 1):
        lib = library()
        if lib is None:
            raise NativeUnavailable("no C compiler (cc) to build the native explorer")
        self.lib, cfg = lib, system.cfg
        self.capacity = cfg.capacity
        masks = {p: 1 << k for k, p in enumerate(all_props) if p in props}
        self.asker = _Asker(system, masks, frozenset(bounded))
        self.cb = ASK(self.asker)             # kept alive as long as the engine
        self.e = lib.bfs_new(cfg.capacity, int(cfg.fifo), int(cfg.loss), int(need_graph), int(bool(bounded)),
                             int("no-deadlock" in props), self.cb)
        if not self.e:
            raise MemoryError("the native explorer could not allocate its tables")
        self.cores = lib.bfs_threads(self.e, cores, PAR_MIN)
        init = encode(system.initial(), cfg.capacity)
        if lib.bfs_init(self.e, (ctypes.c_uint16 * len(init))(*init)):
            raise MemoryError("out of memory")

    def __del__(self):
        if getattr(self, "e", None):
            self.lib.bfs_free(self.e)
            self.e = None

    def count(self, name: str) -> int:
        return getattr(self.lib, f"bfs_{name}")(self.e)

    def ptr(self, name: str) -> int:
        return getattr(self.lib, f"bfs_{name}")(self.e)

    def view(self, name: str, ctype, n: int):
        return (ctype * n).from_address(self.ptr(name)) if n else ()

    def check(self, rc: int) -> None:
        if rc >= 0:
            return
        err = self.lib.bfs_error(self.e)
        if self.asker.exc is not None:
            raise self.asker.exc
        if err == 3:
            raise NativeUnavailable(ERRORS[3])
        if err == 1:
            raise MemoryError("the native explorer ran out of memory")
        raise SpecError(f"native explorer: {ERRORS.get(err, f'error {err}')}")

    def cpu_seconds(self) -> dict[str, float]:
        """Where the search's CPU time went (thread CPU time, so load-independent): `workers`
        (all threads' read-only expansion, summed), `workers_busiest` (per chunk the slowest
        thread's, summed: that phase's time on as many free cores), `ordered` (the main thread
        storing children in order and asking Python), `single` (states expanded outside chunks)."""
        names = ("workers", "workers_busiest", "ordered", "single")
        return {n: self.lib.bfs_cpu_ns(self.e, k) / 1e9 for k, n in enumerate(names)}

    def run(self, until: int) -> None:
        self.check(self.lib.bfs_run(self.e, until))


#: Goal bits the STATE question answers (see _Asker.answer), per liveness property.
GOAL_BIT = {"progress": 2, "graceful-close": 4}
CHUNK = 4096                 # states expanded between progress reports and limit checks
#: The fewest frontier states worth handing to threads at once (fewer: the main thread alone).
PAR_MIN = 256


def explore_native(system, limits, on_progress, props: tuple[str, ...], need_graph: bool, bounded: tuple[str, ...],
                   cores: int = 1):
    """The native counterpart of explore._explore_python: same states, same order, same verdicts,
    on `cores` threads (the same result on any number)."""
    t0 = time.perf_counter()
    eng = Engine(system, props, PROPERTIES, need_graph, bounded, cores)
    complete, stopped = True, ""
    with deferred_interrupt():
        while True:
            i, n = eng.count("i"), eng.count("nst")
            if i >= n:
                break
            if deferred_interrupt.pending():
                break                         # leaving the block raises KeyboardInterrupt
            near = limits.max_states and limits.max_states - n < 16 * CHUNK
            if (i and i % CHUNK == 0) or near:
                el = time.perf_counter() - t0
                if on_progress is not None and i % CHUNK == 0:
                    on_progress(n, n - i, eng.count("transitions"), el, eng.count("depth"))
                stopped = _limit_hit(limits, n, el)
                if stopped:
                    complete = False
                    break
            # near --max-states, one state at a time: the run stops within one state's successors of it
            eng.run(i + 1 if near else (i // CHUNK + 1) * CHUNK)
    n = eng.count("nst")
    states = NativeStates(eng)
    parent = eng.view("parent", ctypes.c_int32, n)
    ex = Exploration(system, states, parent, {}, eng.count("transitions"), eng.count("depth"), 0.0, 0.0,
                     complete, stopped, props, "native", eng, eng.cores)
    # violations, in the order the Python explorer finds them: by state, then by move
    hits = []
    mask = eng.count("found_mask")
    for b, prop in enumerate(PROPERTIES):
        if mask >> b & 1 and prop in props:
            hits.append((eng.lib.bfs_found_state(eng.e, b), eng.lib.bfs_found_move(eng.e, b), prop))
    u = eng.count("unspec_state")
    if u >= 0:
        hits.append((u, 1 << 30, "no-unspecified-reception"))
    d = eng.count("deadlock_state")
    if d >= 0:
        hits.append((d, 1 << 31, "no-deadlock"))
    for i, move, prop in sorted(hits):
        ex.found[prop] = _found(system, states, i, move, prop)
        ex.found[prop].path = ex.path_to(i)
    if complete and need_graph:
        ns = eng.count("nsucc")
        start, succ, cls = (eng.view("start", ctypes.c_uint32, n + 1), eng.view("succ", ctypes.c_uint32, ns),
                            eng.view("cls", ctypes.c_uint8, ns))
        for p in props:
            if p in LIVENESS:
                bad = eng.lib.bfs_liveness(eng.e, GOAL_BIT[p], FAIR)    # -1: none, -2: error
                if bad < -1:
                    eng.check(-1)
                if bad >= 0:
                    _liveness_found(ex, p, bad, start, succ, cls, eng.view("ok", ctypes.c_uint8, n))
    if complete and bounded:
        left = eng.lib.bfs_kahn(eng.e)                                  # -2: error
        if left < 0:
            eng.check(-1)
        if left:
            nb = eng.count("nb")
            _cycle_found(ex, list(eng.view("bsrc", ctypes.c_uint32, nb)), list(eng.view("bdst", ctypes.c_uint32, nb)),
                         eng.view("indeg", ctypes.c_uint32, n))
    ex.seconds = time.perf_counter() - t0
    ex.peak_mb = _rss_mb()
    return ex


def _found(system, states, i: int, move: int, prop: str) -> Found:
    """The Found the Python explorer records for this hit: the move's label and message are
    recovered by running System.successors on the state again."""
    moves, exc = [], None
    try:
        for m in system.successors(states[i]):
            moves.append(m)
    except Unspecified as e:
        exc = e
    if prop == "no-unspecified-reception":
        return Found(prop, str(exc), [i])
    if prop == "no-deadlock":
        return Found(prop, DEADLOCK, [i])
    label, _, _, viol = moves[move]
    msg = next(v.message for v in viol if v.prop == prop)
    return Found(prop, msg, [i], label)
