"""Two hosts and a lossy wire between them, made of real kernel parts: a client and a server
namespace, each joined by a veth pair to the middle namespace (the caller's), where a user-space
relay copies Ethernet frames from one pair to the other through AF_PACKET. A rule decides per
frame: pass, drop, delay, or hold until another frame releases it. That is how the live suite
loses a final ACK, a handshake ACK or keep-alive answers, and makes two SYNs cross, on a kernel
without netem.

Each side is captured where it meets the wire (the middle end of its veth pair), so a
capture holds exactly what that host sent and what it was given: the client's capture is
the trace of the client as IUT, the server's of the server.

Everything lives in namespaces held by file descriptors of this process; they vanish with
it. Every wait is bounded."""
from __future__ import annotations

import contextlib
import ctypes
import os
import select
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import dpkt

from synack.oracle.sniff import ETH_P_ALL, PACKET_OUTGOING, Sniffer

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

CLIENT, SERVER = "10.77.0.1", "10.77.0.2"
MAC = {CLIENT: "02:00:00:00:77:01", SERVER: "02:00:00:00:77:02"}
C2S, S2C = "c2s", "s2c"

PASS, DROP, HOLD = "pass", "drop", "hold"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, timeout=10, capture_output=True)


def _new_netns() -> int:
    """A fresh network namespace as an fd. unshare() moves only the calling thread, so a
    helper thread makes it and the fd keeps it alive after the thread is gone."""
    out: dict = {}

    def make():
        if _libc.unshare(CLONE_NEWNET) != 0:
            out["err"] = ctypes.get_errno()
        else:
            out["fd"] = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    t = threading.Thread(target=make)
    t.start()
    t.join(10)
    if "fd" not in out:
        raise OSError(out.get("err", 0), "unshare(CLONE_NEWNET) failed in a helper thread")
    return out["fd"]


