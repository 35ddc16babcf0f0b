"""Oracle throughput: judge a large capture with `synack oracle --summary` and, on the same
file, time `tshark -r FILE -q -z conv,tcp` (Debian's tshark). Prints segments/s for both and
the ratio. Not a test: run it by hand (python bench/oracle_bench.py [--segments N] [--jobs J]); it runs
the command with the native engine (oracle/native.py) in one process and in J (default: one
per CPU), split by connection, and with the Python engine in one process. Each is a process
of its own, timed whole (start-up included, as tshark's is), in wall time and in CPU time (user +
system of the child: on a shared machine the load moves wall time by 2-3x, CPU time far less; the
ratios are printed for both). The native summary says where
its time went: steps taken in C, steps and verdicts computed in Python, and the seconds
those took.

The capture is made by pairs of `ReferenceEndpoint`s (the spec driven deterministically):
handshake, data both ways each ACKed, both sides read, the client closes first (so the
client ends in TIME-WAIT), then the server; connections on distinct ports, written as
Ethernet/IPv4 frames with dpkt. `--sizes same` gives every connection the same 1000-byte
segments (what the oracle's memo reuses best: connections differ only by their ISNs);
`--sizes varied` draws each connection's segment sizes and counts at random (seeded), the
memo's worst case. `--kernel N` instead captures N real connections of this machine's Linux
stack over loopback (bench/kernel_capture.py; root), and the summary says how many ends the
`linux` profile judged conformant.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import time

from synack.oracle.reference import reference_capture


def _child_cpu() -> float:
    """CPU seconds (user + system) of the waited-for children so far: on a shared machine the
    load moves wall times by 2-3x, CPU time far less."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=1_000_000)
    ap.add_argument("--out", default="bench/out/oracle.pcap")
    ap.add_argument("--sizes", choices=("same", "varied"), default="same",
                    help="every connection's segments alike, or random sizes per connection")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="also judge with this many processes (default: one per CPU)")
    ap.add_argument("--profile", choices=("native", "python"), help="also profile this engine in-process (cProfile)")
    ap.add_argument("--no-python", action="store_true", help="skip the Python engine's run (slow on varied sizes)")
    ap.add_argument("--kernel", type=int, metavar="N", help="capture N real Linux connections instead (root)")
    ap.add_argument("--reuse", action="store_true",
                    help="judge the capture already at --out instead of making one (before/after comparisons on "
                         "the same file: the kernel's captures vary from run to run)")
    ap.add_argument("--calls", action="store_true",
                    help="with --profile: print only the load-independent counts (function calls, monitor steps)")
    a = ap.parse_args()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    t0 = time.perf_counter()
    if a.reuse:
        from synack.oracle.capture import read_capture

        from synack.oracle.capture import Lost

        n = sum(1 for p in read_capture(a.out) if not isinstance(p, Lost))
        what = f"reused {a.out}"
    elif a.kernel:
        sys.path.insert(0, os.path.dirname(__file__))
        from kernel_capture import kernel_capture

        n = kernel_capture(a.out, a.kernel)
        what = f"{a.kernel:,} real Linux loopback connections"
    else:
        n = reference_capture(a.out, a.segments, sizes=a.sizes)
        what = f"reference endpoints, {a.sizes} sizes"
    print(f"capture ({what}): {n:,} TCP segments, {os.path.getsize(a.out) / 1e6:.1f} MB, made in "
          f"{time.perf_counter() - t0:.1f} s")
    rates, cpu = {}, {}
    runs = [("native", j) for j in sorted({1, a.jobs})] + ([] if a.no_python else [("python", 1)])
    for engine, jobs in runs:
        # the command itself, in a process of its own (cold: no memo, the table compiled anew;
        # Python's start-up counted, as tshark's is)
        cmd = [sys.executable, "-c", "from synack.cli import main; main()", "oracle", a.out, "--summary", "--json",
               "--engine", engine, "--jobs", str(jobs)]
        t0, c0 = time.perf_counter(), _child_cpu()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=7200)
        ours = rates[engine, jobs] = time.perf_counter() - t0
        cpu[engine, jobs] = _child_cpu() - c0
        summary = json.loads(r.stdout.strip().splitlines()[-1])["summary"]
        assert summary["engine"] == engine, summary
        print(f"synack oracle --summary --engine {engine} --jobs {jobs}: {ours:.2f} s ({cpu[engine, jobs]:.2f} CPU s), "
              f"{n / ours:,.0f} segments/s "
              f"(exit {r.returncode}; judging alone {summary['seconds']:.2f} s; {summary['connections']:,} "
              f"connections, both ends judged: {summary['conformant']:,} conformant, {summary['violation']} "
              f"violation, {summary['inconclusive']} inconclusive)")
        if "native" in summary:
            w = summary["native"]
            steps = w["fast_steps"] + w["python_steps"]
            rest = summary["seconds"] - w["python_step_s"] - w["verdict_s"] - w["ipv6_decode_s"]
            print(f"    monitor steps: {steps:,}, {w['fast_steps'] / max(steps, 1):.1%} taken in C; "
                  f"{w['python_steps']:,} in Python ({w['python_step_s']:.2f} s); verdicts of {w['released']:,} "
                  f"connections in Python ({w['verdict_s']:.2f} s)"
                  + (f"; reading, decoding, splitting and C's steps: {rest:.2f} s" if jobs == 1 else
                     f" (seconds summed over the {jobs} processes)")
                  + f"; start-up: {ours - summary['seconds']:.2f} s")
    if a.profile:
        from synack.oracle.judge import judge_capture

        prof = cProfile.Profile()
        prof.enable()
        judge_capture(a.out, "linux", (), None, None, True, True, 4096, lambda line: None, engine=a.profile)
        prof.disable()
        s = io.StringIO()
        st = pstats.Stats(prof, stream=s)
        if a.calls:
            # load-independent: how many calls, of what (the busiest functions by call count)
            print(f"cProfile: {st.total_calls:,} function calls ({st.prim_calls:,} primitive), {st.total_tt:.2f} s")
            st.sort_stats("ncalls").print_stats(25)
        else:
            st.sort_stats("cumulative").print_stats(18)
        print(s.getvalue())
    tshark = shutil.which("tshark")
    if not tshark:
        print("tshark: not installed (apt-get install tshark); no ratio")
        return
    t0, c0 = time.perf_counter(), _child_cpu()
    subprocess.run([tshark, "-r", a.out, "-q", "-z", "conv,tcp"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False, timeout=3600)
    theirs, their_cpu = time.perf_counter() - t0, _child_cpu() - c0
    print(f"tshark -r -q -z conv,tcp: {theirs:.2f} s ({their_cpu:.2f} CPU s), {n / theirs:,.0f} segments/s")
    for (engine, jobs), ours in rates.items():
        print(f"ratio synack/tshark, {engine} engine, {jobs} process{'es' if jobs > 1 else ''}: {theirs / ours:.3f} "
              f"(CPU time: {their_cpu / cpu[engine, jobs]:.3f})")


if __name__ == "__main__":
    sys.exit(main())
