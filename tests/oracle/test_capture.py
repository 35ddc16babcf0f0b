"""Capture reading: every supported link type and file format gives the same segments;
broken files are one clear error with the byte offset."""
import struct

import dpkt
import pytest

from synack.oracle import TraceError
from synack.oracle.capture import CaptureStats, read_capture

CLIENT = [("c", "SYN", 1000, 0, 0), ("s", "SYN,ACK", 5000, 1001, 0), ("c", "ACK", 1001, 5001, 0),
          ("c", "ACK", 1001, 5001, 10), ("s", "ACK", 5001, 1011, 0), ("c", "FIN,ACK", 1011, 5001, 0),
          ("s", "FIN,ACK", 5001, 1012, 0), ("c", "ACK", 1012, 5002, 0)]
FL = {"SYN": 2, "ACK": 16, "FIN": 1, "RST": 4}


def _tcp(d, flags, seq, ack, n):
    bits = sum(FL[f] for f in flags.split(","))
    return dpkt.tcp.TCP(sport=40000 if d == "c" else 80, dport=80 if d == "c" else 40000, seq=seq, ack=ack,
                        flags=bits, win=1000, data=b"x" * n)


def _ip(tcp, d, v6):
    if v6:
        a, b = b"\x20\x01" + b"\x00" * 13 + b"\x01", b"\x20\x01" + b"\x00" * 13 + b"\x02"
        return dpkt.ip6.IP6(src=a if d == "c" else b, dst=b if d == "c" else a, nxt=6, hlim=64, data=tcp,
                            plen=len(bytes(tcp)))
    a, b = b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"
    ip = dpkt.ip.IP(src=a if d == "c" else b, dst=b if d == "c" else a, p=6, data=tcp)
    ip.len = 20 + len(bytes(tcp))
    return ip


def frame(link, ip, v6):
    et = 0x86DD if v6 else 0x0800
    raw = bytes(ip)
    if link == "eth":
        return b"\x00" * 12 + struct.pack("!H", et) + raw
    if link == "vlan":
        return b"\x00" * 12 + struct.pack("!HHH", 0x8100, 7, et) + raw
    if link == "sll":
        return struct.pack("!HHH8sH", 0, 1, 6, b"\x00" * 8, et) + raw
    if link == "sll2":
        return struct.pack("!HHIHBB8s", et, 0, 1, 1, 0, 6, b"\x00" * 8) + raw
    if link == "null":
        return struct.pack("<I", 30 if v6 else 2) + raw
    return raw


LINK = {"eth": 1, "vlan": 1, "sll": 113, "sll2": 276, "null": 0, "raw": 101}


def write(path, link="eth", v6=False, fmt="pcap", nano=False, extra=()):
    with open(path, "wb") as fh:
        w = (dpkt.pcapng.Writer(fh, linktype=LINK[link]) if fmt == "pcapng"
             else dpkt.pcap.Writer(fh, linktype=LINK[link], nano=nano))
        for i, (d, flags, seq, ack, n) in enumerate(CLIENT):
            w.writepkt(frame(link, _ip(_tcp(d, flags, seq, ack, n), d, v6), v6), ts=100.0 + i * 0.001)
        for buf in extra:
            w.writepkt(buf, ts=200.0)


@pytest.mark.parametrize("link", sorted(LINK))
@pytest.mark.parametrize("v6", [False, True])
@pytest.mark.parametrize("fmt,nano", [("pcap", False), ("pcap", True), ("pcapng", False)])
def test_link_types_and_formats(tmp_path, link, v6, fmt, nano):
    p = tmp_path / "c.cap"
    write(p, link, v6, fmt, nano)
    pk = list(read_capture(str(p)))
    assert [(x.seg.seq, x.seg.ack, x.seg.data) for x in pk] == [(c[2], c[3], c[4]) for c in CLIENT]
    assert pk[0].sport == 40000 and (":" in pk[0].src) == v6
    assert abs(pk[1].t - pk[0].t - 0.001) < 1e-5


def test_non_tcp_and_malformed_are_counted(tmp_path):
    udp = dpkt.ip.IP(src=b"\x01\x01\x01\x01", dst=b"\x02\x02\x02\x02", p=17, data=dpkt.udp.UDP())
    p = tmp_path / "c.pcap"
    write(p, extra=[b"\x00" * 12 + b"\x08\x06" + b"\x00" * 28, frame("eth", udp, False), b"\x00" * 12 + b"\x08\x00\x45"])
    st = CaptureStats()
    assert len(list(read_capture(str(p), st))) == len(CLIENT)
    assert (st.non_tcp, st.malformed) == (2, 1)


def test_truncated_and_garbage_files(tmp_path):
    p = tmp_path / "c.pcap"
    write(p)
    data = p.read_bytes()
    (tmp_path / "t.pcap").write_bytes(data[:-7])
    with pytest.raises(TraceError, match="truncated pcap: the record at byte offset"):
        list(read_capture(str(tmp_path / "t.pcap")))
    (tmp_path / "h.pcap").write_bytes(data[:24 + 8])
    with pytest.raises(TraceError, match="byte offset 24"):
        list(read_capture(str(tmp_path / "h.pcap")))
    (tmp_path / "g.pcap").write_bytes(b"hello world, not a capture")
    with pytest.raises(TraceError, match="not a pcap"):
        list(read_capture(str(tmp_path / "g.pcap")))
    with pytest.raises(TraceError, match="cannot read capture"):
        list(read_capture(str(tmp_path / "missing.pcap")))