@contextlib.contextmanager
def inside(ns_fd: int):
    """Run the block (this thread only) in namespace `ns_fd`: sockets made here live there."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        if _libc.setns(ns_fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into the host namespace failed")
        yield
    finally:
        _libc.setns(home, CLONE_NEWNET)
        os.close(home)


@dataclass
class Frame:
    """What a rule sees: the direction and the parsed TCP segment (None for anything else)."""

    direction: str
    tcp: dpkt.tcp.TCP | None

    @property
    def flags(self) -> int:
        return self.tcp.flags if self.tcp is not None else 0

    @property
    def payload(self) -> int:
        return len(self.tcp.data) if self.tcp is not None else 0


Rule = Callable[[Frame, "Relay"], "str | float"]


@dataclass
class Relay:
    """Copies frames between the two middle ends, asking `rule` about each TCP frame. A rule
    returns PASS, DROP, HOLD, or a delay in seconds; it may call `release()` to let the held
    frames go (in order). Held frames go anyway after `hold_max` seconds."""

    rule: Rule
    hold_max: float = 3.0
    log: list = field(default_factory=list)          # (time, direction, flags, payload length, action)
    state: dict = field(default_factory=dict)        # for rules to remember what they saw
    _held: list = field(default_factory=list)
    _timed: list = field(default_factory=list)
    _mss: int = 0                                    # the smaller MSS option the SYNs carried

    def release(self) -> None:
        for _, out, buf in self._held:
            out.send(buf)
        self._held.clear()

    def run(self, socks: dict, stop: threading.Event, max_seconds: float) -> None:
        end = time.monotonic() + max_seconds
        fds = {s.fileno(): (d, socks[other]) for d, s, other in
               ((C2S, socks["c"], "s"), (S2C, socks["s"], "c"))}
        while time.monotonic() < end and not stop.is_set():
            now = time.monotonic()
            for item in [x for x in self._timed if x[0] <= now]:
                self._timed.remove(item)
                item[1].send(item[2])
            if self._held and now - self._held[0][0] > self.hold_max:
                self.release()
            ready, _, _ = select.select(list(fds), [], [], 0.01)
            for fd in ready:
                direction, out = fds[fd]
                src = socks["c"] if direction == C2S else socks["s"]
                buf, addr = src.recvfrom(65600)
                if addr[2] == PACKET_OUTGOING:           # our own copy going the other way
                    continue
                self._forward(direction, buf, out)

    def _forward(self, direction: str, buf: bytes, out: socket.socket) -> None:
        eth = dpkt.ethernet.Ethernet(buf)
        tcp = eth.data.data if isinstance(eth.data, dpkt.ip.IP) and isinstance(eth.data.data, dpkt.tcp.TCP) else None
        if tcp is None:
            out.send(buf)
            return
        if tcp.flags & dpkt.tcp.TH_SYN:
            for kind, value in dpkt.tcp.parse_opts(tcp.opts):
                if kind == dpkt.tcp.TCP_OPT_MSS and len(value) == 2:
                    self._mss = min(self._mss or 65535, int.from_bytes(value, "big"))
        if len(buf) > MTU + 14:
            # a GSO/TSO train (the sender's kernel segments late, on a device that can): cut it
            # here into segments of the connection's MSS (the smaller SYN's MSS option, less the
            # options the train carries, as tcp_current_mss() sizes them), as a NIC would, or
            # sending it out of the other pair fails (EMSGSIZE)
            for piece in _segmented(eth, self._mss):
                self._forward(direction, bytes(piece), out)
            return
        # veth hands over checksums still to be completed (offload): complete them for the far end
        eth.data.sum = 0
        tcp.sum = 0
        buf = bytes(eth)
        action = self.rule(Frame(direction, tcp), self)
        self.log.append((time.monotonic(), direction, tcp.flags, len(tcp.data), action))
        if action == PASS:
            out.send(buf)
        elif action == HOLD:
            self._held.append((time.monotonic(), out, buf))
        elif isinstance(action, (int, float)) and not isinstance(action, bool):
            self._timed.append((time.monotonic() + float(action), out, buf))
        elif action != DROP:
            raise ValueError(f"relay rule returned {action!r}; expected pass, drop, hold or seconds")


MTU = 1500


def _segmented(eth: dpkt.ethernet.Ethernet, mss: int = 0):
    """A TCP frame larger than the MTU as the segments TSO makes of it: the same header and
    options, the payload cut into pieces of `mss` less the options (else what fits the MTU),
    PSH and FIN on the last one only."""
    ip, tcp = eth.data, eth.data.data
    room = MTU - ip.hl * 4 - tcp.off * 4
    if mss:
        room = min(room, mss - (tcp.off * 4 - 20))
    data, flags = tcp.data, tcp.flags
    for i in range(0, len(data), room):
        last = i + room >= len(data)
        piece = dpkt.tcp.TCP(bytes(tcp))
        piece.seq = (tcp.seq + i) & 0xFFFFFFFF
        piece.data = data[i:i + room]
        piece.flags = flags if last else flags & ~(dpkt.tcp.TH_PUSH | dpkt.tcp.TH_FIN)
        piece.sum = 0
        pip = dpkt.ip.IP(bytes(ip))
        pip.data, pip.len, pip.sum = piece, 0, 0
        pip.len = len(pip)
        yield dpkt.ethernet.Ethernet(dst=eth.dst, src=eth.src, type=eth.type, data=pip)


class Wire:
    """The two hosts, the relay between them and one capture per host. Use as a context
    manager inside a namespace of the test's own (see netns.run_in_netns)::

        with Wire(rule, client_pcap, server_pcap) as w:
            with inside(w.server): srv = socket.socket(); ...
            with inside(w.client): cli = socket.socket(); ...
    """

    def __init__(self, rule: Rule, client_pcap: str, server_pcap: str, max_seconds: float = 30.0,
                 hold_max: float = 3.0):
        self.relay = Relay(rule, hold_max)
        self.paths = {"c": client_pcap, "s": server_pcap}
        self.max_seconds = max_seconds
        self._stop = threading.Event()

    def __enter__(self) -> "Wire":
        self.client, self.server = _new_netns(), _new_netns()
        for side, ns, addr, peer in (("c", self.client, CLIENT, SERVER), ("s", self.server, SERVER, CLIENT)):
            _ip("link", "add", f"{side}0", "address", MAC[addr], "type", "veth", "peer", "name", f"{side}1")
            _ip("link", "set", f"{side}0", "netns", f"/proc/{os.getpid()}/fd/{ns}")
            _ip("link", "set", f"{side}1", "up")
            with inside(ns):
                with open(f"/proc/sys/net/ipv6/conf/{side}0/disable_ipv6", "w") as fh:
                    fh.write("1")
                _ip("addr", "add", f"{addr}/24", "dev", f"{side}0")
                _ip("link", "set", f"{side}0", "up")
                _ip("neigh", "replace", peer, "lladdr", MAC[peer], "dev", f"{side}0", "nud", "permanent")
        with open("/proc/sys/net/ipv6/conf/all/disable_ipv6", "w") as fh:
            fh.write("1")
        self.sniffers = [Sniffer(self.paths[side], ifname=f"{side}1", max_seconds=self.max_seconds)
                         for side in ("c", "s")]
        for s in self.sniffers:
            s.__enter__()
        self.socks = {}
        for side in ("c", "s"):
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.bind((f"{side}1", 0))
            self.socks[side] = s
        self.thread = threading.Thread(target=self.relay.run, args=(self.socks, self._stop, self.max_seconds),
                                       daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.05)
        self._stop.set()
        self.thread.join(self.max_seconds + 1)
        for s in self.socks.values():
            s.close()
        for s in self.sniffers:
            s.__exit__()
        for fd in (self.client, self.server):
            os.close(fd)
        lost = {s.path: s.dropped for s in self.sniffers if s.dropped}
        assert not lost, f"captures with gaps (frames the kernel could not queue): {lost}"