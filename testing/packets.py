"""IPv4/TCP datagrams for the kit's peer, and the reverse: what the stack sent, as segments.
dpkt builds and parses them (checksums included), so a stack that verifies checksums
accepts the kit's packets. The kit's SYNs carry only the MSS option: no window scaling,
timestamps or SACK, so the IUT's window fields are unscaled and nothing outside the
modelled options is negotiated."""
from __future__ import annotations

import socket
from dataclasses import dataclass

import dpkt

from synack.spec.model import SYN, Segment

#: The byte the peer's payloads are filled with.
FILLER = b"x"


@dataclass(frozen=True)
class Addr:
    """One direction's endpoints: (source address, source port, destination address, destination port)."""
    src: str
    sport: int
    dst: str
    dport: int

    def reverse(self) -> "Addr":
        return Addr(self.dst, self.dport, self.src, self.sport)


@dataclass(frozen=True)
class Packet:
    """A TCP segment the IUT sent, decoded: its addresses, the segment, its window field and
    MSS option (None when absent)."""
    addr: Addr
    seg: Segment
    win: int
    mss: int | None
    wscale: int | None = None


def build(addr: Addr, seg: Segment, mss: int | None = None, ttl: int = 64, ip_id: int = 0) -> bytes:
    """The IPv4 datagram carrying `seg` from addr.src:sport to addr.dst:dport, with `seg.data`
    bytes of filler and, on a SYN, the MSS option."""
    opts = b""
    if seg.flags & SYN and mss is not None:
        opts = bytes([dpkt.tcp.TCP_OPT_MSS, 4]) + int(mss).to_bytes(2, "big")
    tcp = dpkt.tcp.TCP(sport=addr.sport, dport=addr.dport, seq=seg.seq, ack=seg.ack, flags=seg.flags,
                       win=min(seg.wnd, 0xFFFF), opts=opts, data=FILLER * seg.data)
    tcp.off = (20 + len(opts)) // 4
    ip = dpkt.ip.IP(src=socket.inet_aton(addr.src), dst=socket.inet_aton(addr.dst), p=dpkt.ip.IP_PROTO_TCP, ttl=ttl,
                    id=ip_id, data=tcp)
    ip.len = 20 + len(bytes(tcp))
    return bytes(ip)


def parse(datagram: bytes) -> Packet | None:
    """The TCP segment in an IPv4 datagram, or None for anything else (ICMP, IPv6, a fragment,
    a truncated or malformed datagram): the kit ignores what is not a TCP segment."""
    try:
        ip = dpkt.ip.IP(datagram)
    except (dpkt.UnpackError, ValueError):
        return None
    if ip.p != dpkt.ip.IP_PROTO_TCP or not isinstance(ip.data, dpkt.tcp.TCP) or ip.mf or ip.offset:
        return None
    tcp = ip.data
    mss = wscale = None
    try:
        for kind, val in dpkt.tcp.parse_opts(tcp.opts):
            if kind == dpkt.tcp.TCP_OPT_MSS and len(val) == 2:
                mss = int.from_bytes(val, "big")
            elif kind == dpkt.tcp.TCP_OPT_WSCALE and len(val) == 1:
                wscale = val[0]
    except (dpkt.UnpackError, ValueError, IndexError):
        pass
    flags = tcp.flags & 0x1F
    seg = Segment.with_options(flags, tcp.seq, tcp.ack if flags & 0x10 else 0, len(tcp.data), tcp.win, mss, wscale)
    return Packet(Addr(socket.inet_ntoa(ip.src), tcp.sport, socket.inet_ntoa(ip.dst), tcp.dport), seg, tcp.win, mss,
                  wscale)
