"""Seeds, mutations and outcomes shared by the fuzzing tests (tests/fuzz) and the long run
by hand (bench/fuzz_readers.py): what a reader may do with any input is yield or raise
TraceError (a one-line error); anything else is a crash. The two judging engines must give
the same outcome on every classic pcap."""
from __future__ import annotations

import functools
import json
import os
import random
import struct
import tempfile

import dpkt

from synack.oracle import TraceError
from synack.oracle.capture import CaptureStats, read_capture
from synack.oracle.events import read_trace
from synack.oracle.judge import judge_capture
from synack.oracle.reference import reference_capture

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "traces")


@functools.lru_cache(maxsize=None)
def seeds() -> dict[str, list[bytes]]:
    """Small valid inputs of each format: a pcap of a few reference connections (one with a
    planted violation), the same frames as pcapng, the example JSON Lines traces."""
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "r.pcap")
        reference_capture(pcap, 60, sizes="varied", per_conn_data=2, tamper=_tamper)
        raw = open(pcap, "rb").read()
        ng = os.path.join(d, "r.pcapng")
        with open(pcap, "rb") as f, open(ng, "wb") as out:
            w = dpkt.pcapng.Writer(out, linktype=1)
            for ts, buf in dpkt.pcap.Reader(f):
                w.writepkt(buf, ts=ts)
        rawng = open(ng, "rb").read()
    traces = [open(os.path.join(EXAMPLES, n), "rb").read() for n in sorted(os.listdir(EXAMPLES)) if n.endswith(".jsonl")]
    return {"pcap": [raw], "pcapng": [rawng], "jsonl": traces}


def _tamper(conn, k, seg):
    return seg._replace(ack=(seg.ack + 1) & 0xFFFFFFFF) if conn == 2 and k == 3 and seg.flags & 0x10 else seg


def mutate(data: bytes, edits, keep_header: int = 0) -> bytes:
    """Apply (position, byte, kind) edits: set a byte, delete one, insert one, cut the input
    there, or write a 16- or 32-bit field (lengths are the fields most worth breaking).
    `keep_header` bytes at the start stay as they are (so the format is still recognized)."""
    b = bytearray(data)
    for pos, val, kind in edits:
        if not b:
            break
        at = keep_header + pos % max(1, len(b) - keep_header)
        if kind == "set":
            b[at % len(b)] = val
        elif kind == "del":
            del b[at % len(b)]
        elif kind == "ins":
            b.insert(at % (len(b) + 1), val)
        elif kind == "cut":
            del b[at:]
        elif kind == "u16":
            b[at:at + 2] = struct.pack("!H", val * 257 if val % 3 else val)
        elif kind == "u32":
            b[at:at + 4] = struct.pack("<I", (val << 24) | val if val % 2 else val * 16843009)
    return bytes(b)


KINDS = ("set", "del", "ins", "cut", "u16", "u32")


def random_edits(rng: random.Random, n: int) -> list:
    return [(rng.randrange(1 << 20), rng.randrange(256), rng.choice(KINDS)) for _ in range(n)]


def read_outcome(data: bytes) -> str:
    """Read `data` as synack would (by its magic); "ok", or "error: ..." for a TraceError.
    Any other exception propagates: a crash."""
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(data)
        f.flush()
        try:
            head = data[:4]
            if head in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
                        b"\x0a\x0d\x0d\x0a"):
                for _ in read_capture(f.name, CaptureStats()):
                    pass
            else:
                read_trace(f.name)
        except TraceError as exc:
            msg = str(exc)
            assert "\n" not in msg and msg, msg
            return "error: " + msg
    return "ok"


def judge_outcome(data: bytes, engine: str):
    """(exit code, lines, summary less timings) of judging a capture with `engine`, or the
    one-line error. A crash propagates."""
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        f.write(data)
        f.flush()
        out: list[str] = []
        try:
            code = judge_capture(f.name, "linux", (), None, None, False, True, 4096, out.append, engine=engine)
        except TraceError as exc:
            return ("error", str(exc).replace(f.name, "<file>"))
    summary = json.loads(out[-1])["summary"]
    for k in ("seconds", "segments_per_second", "engine", "native", "capture"):
        summary.pop(k, None)
    return code, out[:-1], summary
