"""Oracle throughput: judge a large capture with `synack oracle --summary` and, on the same
file, time `tshark -r FILE -q -z conv,tcp` (Debian's tshark). Prints segments/s for both and
the ratio. Not a test: run it by hand (python bench/oracle_bench.py [--segments N]).

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
import random
import io
import os
import pstats
import shutil
import struct
import subprocess
import sys
import time

import dpkt

from synack.oracle import ReferenceEndpoint

A, B = bytes([10, 1, 0, 1]), bytes([10, 1, 0, 2])


def frame(src, dst, sport, dport, seg):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seg.seq, seg.ack, 5 << 4, seg.flags, 65535, 0, 0)
    payload = b"\x00" * seg.data
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 6, 0, src, dst)
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp + payload


def make_capture(path: str, segments: int, per_conn_data: int = 10, sizes: str = "same") -> int:
    rng = random.Random(1)
    n = 0
    t = 1.0e9
    with open(path, "wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=1)
        conn = 0
        while n < segments:
            conn += 1
            sport = 1024 + conn % 60000
            dport = 80 + conn // 60000
            c = ReferenceEndpoint("linux", isn=conn * 7919)
            s = ReferenceEndpoint("linux", isn=conn * 104729)
            s.call("listen")
            queue = [(0, x) for x in c.call("connect")]
            if sizes == "same":
                script = [(0, "send", 1000)] * per_conn_data + [(1, "send", 1000)] * per_conn_data
            else:
                script = [(rng.randrange(2), "send", rng.randrange(1, 1461)) for _ in range(rng.randrange(1, 21))]
            script += [(0, "receive", 0), (1, "receive", 0), (0, "close", 0), (1, "close", 0)]
            while queue or script:
                if not queue:
                    side, name, k = script.pop(0)
                    ep = c if side == 0 else s
                    queue += [(side, x) for x in ep.call(name, k)]
                    continue
                side, seg = queue.pop(0)
                t += 0.0001
                src, dst, sp, dp = (A, B, sport, dport) if side == 0 else (B, A, dport, sport)
                w.writepkt(frame(src, dst, sp, dp, seg), ts=t)
                n += 1
                peer = s if side == 0 else c
                queue += [(1 - side, x) for x in peer.receive(seg)]
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=1_000_000)
    ap.add_argument("--out", default="bench/out/oracle.pcap")
    ap.add_argument("--sizes", choices=("same", "varied"), default="same",
                    help="every connection's segments alike, or random sizes per connection")
    ap.add_argument("--profile", action="store_true", help="print where the oracle's time goes (cProfile)")
    a = ap.parse_args()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    t0 = time.perf_counter()
    n = make_capture(a.out, a.segments, sizes=a.sizes)
    print(f"capture: {n:,} TCP segments, {os.path.getsize(a.out) / 1e6:.1f} MB, made in "
          f"{time.perf_counter() - t0:.1f} s")
    from synack.oracle.judge import judge_capture
    out: list[str] = []
    prof = cProfile.Profile() if a.profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    code = judge_capture(a.out, "linux", (), None, None, True, False, 4096, out.append)
    if prof:
        prof.disable()
    ours = time.perf_counter() - t0
    print(out[-1])
    print(f"synack oracle --summary: {ours:.2f} s, {n / ours:,.0f} segments/s (exit {code}; both ends judged)")
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
    print(f"ratio synack/tshark: {theirs / ours:.3f}")


if __name__ == "__main__":
    sys.exit(main())
