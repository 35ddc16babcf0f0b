"""ToyDriver: ToyTCP behind synack's driver protocol, the smallest adapter there is.

An adapter answers four questions for the kit: how to make the stack's user calls (here:
ToyTCP's methods), how to hand it a datagram (`deliver`), what it sent (`collect`), and how
to let time pass (`advance`: ToyTCP has no clock of its own, so the driver runs its timers,
on a virtual clock). Everything else (which segments to send, what to expect, the verdict)
is the kit's. A stack in C, Go or C++ answers the same questions as a shim program speaking
docs/driver-protocol.md, run by `synack.testing.ShimDriver`.
"""
from __future__ import annotations

import os

from synack.testing import Driver, DriverError, StackInfo
from synack.testing.packets import Addr, build, parse
from synack.spec.model import Segment

from toytcp import Seg, ToyTCP

RTO, TIME_WAIT = 1.0, 240.0     # ToyTCP's timers, as this driver runs them (RFC 6298's 1 s; 2 MSL of 2 min)


class _Sock:
    def __init__(self, toy: ToyTCP, lport: int, rport: int | None):
        self.toy, self.lport, self.rport = toy, lport, rport
        self.rto_at: float | None = None
        self.backoff = 1.0
        self.tw_at: float | None = None


class ToyDriver(Driver):
    """One ToyTCP per socket, demultiplexed by port; `bug` is ToyTCP's planted bug (default:
    the TOYTCP_BUG environment variable, so `TOYTCP_BUG=fin-ack synack test-stack ...` works)."""

    def __init__(self, bug: str | None = None):
        self.bug, self.now = bug if bug is not None else os.environ.get("TOYTCP_BUG") or None, 0.0
        self.socks: dict[int, _Sock] = {}
        self.out: list[tuple[float, bytes]] = []
        self.isn = 1000

    def init(self, iut="10.0.0.2", peer="10.0.0.1", mss=1460) -> StackInfo:
        self.iut_ip, self.peer_ip = iut, peer
        self.info = StackInfo("ToyTCP" + (f" (bug {self.bug})" if self.bug else ""), "virtual")
        return self.info

    def _new(self, lport: int, rport: int | None) -> int:
        self.isn = (self.isn + 7919 * 64000) % (1 << 32)      # a different ISN per socket
        h = len(self.socks) + 1
        self.socks[h] = _Sock(ToyTCP(isn=self.isn, bug=self.bug), lport, rport)
        return h

    def _flush(self, s: _Sock) -> None:
        """Turn ToyTCP's outbox into datagrams, and (re)arm its timers."""
        for seg in s.toy.outbox:
            addr = Addr(self.iut_ip, s.lport, self.peer_ip, s.rport or 0)
            self.out.append((self.now, build(addr, Segment(seg.flags, seg.seq, seg.ack, seg.n, seg.win))))
        s.toy.outbox.clear()
        if not s.toy.unacked:
            s.rto_at, s.backoff = None, 1.0
        elif s.rto_at is None:
            s.rto_at = self.now + RTO * s.backoff
        if s.toy.state != "TIME-WAIT":
            s.tw_at = None
        elif s.tw_at is None:
            s.tw_at = self.now + TIME_WAIT

    def _sock(self, h: int) -> _Sock:
        if h not in self.socks:
            raise DriverError("sock", "EBADF")
        return self.socks[h]

    def _do(self, h: int, name: str, *args) -> bool:
        s = self._sock(h)
        ok = getattr(s.toy, name)(*args)
        self._flush(s)
        said = next((e["result"] for e in reversed(s.toy.trace) if "call" in e), "ok")   # ToyTCP's own log
        if ok is False or said != "ok" or (name == "receive" and ok == -1):
            # as a sockets API reports it: no connection at all, or one that is closing
            raise DriverError(name, "ENOTCONN" if s.toy.state in ("CLOSED", "LISTEN") else "EPIPE")
        return ok

    # socket calls
    def listen(self, port, backlog=4):
        h = self._new(port, None)
        self._do(h, "listen")
        return h

    def accept(self, sock):
        s = self._sock(sock)
        return sock if s.toy.state not in ("LISTEN", "SYN-RECEIVED", "CLOSED") else None

    def connect(self, dport, sport=0):
        h = self._new(sport or 49152, dport)
        self._do(h, "connect")
        return h, self.socks[h].lport

    def send(self, sock, nbytes):
        self._do(sock, "send", nbytes)
        return nbytes

    def recv(self, sock, max=65535):
        n = self._do(sock, "receive")
        if n == 0:
            raise DriverError("recv", "EAGAIN")
        return n, False

    def shutdown(self, sock):
        self._do(sock, "shutdown")

    def close(self, sock):
        self._do(sock, "close")

    def abort(self, sock):
        self._do(sock, "abort")

    # the network side
    def deliver(self, ip_packet: bytes) -> None:
        p = parse(ip_packet)
        if p is None:
            return
        for s in self.socks.values():
            if s.lport == p.addr.dport and s.rport in (None, p.addr.sport) and s.toy.state != "CLOSED":
                s.rport = p.addr.sport
                seg = p.seg
                if seg.flags & 0x02 and p.mss:
                    s.toy.mss = p.mss                # the peer's MSS option (RFC 9293 3.7.1)
                s.toy.segment_arrives(Seg(seg.flags, seg.seq, seg.ack, seg.data, seg.wnd))
                self._flush(s)
                return
        # no socket: ToyTCP has no CLOSED-port handler of its own, so a fresh one answers
        toy = ToyTCP(bug=self.bug)
        toy.segment_arrives(Seg(p.seg.flags, p.seg.seq, p.seg.ack, p.seg.data, p.seg.wnd))
        self._flush(_Sock(toy, p.addr.dport, p.addr.sport))

    def collect(self):
        out, self.out = self.out, []
        return out

    def advance(self, seconds: float) -> float:
        end = self.now + max(0.0, seconds)
        while True:
            due = [(t, h, k) for h, s in self.socks.items() for t, k in ((s.rto_at, "rto"), (s.tw_at, "tw"))
                   if t is not None and t <= end]
            if not due:
                break
            t, h, kind = min(due)
            self.now, s = t, self.socks[h]
            if kind == "rto":
                s.rto_at, s.backoff = None, s.backoff * 2
                s.toy.retransmit()
            else:
                s.tw_at = None
                s.toy.time_wait_expires()
            self._flush(s)
        self.now = end
        return self.now
