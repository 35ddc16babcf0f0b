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


def _dpkt_reference(buf):
    """dpkt's own IPv4 and TCP decoding (what capture.py did before its struct decoder)."""
    try:
        ip = dpkt.ip.IP(buf[14:])
        if ip.p != 6:
            return "not TCP"
        if ip.mf or ip.offset:
            return "fragment"
        tcp = ip.data
        payload = ip.len - ip.hl * 4 - tcp.off * 4
        if not isinstance(tcp, dpkt.tcp.TCP) or tcp.off < 5 or payload < 0:
            return "malformed"
    except (dpkt.UnpackError, ValueError, struct.error, AttributeError, IndexError):
        return "malformed"
    opts = {}
    try:
        for opt in dpkt.tcp.parse_opts(tcp.opts):
            if opt is None:          # dpkt's mark for a malformed option (the old decoder crashed here)
                break
            kind, data = opt
            if kind == 2 and len(data) == 2:
                opts["mss"] = struct.unpack("!H", data)[0]
            elif kind == 3 and len(data) == 1:
                opts["wscale"] = min(data[0], 14)
            elif kind == 8 and len(data) == 8:
                opts["ts"] = struct.unpack("!II", data)
    except (dpkt.UnpackError, ValueError, struct.error):
        pass
    return (tcp.sport, tcp.dport, tcp.seq, tcp.ack if tcp.flags & 16 else 0, tcp.flags & 0x1F, tcp.win,
            min(payload, 0xFFFF), opts.get("mss"), opts.get("wscale"), opts.get("ts"))


def _ours(buf):
    from synack.oracle.capture import decode
    st = CaptureStats()
    p = decode(0.0, buf, 1, st)
    if p is None:
        return "not TCP" if st.non_tcp else "fragment" if st.fragments else "malformed"
    return (p.sport, p.dport, p.seg.seq, p.seg.ack, p.seg.flags, p.win, p.seg.data, p.mss, p.wscale, p.ts)


def test_ipv4_decoder_agrees_with_dpkt():
    """The struct decoder against dpkt on options, IP options, fragments, other protocols and
    every truncation of a SYN with options."""
    opts = (b"\x02\x04\x05\xb4" + b"\x04\x02" + b"\x08\x0a\x00\x00\x00\x07\x00\x00\x00\x00" + b"\x01"
            + b"\x03\x03\x07")
    syn = dpkt.tcp.TCP(sport=1, dport=2, seq=0xFFFFFFF0, flags=2, win=64240, opts=opts)
    syn.off = 5 + len(opts) // 4
    data = dpkt.tcp.TCP(sport=2, dport=1, seq=7, ack=0xFFFFFFF1, flags=0x18, win=500, data=b"y" * 1400,
                        opts=b"\x01\x01\x08\x0a\x00\x00\x00\x08\x00\x00\x00\x07")
    data.off = 8
    bad = dpkt.tcp.TCP(sport=3, dport=4, flags=16, opts=b"\x02\x09\x00")     # an option longer than the header
    bad.off = 6
    frames = []
    for tcp in (syn, data, bad):
        ip = dpkt.ip.IP(src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02", p=6, data=tcp)
        ip.len = 20 + len(bytes(tcp))
        frames.append(bytes(ip))
        opt_ip = dpkt.ip.IP(src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02", p=6, data=tcp, opts=b"\x01" * 4)
        opt_ip.hl, opt_ip.len = 6, 24 + len(bytes(tcp))
        frames.append(bytes(opt_ip))
        for off, mf in ((0, 1), (64, 0)):
            frag = dpkt.ip.IP(src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02", p=6, data=tcp, mf=mf, offset=off)
            frag.len = 20 + len(bytes(tcp))
            frames.append(bytes(frag))
    frames.append(bytes(dpkt.ip.IP(p=17, data=dpkt.udp.UDP())))
    frames += [frames[0][:n] for n in range(len(frames[0]))]
    for raw in frames:
        buf = b"\x00" * 12 + b"\x08\x00" + raw
        assert _ours(buf) == _dpkt_reference(buf), raw.hex()


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_an_unsupported_link_type_is_one_error_naming_the_file(tmp_path, fmt):
    """A link type no decoder here reads (147, DLT_USER0) is an error about the file, not a
    malformed count per frame and an empty verdict."""
    p = tmp_path / f"c.{fmt}"
    with open(p, "wb") as fh:
        w = dpkt.pcapng.Writer(fh, linktype=147) if fmt == "pcapng" else dpkt.pcap.Writer(fh, linktype=147)
        w.writepkt(b"\x00" * 40, ts=1.0)
    with pytest.raises(TraceError, match=rf"{p.name}: unsupported link type 147; synack reads Ethernet"):
        list(read_capture(str(p)))
