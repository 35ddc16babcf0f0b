"""ToyTCP: a small TCP endpoint written for this example the way a user's own stack would be:
its own code and its own reading of RFC 9293, nothing imported from synack. It stands for
"your implementation" in `test_toytcp.py`, which judges it with synack's oracle.

It keeps one connection, sends every segment immediately (no delayed ACK, no reassembly
queue) and logs what it does in synack's JSON Lines event format (`trace`), which is all
the oracle needs. Sequence comparison is Linux-style: the sign of the 32-bit difference.

`ToyTCP(bug="fin-ack")` plants a classic bug: the ACK of a FIN forgets that the FIN takes
one sequence number. The example suite shows the oracle naming it.
"""
from __future__ import annotations

from dataclasses import dataclass

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
NAMES = ((SYN, "SYN"), (FIN, "FIN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK"))
M = 1 << 32


def diff(a: int, b: int) -> int:
    """a - b as a signed 32-bit number (negative: a is before b)."""
    d = (a - b) % M
    return d - M if d >= 1 << 31 else d


def before(a: int, b: int) -> bool:
    return diff(a, b) < 0


def before_eq(a: int, b: int) -> bool:
    return diff(a, b) <= 0


@dataclass(frozen=True)
class Seg:
    flags: int
    seq: int
    ack: int = 0
    n: int = 0          # payload bytes
    win: int = 65535

    @property
    def space(self) -> int:
        """Sequence numbers the segment occupies (SYN and FIN count one each)."""
        return self.n + bool(self.flags & SYN) + bool(self.flags & FIN)

    def to_event(self, direction: str) -> dict:
        d = {"dir": direction, "flags": ",".join(name for bit, name in NAMES if self.flags & bit),
             "seq": self.seq, "win": self.win}
        if self.flags & ACK:
            d["ack"] = self.ack
        if self.n:
            d["len"] = self.n
        return d


