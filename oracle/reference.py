"""`ReferenceEndpoint`: `step` with a deterministic choice policy, one TCB, driven by calls,
segments and timer expiries, for differential tests: feed another implementation and the
reference the same inputs and compare what they send and which state they reach.
`reference_capture` writes a pcap of reference endpoints talking (benchmarks, tests)."""
from __future__ import annotations

import random
import struct

import dpkt

from synack.spec.machine import Machine, machine
from synack.spec.model import (MAXDATA, SYN, Endpoint, Segment, SpecError, State, Transition, arrive, call, output,
                               timeout)
from synack.spec.profiles import Profile, get_profile

#: The MSS option the reference capture's SYNs carry (1500-byte Ethernet MTU less 40 bytes of headers).
ETHERNET_MSS = 1460


class ReferenceEndpoint:
    """One endpoint that always takes the first result the table lists (the table puts the
    RFC's default before its `choice` alternatives). ISNs come from `isn`, advanced by
    `isn_step` per connection (a clock, as RFC 9293 3.4.1 asks)."""

    def __init__(self, profile: "Profile | str" = "rfc9293", *, isn: int = 1000, isn_step: int = 1 << 24):
        self.profile = get_profile(profile) if not isinstance(profile, Profile) else profile
        self.m: Machine = machine(self.profile)
        self._actions = {r.id: r.actions for r in self.m.rows}
        self.tcb = Endpoint()
        self._isn, self._isn_step = isn & 0xFFFFFFFF, isn_step
        self.signals: list[str] = []
        self.last: Transition | None = None

    @property
    def state(self) -> State:
        return self.tcb.state

    def _apply(self, results: list[Transition]) -> list[Segment]:
        if not results:
            return []
        tr = results[0]
        if any("ISS := ISN" in a for r in tr.rows for a in self._actions[r]):
            self._isn = (self._isn + self._isn_step) & 0xFFFFFFFF
        self.tcb, self.last = tr.endpoint, tr
        self.signals.extend(tr.signals)
        return list(tr.sends) + self._flush()

    def _flush(self) -> list[Segment]:
        """Send what SEND and CLOSE queued, as soon as the table allows, in the largest
        segments it allows (found by asking the table: an OUTPUT of n bytes has a result or
        not, and if n has one so has every smaller n), then a queued FIN."""
        out: list[Segment] = []
        for _ in range(1 << 16):                 # each round sends at least one byte or the FIN
            lo, hi = 0, min(self.tcb.snd_q, MAXDATA)
            while lo < hi:                       # the largest n in 1..hi with a result, or 0
                mid = (lo + hi + 1) // 2
                if self.m.step(self.tcb, output(mid)):
                    lo = mid
                else:
                    hi = mid - 1
            res = self.m.step(self.tcb, output(lo))
            if not res:
                break
            tr = res[0]
            self.tcb, self.last = tr.endpoint, tr
            self.signals.extend(tr.signals)
            out += tr.sends
        return out

    def call(self, name: str, n: int = 0) -> list[Segment]:
        """A user call (listen, connect, send, receive, shutdown, close, abort); returns the segments sent."""
        return self._apply(self.m.step(self.tcb, call(name, isn=self._isn, n=n)))

    def receive(self, seg: Segment) -> list[Segment]:
        """A segment arrives; returns the segments sent in response."""
        if not isinstance(seg, Segment):
            raise SpecError(f"receive needs a Segment, got {seg!r}")
        return self._apply(self.m.step(self.tcb, arrive(seg, isn=self._isn)))

    def timeout(self, kind: str) -> list[Segment]:
        """A timer expires (RTO, 2MSL, ...); an unarmed timer does nothing."""
        return self._apply(self.m.step(self.tcb, timeout(kind)))

    def armed(self, kind: str) -> bool:
        return bool(self.m.step(self.tcb, timeout(kind)))


def _frame(src: bytes, dst: bytes, sport: int, dport: int, seg: Segment) -> bytes:
    """An Ethernet/IPv4 frame carrying `seg` (zero checksums, payload of zero bytes), with its
    MSS option when it has one."""
    opt = struct.pack("!BBH", 2, 4, seg.mss) if seg.mss else b""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seg.seq, seg.ack, (5 + len(opt) // 4) << 4, seg.flags, 65535, 0,
                      0) + opt
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + seg.data, 0, 0, 64, 6, 0, src, dst)
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp + b"\x00" * seg.data


def reference_capture(path: str, segments: int, *, sizes: str = "same", per_conn_data: int = 10, seed: int = 1,
                      profile: str = "linux", first_port: int = 1024, t0: float = 1.0e9,
                      tamper=None) -> int:
    """Write a pcap of connections between pairs of reference endpoints until it holds at least
    `segments` TCP segments; returns how many it holds. Each connection: handshake, data both
    ways each ACKed, both sides read, the client closes first (so it ends in TIME-WAIT), then
    the server; connections on distinct client ports. `sizes="same"` sends `per_conn_data`
    1000-byte segments each way; `"varied"` draws each connection's sizes and count (seeded).
    `tamper(conn, index, segment)` may return a replacement segment, or None to drop it from
    the capture (the endpoints still see the original): a way to plant violations."""
    rng = random.Random(seed)
    a, b = bytes([10, 1, 0, 1]), bytes([10, 1, 0, 2])
    n, t, conn = 0, t0, 0
    with open(path, "wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=1)
        while n < segments:
            conn += 1
            sport = first_port + (conn - 1) % (65536 - first_port)
            dport = 80 + (conn - 1) // (65536 - first_port)
            c = ReferenceEndpoint(profile, isn=conn * 7919)
            s = ReferenceEndpoint(profile, isn=conn * 104729)
            s.call("listen")
            queue = [(0, x) for x in c.call("connect")]
            if sizes == "same":
                script = [(0, "send", 1000)] * per_conn_data + [(1, "send", 1000)] * per_conn_data
            else:
                script = [(rng.randrange(2), "send", rng.randrange(1, 1461)) for _ in range(rng.randrange(1, 21))]
            script += [(0, "receive", 0), (1, "receive", 0), (0, "close", 0), (1, "close", 0)]
            k = 0
            while queue or script:
                if not queue:
                    side, name, arg = script.pop(0)
                    queue += [(side, x) for x in (c if side == 0 else s).call(name, arg)]
                    continue
                side, seg = queue.pop(0)
                if seg.flags & SYN:
                    seg = seg._replace(mss=ETHERNET_MSS)     # as an Ethernet host announces (RFC 9293 3.7.1)
                t += 0.0001
                shown = seg if tamper is None else tamper(conn, k, seg)
                k += 1
                if shown is not None:
                    src, dst, sp, dp = (a, b, sport, dport) if side == 0 else (b, a, dport, sport)
                    w.writepkt(_frame(src, dst, sp, dp, shown), ts=t)
                    n += 1
                queue += [(1 - side, x) for x in (s if side == 0 else c).receive(seg)]
    return n
