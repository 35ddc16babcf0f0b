"""Real Linux traffic for bench/oracle_bench.py --kernel N: N connections over loopback in a
network namespace of their own (root), captured with the project's AF_PACKET recorder.

Each connection: the client writes 1 to 11 buffers of 1 to 40,000 bytes, then shuts down its
side; the server reads to the end, answering about half of the reads with 1 to 3,000 bytes
and, half the time, 1 to 20,000 more before it closes. Sizes come from seeded random draws,
so a run is repeatable up to the kernel's own timing (segmentation, ACK timing and the
order in which the capture sees segments vary). A capture the kernel dropped frames from is
refused, as the live tests refuse one."""
from __future__ import annotations

import os
import random
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "live"))
from netns import can_unshare, run_in_netns  # noqa: E402

from synack.oracle.sniff import Sniffer  # noqa: E402

PORT = 6000
TMO = 10.0


def _serve(srv: socket.socket, n: int) -> None:
    for _ in range(n):
        c, _ = srv.accept()
        c.settimeout(TMO)
        threading.Thread(target=_answer, args=(c,), daemon=True).start()


def _answer(c: socket.socket) -> None:
    rng = random.Random(c.getpeername()[1])
    with c:
        while c.recv(65536):
            if rng.random() < 0.5:
                c.sendall(b"s" * rng.randrange(1, 3000))
        if rng.random() < 0.5:
            c.sendall(b"t" * rng.randrange(1, 20000))


def _traffic(path: str, n: int, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    with Sniffer(path, max_seconds=600, max_frames=5_000_000) as sn:
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", PORT))
        srv.listen(64)
        srv.settimeout(TMO)
        server = threading.Thread(target=_serve, args=(srv, n), daemon=True)
        server.start()
        for _ in range(n):
            with socket.create_connection(("127.0.0.1", PORT), timeout=TMO) as c:
                for _ in range(rng.randrange(1, 12)):
                    c.sendall(b"c" * rng.randrange(1, 40000))
                c.shutdown(socket.SHUT_WR)
                while c.recv(65536):
                    pass
        server.join(TMO)
        srv.close()
        threading.Event().wait(1.0)            # the last segments through before the capture ends
    return sn.frames, sn.dropped


def kernel_capture(path: str, connections: int, seed: int = 7) -> int:
    """Write the capture; returns its frame count. Raises when namespaces are unavailable or
    the recorder dropped frames."""
    why = can_unshare()
    if why:
        raise SystemExit(f"--kernel: {why}")
    frames, dropped = run_in_netns(_traffic, path, connections, seed, timeout=max(120.0, connections * 0.2))
    if dropped:
        raise SystemExit(f"--kernel: the capture dropped {dropped} of {frames + dropped} frames; run it again")
    return frames