class ToyTCP:
    def __init__(self, isn: int = 1000, window: int = 65535, bug: str | None = None):
        self.isn, self.wnd, self.bug = isn % M, window, bug
        self.mss = 536                     # the peer's MSS option sets it (RFC 9293 3.7.1: else 536)
        self.state = "CLOSED"
        self.trace: list[dict] = []
        self.outbox: list[Seg] = []
        self.passive = False
        self.iss = self.irs = self.una = self.nxt = self.rcv = 0
        self.unacked: list[Seg] = []       # for retransmission
        self.tries = 0
        self.unread = 0
        self.queued = 0                    # bytes sent by the user before the handshake completed

    # --- output --------------------------------------------------------------------------
    def _out(self, seg: Seg, keep: bool = False) -> None:
        self.trace.append(seg.to_event("out"))
        self.outbox.append(seg)
        if keep:
            self.unacked.append(seg)

    def _ack_now(self) -> None:
        self._out(Seg(ACK, self.nxt, self.rcv, 0, self.wnd))

    def _reset(self, seg: Seg) -> None:
        if seg.flags & ACK:
            self._out(Seg(RST, seg.ack, 0, 0, 0))
        else:
            self._out(Seg(RST | ACK, 0, (seg.seq + seg.space) % M, 0, 0))

    def _established(self) -> bool:
        """Enter ESTABLISHED; data queued during the handshake goes out now, carrying the ACK."""
        self.state = "ESTABLISHED"
        if self.queued:
            self._data(self.queued)
            self.queued = 0
            return True
        return False

    def _data(self, n: int) -> None:
        """Send n bytes in segments of at most the MSS (RFC 9293 3.7.1, MUST-15)."""
        while n > 0:
            k = min(n, self.mss)
            self._out(Seg(ACK | PSH, self.nxt, self.rcv, k, self.wnd), keep=True)
            self.nxt = (self.nxt + k) % M
            n -= k

    def _closed(self) -> None:
        """Delete the TCB: nothing of this connection survives into the next."""
        self.state, self.unacked, self.queued, self.unread = "CLOSED", [], 0, 0

    def _call(self, name: str, ok: bool = True, **extra) -> bool:
        self.trace.append({"call": name, "result": "ok" if ok else "error", **extra})
        return ok

    # --- user calls ----------------------------------------------------------------------
    def listen(self) -> bool:
        if self.state != "CLOSED":
            return self._call("listen", False)
        self.state, self.passive = "LISTEN", True
        return self._call("listen")

    def connect(self) -> bool:
        if self.state not in ("CLOSED", "LISTEN"):
            return self._call("connect", False)
        self._call("connect")
        self.iss = self.una = self.isn
        self.nxt = (self.iss + 1) % M
        self.isn = (self.isn + 64000) % M
        self.state, self.passive, self.tries = "SYN-SENT", False, 0
        self._out(Seg(SYN, self.iss, 0, 0, self.wnd), keep=True)
        return True

    def send(self, n: int) -> bool:
        if self.state in ("SYN-SENT", "SYN-RECEIVED"):
            self.queued += n                      # sent once the connection is established
            return self._call("send", n=n)
        if self.state not in ("ESTABLISHED", "CLOSE-WAIT"):
            return self._call("send", False, n=n)
        self._call("send", n=n)
        self._data(n)
        return True

    def receive(self) -> int:
        """Bytes read (0: nothing yet, or -1: an error: no connection, or the peer closed and
        everything was read)."""
        got, self.unread = self.unread, 0
        fails = self.state == "CLOSED" or (not got and self.state in ("CLOSE-WAIT", "CLOSING", "LAST-ACK",
                                                                       "TIME-WAIT"))
        self._call("receive", not fails)
        return -1 if fails else got

    def shutdown(self) -> bool:
        return self._send_fin("shutdown")

    def close(self) -> bool:
        """The sockets API's close(): shutdown plus no more receiving (ToyTCP keeps no receive queue)."""
        return self._send_fin("close")

    def _send_fin(self, name: str) -> bool:
        if self.state in ("LISTEN", "SYN-SENT"):
            self._call(name)                      # delete the TCB; only queued calls would see "closing"
            self._closed()
            return True
        nxt = {"ESTABLISHED": "FIN-WAIT-1", "SYN-RECEIVED": "FIN-WAIT-1", "CLOSE-WAIT": "LAST-ACK"}
        if self.state not in nxt:
            return self._call(name, False)
        self._call(name)
        self._out(Seg(FIN | ACK, self.nxt, self.rcv, self.queued, self.wnd), keep=True)   # after any queued data
        self.nxt = (self.nxt + self.queued + 1) % M
        self.queued = 0
        self.state, self.tries = nxt[self.state], 0
        return True

    def abort(self) -> bool:
        if self.state in ("SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT"):
            self._call("abort")
            self._out(Seg(RST, self.nxt, 0, 0, 0))
        else:
            self._call("abort", self.state != "CLOSED")
        self._closed()
        return True

    # --- timers --------------------------------------------------------------------------
    def retransmit(self, limit: int = 5) -> bool:
        """The retransmission timer expired: resend the oldest unacknowledged segment, or give up."""
        if not self.unacked:
            return False
        if self.tries >= limit:
            self._closed()
            return True
        self.tries += 1
        seg = self.unacked[0]
        if seg.flags & ACK:                       # refresh what it acknowledges
            seg = Seg(seg.flags, seg.seq, self.rcv, seg.n, self.wnd)
        self._out(seg)
        return True

    def time_wait_expires(self) -> None:
        if self.state == "TIME-WAIT":
            self._closed()

    # --- arrivals ------------------------------------------------------------------------
    def segment_arrives(self, seg: Seg) -> None:
        self.trace.append(seg.to_event("in"))
        handler = {"CLOSED": self._in_closed, "LISTEN": self._in_listen, "SYN-SENT": self._in_syn_sent}
        handler.get(self.state, self._in_synchronized)(seg)

    def _in_closed(self, seg: Seg) -> None:
        if not seg.flags & RST:
            self._reset(seg)

    def _in_listen(self, seg: Seg) -> None:
        if seg.flags & RST:
            return
        if seg.flags & ACK:
            self._reset(seg)
        elif seg.flags & SYN:
            self.irs, self.rcv = seg.seq, (seg.seq + 1) % M
            self.iss = self.una = self.isn
            self.nxt = (self.iss + 1) % M
            self.isn = (self.isn + 64000) % M
            self.state, self.tries = "SYN-RECEIVED", 0
            self._out(Seg(SYN | ACK, self.iss, self.rcv, 0, self.wnd), keep=True)

    def _in_syn_sent(self, seg: Seg) -> None:
        ack_ok = bool(seg.flags & ACK) and before(self.una, seg.ack) and before_eq(seg.ack, self.nxt)
        if seg.flags & ACK and not ack_ok:
            if not seg.flags & RST:
                self._reset(seg)
            return
        if seg.flags & RST:
            if ack_ok:
                self._closed()
            return
        if not seg.flags & SYN:
            return
        self.irs, self.rcv = seg.seq, (seg.seq + 1) % M
        self.tries = 0
        if ack_ok:
            self.una, self.unacked = seg.ack, []
            if not self._established():
                self._ack_now()
            if seg.n or seg.flags & FIN:          # text or FIN on the SYN,ACK: on at the sixth step
                self._in_synchronized(Seg(seg.flags & ~SYN, (seg.seq + 1) % M, seg.ack, seg.n, seg.win))
        else:
            self.state, self.unacked = "SYN-RECEIVED", []
            self._out(Seg(SYN | ACK, self.iss, self.rcv, 0, self.wnd), keep=True)

    def _acceptable(self, seg: Seg) -> bool:
        end = (seg.seq + seg.space - 1) % M
        in_wnd = lambda s: before_eq(self.rcv, s) and before(s, (self.rcv + self.wnd) % M)  # noqa: E731
        if seg.space == 0:
            return seg.seq == self.rcv if self.wnd == 0 else in_wnd(seg.seq)
        return self.wnd > 0 and (in_wnd(seg.seq) or in_wnd(end))

    def _in_synchronized(self, seg: Seg) -> None:
        st = self.state
        if (st == "SYN-RECEIVED" and not self.passive and seg.flags & (SYN | ACK | RST) == SYN | ACK
                and seg.seq == self.irs and before(self.una, seg.ack) and before_eq(seg.ack, self.nxt)):
            self.una, self.unacked = seg.ack, []  # simultaneous open: the peer's SYN,ACK (RFC 9293 Figure 7)
            self._established()
            return
        if not self._acceptable(seg):
            if not seg.flags & RST:
                self._ack_now()
            return
        if seg.flags & RST:
            if seg.seq != self.rcv:
                if before_eq(self.rcv, seg.seq):  # RFC 5961 3.2: challenge ACK; a RST whose sequence
                    self._ack_now()               # number is below the window (data reaching into it): drop
                return
            elif st == "SYN-RECEIVED" and self.passive:
                self.state, self.unacked = "LISTEN", []
            else:
                self._closed()
            return
        if seg.flags & SYN:
            if st == "SYN-RECEIVED" and self.passive:
                self.state, self.unacked = "LISTEN", []
                return
            self._ack_now()                       # RFC 5961 challenge ACK
            return
        if not seg.flags & ACK:
            return
        if st == "SYN-RECEIVED":
            if before(self.una, seg.ack) and before_eq(seg.ack, self.nxt):
                self.una = seg.ack
                self.unacked = [s for s in self.unacked if before(self.una, (s.seq + s.space) % M)]
                self._established()
                st = "ESTABLISHED"
            else:
                self._reset(seg)
                return
        if before(self.nxt, seg.ack):
            self._ack_now()                       # acknowledges something not yet sent
            return
        if before(self.una, seg.ack):
            self.una = seg.ack
            self.unacked = [s for s in self.unacked if before(self.una, (s.seq + s.space) % M)]
            self.tries = 0
        fin_acked = self.una == self.nxt
        if st == "FIN-WAIT-1" and fin_acked:
            self.state = st = "FIN-WAIT-2"
        elif st == "CLOSING" and fin_acked:
            self.state = "TIME-WAIT"
            return
        elif st == "LAST-ACK":
            if fin_acked:
                self._closed()
            return
        elif st == "TIME-WAIT":
            if seg.flags & FIN:
                self._ack_now()                   # re-ACK a retransmitted FIN (and restart 2MSL)
            return
        # text
        if seg.n and st in ("ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2"):
            if before(self.rcv, seg.seq):
                self._ack_now()                   # out of order: no reassembly queue here
                return
            want = diff((seg.seq + seg.n) % M, self.rcv)
            if want > 0:
                take = min(want, self.wnd)
                self.rcv = (self.rcv + take) % M
                self.unread += take
                if take < want:
                    self._ack_now()               # trimmed to the window: the FIN (if any) not reached
                    return
                if not seg.flags & FIN:
                    self._ack_now()
        if seg.flags & FIN and st in ("CLOSE-WAIT", "CLOSING", "LAST-ACK"):
            self.rcv = (self.rcv + 1) % M         # a FIN again (acceptable): RCV.NXT over it, acknowledged
            self._ack_now()                       # (RFC 9293 3.10.7.4, eighth step)
            return
        if seg.flags & FIN and st in ("ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "SYN-RECEIVED"):
            if (seg.seq + seg.n) % M != self.rcv:
                self._ack_now()                   # beyond what was received: a duplicate ACK (RFC 5681 4.2)
                return
            self.rcv = (self.rcv + (0 if self.bug == "fin-ack" else 1)) % M
            self._ack_now()
            if self.bug == "fin-ack":
                self.rcv = (self.rcv + 1) % M
            self.state = {"ESTABLISHED": "CLOSE-WAIT", "SYN-RECEIVED": "CLOSE-WAIT",
                          "FIN-WAIT-1": "CLOSING", "FIN-WAIT-2": "TIME-WAIT"}[st]
