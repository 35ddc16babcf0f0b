"""Checker benchmark: states/s, transitions/s and bytes per state on fixed configurations,
and SPIN on the reference Promela model (../shared/bench/spin/tcp.pml) in the same run.

    python bench/checker_bench.py [--quick] [--out bench/out/checker.json]

Prints a table and writes the figures as JSON. SPIN runs when `spin` and `gcc` are on the
PATH (Debian package `spin`); otherwise its row says so. The closest synack configuration
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
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPIN_MODEL = ROOT.parent / "shared" / "bench" / "spin" / "tcp.pml"

CONFIGS = [
    dict(name="client-close C=1", scenario="client-close", capacity=1, retries=2),
    dict(name="client-close C=2", scenario="client-close", capacity=2, retries=2),
    dict(name="client-close C=3", scenario="client-close", capacity=3, retries=2),
    dict(name="reconnect K=2 C=2 R=1 (vs SPIN C=2)", scenario="reconnect", capacity=2, retries=1, incarnations=2),
    # SPIN's run checks assertions and invalid end states only (-DSAFETY): the same kind of checks
    dict(name="  same, safety properties only", scenario="reconnect", capacity=2, retries=1, incarnations=2,
         properties="safety"),
]


def run_synack(cfg: dict, engine: str = "auto") -> dict:
    """One exploration in a fresh process, so that peak RSS is this run's alone."""
    code = (
        "import json,sys,time,resource\n"
        "from synack.checker.system import System, make_config\n"
        "from synack.checker.explore import explore, PROPERTIES, SAFETY\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"kw = {json.dumps({k: v for k, v in cfg.items() if k not in ('name', 'properties')})}\n"
        f"props = {'SAFETY' if cfg.get('properties') == 'safety' else 'PROPERTIES'}\n"
        "c = make_config('rfc9293', properties=props, **kw)\n"
        f"ex = explore(System(c), engine={engine!r})\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps(dict(states=len(ex.states), transitions=ex.transitions, depth=ex.depth,\n"
        "  seconds=ex.seconds, peak_mb=peak/1024, bytes_per_state=(peak-base)*1024/max(1,len(ex.states)),\n"
        "  failed=sorted(ex.found), engine=ex.engine)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    r["states_per_s"] = r["states"] / r["seconds"]
    r["transitions_per_s"] = r["transitions"] / r["seconds"]
    return r


def run_spin(capacity: int) -> dict:
    if not (shutil.which("spin") and shutil.which("gcc") and SPIN_MODEL.exists()):
        return {"skipped": "spin, gcc or tcp.pml not available (apt-get install spin)"}
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(SPIN_MODEL, d)
        subprocess.run(["spin", f"-DC={capacity}", "-a", "tcp.pml"], cwd=d, check=True, capture_output=True)
        subprocess.run(["gcc", "-O2", "-w", "-DMEMLIM=20000", "-DSAFETY", "-o", "pan", "pan.c"], cwd=d, check=True,
                       capture_output=True)
        w = {1: 20, 2: 23, 3: 26}.get(capacity, 26)
        t0 = time.perf_counter()
        out = subprocess.run(["./pan", "-m10000", f"-w{w}"], cwd=d, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    text = out.stdout
    states = int(float(re.search(r"([\d.e+]+) states, stored", text).group(1)))
    trans = float(re.search(r"([\d.e+]+) transitions", text).group(1))
    mem = re.search(r"([\d.]+)\s+total actual memory usage", text)
    return {"states": states, "transitions": int(trans), "seconds": wall, "states_per_s": states / wall,
            "memory_mb": float(mem.group(1)) if mem else None,
            "bytes_per_state": (float(mem.group(1)) * 1048576 / states) if mem else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the C=1 and C=2 configurations")
    ap.add_argument("--engine", choices=("auto", "native", "python"), default="auto",
                    help="synack's explorer (default: native when a C compiler is available)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "checker.json"))
    args = ap.parse_args()
    configs = CONFIGS[:2] if args.quick else CONFIGS
    results = {"synack": {}, "spin": {}}
    print(f"{'configuration':<40} {'states':>11} {'transitions':>12} {'s':>7} {'states/s':>10} "
          f"{'trans/s':>10} {'B/state':>8}")
    for cfg in configs:
        r = run_synack(cfg, args.engine)
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
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(f"wrote {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
