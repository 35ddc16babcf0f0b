"""A hand-played peer for the stack shims' smoke tests: builds IPv4/TCP datagrams (dpkt
computes the checksums the stacks verify), delivers them through a `Driver`, collects what
the stack sends, and keeps both as the IUT's trace of `SegmentEvent`s for the oracle.

The kit's generated tests play the peer from the table; these tests play a few fixed
exchanges by hand to show the shims work (handshakes both ways, data both ways, close, RST)
before the kit's runs are trusted."""
from __future__ import annotations

import socket

import dpkt

from synack.oracle import Monitor
from synack.oracle.capture import RAW, CaptureStats, Packet, decode
from synack.oracle.events import CallEvent, SegmentEvent
from synack.spec.model import ACK, FIN, PSH, RST, SYN, Segment
from synack.testing import Driver

__all__ = ["ACK", "FIN", "PSH", "RST", "SYN", "Peer"]

IUT, PEER = "10.0.0.2", "10.0.0.1"


class Peer:
    """The kit's side of one test: `send` a segment to the IUT, `pull` what it sent since."""

    def __init__(self, driver: Driver, port: int = 40000):
        self.d = driver
        self.port = port                # the peer's own port
        self.now = 0.0
        self.trace: list[tuple[tuple[int, int], SegmentEvent | CallEvent]] = []   # ((IUT port, peer port), event)
        self.ports: dict[int, int] = {}     # socket -> the IUT's port, for logging its calls

    def send(self, flags: int, seq: int, ack: int = 0, data: int = 0, *, iut_port: int, win: int = 65535,
             mss: int | None = None, wscale: int | None = None) -> list[Packet]:
        """Deliver one segment from the peer to the IUT's `iut_port`; returns what the IUT sent."""
        opts = b""
        if mss is not None:
            opts += b"\x02\x04" + mss.to_bytes(2, "big")
        if wscale is not None:
            opts += b"\x01\x03\x03" + bytes([wscale])
        opts += b"\x00" * (-len(opts) % 4)
        tcp = dpkt.tcp.TCP(sport=self.port, dport=iut_port, seq=seq & 0xFFFFFFFF, ack=ack & 0xFFFFFFFF,
                           flags=flags, win=win, opts=opts, data=b"p" * data)
        tcp.off = (20 + len(opts)) // 4
        ip = dpkt.ip.IP(src=socket.inet_aton(PEER), dst=socket.inet_aton(IUT), p=6, ttl=64, data=tcp)
        ip.len = 20 + len(bytes(tcp))
        self.pull()
        self.d.deliver(bytes(ip))
        seg = Segment(flags & 0x1F, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF if flags & ACK else 0, data, win)
        self.trace.append(((iut_port, self.port), SegmentEvent("in", seg, self.now, win, wscale, mss)))
        return self.pull()

    def pull(self) -> list[Packet]:
        """What the IUT sent since the last pull, recorded in the trace."""
        out = []
        for t, raw in self.d.collect():
            p = decode(t, raw, RAW, CaptureStats())
            if p is None:
                continue
            assert (p.src, p.dst) == (IUT, PEER), f"the IUT sent a segment from {p.src} to {p.dst}"
            self.trace.append(((p.sport, p.dport), SegmentEvent("out", p.seg, t, p.win, p.wscale, p.mss, p.ts)))
            out.append(p)
        return out

    def advance(self, seconds: float) -> list[Packet]:
        """Let time pass on the IUT's clock; returns what it sent meanwhile."""
        self.pull()
        self.now = self.d.advance(seconds)
        return self.pull()

    # the IUT's user, logged: with every call in the trace, the oracle explains what the IUT
    # sends by timers alone besides them (`calls_logged`), so a RST can no longer pass as an
    # unlogged abort
    def _log(self, sock: int, name: str, n: int = 0, result: str = "ok") -> None:
        self.trace.append(((self.ports[sock], 0), CallEvent(name, n, result, self.now)))

    def listen(self, port: int) -> int:
        sock = self.d.listen(port)
        self.ports[sock] = port
        self._log(sock, "LISTEN")
        return sock

    def accept(self, lsock: int) -> int | None:
        sock = self.d.accept(lsock)
        if sock is not None:
            self.ports[sock] = self.ports[lsock]
        return sock

    def connect(self, dport: int) -> tuple[int, int]:
        sock, sport = self.d.connect(dport)
        self.ports[sock] = sport
        self._log(sock, "CONNECT")
        return sock, sport

    def write(self, sock: int, n: int) -> int:
        took = self.d.send(sock, n)
        self._log(sock, "SEND", took)
        return took

    def read(self, sock: int) -> tuple[int, bool]:
        got = self.d.recv(sock)
        # end of file is RFC 9293's "connection closing" answer to RECEIVE (3.10.3)
        self._log(sock, "RECEIVE", result="error: connection closing" if got == (0, True) else "ok")
        return got

    def shutdown(self, sock: int) -> None:
        self.d.shutdown(sock)
        self._log(sock, "SHUTDOWN")

    def close(self, sock: int) -> None:
        self.d.close(sock)
        self._log(sock, "CLOSE")

    def abort(self, sock: int) -> None:
        self.d.abort(sock)
        self._log(sock, "ABORT")

    def events(self, iut_port: int | None = None) -> list[SegmentEvent | CallEvent]:
        return [e for conn, e in self.trace if iut_port is None or conn[0] == iut_port]

    def verdict(self, iut_port: int, profile: str = "rfc9293"):
        """The oracle's verdict on the IUT's end of the connection on `iut_port`, every user
        call logged."""
        return Monitor(profile, role=f"{IUT}:{iut_port}", calls_logged=True).check(self.events(iut_port))


