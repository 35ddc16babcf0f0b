"""Packet captures in: every bit of capture decoding lives here, so the parser can be swapped.

dpkt reads the file formats (pcap with micro- or nanosecond stamps, pcapng) and decodes IPv6:
it is BSD-licensed, pure Python and reads both formats. IPv4 and TCP headers, the bulk of
every capture, are decoded here with `struct` instead: 0.7 us a frame against dpkt's 6.7 us
(bench/oracle_bench.py spends most of its decoding time there); a test checks that both
decoders agree on every capture the tests use. Link types: Ethernet (with
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
LINK_TYPES = frozenset({NULL, EN10MB, LOOP, LINUX_SLL, LINUX_SLL2, *RAW_TYPES})
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
    last_t: float | None = None        # the last frame's time, of any kind: how far the capture went

    def to_json(self) -> dict:
        return {"frames": self.frames, "tcp_segments": self.tcp, "non_tcp": self.non_tcp,
                "fragments": self.fragments, "malformed": self.malformed, "link_type": self.link_type}


_ADDRS: dict[bytes, str] = {}


def _addr(raw: bytes) -> str:
    a = _ADDRS.get(raw)
    if a is None:
        if len(raw) == 4:
            a = "%d.%d.%d.%d" % tuple(raw)
        else:
            import ipaddress
            a = str(ipaddress.IPv6Address(raw))
        if len(_ADDRS) > 65536:
            _ADDRS.clear()
        _ADDRS[raw] = a
    return a


_IP4 = struct.Struct("!BxHxxHxB2x4s4s")      # version/IHL, total length, flags/fragment, protocol, src, dst
_TCP = struct.Struct("!HHIIBBH")             # ports, SEQ, ACK, data offset, flags, window
NOT_TCP, FRAGMENT = "not TCP", "fragment"


def _ipv4(net: bytes):
    """(src, dst, TCP header bytes from the start, payload length) of an IPv4 packet, or
    NOT_TCP / FRAGMENT; ValueError when malformed."""
    if len(net) < 20:
        raise ValueError("short IPv4 header")
    vhl, total, frag, proto, src, dst = _IP4.unpack_from(net)
    ihl = (vhl & 15) * 4
    if vhl >> 4 != 4 or ihl < 20 or total < ihl:
        raise ValueError("bad IPv4 header")
    if proto != TCP_PROTO:
        return NOT_TCP
    if frag & 0x3FFF:                         # more fragments, or a fragment offset
        return FRAGMENT
    return src, dst, net[ihl:], total - ihl


def _ipv6(net: bytes):
    """The same for IPv6, decoded by dpkt (extension headers)."""
    ip = dpkt.ip6.IP6(net)
    if ip.p == 44 or 44 in getattr(ip, "extension_hdrs", {}) and ip.extension_hdrs.get(44):
        return FRAGMENT
    if ip.p != TCP_PROTO:
        return NOT_TCP
    ext = sum(len(bytes(h)) for h in getattr(ip, "all_extension_headers", []) or [])
    return ip.src, ip.dst, bytes(ip.data), ip.plen - ext


def _options(b: bytes, end: int):
    """MSS, window scale and timestamps from the TCP options in b[20:end]."""
    mss = wscale = ts = None
    i = 20
    while i < end:
        kind = b[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= end or b[i + 1] < 2 or i + b[i + 1] > end:
            break
        n = b[i + 1]
        if kind == 2 and n == 4:
            mss = struct.unpack_from("!H", b, i + 2)[0]
        elif kind == 3 and n == 3:
            wscale = min(b[i + 2], 14)
        elif kind == 8 and n == 10:
            ts = struct.unpack_from("!II", b, i + 2)
        i += n
    return mss, wscale, ts


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
    raise TraceError(unsupported_link(link))


def decode(ts: float, buf: bytes, link: int, stats: CaptureStats) -> Packet | None:
    """Decode one frame; None (and a count in `stats`) for anything that is not a whole TCP segment."""
    stats.frames += 1
    stats.last_t = ts
    try:
        net, etype = _ip_from_link(buf, link)
        r = _ipv4(net) if etype == ETH_IP else _ipv6(net) if etype == ETH_IP6 else NOT_TCP
        if r is NOT_TCP or r is FRAGMENT:
            if r is NOT_TCP:
                stats.non_tcp += 1
            else:
                stats.fragments += 1
            return None
        src, dst, tcp, length = r
        if len(tcp) < 20:
            raise ValueError("short TCP header")
        sport, dport, seq, ack, off, flags, win = _TCP.unpack_from(tcp)
        hl = (off >> 4) * 4
        payload = length - hl
        if hl < 20 or payload < 0:
            raise ValueError("bad TCP header")
    except (dpkt.UnpackError, ValueError, struct.error, AttributeError, IndexError):
        stats.malformed += 1
        return None
    mss, wscale, tsopt = _options(tcp, min(hl, len(tcp))) if hl > 20 else (None, None, None)
    flags &= 0x1F
    stats.tcp += 1
    seg = Segment(flags, seq, ack if flags & 0x10 else 0, min(payload, 0xFFFF), win)
    return Packet(ts, _addr(src), sport, _addr(dst), dport, seg, win, wscale, mss, tsopt)


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
        _check_link(path, link)
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
    _check_link(path, link)
    off = last = 24
    last_len = -1
    it = iter(rd)
    while True:
        try:
            ts, buf = next(it)
        except StopIteration:
            break
        except (dpkt.UnpackError, dpkt.NeedData, struct.error):
            raise TraceError(truncated_header(path, off, size)) from None
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
            raise TraceError(truncated_record(path, last, caplen, last_len))


def unsupported_link(link: int) -> str:
    return (f"unsupported link type {link}; synack reads Ethernet (1), Linux cooked SLL (113) and SLL2 (276), raw "
            "IP (101, 228, 229) and BSD loopback (0, 108)")


def _check_link(path: str, link: int) -> None:
    """A link type no decoder here reads is an error about the file, not a malformed frame each."""
    if link not in LINK_TYPES:
        raise TraceError(f"{path}: {unsupported_link(link)}")


def truncated_header(path: str, off: int, size: int) -> str:
    return f"{path}: truncated pcap: the record header at byte offset {off} of {size} is incomplete"


def truncated_record(path: str, off: int, caplen: int, held: int) -> str:
    return f"{path}: truncated pcap: the record at byte offset {off} declares {caplen} bytes, the file holds {held}"


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
