"""A capture holding an ICMPv4 error that quotes a TCP segment is the Python engine's: the native
judge does not route ICMP errors to the connection they quote (CaptureJudge.icmp does), and must
not judge the capture as if they were absent. Other ICMP messages change nothing."""
from __future__ import annotations

import struct

import dpkt
import pytest

from synack.oracle import native
from synack.oracle.inputs import open_source
from synack.oracle.judge import judge_capture
from synack.oracle.native import NativeUnavailable
from synack.spec.model import ACK, SYN

pytestmark = pytest.mark.skipif(native.library() is None, reason="no C compiler to build the native judge")

A, B = b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"


def _eth(ip: bytes) -> bytes:
    return b"\x00" * 12 + struct.pack("!H", 0x0800) + ip


def _tcp(src, dst, sport, dport, flags, seq, ack) -> bytes:
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, win=1000)
    ip = dpkt.ip.IP(src=src, dst=dst, p=6, data=tcp)
    ip.len = 20 + len(bytes(tcp))
    return _eth(bytes(ip))


def _icmp(typ: int, quoted_proto: int = 6, quoted_len: int = 8) -> bytes:
    """From B to A: an ICMP message quoting A's SYN (its IPv4 header and `quoted_len` bytes)."""
    quoted = bytes(dpkt.ip.IP(src=A, dst=B, p=quoted_proto, len=40))[:20] + struct.pack("!HHI", 1000, 80, 100)[:quoted_len]
    body = struct.pack("!BBHI", typ, 1, 0, 0) + quoted
    ip = dpkt.ip.IP(src=B, dst=A, p=1, data=body)
    ip.len = 20 + len(body)
    return _eth(bytes(ip))


def _capture(path, extra: bytes) -> str:
    with open(path, "wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=1)
        for i, buf in enumerate([_tcp(A, B, 1000, 80, SYN, 100, 0), extra, _tcp(B, A, 80, 1000, SYN | ACK, 500, 101)]):
            w.writepkt(buf, ts=100.0 + i * 0.001)
    return str(path)


def _probe(path):
    with open_source(path) as src:
        return native.probe(src)


@pytest.mark.parametrize("typ", [3, 4, 11, 12])
def test_an_icmp_error_quoting_tcp_sends_the_capture_to_python(tmp_path, typ):
    path = _capture(tmp_path / "e.pcap", _icmp(typ))
    assert _probe(path) == "frame 2 is an ICMP error quoting a TCP segment, which the native judge does not route"
    out: list = []
    judge_capture(path, "linux", (), None, None, True, True, 4096, out.append, engine="auto")
    assert '"engine": "python"' in out[-1]
    with pytest.raises(NativeUnavailable, match="frame 2 is an ICMP error"):
        judge_capture(path, "linux", (), None, None, True, True, 4096, out.append, engine="native")


@pytest.mark.parametrize("extra", ["echo", "udp", "short quote"])
def test_other_icmp_messages_leave_the_capture_to_the_native_judge(tmp_path, extra):
    frame = {"echo": _icmp(8), "udp": _icmp(3, quoted_proto=17), "short quote": _icmp(3, quoted_len=7)}[extra]
    path = _capture(tmp_path / "o.pcap", frame)
    assert not isinstance(_probe(path), str)
    out: list = []
    judge_capture(path, "linux", (), None, None, True, True, 4096, out.append, engine="auto")
    assert '"engine": "native"' in out[-1]
