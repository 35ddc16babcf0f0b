"""A bulk transfer over a lossy, reordering wire (relay.Wire), both hosts' captures written: the
generator of tests/data/lossy (see its README). Not a test; run as root:

    .venv/bin/python tests/live/lossy.py OUT SEED LOSS DELAYED BYTES MSS

LOSS and DELAYED are per-frame probabilities (SYNs always pass); a delayed frame is held 1-20 ms,
so later frames overtake it. TS=0 in the environment turns TCP timestamps off in both hosts."""
from __future__ import annotations

import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as S  # noqa: E402
from netns import run_in_netns  # noqa: E402
from relay import DROP, PASS, SERVER, Wire, inside  # noqa: E402

CHUNK = 1000          # the client writes this much at a time, TCP_NODELAY, 2 ms apart (no GSO trains)


def lossy(seed: int, loss: float, delayed: float):
    """A relay rule: drop with probability `loss`, delay 1-20 ms with probability `delayed`."""
    rnd = random.Random(seed)

    def rule(f, relay):
        if f.tcp is not None and f.flags & 0x02:
            return PASS
        x = rnd.random()
        if x < loss:
            return DROP
        if x < loss + delayed:
            return rnd.uniform(0.001, 0.02)
        return PASS
    return rule


def bulk(path: str, seed: int, loss: float, delayed: float, nbytes: int, mss: int, timestamps: str):
    caps = S._wire_caps(path)
    with Wire(lossy(seed, loss, delayed), *caps, max_seconds=40) as w:
        for ns in (w.client, w.server):
            with inside(ns), open("/proc/sys/net/ipv4/tcp_timestamps", "w") as fh:
                fh.write(timestamps)
        srv, cli = S._wire_sockets(w)
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cli.settimeout(20)
        cli.connect((SERVER, S.PORT))
        conn, _ = srv.accept()
        conn.settimeout(20)
        data, got = os.urandom(nbytes), bytearray()

        def read():
            while len(got) < nbytes:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                got.extend(chunk)
        reader = threading.Thread(target=read)
        reader.start()
        for i in range(0, nbytes, CHUNK):
            cli.sendall(data[i:i + CHUNK])
            time.sleep(0.002)
        reader.join(30)
        assert bytes(got) == data, f"{len(got)} of {nbytes} bytes arrived"
        cli.close()
        S._drain(conn)
        conn.close()
        time.sleep(0.5)
        srv.close()
    return caps


if __name__ == "__main__":
    out, seed, loss, delayed, nbytes, mss = sys.argv[1:7]
    print(run_in_netns(bulk, out, int(seed), float(loss), float(delayed), int(nbytes), int(mss),
                       os.environ.get("TS", "1"), timeout=90))
