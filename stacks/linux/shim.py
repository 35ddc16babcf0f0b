#!/usr/bin/env python3
"""The Linux kernel's TCP as a shim of synack's driver protocol (docs/driver-protocol.md).

The shim moves itself into a network namespace of its own (unshare(CLONE_NEWNET): the
namespace, its TUN device and every socket die with the process), creates a TUN device
(IFF_TUN | IFF_NO_PI: whole IPv4 datagrams, as packetdrill drives the kernel) with the IUT's
address, routes the peer's address through it, and answers the kit's requests with
non-blocking sockets in that namespace. The kit writes the peer's datagrams to the TUN fd and
reads what the kernel sends from it. The clock is real: `advance` sleeps. Each datagram the
kernel sends is stamped with the time the kernel sent it, read from a packet socket on the TUN
device (SO_TIMESTAMPNS), not the later time the shim read it (docs/driver-protocol.md, t_ms).

Sysctls set inside the namespace (each is per-namespace on Linux >= 4.13) shorten what can
be shortened, and stack.json declares the matching profile parameters for the kit:
tcp_syn_retries and tcp_synack_retries 2, tcp_fin_timeout 3 s, keep-alive after 3 s idle,
1 s apart, 2 probes (SO_KEEPALIVE is set on every socket), tcp_ecn 0 (the table has no ECN).
TIME-WAIT (60 s, TCP_TIMEWAIT_LEN) cannot be shortened: rows that wait for it are not drivable.

tcp_syn_linear_timeouts is set to 0 (see MATCH_PROFILE) unless the shim runs with --stock.
stack.json also declares what the kernel fixes and the shim leaves (or writes) as it is, so that
the oracle does not learn them (docs/test-kit.md): DATA.RETRIES 15 (tcp_retries2), rto_initial
1 s (TCP_TIMEOUT_INIT: no BPF sock_ops program in the namespace; the first SYN retransmission
measured 1.02 s after the SYN), rto_max 120 s (tcp_rto_max_ms 120000), user_timeout 0 (the shim
never sets TCP_USER_TIMEOUT unless the kit asks). Each checked in the shim's namespace on 6.18.

Needs root (CAP_NET_ADMIN) and /dev/net/tun. Run: python3 stacks/linux/shim.py [--stock]
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
DEV = "synack0"
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
#: Where to append, per datagram the kernel sent, "kernel_ms read_ms" (both on the shim's clock):
#: the spread between the kernel's send time and the moment the shim read it from TUN.
TIMING_LOG = os.environ.get("SYNACK_LINUX_TIMING", "")
SYSCTLS = {"net.ipv4.tcp_syn_retries": 2, "net.ipv4.tcp_synack_retries": 2, "net.ipv4.tcp_fin_timeout": 3,
           "net.ipv4.tcp_keepalive_time": 3, "net.ipv4.tcp_keepalive_intvl": 1, "net.ipv4.tcp_keepalive_probes": 2,
           "net.ipv4.tcp_ecn": 0,
           # what a new namespace has anyway (tcp_sk_init()), written so that stack.json's
           # DATA.RETRIES 15 and the table's rfc1337 off hold whatever the kernel's defaults become
           "net.ipv4.tcp_retries2": 15, "net.ipv4.tcp_rfc1337": 0}
#: Written where the kernel has them (tcp_rto_max_ms: Linux 6.15 and later; before it, the
#: constant TCP_RTO_MAX = 120 s): stack.json's rto_max 120.
IF_PRESENT = {"net.ipv4.tcp_rto_max_ms": 120000}
#: Linux >= 6.5 retransmits an active open's first SYNs linearly (1 s apart), where the linux
#: profile (RFC 6298 5.5) backs off exponentially: an oracle false alarm recorded for the
#: table's owner (stacks/linux-stock shows it). Without --stock the shim turns it off, so that
#: a run slowed past 1 s by a loaded machine is judged on the table's rules, not on that gap.
MATCH_PROFILE = {"net.ipv4.tcp_syn_linear_timeouts": 0}
OPTS = {"keepalive": (socket.SOL_SOCKET, socket.SO_KEEPALIVE), "keepidle": (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
        "keepintvl": (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL), "keepcnt": (socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
        "nodelay": (socket.IPPROTO_TCP, socket.TCP_NODELAY), "maxseg": (socket.IPPROTO_TCP, socket.TCP_MAXSEG),
        "linger2": (socket.IPPROTO_TCP, socket.TCP_LINGER2),
        "user_timeout": (socket.IPPROTO_TCP, getattr(socket, "TCP_USER_TIMEOUT", 18))}


def log(msg: str) -> None:
    print(f"linux-shim: {msg}", file=sys.stderr, flush=True)


def err_name(e: OSError) -> str:
    return errno.errorcode.get(e.errno or 0, "EIO")


class Linux:
    def __init__(self):
        self.socks: dict[int, socket.socket] = {}
        self.next = 1
        self.tun = -1
        self.tap: socket.socket | None = None
        self.sent: list[tuple[float, bytes]] = []      # (kernel send time, datagram) not yet read from TUN
        self.t0 = time.monotonic()
        self.iut, self.peer = "10.0.0.2", "10.0.0.1"

    def now_ms(self) -> float:
        return (time.monotonic() - self.t0) * 1000.0

    def _kernel_ms(self, realtime_ns: int) -> float:
        """A kernel timestamp (CLOCK_REALTIME, as SO_TIMESTAMPNS gives it) on the shim's clock
        (CLOCK_MONOTONIC since init): the two clocks' offset is read now, next to each other."""
        offset = time.time_ns() - time.monotonic_ns()
        return (realtime_ns - offset) / 1e6 - self.t0 * 1000.0

    # --------------------------------------------------------------- set-up
    def init(self, req: dict) -> dict:
        self.iut, self.peer = req.get("iut", self.iut), req.get("peer", self.peer)
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) failed (needs root)")
        self.tun = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(self.tun, TUNSETIFF, struct.pack("16sH", DEV.encode(), IFF_TUN | IFF_NO_PI))
        mss = int(req.get("mss", 1460))
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "set", DEV, "up", "mtu", str(mss + 40)],
                    ["ip", "addr", "add", f"{self.iut}/32", "dev", DEV],
                    ["ip", "route", "add", f"{self.peer}/32", "dev", DEV]):
            subprocess.run(cmd, check=True, timeout=10, capture_output=True)
        extra = {**IF_PRESENT, **({} if "--stock" in sys.argv[1:] else MATCH_PROFILE)}
        for k, v in {**SYSCTLS, **extra}.items():
            path = "/proc/sys/" + k.replace(".", "/")
            if k in extra and not os.path.exists(path):
                continue                     # a kernel before the sysctl existed
            with open(path, "w") as fh:
                fh.write(str(v))
        # a packet socket on the TUN device sees each datagram the kernel sends as it leaves the
        # stack (dev_queue_xmit_nit(), before tun_net_xmit() queues it for our read), stamped by
        # the kernel (SO_TIMESTAMPNS): that time, not our later read, is the datagram's t_ms
        self.tap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        self.tap.bind((DEV, ETH_P_ALL))          # (Python applies htons)
        self.tap.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.tap.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.tap.setblocking(False)
        self.t0 = time.monotonic()
        return {"ok": True, "clock": "real", "stack": f"Linux {os.uname().release}"}

    def _new(self, s: socket.socket) -> int:
        h, self.next = self.next, self.next + 1
        self.socks[h] = s
        return h

    def _sock(self, req: dict) -> socket.socket:
        s = self.socks.get(req.get("sock"))
        if s is None:
            raise OSError(errno.EBADF, "no such socket")
        return s

    @staticmethod
    def _tcp() -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setblocking(False)
        return s

    # --------------------------------------------------------------- socket calls
    def listen(self, req: dict) -> dict:
        s = self._tcp()
        try:
            s.bind((self.iut, int(req["port"])))
            s.listen(int(req.get("backlog", 4)))
        except OSError:
            s.close()
            raise
        return {"ok": True, "sock": self._new(s)}

    def accept(self, req: dict) -> dict:
        c, _ = self._sock(req).accept()
        c.setblocking(False)
        return {"ok": True, "sock": self._new(c)}

    def connect(self, req: dict) -> dict:
        s = self._tcp()
        try:
            s.bind((self.iut, int(req.get("sport", 0))))
            rc = s.connect_ex((self.peer, int(req["dport"])))
        except OSError:
            s.close()
            raise
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            raise OSError(rc, os.strerror(rc))
        return {"ok": True, "sock": self._new(s), "sport": s.getsockname()[1]}

    def send(self, req: dict) -> dict:
        return {"ok": True, "n": self._sock(req).send(b"x" * int(req["bytes"]))}

    def recv(self, req: dict) -> dict:
        data = self._sock(req).recv(int(req.get("max", 65535)))
        return {"ok": True, "n": len(data), "eof": not data}

    def shutdown(self, req: dict) -> dict:
        self._sock(req).shutdown(socket.SHUT_WR)
        return {"ok": True}

    def close(self, req: dict) -> dict:
        self._sock(req).close()
        del self.socks[req["sock"]]
        return {"ok": True}

    def abort(self, req: dict) -> dict:
        s = self._sock(req)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        del self.socks[req["sock"]]
        return {"ok": True}

    def setsockopt(self, req: dict) -> dict:
        if req.get("name") not in OPTS:
            return {"ok": False, "error": "ENOPROTOOPT"}
        level, opt = OPTS[req["name"]]
        self._sock(req).setsockopt(level, opt, int(req["value"]))
        return {"ok": True}

    # --------------------------------------------------------------- the network side
    def deliver(self, req: dict) -> dict:
        os.write(self.tun, bytes.fromhex(req["ip"]))
        return {"ok": True}

    def _tapped(self) -> None:
        """Move what the packet socket saw the kernel send into `self.sent`, with its stamp."""
        while self.tap is not None:
            try:
                data, anc, _, addr = self.tap.recvmsg(65536, 64)
            except (BlockingIOError, InterruptedError):
                return
            if addr[2] != PACKET_OUTGOING:
                continue                       # a datagram the kit wrote to TUN, coming in
            t = None
            for level, kind, raw in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) >= 16:
                    sec, nsec = struct.unpack("qq", raw[:16])
                    t = self._kernel_ms(sec * 1_000_000_000 + nsec)
            if t is not None:
                self.sent.append((t, data))
        del self.sent[:-1000]

    def collect(self, req: dict) -> dict:
        """Each datagram the kernel sent, stamped with the kernel's send time (the packet
        socket's timestamp of the same bytes); the time of our read only when no stamp matched."""
        out, log = [], []
        for _ in range(10000):
            r, _, _ = select.select([self.tun], [], [], 0)
            if not r:
                break
            try:
                pkt = os.read(self.tun, 65536)
            except BlockingIOError:
                break
            read = self.now_ms()
            self._tapped()
            t = read
            for i, (kt, data) in enumerate(self.sent):
                if data == pkt:
                    t = kt
                    del self.sent[:i + 1]       # in order: what came before it was read already
                    break
            out.append({"t_ms": round(t, 3), "ip": pkt.hex()})
            log.append(f"{t:.3f} {read:.3f}\n")
        if TIMING_LOG and log:
            with open(TIMING_LOG, "a") as fh:
                fh.writelines(log)
        return {"ok": True, "out": out}

    def advance(self, req: dict) -> dict:
        ms = max(0, int(req.get("ms", 0)))
        if ms:
            time.sleep(min(ms, 600_000) / 1000.0)
        return {"ok": True, "now_ms": round(self.now_ms(), 3)}

    def events(self, req: dict) -> dict:
        return {"ok": True, "events": []}


def main() -> int:
    stack = Linux()
    for line in sys.stdin:
        try:
            req = json.loads(line)
            op = req.get("op")
        except ValueError:
            print(json.dumps({"ok": False, "error": "EINVAL", "detail": "not JSON"}), flush=True)
            continue
        if op == "quit":
            print(json.dumps({"ok": True}), flush=True)
            return 0
        fn = getattr(stack, op, None) if op in ("init", "listen", "accept", "connect", "send", "recv", "shutdown",
                                                "close", "abort", "setsockopt", "deliver", "collect", "advance",
                                                "events") else None
        if fn is None:
            reply = {"ok": False, "error": "unsupported"}
        else:
            try:
                reply = fn(req)
            except (BlockingIOError, InterruptedError):
                reply = {"ok": False, "error": "EAGAIN"}
            except OSError as e:
                reply = {"ok": False, "error": err_name(e), "detail": str(e)}
            except subprocess.SubprocessError as e:
                reply = {"ok": False, "error": "EIO", "detail": f"setting up the namespace: {e}"}
            except (KeyError, ValueError, TypeError) as e:
                reply = {"ok": False, "error": "EINVAL", "detail": f"bad request: {e}"}
        print(json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
