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
    with pytest.raises(TraceError, match="cannot read .*missing.pcap.*No such file"):
        list(read_capture(str(tmp_path / "missing.pcap")))


def _dpkt_reference(buf):
    """dpkt's own IPv4 and TCP decoding (what capture.py did before its struct decoder)."""
    try:
        ip = dpkt.ip.IP(buf[14:])
        if ip.p != 6:
            return "not TCP"
        if ip.mf or ip.offset:
            return "fragment"
        if ip.len > len(buf) - 14:       # a total length beyond an unsnapped frame: not data (issue 20)
            return "malformed"
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
    from synack.oracle.capture import Lost, decode
    st = CaptureStats()
    p = decode(0.0, buf, 1, st)
    if p is None or isinstance(p, Lost):
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


def pcap_records(path, records, link=1, field=None):
    """A classic pcap file of (time, frame, length on the wire) records, written here so a
    record can say it was cut by the snapshot length (dpkt's writer cannot)."""
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link if field is None else field))
        for t, buf, wire in records:
            fh.write(struct.pack("<IIII", int(t), int(t % 1 * 1e6), len(buf), wire) + buf)


def eth_tcp(flags=0x10, total=None, ihl=5, off=5, frag=0, sport=40000, dport=80, data=b"", vlan=False):
    """An Ethernet frame with an IPv4 TCP segment, any header field set as given."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1000, 5000, off << 4, flags, 1000, 0, 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total if total is not None else 20 + len(tcp), 0, frag, 64, 6,
                     0, b"\x0a\0\0\x01", b"\x0a\0\0\x02") + b"\0" * max(0, ihl * 4 - 20)
    tag = struct.pack("!HH", 0x8100, 7) if vlan else b""
    return b"\0" * 12 + tag + b"\x08\x00" + ip + tcp


def test_an_ip_total_length_beyond_the_frame_is_malformed_not_data(tmp_path):
    """Was: a 54-byte pure ACK claiming 1,500 IP bytes was judged as carrying 1,460 bytes. A
    frame the capture cut at its snapshot length (wire length > captured) does carry them."""
    from synack.oracle.capture import Lost
    lie = eth_tcp(total=1500)
    pcap_records(tmp_path / "a.pcap", [(1.0, lie, len(lie)), (2.0, lie, 1514)])
    st = CaptureStats()
    got = list(read_capture(str(tmp_path / "a.pcap"), st))
    assert isinstance(got[0], Lost) and got[0].frame == 1 and (got[0].sport, got[0].dport) == (40000, 80)
    assert "IPv4 total length 1500 beyond the captured frame" in got[0].why and st.malformed == 1
    assert got[1].seg.data == 1460 and st.tcp == 1


@pytest.mark.parametrize("frame, why, ports", [
    (eth_tcp(off=3), "malformed (TCP data offset 3)", (40000, 80)),
    (eth_tcp(ihl=3), "malformed (IPv4 header length 12)", (None, None)),
    (eth_tcp(frag=0x2000), "an IPv4 fragment", (40000, 80)),                 # the first fragment: ports
    (eth_tcp(frag=0x0010), "an IPv4 fragment", (None, None)),                # a later one: hosts only
    (eth_tcp()[:14 + 20 + 10], "malformed (IPv4 total length 40 beyond", (40000, 80)),
])
def test_a_tcp_frame_that_cannot_be_judged_says_which_connection(tmp_path, frame, why, ports):
    from synack.oracle.capture import Lost
    pcap_records(tmp_path / "m.pcap", [(1.0, frame, len(frame))])
    (lost,) = list(read_capture(str(tmp_path / "m.pcap")))
    assert isinstance(lost, Lost) and why in lost.why and (lost.sport, lost.dport) == ports
    assert (lost.src, lost.dst) == ("10.0.0.1", "10.0.0.2")


def test_a_truncated_vlan_tag_is_malformed_and_names_nobody(tmp_path):
    pcap_records(tmp_path / "v.pcap", [(1.0, eth_tcp(vlan=True)[:15], 15)])
    st = CaptureStats()
    assert list(read_capture(str(tmp_path / "v.pcap"), st)) == [] and st.malformed == 1


def test_link_type_field_as_libpcap_reads_it(tmp_path):
    """0x80000001: Ethernet with FCS-length bits (LT_LINKTYPE is the low 16 bits); reserved
    bits set is an error. Was: Python rejected 0x80000001, the native judge judged it."""
    f = eth_tcp(flags=0x02)
    pcap_records(tmp_path / "l.pcap", [(1.0, f, len(f))], field=0x80000001)
    assert len(list(read_capture(str(tmp_path / "l.pcap")))) == 1
    pcap_records(tmp_path / "r.pcap", [(1.0, f, len(f))], field=0x00010001)
    with pytest.raises(TraceError, match="r.pcap: the link-type field 0x00010001 has reserved bits set"):
        list(read_capture(str(tmp_path / "r.pcap")))


@pytest.mark.parametrize("k", range(1, 8))
def test_a_pcapng_cut_inside_a_block_is_rejected_with_the_block_offset(tmp_path, k):
    """Was: judged (exit 0 or 3) when the file ended 1 to 7 bytes into a block."""
    p = tmp_path / "c.pcapng"
    write(p, fmt="pcapng")
    data = p.read_bytes()
    last = struct.unpack_from("<I", data, len(data) - 4)[0]
    block = data[len(data) - last:]
    (tmp_path / "t.pcapng").write_bytes(data + block[:k])
    with pytest.raises(TraceError, match=rf"t.pcapng: truncated pcapng: the block at byte offset {len(data)} is cut "
                                         rf"after {k} bytes"):
        list(read_capture(str(tmp_path / "t.pcapng")))
    (tmp_path / "u.pcapng").write_bytes(data + block[:-k])
    with pytest.raises(TraceError, match=rf"u.pcapng: truncated pcapng: the block at byte offset {len(data)} "
                                         rf"declares {last} bytes"):
        list(read_capture(str(tmp_path / "u.pcapng")))


def test_unknown_pcapng_blocks_are_counted_and_said(tmp_path):
    p = tmp_path / "c.pcapng"
    write(p, fmt="pcapng")
    (tmp_path / "x.pcapng").write_bytes(p.read_bytes() + struct.pack("<III", 0x99, 12, 12) * 2)
    st = CaptureStats()
    assert len(list(read_capture(str(tmp_path / "x.pcapng"), st))) == len(CLIENT)
    assert st.unknown_blocks == {0x99: 2} and "2 of type 0x00000099" in st.notes[0]


def test_a_drop_the_pcapng_capture_records_is_a_lost_event(tmp_path):
    from synack.oracle.capture import Lost
    p = tmp_path / "c.pcapng"
    write(p, fmt="pcapng")
    body = struct.pack("<III", 0, 0, 0) + struct.pack("<HHQ", 5, 8, 3) + struct.pack("<HH", 0, 0)
    isb = struct.pack("<II", 5, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
    (tmp_path / "d.pcapng").write_bytes(p.read_bytes() + isb)
    st = CaptureStats()
    got = list(read_capture(str(tmp_path / "d.pcapng"), st))
    assert isinstance(got[-1], Lost) and got[-1].src is None and "dropped 3 frames" in got[-1].why
    assert st.dropped == 3


@pytest.mark.parametrize("opts, sack_ok, tfo", [
    (b"\x04\x02\x01\x01", True, 0),                                   # SACK-permitted, NOP, NOP
    (b"\x22\x02\x01\x01", False, 1),                                  # TFO (kind 34) empty: a cookie request
    (b"\x22\x0a" + bytes(8) + b"\x01\x01", False, 2),                 # TFO with an 8-byte cookie
    (b"\xfe\x04\xf9\x89", False, 1),                                  # experimental TFO (RFC 6994 magic), empty
    (b"\xfe\x0c\xf9\x89" + bytes(8), False, 2),                       # experimental TFO with a cookie
    (b"\xfe\x0c\x12\x34" + bytes(8), False, 0),                       # another experiment: not TFO
    (b"\x04\x02\x22\x0a" + bytes(8), True, 2),                        # both
    (b"\x22\x0a" + bytes(2), False, 0),                               # a TFO option cut by the header: none
])
def test_sack_permitted_and_the_fast_open_option_are_read_from_a_syn(tmp_path, opts, sack_ok, tfo):
    """SACK-permitted (RFC 2018 2) is recorded on the packet (not modelled: no row reads it);
    the TCP Fast Open option (RFC 7413 4.1; Linux also sends and accepts the experimental kind
    254 with magic 0xF989) becomes Segment.tfo on a SYN: empty is a cookie request, longer a
    cookie. The same options on a non-SYN segment leave Segment.tfo at 0 (RFC 7413 4.1: only
    SYNs carry it)."""
    path = str(tmp_path / "opts.pcap")
    pad = opts + b"\x00" * (-len(opts) % 4)
    recs = []
    for flags in (0x02, 0x10):
        tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1000, 5000 if flags & 0x10 else 0, (5 + len(pad) // 4) << 4,
                          flags, 1000, 0, 0) + pad
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, b"\x0a\0\0\x01", b"\x0a\0\0\x02")
        buf = b"\0" * 12 + b"\x08\x00" + ip + tcp
        recs.append((100.0, buf, len(buf)))
    pcap_records(path, recs)
    syn, ack = list(read_capture(path))
    assert (syn.sack_ok, syn.seg.tfo) == (sack_ok, tfo)
    assert (ack.sack_ok, ack.seg.tfo) == (sack_ok, 0)


def test_the_recorded_options_survive_json_lines():
    """SACK-permitted and the Fast Open option as JSON Lines fields (oracle/trace.schema.json; a SYN
    without an "mss" field has no limit: 65535)."""
    from synack.oracle.events import SegmentEvent, event_from_json
    from synack.spec import Segment
    ev = SegmentEvent("in", Segment.make("SYN", 7, wnd=1000, mss=0xFFFF, tfo=2), 1.0, 1000, None, None, (5, 0), True)
    d = ev.to_json()
    assert (d["sack_ok"], d["tfo"], d["ts"]) == (True, "cookie", [5, 0])
    assert event_from_json(d) == ev
    for bad in ({"tfo": "yes"}, {"sack_ok": 1}):
        with pytest.raises(TraceError):
            event_from_json({**d, **bad})


def test_the_report_line_for_options_no_rule_reads():
    """What a verdict says about the options no rule reads (oracle/judge.py puts it on every verdict):
    each named once with who sent it, then why it is not modelled."""
    from synack.oracle.events import IgnoredOptions, SegmentEvent
    from synack.spec import Segment
    opts = IgnoredOptions()
    assert opts.text() == ""
    opts.add(SegmentEvent("out", Segment.make("SYN", 7), ts=(1, 0), sack_ok=True))
    opts.add(SegmentEvent("in", Segment.make("SYN,ACK", 9, 8), ts=(2, 1)))
    assert opts.text() == ("options recorded and ignored: SACK-permitted (sent by the IUT), timestamps (both "
                           "ends); not modelled (RFC 2018 2; RFC 7323: RTTM, PAWS but the option paws's duplicate ACK)")
    opts.add(SegmentEvent("in", Segment.make("ACK", 9, 8), other=frozenset({"sack", "ecn"})))
    assert opts.names() == ["sack_ok", "sack", "ts", "ecn"]
    assert "SACK blocks (sent by its peer)" in opts.text() and "ECN flags ECE/CWR (sent by its peer)" in opts.text()
    bits = IgnoredOptions()
    from synack.oracle.events import other_bits
    bits.add_bits("out", other_bits({"sack_ok", "ts"}))
    bits.add_bits("in", other_bits({"ts", "sack", "ecn"}))
    assert bits.text() == opts.text()


@pytest.mark.parametrize("opts, flags, other", [
    (b"\x05\x0a" + bytes(8), 0x10, {"sack"}),                          # SACK blocks (RFC 2018 3)
    (b"\x13\x12" + bytes(16), 0x10, {"md5"}),                          # TCP MD5 signature (RFC 2385)
    (b"\x1e\x04" + bytes(2), 0x10, {"mptcp"}),                         # MPTCP (RFC 8684)
    (b"\x63\x02", 0x10, {"option"}),                                   # a kind nobody assigned
    (b"\x08\x0a" + bytes(8) + b"\x02\x04\x05\xb4", 0x10, set()),     # timestamps and MSS: fields of their own
    (b"", 0xD0, {"ecn"}),                                              # ACK with ECE and CWR (RFC 3168)
    (b"", 0x30, {"urg"}),                                              # URG
])
def test_options_no_rule_reads_are_named_on_the_packet(tmp_path, opts, flags, other):
    """Every option kind other than those read (MSS, window scale, SACK-permitted, timestamps, Fast
    Open) and the flags the segment drops (URG, ECE, CWR) are named on the packet, so a verdict can
    say it did not look at them; the segment itself keeps the five flags the table reads."""
    path = str(tmp_path / "other.pcap")
    pad = opts + b"\x00" * (-len(opts) % 4)
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1000, 5000, (5 + len(pad) // 4) << 4, flags, 1000, 0, 0) + pad
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, b"\x0a\0\0\x01", b"\x0a\0\0\x02")
    buf = b"\0" * 12 + b"\x08\x00" + ip + tcp
    pcap_records(path, [(100.0, buf, len(buf))])
    (p,) = list(read_capture(path))
    assert set(p.other) == other and p.seg.flags == flags & 0x1F


def test_the_other_options_survive_json_lines():
    from synack.oracle.events import SegmentEvent, event_from_json
    from synack.spec import Segment
    ev = SegmentEvent("in", Segment.make("ACK", 7, 9, wnd=1000), 1.0, 1000, other=frozenset({"sack", "ecn"}))
    d = ev.to_json()
    assert d["other"] == ["sack", "ecn"] and event_from_json(d) == ev
    for bad in ({"other": "sack"}, {"other": ["sack_ok"]}, {"other": ["nope"]}):
        with pytest.raises(TraceError):
            event_from_json({**d, **bad})


def _icmp_frame(typ, code, quoted_proto=6, seq=5000, quote=28):
    """An Ethernet frame carrying an ICMPv4 message from 10.0.0.9 that quotes a TCP segment
    10.0.0.1:40000 -> 10.0.0.2:80 with SEQ `seq` (RFC 792: its IP header and 64 bits of data)."""
    inner = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, quoted_proto, 0, b"\x0a\0\0\x01", b"\x0a\0\0\x02")
    inner += struct.pack("!HHI", 40000, 80, seq) + bytes(12)
    body = struct.pack("!BBHI", typ, code, 0, 0) + inner[:quote]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0, 64, 1, 0, b"\x0a\0\0\x09", b"\x0a\0\0\x01")
    return b"\0" * 12 + b"\x08\x00" + ip + body


@pytest.mark.parametrize("typ, code", [(3, 0), (3, 1), (3, 3), (3, 4), (4, 0), (11, 0), (12, 0)])
def test_an_icmp_error_quoting_tcp_is_an_event_for_the_end_that_sent_the_segment(tmp_path, typ, code):
    """RFC 9293 3.9.2.2 (MUST-54): the error goes to the connection the quoted header names; the
    addresses and ports are the quoted segment's (the sender's end first), SEQ the quoted one."""
    from synack.oracle.capture import IcmpError
    path = str(tmp_path / "icmp.pcap")
    buf = _icmp_frame(typ, code)
    pcap_records(path, [(100.0, buf, len(buf))])
    st = CaptureStats()
    (e,) = list(read_capture(path, st))
    assert e == IcmpError(100.0, "10.0.0.1", 40000, "10.0.0.2", 80, typ, code, 5000)
    assert st.non_tcp == 1 and st.tcp == 0
    assert list(read_capture(path, icmp=False)) == []


@pytest.mark.parametrize("frame", [
    _icmp_frame(0, 0),                      # echo reply: not an error
    _icmp_frame(5, 1),                      # redirect: not an error of the connection
    _icmp_frame(3, 1, quoted_proto=17),     # quoting UDP
    _icmp_frame(3, 1, quote=24),            # the quote cut before the SEQ
])
def test_other_icmp_messages_are_not_events(tmp_path, frame):
    path = str(tmp_path / "other.pcap")
    pcap_records(path, [(100.0, frame, len(frame))])
    st = CaptureStats()
    assert list(read_capture(path, st)) == [] and st.non_tcp == 1


def test_icmp_events_survive_json_lines(monkeypatch):
    """An ICMP event as a JSON Lines line; while the monitor does not judge ICMP (Monitor.takes_icmp)
    such a line is bad input naming the line, not a monitor meeting an event it cannot judge."""
    from synack.oracle.events import IcmpEvent, event_from_json
    from synack.oracle.monitor import Monitor
    ev = IcmpEvent(3, 1, 4100641975, 0.5)
    assert ev.to_json() == {"icmp": [3, 1], "seq": 4100641975, "t": 0.5}
    monkeypatch.setattr(Monitor, "takes_icmp", False, raising=False)
    with pytest.raises(TraceError, match="trace.jsonl:3: an ICMP event"):
        event_from_json(ev.to_json(), "trace.jsonl:3")
    monkeypatch.setattr(Monitor, "takes_icmp", True, raising=False)
    assert event_from_json(ev.to_json()) == ev
    assert str(ev) == "IUT receives ICMP host unreachable (type 3 code 1) quoting seq=4100641975 at t=0.500000"
    for bad in ({"icmp": [3]}, {"icmp": [3, 256]}, {"icmp": "3,1"}, {"icmp": [3, 1]}):
        with pytest.raises(TraceError):
            event_from_json({"seq": 1, **bad} if "seq" not in bad and bad != {"icmp": [3, 1]} else bad)
