"""The search split by state hash over shards (docs/checker-scale.md), on the same C engine.

Why: past one machine's memory (the shared configuration at C=4), the visited set must be
spread over several. Each shard owns the states whose portable form (the core's fields and
both channels, the same in every process) hashes to it; it has its own `System` and C
engine, whose memo of the table's answers fills independently. The search is
level-synchronous: every shard expands its frontier with the engine's child generator and
sends each child to its owner, which keeps the ones it has not stored. Shards run as Dask
actors (`distributed`, a `LocalCluster` or a scheduler's address) or in this process.

This prototype checks what a partition must preserve: the states, the transitions, the
depth and which safety properties fail, against the one-process search. It does not
rebuild counterexample paths (the owners would keep the smallest (parent rank, move
ordinal) key per new state, as the doc says) nor the liveness analyses; the children pass
through the driver rather than worker to worker. Safety properties only.
"""
from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass

from synack.spec import SpecError

from .explore import PROPERTIES, SAFETY
from .native import NCORE, Engine, encode

#: meta words per child (source, ordinal, violations, owner) and per state (moves, stop, flags)
_CHILD, _STATE = 4, 3


def _config(spec: dict):
    from .system import make_config
    return make_config(**spec)


def _props(cfg) -> tuple[str, ...]:
    return tuple(p for p in (cfg.properties or SAFETY) if p in SAFETY)


class Shard:
    """One partition: its visited set (global ids), its frontier (its own ids), its own System
    and engine. A Dask actor, or an object in this process."""

    def __init__(self, part: int, parts: int, spec: dict):
        from .system import System
        cfg = _config(spec)
        props = _props(cfg)
        self.sys = system = System(cfg)
        system.select(props)
        self.part, self.parts, self.props = part, parts, props
        self.eng = Engine(system, props, PROPERTIES, False, (), 1)
        self.words = NCORE + 2 * cfg.capacity
        self.size = 2 * self.words
        self.seen: set[bytes] = set()
        self.frontier: list[bytes] = []
        self.l2g = {"ep": [], "ts": []}          # this System's ids -> global ids
        self.g2l = {"ep": [], "ts": []}
        self.told = {"ep": 0, "ts": 0}           # own symbols already reported
        self.children = None

    def _symbols(self, kind: str) -> list:
        s = self.sys
        return s.eps if kind == "ep" else [(s.segs[v], tag) for v, tag in s.tsegs]

    def new_symbols(self) -> dict:
        """Endpoint and in-flight segment values this System interned since it last said so."""
        out = {}
        for kind in ("ep", "ts"):
            vals = self._symbols(kind)
            out[kind] = vals[self.told[kind]:]
            self.told[kind] = len(vals)
        return out

    def learn(self, delta: dict) -> None:
        """Global symbols appended since the last call, in global id order: intern each here."""
        s = self.sys
        for kind in ("ep", "ts"):
            for val in delta[kind]:
                lid = s.intern_ep(val) if kind == "ep" else s.intern_tseg(s.intern_seg(val[0]), val[1])
                gid = len(self.g2l[kind])
                self.g2l[kind].append(lid)
                l2g = self.l2g[kind]
                l2g.extend([0] * (lid + 1 - len(l2g)))
                l2g[lid] = gid

    def _rename(self, buf, n: int, kind_map: str, owners=None) -> None:
        maps = [(ctypes.c_uint16 * max(1, len(m)))(*m) for m in (self.eng_map(kind_map, "ep"),
                                                                 self.eng_map(kind_map, "ts"))]
        self.eng.lib.bfs_translate(self.eng.e, buf, n, maps[0], maps[1], self.parts, owners)

    def eng_map(self, direction: str, kind: str) -> list[int]:
        return self.l2g[kind] if direction == "out" else self.g2l[kind]

    def seed(self, initial: bytes) -> int:
        """Store the initial state (global ids) if this shard owns it; the frontier's size."""
        buf = (ctypes.c_uint16 * self.words).from_buffer_copy(initial)
        if self.eng.lib.bfs_owner(self.eng.e, buf, self.parts) == self.part:
            self.receive([initial])
        return len(self.frontier)

    def expand(self) -> tuple[dict, dict]:
        """Expand the frontier (children kept here until `route`); the new symbols and this
        level's counts and findings."""
        n, lib, e = len(self.frontier), self.eng.lib, self.eng.e
        stats = {"transitions": 0, "mask": 0, "deadlock": False, "unspecified": False}
        self.children = None
        if n:
            src = (ctypes.c_uint16 * (n * self.words)).from_buffer_copy(b"".join(self.frontier))
            cap = 16 * n + 1024
            while True:
                out = (ctypes.c_uint16 * (cap * self.words))()
                meta, smeta = (ctypes.c_int32 * (_CHILD * cap))(), (ctypes.c_int32 * (_STATE * n))()
                got = lib.bfs_expand(e, src, n, 1, out, cap, meta, smeta)
                if got != -5:
                    break
                cap *= 2
            self.eng.check(-1 if got < 0 else 0)
            self.children = (out, got)
            for v in meta[2:_CHILD * got:_CHILD]:
                stats["mask"] |= v
            moves, stops, flags = smeta[0::_STATE], smeta[1::_STATE], smeta[2::_STATE]
            stats["transitions"] = sum(moves)
            stats["unspecified"] = any(stops)
            stats["deadlock"] = "no-deadlock" in self.props and any(
                m == 0 and not f & 1 for m, f in zip(moves, flags))
        self.frontier = []
        return self.new_symbols(), stats

    def route(self, delta: dict) -> list[bytes]:
        """Learn the global symbols, rename the children to global ids and bucket them by owner
        (each distinct child once)."""
        self.learn(delta)
        buckets: list[set[bytes]] = [set() for _ in range(self.parts)]
        if self.children:
            out, got = self.children
            owners = (ctypes.c_int32 * max(1, got))()
            self._rename(out, got, "out", owners)
            raw, size = bytes(out)[:got * self.size], self.size
            for c in range(got):
                buckets[owners[c]].add(raw[c * size:(c + 1) * size])
        self.children = None
        return [b"".join(b) for b in buckets]

    def receive(self, blobs: list[bytes]) -> int:
        """Keep the states (global ids) not stored yet; the next frontier (own ids). Its size."""
        size, seen, fresh = self.size, self.seen, []
        for blob in blobs:
            for k in range(0, len(blob), size):
                s = blob[k:k + size]
                if s not in seen:
                    seen.add(s)
                    fresh.append(s)
        if fresh:
            buf = (ctypes.c_uint16 * (len(fresh) * self.words)).from_buffer_copy(b"".join(fresh))
            self._rename(buf, len(fresh), "in")
            raw = bytes(buf)
            self.frontier = [raw[k * size:(k + 1) * size] for k in range(len(fresh))]
        return len(self.frontier)

    def stored(self) -> int:
        return len(self.seen)


