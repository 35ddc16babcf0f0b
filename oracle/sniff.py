"""Record what crosses one network interface into a pcap file (Linux AF_PACKET; needs
root or CAP_NET_RAW). For tests that drive the real kernel and judge its segments: run it
inside a network namespace you created so that the capture holds only your traffic."""
from __future__ import annotations

import select
import socket
import struct
import threading
import time

import dpkt

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
# <asm-generic/socket.h>, <linux/if_packet.h> (Python's socket module lacks some of them)
SO_RCVBUFFORCE, SO_TIMESTAMPNS = 33, 35
SOL_PACKET, PACKET_STATISTICS = 263, 6
#: Receive buffer asked for: a loopback bulk transfer queues 64 KB frames faster than a
#: Python thread reads them, and the default limit (net.core.rmem_max) holds only a few.
RCVBUF = 64 << 20


class Sniffer:
    """A context manager: frames on `ifname` are written to `path` (Ethernet link type,
    nanosecond stamps taken by the kernel when it queued the frame, not when this thread read
    it) from enter to exit. The thread polls every 50 ms and stops within `max_seconds` or
    `max_frames` whatever happens. `dropped` is what the kernel could not queue (a capture
    with gaps: a test should refuse to judge it)."""

    def __init__(self, path: str, ifname: str = "lo", max_seconds: float = 60.0, max_frames: int = 100000):
        self.path, self.ifname = path, ifname
        self.max_seconds, self.max_frames = max_seconds, max_frames
        self.frames = 0
        self.dropped = 0
        self._stop = threading.Event()

    def __enter__(self) -> "Sniffer":
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((self.ifname, 0))
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)   # root: past rmem_max
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)                 # reset the counters
        self.fh = open(self.path, "wb")
        self.writer = dpkt.pcap.Writer(self.fh, linktype=dpkt.pcap.DLT_EN10MB, nano=True)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        end = time.monotonic() + self.max_seconds
        while time.monotonic() < end and self.frames < self.max_frames:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                if self._stop.is_set():
                    break
                continue
            buf, anc, _, addr = self.sock.recvmsg(65600, socket.CMSG_SPACE(16))
            # loopback shows every frame twice (sent, then received): keep the sent copy
            if self.ifname == "lo" and addr[2] != PACKET_OUTGOING:
                continue
            ts = next((sec + nsec / 1e9 for level, kind, data in anc
                       if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16
                       for sec, nsec in [struct.unpack("qq", data[:16])]), None)
            self.writer.writepkt(buf, ts=time.time() if ts is None else ts)
            self.frames += 1

    def __exit__(self, *exc) -> None:
        time.sleep(0.05)
        self._stop.set()
        self.thread.join(timeout=self.max_seconds + 1)
        _, self.dropped = struct.unpack("II", self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        self.sock.close()
        self.writer.close()