def load_adapter(name: str):
    """stacks/<name>/<name>_adapter.py (or adapter.py) as a module: stacks/ is a folder of
    adapters, not a package. lwip and slirp name theirs after the stack because
    `synack test-stack` imports each stack.json driver by module name."""
    import importlib.util
    import pathlib
    folder = pathlib.Path(__file__).resolve().parents[2] / "stacks" / name
    path = folder / f"{name}_adapter.py"
    if not path.exists():
        path = folder / "adapter.py"
    spec = importlib.util.spec_from_file_location(f"synack_stack_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def shim_or_skip(adapter) -> str:
    """The adapter's built shim. Its setup step installs Debian packages as root (CI) and
    exits 2 when it cannot; a non-root run without them skips, naming the packages."""
    import os

    import pytest
    try:
        return adapter.shim_path()
    except RuntimeError as e:
        if os.geteuid() != 0:
            pytest.skip(f"{e} (not root, so the setup step cannot install them)")
        raise


# ---------------------------------------------------------------- the smoke scenarios
# Each plays one exchange against a fresh, initialised driver, asserts the stack took each
# step (so a stack that does nothing cannot pass), and returns the Peer and the IUT's port
# for the oracle's verdict.

PEER_ISN = 1000


def accept_one(d: Driver, p: Peer, port: int = 80) -> tuple[int, int]:
    """Listen on `port` and complete a handshake from the peer: (accepted sock, IUT's ISS)."""
    lst = p.listen(port)
    out = p.send(SYN, PEER_ISN, iut_port=port, mss=1460)
    assert [(o.seg.flags, o.seg.ack) for o in out] == [(SYN | ACK, PEER_ISN + 1)], out
    iss = out[0].seg.seq
    p.send(ACK, PEER_ISN + 1, iss + 1, iut_port=port)
    sock = p.accept(lst)
    assert sock is not None, "the handshake completed but accept found no connection"
    return sock, iss


def server_exchange(d: Driver) -> tuple[Peer, int]:
    """Passive open, 100 bytes in, 300 bytes out, the IUT closes first, the peer closes."""
    p = Peer(d)
    sock, iss = accept_one(d, p)
    rcv = PEER_ISN + 1
    out = p.send(ACK | PSH, rcv, iss + 1, 100, iut_port=80)
    rcv += 100
    out += p.advance(0.5)                           # a delayed ACK has its time
    assert any(o.seg.ack == rcv for o in out), f"the IUT never acknowledged the data: {out}"
    assert p.read(sock) == (100, False)
    assert p.write(sock, 300) == 300
    out = p.pull() + p.advance(0.01)
    assert sum(o.seg.data for o in out) == 300, out
    p.send(ACK, rcv, iss + 301, iut_port=80)
    p.close(sock)
    out = p.pull() + p.advance(0.01)
    assert [o.seg.seq for o in out if o.seg.flags & FIN] == [iss + 301], f"no FIN after close: {out}"
    out = p.send(FIN | ACK, rcv, iss + 302, iut_port=80) + p.advance(0.5)
    assert any(o.seg.ack == rcv + 1 for o in out), f"the peer's FIN was not acknowledged: {out}"
    return p, 80


def client_exchange(d: Driver) -> tuple[Peer, int]:
    """Active open, 200 bytes out, the peer closes first, the IUT reads EOF and closes."""
    p = Peer(d, port=5000)
    sock, sport = p.connect(5000)
    out = p.pull() + p.advance(0.01)
    syns = [o for o in out if o.seg.flags == SYN]
    assert syns and syns[0].sport == sport, f"no SYN after connect: {out}"
    iss = syns[0].seg.seq
    out = p.send(SYN | ACK, 7000, iss + 1, iut_port=sport, mss=1460)
    out += p.advance(0.01)
    assert any(o.seg.flags == ACK and o.seg.ack == 7001 for o in out), f"the SYN,ACK was not acknowledged: {out}"
    assert p.write(sock, 200) == 200
    out = p.pull() + p.advance(0.01)
    assert sum(o.seg.data for o in out) == 200, out
    p.send(ACK, 7001, iss + 201, iut_port=sport)
    out = p.send(FIN | ACK, 7001, iss + 201, iut_port=sport) + p.advance(0.5)
    assert any(o.seg.ack == 7002 for o in out), f"the peer's FIN was not acknowledged: {p.trace}"
    assert p.read(sock) == (0, True)
    p.close(sock)
    out = p.pull() + p.advance(0.01)
    assert [o.seg.seq for o in out if o.seg.flags & FIN] == [iss + 201], f"no FIN after close: {out}"
    p.send(ACK, 7002, iss + 202, iut_port=sport)
    return p, sport


def peer_reset(d: Driver) -> tuple[Peer, int]:
    """The peer resets an established connection; its next segment there meets no connection."""
    p = Peer(d)
    sock, iss = accept_one(d, p)
    assert p.send(RST, PEER_ISN + 1, iut_port=80) == []
    p.advance(0.01)
    kinds = [e.kind for e in d.events() if e.sock == sock]
    assert "reset" in kinds or "eof" in kinds, f"the user was not told of the reset: {kinds}"
    out = p.send(ACK | PSH, PEER_ISN + 1, iss + 1, 10, iut_port=80)
    assert [o.seg.flags & RST for o in out] == [RST], f"a segment for the reset connection was not refused: {out}"
    return p, 80


def iut_abort(d: Driver) -> tuple[Peer, int]:
    """The IUT's user aborts an established connection: one RST."""
    p = Peer(d)
    sock, iss = accept_one(d, p)
    p.abort(sock)
    out = p.pull() + p.advance(0.01)
    assert [(o.seg.flags & RST, o.seg.seq) for o in out] == [(RST, iss + 1)], f"abort sent no RST: {out}"
    return p, 80


def refused(d: Driver) -> tuple[Peer, int]:
    """A SYN to a port nobody listens on is refused with RST,ACK."""
    p = Peer(d)
    out = p.send(SYN, PEER_ISN, iut_port=81, mss=1460) + p.advance(0.01)
    assert [(o.seg.flags & (RST | ACK), o.seg.ack) for o in out] == [(RST | ACK, PEER_ISN + 1)], out
    return p, 81


SCENARIOS = {"server": server_exchange, "client": client_exchange, "peer-reset": peer_reset,
             "abort": iut_abort, "refused": refused}


def without_ack(events: list, index: int) -> list:
    """The trace with the ACK bit (and field) cleared on event `index` (1-based): what a
    deviation judged at a RST carrying ACK would have been without it."""
    ev = events[index - 1]
    seg = ev.seg._replace(flags=ev.seg.flags & ~ACK, ack=0)
    return events[:index - 1] + [SegmentEvent(ev.dir, seg, ev.t, ev.win, ev.wscale, ev.mss, ev.ts)] + events[index:]


def check_smoke(d: Driver, name: str, deviations: dict[str, str]) -> None:
    """Play scenario `name`; the oracle must find it conformant, or, where `deviations` names
    it, a violation at exactly the IUT's RST carrying an ACK, the only difference from what
    RFC 9293 sends (the same trace without that ACK bit is conformant)."""
    p, port = SCENARIOS[name](d)
    v = p.verdict(port)
    if name not in deviations:
        assert v.ok, f"{name}:\n{v}"
        return
    assert v.status == "violation" and v.index is not None, f"{name}: expected the deviation, got:\n{v}"
    ev = p.events(port)[v.index - 1]
    assert ev.dir == "out" and ev.seg.flags & (RST | ACK) == RST | ACK, f"{name}: judged elsewhere:\n{v}"
    fixed = Monitor("rfc9293", calls_logged=True).check(without_ack(p.events(port), v.index))
    assert fixed.ok, f"{name}: more than the ACK bit differs:\n{fixed}"


def time_wait_probe(d: Driver, wait: float) -> tuple[Peer, int, list[Packet]]:
    """The IUT closes first and reaches TIME-WAIT; `wait` seconds later the peer retransmits
    its FIN. A stack still in TIME-WAIT acknowledges it; one whose TIME-WAIT ended answers
    RST. Returns the peer, the IUT's port, and the answer."""
    p = Peer(d)
    sock, iss = accept_one(d, p)
    p.close(sock)
    p.pull()
    p.send(FIN | ACK, PEER_ISN + 1, iss + 2, iut_port=80)
    p.advance(wait)
    return p, 80, p.send(FIN | ACK, PEER_ISN + 1, iss + 2, iut_port=80)
