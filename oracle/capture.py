"""Packet captures in: every bit of capture decoding lives here, so the parser can be swapped.

dpkt reads the file formats (pcap with micro- or nanosecond stamps, pcapng) and decodes the
headers: it is BSD-licensed, pure Python and reads both formats. Link types: Ethernet (with
802.1Q/802.1ad VLAN tags), Linux cooked (SLL and SLL2), raw IP and BSD loopback (NULL, LOOP).
IPv4 and IPv6. Checksums are not verified (captures taken on the sending host carry
unfinished offloaded checksums).

`read_capture(path)` yields `Packet`s; non-TCP packets, IP fragments and malformed frames are
counted in `CaptureStats`, never fatal. A file that is not a capture, or that ends inside a
record, raises `TraceError` with the byte offset.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import IO, Iterator, NamedTuple

import dpkt

from synack.spec.model import Segment

from .events import TraceError

# link types (https://www.tcpdump.org/linktypes.html)
NULL, EN10MB, RAW, RAW_OPENBSD, LOOP, LINUX_SLL, IPV4, IPV6, LINUX_SLL2 = 0, 1, 101, 14, 108, 113, 228, 229, 276
RAW_TYPES = (RAW, 12, RAW_OPENBSD, IPV4, IPV6)
ETH_IP, ETH_IP6, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8
TCP_PROTO = 6


class Packet(NamedTuple):
    """One TCP segment as captured: time, addresses and ports, the segment, and options."""

    t: float
    src: str
    sport: int
    dst: str
    dport: int
    seg: Segment
    win: int
    wscale: int | None
    mss: int | None
    ts: tuple[int, int] | None


@dataclass
class CaptureStats:
    frames: int = 0
    tcp: int = 0
    non_tcp: int = 0
    fragments: int = 0
    malformed: int = 0
    link_type: int = -1
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"frames": self.frames, "tcp_segments": self.tcp, "non_tcp": self.non_tcp,
                "fragments": self.fragments, "malformed": self.malformed, "link_type": self.link_type}


def _addr(raw: bytes) -> str:
    if len(raw) == 4:
        return "%d.%d.%d.%d" % tuple(raw)
    import ipaddress
    return str(ipaddress.IPv6Address(raw))


def _ip_from_link(buf: bytes, link: int):
    """The network-layer bytes and their ethertype, or (None, 0) for a frame that is not IP."""
    if link == EN10MB:
        if len(buf) < 14:
            raise ValueError("short Ethernet header")
        etype = struct.unpack_from("!H", buf, 12)[0]
        off = 14
        while etype in (ETH_VLAN, ETH_QINQ):
            if len(buf) < off + 4:
                raise ValueError("short VLAN tag")
            etype = struct.unpack_from("!H", buf, off + 2)[0]
            off += 4
        return buf[off:], etype
    if link == LINUX_SLL:
        if len(buf) < 16:
            raise ValueError("short SLL header")
        return buf[16:], struct.unpack_from("!H", buf, 14)[0]
    if link == LINUX_SLL2:
        if len(buf) < 20:
            raise ValueError("short SLL2 header")
        return buf[20:], struct.unpack_from("!H", buf, 0)[0]
    if link in (NULL, LOOP):
        if len(buf) < 4:
            raise ValueError("short loopback header")
        fam = struct.unpack_from("<I" if link == NULL else "!I", buf, 0)[0]
        if fam > 0xFFFF:                       # written on the other byte order
            fam = struct.unpack_from(">I" if link == NULL else "<I", buf, 0)[0]
        return buf[4:], ETH_IP if fam == 2 else (ETH_IP6 if fam in (10, 24, 28, 30) else 0)
    if link in RAW_TYPES:
        if not buf:
            raise ValueError("empty raw IP packet")
        v = buf[0] >> 4
        return buf, ETH_IP if v == 4 else (ETH_IP6 if v == 6 else 0)
    raise TraceError(f"unsupported link type {link}; synack reads Ethernet (1), Linux cooked SLL (113) and "
                     "SLL2 (276), raw IP (101, 228, 229) and BSD loopback (0, 108)")


def decode(ts: float, buf: bytes, link: int, stats: CaptureStats) -> Packet | None:
    """Decode one frame; None (and a count in `stats`) for anything that is not a whole TCP segment."""
    stats.frames += 1
    try:
        net, etype = _ip_from_link(buf, link)
        if etype == ETH_IP:
            ip = dpkt.ip.IP(net)
            if ip.p != TCP_PROTO:
                stats.non_tcp += 1
                return None
            if ip.mf or ip.offset:
                stats.fragments += 1
                return None
            tcp = ip.data
            payload = ip.len - ip.hl * 4 - tcp.off * 4
        elif etype == ETH_IP6:
            ip = dpkt.ip6.IP6(net)
            if ip.p == 44 or 44 in getattr(ip, "extension_hdrs", {}) and ip.extension_hdrs.get(44):
                stats.fragments += 1
                return None
            if ip.p != TCP_PROTO:
                stats.non_tcp += 1
                return None
            tcp = ip.data
            ext = sum(len(bytes(h)) for h in getattr(ip, "all_extension_headers", []) or [])
            payload = ip.plen - ext - tcp.off * 4
        else:
            stats.non_tcp += 1
            return None
        if not isinstance(tcp, dpkt.tcp.TCP) or tcp.off < 5 or payload < 0:
            raise ValueError("bad TCP header")
    except (dpkt.UnpackError, ValueError, struct.error, AttributeError, IndexError):
        stats.malformed += 1
        return None
    wscale = mss = tsopt = None
    if tcp.opts:
        try:
            for kind, data in dpkt.tcp.parse_opts(tcp.opts):
                if kind == dpkt.tcp.TCP_OPT_MSS and len(data) == 2:
                    mss = struct.unpack("!H", data)[0]
                elif kind == dpkt.tcp.TCP_OPT_WSCALE and len(data) == 1:
                    wscale = min(data[0], 14)
                elif kind == dpkt.tcp.TCP_OPT_TIMESTAMP and len(data) == 8:
                    tsopt = struct.unpack("!II", data)
        except (dpkt.UnpackError, ValueError, struct.error):
            pass
    flags = tcp.flags & 0x1F
    stats.tcp += 1
    seg = Segment(flags, tcp.seq, tcp.ack if flags & 0x10 else 0, min(payload, 0xFFFF), tcp.win)
    return Packet(ts, _addr(ip.src), tcp.sport, _addr(ip.dst), tcp.dport, seg, tcp.win, wscale, mss, tsopt)


def _records(fh: IO[bytes], path: str, size: int, stats: CaptureStats) -> Iterator[tuple[float, bytes, int]]:
    magic = fh.read(4)
    fh.seek(0)
    if magic == b"\x0a\x0d\x0d\x0a":
        try:
            rd = dpkt.pcapng.Reader(fh)
        except (ValueError, dpkt.UnpackError, struct.error) as exc:
            raise TraceError(f"{path}: not a readable pcapng file ({exc})") from None
        link = rd.datalink()
        stats.link_type = link
        it = iter(rd)
        while True:
            try:
                ts, buf = next(it)
            except StopIteration:
                break
            except (ValueError, dpkt.UnpackError, struct.error, dpkt.NeedData) as exc:
                raise TraceError(f"{path}: corrupt or truncated pcapng block at byte offset {fh.tell()} "
                                 f"of {size} ({exc})") from None
            yield ts, buf, link
        if fh.tell() < size:
            raise TraceError(f"{path}: truncated or corrupt pcapng: reading stopped at byte offset {fh.tell()} "
                             f"of {size}")
        return
    try:
        rd = dpkt.pcap.Reader(fh)
    except (ValueError, dpkt.UnpackError, struct.error) as exc:
        raise TraceError(f"{path}: not a pcap or pcapng file ({exc})") from None
    link = rd.datalink()
    stats.link_type = link
    off = last = 24
    last_len = -1
    it = iter(rd)
    while True:
        try:
            ts, buf = next(it)
        except StopIteration:
            break
        except (dpkt.UnpackError, dpkt.NeedData, struct.error):
            raise TraceError(f"{path}: truncated pcap: the record header at byte offset {off} of {size} is "
                             "incomplete") from None
        last, last_len = off, len(buf)
        off += 16 + len(buf)
        yield float(ts), buf, link
    if last_len >= 0:
        # dpkt yields a short last record as it is: compare with the caplen its header declares
        here = fh.tell()
        fh.seek(last + 8)
        raw = fh.read(4)
        fh.seek(here)
        caplen = struct.unpack((">" if magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d") else "<") + "I", raw)[0]
        if caplen > last_len:
            raise TraceError(f"{path}: truncated pcap: the record at byte offset {last} declares {caplen} bytes, "
                             f"the file holds {last_len}")


def read_capture(path: str, stats: CaptureStats | None = None) -> Iterator[Packet]:
    """Stream the TCP segments of a pcap or pcapng file (`stats` collects the counts)."""
    stats = stats if stats is not None else CaptureStats()
    try:
        size = os.path.getsize(path)
        fh = open(path, "rb")
    except OSError as exc:
        raise TraceError(f"cannot read capture {path!r}: {exc.strerror}") from None
    with fh:
        for ts, buf, link in _records(fh, path, size, stats):
            p = decode(ts, buf, link, stats)
            if p is not None:
                yield p
