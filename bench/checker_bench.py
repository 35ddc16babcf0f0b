"""Checker benchmark: states/s, transitions/s and bytes per state on fixed configurations,
and SPIN on the reference Promela model (../shared/bench/spin/tcp.pml) in the same run.

    python bench/checker_bench.py [--quick] [--cores N] [--multicore 2,3] [--out bench/out/checker.json]

Prints a table and writes the figures as JSON. SPIN runs when `spin` and `gcc` are on the
PATH (Debian package `spin`: `apt-get install spin`; not needed by the tests); otherwise its
row says so.

`--multicore` compares, per channel capacity, synack's native explorer on one thread and on
`--cores` threads (default: every core this process may use) with SPIN on one core and in
its own multi-core mode (`-DNCORE=N`), on the same machine in the same run. SPIN's
multi-core mode refuses `hidden` variables, so that run uses a copy of tcp.pml whose ten
scratch bytes are ordinary globals set to 0 at the end of every step (each step ends in
CHECK): the same transition system, which the script checks by comparing the two state
counts. Beside wall time it prints CPU seconds (user + system of the run's processes) and,
for synack, where the CPU went (thread CPU time, which a loaded machine does not inflate):
`par` the threads' read-only expansion, `ord` the main thread's in-order pass (asking
Python for new endpoint moves and storing new states), and `ideal` = ord + par/N, the
wall time on N otherwise idle cores. The closest synack configuration
to tcp.pml's (R=1, K=2, D=1, client/server, reordering and loss) is `reconnect` with
retries 1, incarnations 2, dup 1; the semantics still differ (tcp.pml has no data, no
delayed ACK or keep-alive, a window of 1, ISNs {0,1} without a clock, and users that may
close at any moment), so the ratio compares rates, not identical state spaces. SPIN's run
checks safety only (-DSAFETY: assertions and invalid end states); synack's first row checks
every property (the liveness ones need the whole graph), the last only the safety ones.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synack.checker.explore import available_cores

ROOT = Path(__file__).resolve().parent.parent
#: the shared Promela model, beside the checkout (../shared) or beside a worktree's parent (../../shared)
SPIN_MODEL = next((p for p in (ROOT.parent / "shared" / "bench" / "spin" / "tcp.pml",
                               ROOT.parent.parent / "shared" / "bench" / "spin" / "tcp.pml") if p.exists()),
                  ROOT.parent / "shared" / "bench" / "spin" / "tcp.pml")

CONFIGS = [
    dict(name="client-close C=1", scenario="client-close", capacity=1, retries=2),
    dict(name="client-close C=2", scenario="client-close", capacity=2, retries=2),
    dict(name="client-close C=3", scenario="client-close", capacity=3, retries=2),
    dict(name="reconnect K=2 C=2 R=1 (vs SPIN C=2)", scenario="reconnect", capacity=2, retries=1, incarnations=2),
    # SPIN's run checks assertions and invalid end states only (-DSAFETY): the same kind of checks
    dict(name="  same, safety properties only", scenario="reconnect", capacity=2, retries=1, incarnations=2,
         properties="safety"),
]


def run_synack(cfg: dict, engine: str = "auto", cores: "int | None" = None) -> dict:
    """One exploration in a fresh process, so that peak RSS is this run's alone."""
    code = (
        "import json,sys,time,resource\n"
        "cpu0 = time.process_time()\n"
        "from synack.checker.system import System, make_config\n"
        "from synack.checker.explore import explore, PROPERTIES, SAFETY\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"kw = {json.dumps({k: v for k, v in cfg.items() if k not in ('name', 'properties')})}\n"
        f"props = {'SAFETY' if cfg.get('properties') == 'safety' else 'PROPERTIES'}\n"
        "c = make_config('rfc9293', properties=props, **kw)\n"
        "cpu1 = time.process_time()\n"
        f"ex = explore(System(c), engine={engine!r}, cores={cores!r})\n"
        "cpu = time.process_time() - cpu1\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "phases = ex.native.cpu_seconds() if ex.native is not None else {}\n"
        "print(json.dumps(dict(states=len(ex.states), transitions=ex.transitions, depth=ex.depth,\n"
        "  seconds=ex.seconds, cpu_seconds=cpu, peak_mb=peak/1024,\n"
        "  bytes_per_state=(peak-base)*1024/max(1,len(ex.states)),\n"
        "  failed=sorted(ex.found), engine=ex.engine, cores=ex.cores, phases=phases)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    r["states_per_s"] = r["states"] / r["seconds"]
    r["transitions_per_s"] = r["transitions"] / r["seconds"]
    return r


#: tcp.pml's scratch variables, hidden from the state vector; SPIN's multi-core mode refuses them.
HIDDEN = "hidden byte sg, rp, fl, sq, ak, jj, ost, oun;\nhidden byte okk, wtw;"
SCRATCH = ("sg", "rp", "fl", "sq", "ak", "jj", "ost", "oun", "okk", "wtw")


def multicore_model(text: str) -> str:
    """tcp.pml for SPIN's multi-core mode: the scratch bytes become globals that every step
    sets back to 0 in CHECK (which ends every step that writes them), so the states are the
    same. Raises ValueError when the model no longer has the lines this rewrites."""
    check = "#define CHECK assert(AGREE)"
    if HIDDEN not in text or check not in text:
        raise ValueError("tcp.pml changed: its hidden scratch variables or CHECK are not where expected")
    text = text.replace(HIDDEN, HIDDEN.replace("hidden ", ""))
    return text.replace(check, check + "; " + "; ".join(f"{v} = 0" for v in SCRATCH))


def run_spin(capacity: int, ncore: int = 1) -> dict:
    if not (shutil.which("spin") and shutil.which("gcc") and SPIN_MODEL.exists()):
        return {"skipped": "spin, gcc or tcp.pml not available (apt-get install spin)"}
    with tempfile.TemporaryDirectory() as d:
        text = SPIN_MODEL.read_text()
        (Path(d) / "tcp.pml").write_text(multicore_model(text) if ncore > 1 else text)
        subprocess.run(["spin", f"-DC={capacity}", "-a", "tcp.pml"], cwd=d, check=True, capture_output=True)
        # MEMLIM: pan stops cleanly past it; in multi-core mode it is also the shared memory reserved
        flags = ["-DMEMLIM=20000"] if ncore == 1 else [f"-DMEMLIM={8000 if capacity < 4 else 20000}",
                                                        f"-DNCORE={ncore}"]
        subprocess.run(["gcc", "-O2", "-w", *flags, "-DSAFETY", "-o", "pan", "pan.c"], cwd=d, check=True,
                       capture_output=True)
        w = {1: 20, 2: 23, 3: 26, 4: 28}.get(capacity, 28)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(["./pan", "-m10000", f"-w{w}"], cwd=d, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = out.stdout
    states = int(float(re.search(r"([\d.e+]+) states, stored", text).group(1)))
    trans = float(re.search(r"([\d.e+]+) transitions", text).group(1))
    mem = re.search(r"([\d.]+)\s+total actual memory usage", text)
    return {"states": states, "transitions": int(trans), "seconds": wall, "states_per_s": states / wall,
            "cpu_seconds": cpu, "ncore": ncore,
            "memory_mb": float(mem.group(1)) if mem else None,
            "bytes_per_state": (float(mem.group(1)) * 1048576 / states) if mem else None}


def multicore(caps: list[int], cores: int, engine: str) -> dict:
    """synack on 1 and `cores` threads, SPIN on 1 core and NCORE=`cores`, per capacity."""
    out = {}
    print(f"\nmulti-core, safety properties, reconnect K=2 R=1 D=1 vs tcp.pml (loaded machine: compare CPU s "
          f"and synack's ideal)")
    print(f"{'run':<36} {'states':>11} {'wall s':>8} {'CPU s':>8} {'states/s':>10} {'B/state':>8} {'MiB':>7}  "
          f"phases (thread CPU s)")
    for c in caps:
        base = dict(scenario="reconnect", capacity=c, retries=1, incarnations=2, dup=1, properties="safety")
        for n in sorted({1, cores}):
            r = run_synack(dict(base, name=f"synack C={c} cores={n}"), engine, n)
            r["states_per_s"] = r["states"] / r["seconds"]
            ph = r.get("phases") or {}
            ideal = ph.get("ordered", 0) + ph.get("single", 0) + ph.get("workers", 0) / max(1, n)
            r["ideal_seconds"] = ideal
            out[f"synack C={c} cores={n}"] = r
            print(f"{'synack C=%d, %d thread%s' % (c, n, 's' if n > 1 else ''):<36} {r['states']:>11,} "
                  f"{r['seconds']:>8.2f} {r['cpu_seconds']:>8.2f} {r['states_per_s']:>10,.0f} "
                  f"{r['bytes_per_state']:>8.0f} {r['peak_mb']:>7.0f}  par {ph.get('workers', 0):.2f} "
                  f"ord {ph.get('ordered', 0) + ph.get('single', 0):.2f} ideal {ideal:.2f}"
                  + (f"  FAILS {r['failed']}" if r["failed"] else ""))
        for n in sorted({1, cores}):
            r = run_spin(c, n)
            out[f"SPIN C={c} NCORE={n}"] = r
            if "skipped" in r:
                print(f"SPIN C={c}: skipped: {r['skipped']}")
                break
            print(f"{'SPIN tcp.pml C=%d, NCORE=%d' % (c, n):<36} {r['states']:>11,} {r['seconds']:>8.2f} "
                  f"{r['cpu_seconds']:>8.2f} {r['states_per_s']:>10,.0f} {(r['bytes_per_state'] or 0):>8.0f} "
                  f"{(r['memory_mb'] or 0):>7.0f}")
        one, many = out.get(f"SPIN C={c} NCORE=1", {}), out.get(f"SPIN C={c} NCORE={cores}", {})
        if cores > 1 and "states" in one and "states" in many and one["states"] != many["states"]:
            print(f"  note: SPIN's multi-core copy of tcp.pml stored {many['states']:,} states, not {one['states']:,}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the C=1 and C=2 configurations")
    ap.add_argument("--engine", choices=("auto", "native", "python"), default="auto",
                    help="synack's explorer (default: native when a C compiler is available)")
    ap.add_argument("--cores", type=int, default=None,
                    help="threads of synack's native explorer, and SPIN's NCORE in --multicore (default: all)")
    ap.add_argument("--multicore", default="2", metavar="C,...",
                    help="channel capacities for the multi-core comparison (default 2; '' skips it)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "checker.json"))
    args = ap.parse_args()
    cores = args.cores or available_cores()
    configs = CONFIGS[:2] if args.quick else CONFIGS
    results = {"synack": {}, "spin": {}}
    print(f"{'configuration':<40} {'states':>11} {'transitions':>12} {'s':>7} {'states/s':>10} "
          f"{'trans/s':>10} {'B/state':>8}")
    for cfg in configs:
        r = run_synack(cfg, args.engine, args.cores)
        results["synack"][cfg["name"]] = r
        print(f"{cfg['name']:<40} {r['states']:>11,} {r['transitions']:>12,} {r['seconds']:>7.2f} "
              f"{r['states_per_s']:>10,.0f} {r['transitions_per_s']:>10,.0f} {r['bytes_per_state']:>8.0f}"
              + (f"  FAILS {r['failed']}" if r["failed"] else ""))
    for c in (1, 2):
        r = run_spin(c)
        results["spin"][f"tcp.pml C={c}"] = r
        if "skipped" in r:
            print(f"SPIN C={c}: skipped: {r['skipped']}")
        else:
            print(f"{'SPIN tcp.pml C=' + str(c):<40} {r['states']:>11,} {r['transitions']:>12,} {r['seconds']:>7.2f} "
                  f"{r['states_per_s']:>10,.0f} {r['transitions'] / r['seconds']:>10,.0f} "
                  f"{(r['bytes_per_state'] or 0):>8.0f}")
    spin2 = results["spin"].get("tcp.pml C=2", {})
    ours = results["synack"].get(CONFIGS[3]["name"]) or results["synack"].get(CONFIGS[1]["name"])
    safety = results["synack"].get(CONFIGS[4]["name"])
    if "states_per_s" in spin2 and ours:
        ratio = ours["states_per_s"] / spin2["states_per_s"]
        results["ratio_states_per_s"] = ratio
        print(f"synack ({ours['engine']}) / SPIN states per second, every property: {ratio:.3f}")
        if safety:
            results["ratio_states_per_s_safety"] = r2 = safety["states_per_s"] / spin2["states_per_s"]
            results["ratio_bytes_per_state_safety"] = b2 = safety["bytes_per_state"] / spin2["bytes_per_state"]
            print(f"synack / SPIN, safety properties only (SPIN's checks): {r2:.3f} in states/s, "
                  f"{b2:.2f} in bytes per state")
    caps = [int(c) for c in args.multicore.split(",") if c.strip()]
    if caps:
        results["multicore"] = multicore(caps, cores, args.engine)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(f"wrote {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
