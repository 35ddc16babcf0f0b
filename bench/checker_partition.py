"""The partitioned search (checker/partition.py) on a Dask LocalCluster beside the
one-process search, on the shared configuration at a capacity that fits one machine.

    python bench/checker_partition.py [--capacity 2] [--parts 2] [--local]

Needs `distributed` (pip install distributed) unless --local (shards in this process).
Prints both runs' states, transitions, depth, failing properties and seconds, whether they
agree, and the states per shard. Times are wall times (say "loaded machine" beside them).
"""
from __future__ import annotations

import argparse

from synack.checker.explore import SAFETY, explore
from synack.checker.partition import explore_partitioned
from synack.checker.system import System, make_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--capacity", type=int, default=2)
    ap.add_argument("--parts", type=int, default=2)
    ap.add_argument("--local", action="store_true", help="shards in this process, no Dask")
    args = ap.parse_args()
    spec = dict(profile="rfc9293", scenario="reconnect", capacity=args.capacity, retries=1, incarnations=2, dup=1,
                properties=SAFETY)
    ex = explore(System(make_config(**spec)), engine="native", cores=1)
    one = (len(ex.states), ex.transitions, ex.depth, sorted(ex.found))
    print(f"one process, 1 thread: {one[0]:,} states, {one[1]:,} transitions, depth {one[2]}, "
          f"fails {one[3]}, {ex.seconds:.1f} s")
    client = cluster = None
    if not args.local:
        from distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=args.parts, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        r = explore_partitioned(spec, args.parts, client)
    finally:
        if client is not None:
            client.close()
            cluster.close()
    where = "in this process" if args.local else f"on a LocalCluster of {args.parts} workers"
    print(f"{args.parts} shards {where}: {r.states:,} states, {r.transitions:,} transitions, depth {r.depth}, "
          f"fails {r.found}, {r.seconds:.1f} s; per shard {r.per_part}")
    print("same as one process:", (r.states, r.transitions, r.depth, r.found) == one)


if __name__ == "__main__":
    main()
