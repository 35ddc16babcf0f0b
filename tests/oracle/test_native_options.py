"""The native reader collects, per end, the TCP options and flags no rule reads (events.IGNORED's
order, `IgnoredOptions.add_bits`): what each end's segments carried, as capture.py names them, so
that both engines can print the same "options recorded and ignored" line."""
from __future__ import annotations

import struct

import dpkt
import pytest

from synack.oracle import native
from synack.oracle.judge import judge_capture
from synack.spec.model import ACK, SYN

pytestmark = pytest.mark.skipif(native.library() is None, reason="no C compiler to build the native judge")

SACK_OK, SACK, TS, MD5, AO, MPTCP, OPTION, ECN, URG = (1 << i for i in range(9))
A, B = b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"


def _frame(src, dst, sport, dport, flags, seq, ack, opts=b"", extra_flags=0):
    opts += b"\x00" * (-len(opts) % 4)            # end-of-options padding to whole words
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags | extra_flags, win=1000, opts=opts,
                       off=5 + len(opts) // 4)
    ip = dpkt.ip.IP(src=src, dst=dst, p=6, data=tcp)
    ip.len = 20 + len(bytes(tcp))
    return b"\x00" * 12 + struct.pack("!H", 0x0800) + bytes(ip)


def _bits(tmp_path, monkeypatch, frames) -> list[tuple[int, int]]:
    cap = tmp_path / "o.pcap"
    with open(cap, "wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=1)
        for i, buf in enumerate(frames):
            w.writepkt(buf, ts=100.0 + i * 0.001)
    seen = []

    def spy(v, c, e):
        seen.append((e, c.ign[0], c.ign[1]))
        return v
    monkeypatch.setattr(native, "_ignored", spy)
    judge_capture(str(cap), "linux", (), None, None, False, True, 4096, lambda line: None, engine="native")
    return seen


def test_each_ignored_option_and_flag_is_one_bit_of_the_end_that_sent_it(tmp_path, monkeypatch):
    ts = b"\x08\x0a" + b"\x00" * 8
    frames = [
        _frame(A, B, 1000, 80, SYN, 100, 0, b"\x02\x04\x05\xb4" + b"\x04\x02" + ts),      # MSS read; SACK-permitted, TS
        _frame(B, A, 80, 1000, SYN | ACK, 500, 101, b"\x13\x12" + b"\x00" * 16),        # TCP MD5 (kind 19)
        _frame(A, B, 1000, 80, ACK, 101, 501, b"\x05\x0a" + b"\x00" * 8),               # SACK blocks
        _frame(A, B, 1000, 80, ACK, 101, 501, b"\x1d\x04\x00\x00"),                     # TCP-AO (29)
        _frame(B, A, 80, 1000, ACK, 501, 101, b"\x1e\x04\x00\x00"),                     # MPTCP (30)
        _frame(B, A, 80, 1000, ACK, 501, 101, b"\x63\x04\x00\x00", extra_flags=0x40),   # kind 99; ECE
        _frame(A, B, 1000, 80, ACK, 101, 501, b"\x04\x03\x00\x01", extra_flags=0x20),   # kind 4 of length 3; URG
    ]
    got = _bits(tmp_path, monkeypatch, frames)
    assert sorted(got) == [(0, SACK_OK | TS | SACK | AO | URG, MD5 | MPTCP | OPTION | ECN),
                           (1, SACK_OK | TS | SACK | AO | URG, MD5 | MPTCP | OPTION | ECN)]


def test_read_options_and_tfo_are_not_ignored(tmp_path, monkeypatch):
    frames = [
        _frame(A, B, 1000, 80, SYN, 100, 0, b"\x02\x04\x05\xb4\x01\x03\x03\x07" + b"\x22\x02"),   # MSS, WS, TFO request
        _frame(B, A, 80, 1000, SYN | ACK, 500, 101, b"\x02\x04\x05\xb4" + b"\xfe\x04\xf9\x89"),   # experimental TFO
        _frame(A, B, 1000, 80, ACK, 101, 501, b"\x08\x06\x00\x00\x00\x00"),                        # TS of length 6: nothing
    ]
    assert {(c0, c1) for _, c0, c1 in _bits(tmp_path, monkeypatch, frames)} == {(0, 0)}


def test_an_unknown_experimental_option_is_an_other_option(tmp_path, monkeypatch):
    frames = [_frame(A, B, 1000, 80, SYN, 100, 0, b"\xfe\x04\x12\x34"),
              _frame(B, A, 80, 1000, SYN | ACK, 500, 101)]
    assert {(c0, c1) for _, c0, c1 in _bits(tmp_path, monkeypatch, frames)} == {(OPTION, 0)}
