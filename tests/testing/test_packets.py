"""The kit's datagrams: what it builds is what a stack parses (checksums included), and what
a stack sends comes back as the segment it carries."""
import dpkt

from synack.spec.model import ACK, FIN, SYN, Segment
from synack.testing.packets import Addr, build, parse

A = Addr("10.0.0.1", 40000, "10.0.0.2", 80)


def test_round_trip_with_mss_on_syn_only():
    syn = parse(build(A, Segment(SYN, 4294967295, 0, 0, 65535), mss=1460))
    assert (syn.addr, syn.seg[:5], syn.mss, syn.seg.mss) == (A, (SYN, 4294967295, 0, 0, 65535), 1460, 1460)
    data = parse(build(A, Segment(ACK | FIN, 7, 9, 100, 1000), mss=1460))
    assert data.seg == Segment(ACK | FIN, 7, 9, 100, 1000) and data.mss is None


def test_checksums_verify():
    raw = build(A, Segment(ACK, 1, 2, 10, 500))
    ip = dpkt.ip.IP(raw)
    good_ip, good_tcp = ip.sum, ip.data.sum
    ip.sum = 0
    ip.data.sum = 0
    again = dpkt.ip.IP(bytes(ip))           # dpkt recomputes zeroed checksums when packing
    assert (again.sum, again.data.sum) == (good_ip, good_tcp) and good_tcp != 0


def test_not_tcp_is_ignored():
    udp = dpkt.ip.IP(src=b"\x0a\0\0\x01", dst=b"\x0a\0\0\x02", p=dpkt.ip.IP_PROTO_UDP,
                     data=dpkt.udp.UDP(sport=1, dport=2))
    assert parse(bytes(udp)) is None
    assert parse(b"\x60\x00garbage") is None
    assert parse(build(A, Segment(ACK, 1, 2))[:30]) is None
