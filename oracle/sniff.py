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


# ----------------------------------------------------------------------------- live judging

def _recv_socket(ifname: str) -> socket.socket:
    """A cooked AF_PACKET socket on `ifname` (network-layer bytes whatever the link), with
    kernel timestamps. One line of error for a name that is not an interface, or no root."""
    from .events import TraceError

    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    except PermissionError:
        raise TraceError("--live needs root or CAP_NET_RAW (AF_PACKET sockets)") from None
    try:
        sock.bind((ifname, 0))
    except OSError as exc:
        sock.close()
        raise TraceError(f"--live {ifname!r}: {exc.strerror or exc} (see 'ip link' for the interfaces)") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    return sock


def judge_live(ifname: str, profile, iut=None, start: str | None = None, max_candidates: int = 4096,
               echo=print, max_seconds: float = 0.0, ready=None, vantage=None, max_violations: int = 10) -> int:
    """`synack oracle --live IFACE`: judge the TCP traffic crossing `ifname` as it passes. A
    violation is printed as soon as the monitor decides it (up to `max_violations` per end;
    judging resumes after each, as `synack oracle` does); `vantage` as for captures; when `max_seconds` pass (0: no limit) or on Ctrl-C, every connection still open
    is judged as it stands and a summary line follows. Returns the exit code: the worst
    verdict (0, 1, 3) after `max_seconds`, 130 after Ctrl-C (the summary is printed either
    way). `ready()` is called once the socket listens. Loopback shows each frame twice (sent,
    then received): the sent copy is judged."""
    from collections import Counter
    from dataclasses import replace

    from .capture import RAW, CaptureStats, Lost, decode
    from .judge import CaptureJudge, _ep, _worse
    from .monitor import EXIT, VIOLATION

    sock = _recv_socket(ifname)
    judge = CaptureJudge(profile, iut, start, max_candidates, vantage=vantage, max_violations=max_violations)
    stats, counts, told = CaptureStats(), Counter(), Counter()     # told: violations printed per end
    worst, segments, interrupted = 0, 0, False
    t_end = time.monotonic() + max_seconds if max_seconds > 0 else None

    def violation_line(conn: str, end: str, v) -> None:
        echo(f"{conn}  IUT {end}: VIOLATION at segment {v.index}: {v.event}; " + (v.rows[0] if v.rows else ""))
        echo("    " + str(v).replace("\n", "\n    "))

    def tell(conn: str, end: str, found: list) -> None:
        """Print the violations of one end not printed yet (`found`: all of them so far)."""
        for v in found[told[(conn, end)]:]:
            violation_line(conn, end, v)
        told[(conn, end)] = max(told[(conn, end)], len(found))

    def tally(results) -> None:
        nonlocal worst
        for r in results:
            counts[r.verdict.status] += 1
            worst = _worse(worst, EXIT[r.verdict.status])
            if r.verdict.status == VIOLATION:
                tell(r.conn, r.iut, [replace(r.verdict, more=())] + list(r.verdict.more))

    t0 = time.monotonic()
    if ready is not None:
        ready()
    try:
        while t_end is None or time.monotonic() < t_end:
            wait = 0.2 if t_end is None else max(0.0, min(0.2, t_end - time.monotonic()))
            r, _, _ = select.select([sock], [], [], wait)
            if not r:
                continue
            buf, anc, _, addr = sock.recvmsg(65600, socket.CMSG_SPACE(16))
            if ifname == "lo" and addr[2] != PACKET_OUTGOING:
                continue
            ts = next((sec + nsec / 1e9 for level, kind, data in anc
                       if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16
                       for sec, nsec in [struct.unpack("qq", data[:16])]), time.time())
            p = decode(ts, buf, RAW, stats)
            if p is None:
                continue
            if isinstance(p, Lost):               # a frame that cannot be judged: its connection stops
                tally(judge.feed(p))
                continue
            segments += 1
            tally(judge.feed(p))
            a, b = (p.src, p.sport), (p.dst, p.dport)
            c = judge.live.get((a, b) if a <= b else (b, a))
            for end, mon in (c.monitors.items() if c is not None else ()):
                done = [mon.done] if mon.done is not None and mon.done.status == VIOLATION else []
                tell(c.name(), _ep(*end), list(mon.found) + done)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        _, dropped = struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        sock.close()
    tally(judge.close())
    secs = time.monotonic() - t0
    ends = sum(counts.values())
    echo(f"summary ({'interrupted' if interrupted else 'stopped'} after {secs:.1f} s on {ifname}): "
         f"{sum(judge.incarnations.values())} connections, {segments} TCP segments ({stats.frames} frames: "
         f"{stats.non_tcp} not TCP, {stats.fragments} fragments, {stats.malformed} malformed; {dropped} dropped by "
         f"the kernel); {counts['conformant']} conformant, {counts['violation']} violation, "
         f"{counts['inconclusive']} inconclusive" + (f", {counts['silent']} silent (sent nothing)"
                                                     if counts['silent'] else ""))
    if interrupted:
        return 130
    if dropped and worst == 0:
        worst = 3                  # frames were lost to the capture: nothing wrong shown, not all judged
    return worst if ends else 3
