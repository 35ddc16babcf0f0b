"""Oracle throughput: judge a large capture with `synack oracle --summary` and, on the same
file, time `tshark -r FILE -q -z conv,tcp` (Debian's tshark). Prints segments/s for both and
the ratio. Not a test: run it by hand (python bench/oracle_bench.py [--segments N] [--jobs J]); it judges
with one process and with J (default: one per CPU), split by connection.

The capture is made by pairs of `ReferenceEndpoint`s (the spec driven deterministically):
handshake, data both ways each ACKed, both sides read, the client closes first (so the
client ends in TIME-WAIT), then the server; connections on distinct ports, written as
Ethernet/IPv4 frames with dpkt. `--sizes same` gives every connection the same 1000-byte
segments (what the oracle's memo reuses best: connections differ only by their ISNs);
`--sizes varied` draws each connection's segment sizes and counts at random (seeded), the
memo's worst case.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import time

from synack.oracle.reference import reference_capture


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=1_000_000)
    ap.add_argument("--out", default="bench/out/oracle.pcap")
    ap.add_argument("--sizes", choices=("same", "varied"), default="same",
                    help="every connection's segments alike, or random sizes per connection")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="also judge with this many processes (default: one per CPU)")
    ap.add_argument("--profile", action="store_true", help="print where the oracle's time goes (cProfile)")
    a = ap.parse_args()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    t0 = time.perf_counter()
    n = reference_capture(a.out, a.segments, sizes=a.sizes)
    print(f"capture: {n:,} TCP segments, {os.path.getsize(a.out) / 1e6:.1f} MB, made in "
          f"{time.perf_counter() - t0:.1f} s")
    from synack.oracle.judge import judge_capture
    rates = {}
    for jobs in sorted({1, a.jobs}, reverse=True):      # the forked workers start as cold as the parent
        out: list[str] = []
        prof = cProfile.Profile() if a.profile and jobs == 1 else None
        t0 = time.perf_counter()
        if prof:
            prof.enable()
        code = judge_capture(a.out, "linux", (), None, None, True, False, 4096, out.append, jobs=jobs)
        if prof:
            prof.disable()
        ours = rates[jobs] = time.perf_counter() - t0
        print(out[-1])
        print(f"synack oracle --summary --jobs {jobs}: {ours:.2f} s, {n / ours:,.0f} segments/s (exit {code}; "
              "both ends judged)")
        if prof:
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(18)
            print(s.getvalue())
    tshark = shutil.which("tshark")
    if not tshark:
        print("tshark: not installed (apt-get install tshark); no ratio")
        return
    t0 = time.perf_counter()
    subprocess.run([tshark, "-r", a.out, "-q", "-z", "conv,tcp"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False, timeout=3600)
    theirs = time.perf_counter() - t0
    print(f"tshark -r -q -z conv,tcp: {theirs:.2f} s, {n / theirs:,.0f} segments/s")
    for jobs, ours in rates.items():
        print(f"ratio synack/tshark, {jobs} process{'es' if jobs > 1 else ''}: {theirs / ours:.3f}")


if __name__ == "__main__":
    sys.exit(main())
