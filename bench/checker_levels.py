"""States per BFS level, time in Python's `ask`, and where the threads' CPU went, for the
shared configuration (reconnect, 2 incarnations, 1 retry, 1 duplication, safety properties)
at a channel capacity: the growth figures behind docs/checker-scale.md's projections.

    python bench/checker_levels.py C [--cores N] [--max-memory MB]

Prints one JSON line per level (size, states stored through it, transitions, seconds, RSS),
then a summary line. With --max-memory the run stops after the level during which RSS
passed the bound (the levels printed are complete). Times are wall times: on a loaded
machine compare the thread CPU figures of the summary instead.
"""
from __future__ import annotations

import argparse
import json
import time

from synack.checker import native
from synack.checker.explore import PROPERTIES, SAFETY, _rss_mb, available_cores
from synack.checker.system import System, make_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capacity", type=int)
    ap.add_argument("--cores", type=int, default=None)
    ap.add_argument("--max-memory", type=int, default=0, metavar="MB")
    args = ap.parse_args()
    asked = [0.0, 0]
    plain = native._Asker.__call__

    def timed(self, *a):
        t = time.perf_counter()
        try:
            return plain(self, *a)
        finally:
            asked[0] += time.perf_counter() - t
            asked[1] += 1

    native._Asker.__call__ = timed
    cfg = make_config("rfc9293", properties=SAFETY, scenario="reconnect", capacity=args.capacity, retries=1,
                      incarnations=2, dup=1)
    system = System(cfg)
    system.select(SAFETY)
    eng = native.Engine(system, SAFETY, PROPERTIES, False, (), args.cores or available_cores())
    t0, level, prev, stopped = time.perf_counter(), 0, 0, False
    while eng.count("i") < eng.count("nst") and not stopped:
        end = eng.count("nst")
        while eng.count("i") < end:
            eng.run(min(end, eng.count("i") + native.CHUNK))
        stopped = bool(args.max_memory and _rss_mb() > args.max_memory)
        print(json.dumps(dict(level=level, size=end - prev, through=end, discovered=eng.count("nst"),
                              transitions=eng.count("transitions"), s=round(time.perf_counter() - t0, 1),
                              rss_mb=round(_rss_mb()))), flush=True)
        prev, level = end, level + 1
    print(json.dumps(dict(capacity=args.capacity, cores=eng.cores, complete=not stopped, states=eng.count("nst"),
                          transitions=eng.count("transitions"), seconds=round(time.perf_counter() - t0, 1),
                          ask_seconds=round(asked[0], 2), asks=asked[1], cores_interned=eng.count("ncore"),
                          thread_cpu=eng.cpu_seconds(), peak_mb=round(_rss_mb()))))


if __name__ == "__main__":
    main()