@dataclass
class Partitioned:
    states: int
    transitions: int
    depth: int
    found: list[str]
    seconds: float
    parts: int
    per_part: list[int]
    levels: list[int]


def explore_partitioned(spec: dict, parts: int, client=None) -> Partitioned:
    """Explore the configuration `spec` (make_config's keywords) on `parts` shards: Dask actors
    on `client`'s cluster, or objects in this process when `client` is None."""
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise SpecError(f"parts must be a positive integer, not {parts!r}")
    t0 = time.perf_counter()
    if client is None:
        shards = [Shard(p, parts, spec) for p in range(parts)]

        def call(objs, name, args=None):
            return [getattr(o, name)(*(args[k] if args else ())) for k, o in enumerate(objs)]
    else:
        workers = sorted(client.scheduler_info()["workers"])
        futs = [client.submit(Shard, p, parts, spec, actor=True, workers=[workers[p % len(workers)]], pure=False)
                for p in range(parts)]
        shards = [f.result() for f in futs]

        def call(objs, name, args=None):
            pending = [getattr(o, name)(*(args[k] if args else ())) for k, o in enumerate(objs)]
            return [f.result() for f in pending]
    # the global symbol table: endpoint and in-flight segment values, numbered as first reported
    table: dict[str, list] = {"ep": [], "ts": []}
    gid: dict[str, dict] = {"ep": {}, "ts": {}}
    sent = {"ep": 0, "ts": 0}

    def absorb(new: dict) -> None:
        for kind in ("ep", "ts"):
            for val in new[kind]:
                if val not in gid[kind]:
                    gid[kind][val] = len(table[kind])
                    table[kind].append(val)

    def delta() -> dict:
        d = {k: table[k][sent[k]:] for k in table}
        sent.update({k: len(table[k]) for k in table})
        return d

    from .system import System
    first = System(_config(spec))
    absorb({"ep": list(first.eps), "ts": []})
    words = NCORE + 2 * first.cfg.capacity
    initial = bytes((ctypes.c_uint16 * words)(*encode(first.initial(), first.cfg.capacity)))  # closed: id 0
    d0 = delta()
    call(shards, "learn", [(d0,)] * parts)
    sizes = call(shards, "seed", [(initial,)] * parts)
    transitions, mask, deadlock, unspec, levels = 0, 0, False, False, []
    while sum(sizes):
        levels.append(sum(sizes))
        res = call(shards, "expand")
        for new, st in res:
            absorb(new)
            transitions += st["transitions"]
            mask |= st["mask"]
            deadlock |= st["deadlock"]
            unspec |= st["unspecified"]
        d = delta()
        buckets = call(shards, "route", [(d,)] * parts)
        sizes = call(shards, "receive", [([buckets[p][q] for p in range(parts)],) for q in range(parts)])
    per = call(shards, "stored")
    props = _props(_config(spec))
    found = [p for b, p in enumerate(PROPERTIES) if mask >> b & 1 and p in props]
    if unspec:
        found.append("no-unspecified-reception")
    if deadlock:
        found.append("no-deadlock")
    return Partitioned(sum(per), transitions, len(levels) - 1, sorted(found), time.perf_counter() - t0, parts, per,
                       levels)
