"""Memory per open connection: a capture with N connections open at once (each opened by
the three-way handshake and one data segment each way, none closed, so the judge can release
none until the capture ends), judged in one process per engine; prints the peak RSS and the
memory each open connection takes (peak less the same command on a capture of 1,000).

    .venv/bin/python bench/oracle_memory.py [--connections 100000] [--engine python native]

Not a test: a figure for the README (the number of open connections is bounded by memory
only; oracle/judge.py)."""
from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time


def write_open_connections(path: str, n: int) -> int:
    """n connections between distinct client addresses and one server, interleaved: every
    SYN, then every SYN,ACK, ACK and a data segment each way. Returns the segments written."""
    srv = b"\x0a\x09\x00\x01"
    segs = 0
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))      # raw IPv4
        steps = [(0, 0x02, 0, 0, 0), (1, 0x12, 0, 1, 0), (0, 0x10, 1, 1, 0), (0, 0x18, 1, 1, 100),
                 (1, 0x18, 1, 101, 50), (0, 0x10, 101, 51, 0)]
        for step, (srv_sends, flags, dseq, dack, n_data) in enumerate(steps):
            for k in range(n):
                cli = bytes([10, 4 + (k >> 16), k >> 8 & 255, k & 255])
                iss_c, iss_s = 1000 + k, 90000 + k
                seq = (iss_s if srv_sends else iss_c) + dseq
                ack = ((iss_c if srv_sends else iss_s) + dack) if flags & 0x10 else 0
                sport, dport = (80, 40000) if srv_sends else (40000, 80)
                tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags,
                                  65535, 0, 0) + b"x" * n_data
                a, b = (srv, cli) if srv_sends else (cli, srv)
                ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, a, b) + tcp
                t = 1000.0 + step + k * 1e-6
                fh.write(struct.pack("<IIII", int(t), int(t % 1 * 1e6), len(ip), len(ip)) + ip)
                segs += 1
    return segs


#: Runs the CLI in a fresh process and reports that process's own peak RSS (KB) on stderr.
_WRAP = ("import resource, runpy, sys\n"
         "sys.argv = ['synack'] + sys.argv[1:]\n"
         "try:\n    runpy.run_module('synack.cli', run_name='__main__')\n"
         "finally:\n    print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")


def judge_peak(path: str, engine: str) -> tuple[float, dict]:
    """(peak RSS in MB of a fresh `synack oracle` process, its JSON summary)."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _WRAP, "oracle", path, "--engine", engine, "--summary", "--json"],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 3):
        raise SystemExit(f"synack oracle failed ({p.returncode}): {p.stderr.strip()}")
    peak = int(p.stderr.split("PEAK")[-1]) / 1024
    summary = json.loads(p.stdout.strip().splitlines()[-1])["summary"]
    summary["wall_s"] = round(wall, 1)
    return peak, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=100_000)
    ap.add_argument("--engine", nargs="+", default=["python", "native"])
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        small, big = os.path.join(d, "small.pcap"), os.path.join(d, "big.pcap")
        write_open_connections(small, 1000)
        segs = write_open_connections(big, a.connections)
        print(f"capture: {a.connections:,} connections open at once, {segs:,} segments")
        for engine in a.engine:
            base, _ = judge_peak(small, engine)
            peak, s = judge_peak(big, engine)
            per = (peak - base) * 1024 * 1024 / (a.connections - 1000)
            print(f"{engine}: {s['connections']:,} connections judged ({s['conformant']:,} conformant, "
                  f"{s['inconclusive']:,} inconclusive), peak RSS {peak:,.0f} MB (1,000 connections: {base:,.0f} MB), "
                  f"{per / 1024:,.1f} KB per open connection, {s['wall_s']} s")


if __name__ == "__main__":
    main()
