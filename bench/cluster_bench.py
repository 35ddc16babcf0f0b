"""Judging a set of real kernel captures with local processes and on a Dask LocalCluster: wall
time, and what the cluster adds. Not a test: run it by hand (root, for the network namespace
bench/kernel_capture.py records in):

    python bench/cluster_bench.py [--captures 8] [--connections 250] [--jobs 2] [--dir DIR]

It makes the captures once (kept in --dir), then judges them all, in one synack command each
way, and prints each command's wall time, the judging time its summaries report, and the
difference: one process (--jobs 1), --jobs J local processes, --executor dask (a LocalCluster
of J workers started by the command) and --executor dask=ADDRESS (a LocalCluster of J workers
started beforehand, so only the client's connection and the shipping of work remain). The
outputs are compared (less times): the same lines each way. The load average is printed with
the figures: on a shared machine they move with it."""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from kernel_capture import kernel_capture  # noqa: E402


def _cpu(procs) -> float:
    """CPU seconds (user + system) so far of this process, its waited-for children, and `procs`
    (a running cluster's worker processes, which are not waited for)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _run(args: list[str], procs=()) -> tuple[float, float, int, list[dict]]:
    t0, c0 = time.perf_counter(), _cpu(procs)
    p = subprocess.run([sys.executable, "-m", "synack.cli", "oracle", *args, "--json"], capture_output=True, text=True,
                       timeout=3600)
    wall, cpu = time.perf_counter() - t0, _cpu(procs) - c0
    if p.returncode not in (0, 1, 3):
        raise SystemExit(f"synack oracle {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return wall, cpu, p.returncode, [json.loads(ln) for ln in p.stdout.splitlines()]


def _steady(lines: list[dict]) -> list[str]:
    out = []
    for d in lines:
        d = json.loads(json.dumps(d))
        for k in ("summary", "total"):
            for t in ("seconds", "segments_per_second", "executor", "native", "jobs"):
                d.get(k, {}).pop(t, None)
        out.append(json.dumps(d, sort_keys=True))
    return sorted(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--captures", type=int, default=8)
    ap.add_argument("--connections", type=int, default=250, help="connections per capture")
    ap.add_argument("--jobs", type=int, default=2, help="local processes, and the LocalCluster's workers")
    ap.add_argument("--dir", default="/tmp/synack-cluster-bench")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    for i in range(a.captures):
        path = os.path.join(a.dir, f"kernel-{i:02d}.pcap")
        if not os.path.exists(path):
            frames = kernel_capture(path + ".part", a.connections, seed=100 + i)
            os.rename(path + ".part", path)
            print(f"made {path}: {frames} frames", flush=True)
    import distributed
    import psutil

    with distributed.LocalCluster(n_workers=a.jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0", silence_logs=50) as cluster:
        runs = [("one process", ["--jobs", "1"]), (f"{a.jobs} local processes", ["--jobs", str(a.jobs)]),
                (f"dask, a LocalCluster of {a.jobs} started by the command", ["--jobs", str(a.jobs), "--executor", "dask"]),
                (f"dask, a running LocalCluster of {a.jobs} (address)",
                 ["--jobs", str(a.jobs), "--executor", f"dask={cluster.scheduler_address}"])]
        workers = psutil.Process().children(recursive=True)      # the cluster's nannies and workers
        results = {}
        for name, extra in runs:
            load = os.getloadavg()[0]
            wall, cpu, code, lines = _run([a.dir, *extra], workers if "address" in name else ())
            total = lines[-1]["total"]
            results[name] = (wall, cpu, code, lines)
            print(f"{name}: {wall:.2f} s wall, {cpu:.2f} CPU s, for {total['captures']} captures, "
                  f"{total['segments']:,} segments ({total['segments'] / wall:,.0f} segments/s), exit {code}; "
                  f"load average {load:.2f} on {os.cpu_count()} CPUs", flush=True)
    base, base_cpu = results[f"{a.jobs} local processes"][:2]
    for name, (wall, cpu, _, _) in results.items():
        print(f"{name}: {wall / base:.2f} x the local processes' wall time ({wall - base:+.2f} s), "
              f"{cpu / base_cpu:.2f} x their CPU time ({cpu - base_cpu:+.2f} s)")
    same = {name: _steady(lines) == _steady(results["one process"][3]) for name, (_, _, _, lines) in results.items()}
    print("same lines as one process: " + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in same.items()))


if __name__ == "__main__":
    main()
