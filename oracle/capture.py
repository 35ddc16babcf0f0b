"""Packet captures in: every bit of capture decoding lives here, so the parser can be swapped.

dpkt reads the file formats (pcap with micro- or nanosecond stamps, pcapng) and decodes IPv6:
it is BSD-licensed, pure Python and reads both formats. IPv4 and TCP headers, the bulk of
every capture, are decoded here with `struct` instead: 0.7 us a frame against dpkt's 6.7 us
(bench/oracle_bench.py spends most of its decoding time there); a test checks that both
decoders agree on every capture the tests use. Link types: Ethernet (with
802.1Q/802.1ad VLAN tags), Linux cooked (SLL and SLL2), raw IP and BSD loopback (NULL, LOOP).
IPv4 and IPv6. Checksums are not verified (captures taken on the sending host carry
unfinished offloaded checksums).

`read_capture(path or source)` yields `Packet`s, and a `Lost` for every IPv4 TCP frame that
cannot be judged (malformed, a fragment) and for every drop the capture records (pcapng
EPB drop counts, ISB ifdrop/osdrop): the judge marks the connection it belonged to (or, with
only the hosts known, their live connections; for a capture drop, every live connection)
unjudgeable rather than blame the IUT for what it cannot see. Non-TCP frames and the frames
nothing can be told of are counted in `CaptureStats`, never fatal. A file that is not a
capture, that ends inside a record or block, or whose blocks do not fit together raises
`TraceError` with the byte offset.

Both formats are read here, not by dpkt's readers: the input is a stream read once (a pipe
gives its bytes once), the link-type field follows libpcap's pcap-common.h (LT_LINKTYPE: the
low 16 bits; reserved bits 0x03FF0000 set is an error), and dpkt's pcapng reader skips
simple packet blocks and unknown blocks without a word and cannot say where a block is cut.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Iterator, NamedTuple

import dpkt

from synack.spec.model import Segment

from .events import TraceError

# link types (https://www.tcpdump.org/linktypes.html)
NULL, EN10MB, RAW, RAW_OPENBSD, LOOP, LINUX_SLL, IPV4, IPV6, LINUX_SLL2 = 0, 1, 101, 14, 108, 113, 228, 229, 276
RAW_TYPES = (RAW, 12, RAW_OPENBSD, IPV4, IPV6)
LINK_TYPES = frozenset({NULL, EN10MB, LOOP, LINUX_SLL, LINUX_SLL2, *RAW_TYPES})
ETH_IP, ETH_IP6, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8
TCP_PROTO = 6


class Lost(NamedTuple):
    """A frame the judge cannot follow (malformed, a fragment) or a drop the capture records:
    `frame` (1-based), why, and whom it concerns: the 4-tuple, or only the hosts (ports None),
    or nobody known (every address None: a capture drop, which concerns every live connection)."""

    frame: int
    why: str
    t: float
    src: str | None = None
    sport: int | None = None
    dst: str | None = None
    dport: int | None = None


#: Why a frame is lost, by code (the native judge reports the same codes); `{}`: its number.
WHY = {1: "malformed (IPv4 header length {})", 2: "malformed (IPv4 total length {} beyond the captured frame)",
       3: "malformed (TCP data offset {})", 4: "malformed (TCP header cut short)", 5: "an IPv4 fragment",
       6: "malformed (IPv4 total length {} shorter than its headers)"}


class Malformed(ValueError):
    """A frame that cannot be decoded; `code`, `arg`: WHY's entry; `raw`: the IPv4 header when
    it names the hosts, `ports`: the TCP ports when they were captured."""

    def __init__(self, code: int, arg: int = 0, raw: bytes | None = None, ports: tuple | None = None):
        super().__init__(WHY[code].format(arg))
        self.code, self.arg, self.raw, self.ports = code, arg, raw, ports


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
    sack_ok: bool = False            # SACK-permitted (RFC 2018 2): recorded, not modelled
    other: frozenset = frozenset()   # further options and flags recorded, not modelled (events.OTHER names)


class IcmpError(NamedTuple):
    """An ICMPv4 error quoting a TCP header (RFC 792; RFC 9293 3.9.2.2): the addresses and ports are
    the quoted segment's, so `src`:`sport` is the end that sent it and to which the error is news;
    `seq` is the quoted SEQ (Linux tcp_v4_err() matches the connection and checks it)."""

    t: float
    src: str
    sport: int
    dst: str
    dport: int
    type: int
    code: int
    seq: int


#: ICMPv4 error types that quote the datagram in error and that TCP acts on or must discard
#: (RFC 9293 3.9.2.2, RFC 1122 4.2.3.9): Destination Unreachable, Source Quench, Time Exceeded,
#: Parameter Problem. Redirects and queries are not errors of the connection.
ICMP_ERRORS = frozenset({3, 4, 11, 12})
ICMP_PROTO = 1


@dataclass
class CaptureStats:
    frames: int = 0
    tcp: int = 0
    non_tcp: int = 0
    fragments: int = 0
    malformed: int = 0
    link_type: int = -1
    dropped: int = 0                 # frames the capture says it dropped (pcapng)
    unknown_blocks: dict = field(default_factory=dict)   # pcapng block type -> count
    notes: list[str] = field(default_factory=list)
    last_t: float | None = None        # the last frame's time, of any kind: how far the capture went

    def to_json(self) -> dict:
        return {"frames": self.frames, "tcp_segments": self.tcp, "non_tcp": self.non_tcp,
                "fragments": self.fragments, "malformed": self.malformed, "link_type": self.link_type,
                "dropped": self.dropped, "unknown_blocks": {f"0x{k:08x}": v for k, v in self.unknown_blocks.items()}}


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


def _ipv4(net: bytes, wire: int):
    """(src, dst, TCP header bytes from the start, payload length) of an IPv4 packet, or
    NOT_TCP; Malformed (with what it knows of the hosts and ports) for a frame that cannot be
    judged, fragments included. `wire`: the IP bytes on the wire (more than `len(net)` when the
    capture kept a snapshot of the frame): a total length beyond them is a lie, not data."""
    if len(net) < 20:
        raise ValueError("short IPv4 header")
    vhl, total, frag, proto, src, dst = _IP4.unpack_from(net)
    if vhl >> 4 != 4:
        raise ValueError("not IPv4")
    if proto == ICMP_PROTO and not frag & 0x3FFF:
        return _icmp(net[(vhl & 15) * 4:])
    if proto != TCP_PROTO:
        return NOT_TCP
    ihl = (vhl & 15) * 4
    raw = net[:20]
    ports = _IP4PORTS.unpack_from(net, ihl) if ihl >= 20 and len(net) >= ihl + 4 else None
    if ihl < 20:
        raise Malformed(1, ihl, raw)
    if frag & 0x3FFF:                         # more fragments, or a fragment offset
        raise Malformed(5, 0, raw, ports if frag & 0x1FFF == 0 else None)
    if total > wire:
        raise Malformed(2, total, raw, ports)
    if total < ihl:
        raise Malformed(6, total, raw, ports)
    return src, dst, net[ihl:], total - ihl


_IP4PORTS = struct.Struct("!HH")
_QUOTED = struct.Struct("!HHI")              # the quoted TCP header's ports and SEQ (RFC 792: 64 bits of it)


def _icmp(body: bytes):
    """An ICMPv4 error quoting an IPv4 TCP header (dpkt reads the ICMP header) as (type, code,
    quoted source, quoted destination, ports, SEQ), or NOT_TCP for any other ICMP message."""
    try:
        msg = dpkt.icmp.ICMP(body)
    except (dpkt.UnpackError, struct.error, ValueError):
        return NOT_TCP
    if msg.type not in ICMP_ERRORS:
        return NOT_TCP
    quoted = body[8:]                        # type, code, checksum and 4 bytes (unused, pointer or MTU)
    if len(quoted) < 20 or quoted[0] >> 4 != 4 or quoted[9] != TCP_PROTO:
        return NOT_TCP
    ihl = (quoted[0] & 15) * 4
    if ihl < 20 or len(quoted) < ihl + _QUOTED.size:
        return NOT_TCP
    sport, dport, seq = _QUOTED.unpack_from(quoted, ihl)
    return ICMP, msg.type, msg.code, quoted[12:16], quoted[16:20], sport, dport, seq


ICMP = "icmp"


def _ipv6(net: bytes):
    """The same for IPv6, decoded by dpkt (extension headers)."""
    ip = dpkt.ip6.IP6(net)
    if ip.p == 44 or 44 in getattr(ip, "extension_hdrs", {}) and ip.extension_hdrs.get(44):
        return FRAGMENT
    if ip.p != TCP_PROTO:
        return NOT_TCP
    ext = sum(len(bytes(h)) for h in getattr(ip, "all_extension_headers", []) or [])
    return ip.src, ip.dst, bytes(ip.data), ip.plen - ext


#: TCP option kinds read here (IANA "TCP Option Kind Numbers").
OPT_MSS, OPT_WSCALE, OPT_SACK_OK, OPT_TS, OPT_TFO, OPT_EXP = 2, 3, 4, 8, 34, 254
#: RFC 7413 2.1 / RFC 6994: the experimental option's magic for Fast Open (what Linux sent before
#: kind 34 was assigned, and still accepts: tcp_parse_fastopen_option()).
TFO_MAGIC = 0xF989


#: Option kinds recorded by name but not read (events.IGNORED); any other kind is "option".
OTHER_KINDS = {5: "sack", 19: "md5", 29: "ao", 30: "mptcp"}
_READ_KINDS = frozenset({OPT_MSS, OPT_WSCALE, OPT_SACK_OK, OPT_TS, OPT_TFO})
_SETS: dict = {}


def _interned(names: set) -> frozenset:
    """One frozenset per distinct set of names (a capture holds a handful of them)."""
    key = tuple(sorted(names))
    s = _SETS.get(key)
    if s is None:
        s = _SETS[key] = frozenset(names)
    return s


def _options(b: bytes, end: int):
    """MSS, window scale, timestamps, SACK-permitted, the TCP Fast Open cookie option
    (Segment.tfo: 0 none, 1 a cookie request (no cookie bytes), 2 a cookie) and the names of
    the other options present (`OTHER_KINDS`, else "option") from the TCP options in b[20:end]."""
    mss = wscale = ts = None
    sack_ok, tfo = False, 0
    other = None
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
        if kind == OPT_MSS and n == 4:
            mss = struct.unpack_from("!H", b, i + 2)[0]
        elif kind == OPT_WSCALE and n == 3:
            wscale = min(b[i + 2], 14)
        elif kind == OPT_TS and n == 10:
            ts = struct.unpack_from("!II", b, i + 2)
        elif kind == OPT_SACK_OK and n == 2:
            sack_ok = True
        elif kind == OPT_TFO:
            tfo = 1 if n == 2 else 2
        elif kind == OPT_EXP and n >= 4 and struct.unpack_from("!H", b, i + 2)[0] == TFO_MAGIC:
            tfo = 1 if n == 4 else 2
        elif kind not in _READ_KINDS:
            (other := other if other is not None else set()).add(OTHER_KINDS.get(kind, "option"))
        i += n
    return mss, wscale, ts, sack_ok, tfo, other


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


def decode(ts: float, buf: bytes, link: int, stats: CaptureStats, wire: int | None = None,
           icmp: bool = False) -> "Packet | Lost | IcmpError | None":
    """Decode one frame (`wire`: its length on the wire, when more was sent than captured).
    A TCP segment is a Packet; an IPv4 TCP frame that cannot be judged is a Lost naming what
    is known of its connection; with `icmp`, an ICMPv4 error quoting a TCP header is an
    IcmpError (counted as not TCP either way); anything else is None (and a count in `stats`).
    ICMPv6 errors are not read (not modelled)."""
    stats.frames += 1
    stats.last_t = ts
    try:
        net, etype = _ip_from_link(buf, link)
        if etype == ETH_IP:
            r = _ipv4(net, len(net) + max(0, (wire or 0) - len(buf)))
        else:
            r = _ipv6(net) if etype == ETH_IP6 else NOT_TCP
        if r is NOT_TCP or r is FRAGMENT:
            if r is NOT_TCP:
                stats.non_tcp += 1
            else:
                stats.fragments += 1
            return None
        if r[0] is ICMP:                     # counted as not TCP; an event for the quoted connection
            stats.non_tcp += 1
            if not icmp:
                return None
            _, typ, code, qsrc, qdst, sport, dport, seq = r
            return IcmpError(ts, _addr(qsrc), sport, _addr(qdst), dport, typ, code, seq)
        src, dst, tcp, length = r
        if len(tcp) < 20:
            if etype == ETH_IP and len(tcp) >= 4:
                raise Malformed(4, 0, net[:20], _IP4PORTS.unpack_from(tcp))
            raise ValueError("short TCP header")
        sport, dport, seq, ack, off, flags, win = _TCP.unpack_from(tcp)
        hl = (off >> 4) * 4
        payload = length - hl
        if etype == ETH_IP and hl < 20:
            raise Malformed(3, off >> 4, net[:20], (sport, dport))
        if etype == ETH_IP and payload < 0:
            raise Malformed(6, length + (net[0] & 15) * 4, net[:20], (sport, dport))
        if hl < 20 or payload < 0:
            raise ValueError("bad TCP header")
    except Malformed as m:
        if m.code == 5:
            stats.fragments += 1
        else:
            stats.malformed += 1
        src, dst = _addr(m.raw[12:16]), _addr(m.raw[16:20])
        sp, dp = m.ports if m.ports is not None else (None, None)
        return Lost(stats.frames, str(m), ts, src, sp, dst, dp)
    except (dpkt.UnpackError, ValueError, struct.error, AttributeError, IndexError):
        stats.malformed += 1
        return None
    mss, wscale, tsopt, sack_ok, tfo, other = (_options(tcp, min(hl, len(tcp))) if hl > 20
                                               else (None, None, None, False, 0, None))
    if flags & 0xE0:                         # URG, ECE, CWR: recorded, not modelled (events.IGNORED)
        other = other if other is not None else set()
        if flags & 0xC0:
            other.add("ecn")
        if flags & 0x20:
            other.add("urg")
    flags &= 0x1F
    stats.tcp += 1
    seg = Segment.with_options(flags, seq, ack if flags & 0x10 else 0, min(payload, 0xFFFF), win, mss, wscale, tfo)
    return Packet(ts, _addr(src), sport, _addr(dst), dport, seg, win, wscale, mss, tsopt, sack_ok,
                  _interned(other) if other else frozenset())


def pcap_link(field: int) -> int:
    """The link type of a pcap header's link-type field, as libpcap reads it (pcap-common.h:
    LT_LINKTYPE is the low 16 bits; the upper bits carry the FCS length); reserved bits set
    (LT_RESERVED1, 0x03FF0000) is an error: the field is not one libpcap writes."""
    if field & 0x03FF0000:
        raise ValueError(f"the link-type field 0x{field:08x} has reserved bits set")
    return field & 0xFFFF


def _pcap_records(stream, name: str, stats: CaptureStats) -> Iterator[tuple[float, bytes, int, int]]:
    """(time, frame, link type, length on the wire) of each record of a classic pcap file."""
    head = stream.read(24)
    if len(head) < 24:
        raise TraceError(f"{name}: truncated pcap: the file header is {len(head)} bytes of 24")
    magic = head[:4]
    e = ">" if magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d") else "<"
    nano = magic in (b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1")
    try:
        link = pcap_link(struct.unpack(e + "I", head[20:24])[0])
    except ValueError as exc:
        raise TraceError(f"{name}: {exc}") from None
    stats.link_type = link
    _check_link(name, link)
    rec = struct.Struct(e + "IIII")
    div = 1e9 if nano else 1e6
    while True:
        off = stream.offset
        h = stream.read(16)
        if not h:
            return
        if len(h) < 16:
            raise TraceError(truncated_header(name, off, stream.offset))
        sec, frac, caplen, wire = rec.unpack(h)
        if caplen > MAX_RECORD:
            raise TraceError(oversized_record(name, off, caplen))
        buf = stream.read(caplen)
        if len(buf) < caplen:
            raise TraceError(truncated_record(name, off, caplen, len(buf)))
        yield sec + frac / div, buf, link, wire


#: The largest record a capture may declare (libpcap's MAXIMUM_SNAPLEN is 262144).
MAX_RECORD = 1 << 24
#: pcapng block types read here, and those that carry nothing to judge (skipped without a word).
SHB, IDB, PB, SPB, NRB, ISB, EPB = 0x0A0D0D0A, 1, 2, 3, 4, 5, 6
QUIET_BLOCKS = frozenset({NRB, 0x0A, 0x0BAD, 0x40000BAD})     # names, decryption secrets, custom


def _opts(body: bytes, e: str) -> Iterator[tuple[int, bytes]]:
    """The (code, value) options of a pcapng block body."""
    i = 0
    while i + 4 <= len(body):
        code, n = struct.unpack_from(e + "HH", body, i)
        if code == 0:
            return
        yield code, body[i + 4:i + 4 + n]
        i += 4 + (n + 3) // 4 * 4


def _pcapng_records(stream, name: str, stats: CaptureStats) -> Iterator:
    """(time, frame, link type, length on the wire) of each packet of a pcapng file, and an
    int (frames dropped) where the capture records a drop."""
    e = "<"
    ifaces: list[tuple[int, float, float]] = []       # (link type, units per second, offset)
    isb_drops: dict[int, int] = {}
    first = True
    while True:
        off = stream.offset
        h = stream.read(8)
        if not h:
            return
        if len(h) < 8:
            raise TraceError(f"{name}: truncated pcapng: the block at byte offset {off} is cut after {len(h)} "
                             "bytes (its header is 8)")
        btype = struct.unpack_from(e + "I", h)[0]
        if btype == SHB:
            bom = stream.read(4)
            if bom == b"\x1a\x2b\x3c\x4d":
                e = ">"
            elif bom == b"\x4d\x3c\x2b\x1a":
                e = "<"
            else:
                raise TraceError(f"{name}: corrupt pcapng: the section header block at byte offset {off} has no "
                                 "byte-order magic")
            h += bom
            ifaces, isb_drops = [], {}
        elif first:
            raise TraceError(f"{name}: not a pcapng file: no section header block at byte offset {off}")
        first = False
        blen = struct.unpack_from(e + "I", h, 4)[0]
        if blen < 12 or blen % 4 or blen > MAX_RECORD:
            raise TraceError(f"{name}: corrupt pcapng: the block at byte offset {off} declares a length of {blen} "
                             "bytes (at least 12, a multiple of 4)")
        rest = stream.read(blen - len(h))
        if len(rest) < blen - len(h):
            raise TraceError(f"{name}: truncated pcapng: the block at byte offset {off} declares {blen} bytes, "
                             f"the file holds {len(h) + len(rest)}")
        block = h + rest
        if struct.unpack_from(e + "I", block, blen - 4)[0] != blen:
            raise TraceError(f"{name}: corrupt pcapng: the block at byte offset {off} does not end with its "
                             f"length ({blen})")
        body = block[8:blen - 4]
        try:
            if btype == SHB:
                continue
            if btype == IDB:
                link = struct.unpack_from(e + "H", body)[0]
                _check_link(name, link)
                units, shift = 1e6, 0.0
                for code, val in _opts(body[8:], e):
                    if code == 9 and val:
                        units = float(2 ** (val[0] & 0x7F) if val[0] & 0x80 else 10 ** (val[0] & 0x7F))
                    elif code == 14 and len(val) == 8:
                        shift = float(struct.unpack(e + "q", val)[0])
                ifaces.append((link, units, shift))
                if stats.link_type < 0:
                    stats.link_type = link
            elif btype in (EPB, PB):
                if btype == EPB:
                    iface, hi, lo, caplen, wire = struct.unpack_from(e + "5I", body)
                    dropped = 0
                else:
                    iface, dropped, hi, lo, caplen, wire = struct.unpack_from(e + "HH4I", body)
                link, units, shift = ifaces[iface]
                if 20 + caplen > len(body):
                    raise IndexError
                for code, val in _opts(body[20 + (caplen + 3) // 4 * 4:], e):
                    if btype == EPB and code == 4 and len(val) == 8:
                        dropped = struct.unpack(e + "Q", val)[0]
                if dropped:
                    yield dropped
                yield shift + ((hi << 32) | lo) / units, body[20:20 + caplen], link, wire
            elif btype == SPB:
                wire = struct.unpack_from(e + "I", body)[0]
                yield None, body[4:4 + min(wire, len(body) - 4)], ifaces[0][0], wire
            elif btype == ISB:
                iface = struct.unpack_from(e + "I", body)[0]
                total = sum(struct.unpack(e + "Q", v)[0] for c, v in _opts(body[12:], e) if c in (5, 7) and len(v) == 8)
                if total > isb_drops.get(iface, 0):
                    yield total - isb_drops.get(iface, 0)
                    isb_drops[iface] = total
            elif btype not in QUIET_BLOCKS:
                stats.unknown_blocks[btype] = stats.unknown_blocks.get(btype, 0) + 1
        except (IndexError, struct.error):
            raise TraceError(f"{name}: corrupt pcapng: the block at byte offset {off} (type 0x{btype:08x}) does "
                             "not hold what its type needs, or names an interface no block described") from None


def unsupported_link(link: int) -> str:
    return (f"unsupported link type {link}; synack reads Ethernet (1), Linux cooked SLL (113) and SLL2 (276), raw "
            "IP (101, 228, 229) and BSD loopback (0, 108)")


def _check_link(path: str, link: int) -> None:
    """A link type no decoder here reads is an error about the file, not a malformed frame each."""
    if link not in LINK_TYPES:
        raise TraceError(f"{path}: {unsupported_link(link)}")


def truncated_header(path: str, off: int, size: int) -> str:
    return f"{path}: truncated pcap: the record header at byte offset {off} of {size} is incomplete"


def oversized_record(path: str, off: int, caplen: int) -> str:
    return f"{path}: corrupt pcap: the record at byte offset {off} declares {caplen} bytes (more than {MAX_RECORD})"


def truncated_record(path: str, off: int, caplen: int, held: int) -> str:
    return f"{path}: truncated pcap: the record at byte offset {off} declares {caplen} bytes, the file holds {held}"


def read_capture(path_or_source, stats: CaptureStats | None = None,
                 icmp: bool = True) -> "Iterator[Packet | Lost | IcmpError]":
    """Stream the TCP segments of a pcap or pcapng capture, given by path or as an open
    `inputs.Source` (`stats` collects the counts), with a `Lost` where a frame cannot be
    judged or the capture dropped frames, and (`icmp`) an IcmpError for each ICMPv4 error
    quoting a TCP header (CaptureJudge routes it to the connection it quotes)."""
    from .inputs import Source, open_source

    stats = stats if stats is not None else CaptureStats()
    src = path_or_source if isinstance(path_or_source, Source) else open_source(path_or_source)
    try:
        if src.kind == "jsonl":
            raise TraceError(f"{src.name}: not a pcap or pcapng capture (it starts with bytes "
                             f"{src.head.hex(' ') or 'none'}: no capture's magic number)")
        stream = src.stream()
        records = _pcap_records if src.kind == "pcap" else _pcapng_records
        last = 0.0
        for r in records(stream, src.name, stats):
            if isinstance(r, int):
                stats.dropped += r
                yield Lost(stats.frames + 1, f"the capture dropped {r} frame{'s' * (r != 1)} before it", last)
                continue
            ts, buf, link, wire = r
            last = ts = last if ts is None else ts
            p = decode(ts, buf, link, stats, wire, icmp)
            if p is not None:
                yield p
        if stats.unknown_blocks:
            stats.notes.append("pcapng blocks of unknown type skipped: " + ", ".join(
                f"{n} of type 0x{k:08x}" for k, n in sorted(stats.unknown_blocks.items())))
    finally:
        if src is not path_or_source:
            src.close()
