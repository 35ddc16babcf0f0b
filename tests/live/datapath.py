"""Live data-path scenarios: this kernel's TCP sending through a small MSS, with every call
the sending application makes logged as it happens (a `calls_logged` trace). Each runs in a
namespace of its own on loopback, writes one pcap and one JSON file of the calls, and waits
with bounded timeouts only."""
from __future__ import annotations

import json
import socket
import threading
import time

from scenarios import HOST, PORT, TMO, _drain, _listener, _sniff

#: The MSS the receiver announces (TCP_MAXSEG on the listener, RFC 9293 3.7.1).
SMALL_MSS = 536
#: Writes the client makes, and their sizes.
WRITES, WRITE_SIZE = 12, 3000
#: The server's receive buffer (a small window that fills), and how long it waits to read:
#: the window closes, the client probes it (RFC 9293 3.8.6.1) and closes with data queued.
RCVBUF, READ_AFTER = 4096, 2.0


def calls_path(pcap: str) -> str:
    return pcap + ".calls.json"


def _small_listener(mss: int, rcvbuf: int) -> socket.socket:
    """A listener that announces MSS `mss` (TCP_MAXSEG) and has a receive buffer of `rcvbuf` bytes
    (SO_RCVBUF, set before listen(): the window scale and clamp follow from it)."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    srv.bind((HOST, PORT))
    srv.listen(1)
    srv.settimeout(TMO)
    return srv


def small_mss_bulk(path):
    """The server announces MSS 536 and a small receive buffer and reads nothing for 2 s;
    the client writes 12 x 3000 bytes (the window closes: zero-window probes), then closes
    with data still queued (its FIN follows the last byte, RFC 9293 3.10.4). Every call of
    the client is logged with the time it was made (CLOCK_REALTIME, as the capture's stamps)."""
    log = []
    with _sniff(path):
        srv = _small_listener(SMALL_MSS, RCVBUF)
        cli = socket.socket()
        cli.settimeout(TMO)
        got = []
        log.append({"call": "connect", "t": time.time()})
        cli.connect((HOST, PORT))
        conn, _ = srv.accept()
        conn.settimeout(TMO)
        def read_later():
            time.sleep(READ_AFTER)
            got.append(_drain(conn))
        reader = threading.Thread(target=read_later, daemon=True)
        reader.start()
        for _ in range(WRITES):
            t = time.time()
            n = cli.send(b"d" * WRITE_SIZE)
            log.append({"call": "send", "n": n, "t": t, "result": "ok"})
        log.append({"call": "close", "t": time.time(), "result": "ok"})
        cli.close()
        reader.join(TMO)
        assert got and len(got[0]) == sum(x.get("n", 0) for x in log), "the server did not read everything"
        conn.close()
        srv.close()
        time.sleep(0.2)
    with open(calls_path(path), "w") as fh:
        json.dump(log, fh)


#: Bytes the client writes in window_scaled_bulk: far past one unscaled 64 KB window.
SCALED_BYTES = 2 * 1024 * 1024


def window_scaled_bulk(path):
    """Both ends announce a window scale (the kernel's default, RFC 7323 2.2) and the server
    reads as fast as it can: its window grows past 65,535 bytes (receive buffer autotuning) and
    the client keeps more than 64 KB in flight. Returns the bytes the server read."""
    with _sniff(path):
        srv = _listener(HOST)
        cli = socket.create_connection((HOST, PORT), timeout=TMO)
        conn, _ = srv.accept()
        conn.settimeout(TMO)
        got = []
        reader = threading.Thread(target=lambda: got.append(len(_drain(conn))), daemon=True)
        reader.start()
        cli.sendall(b"w" * SCALED_BYTES)
        cli.close()
        reader.join(TMO)
        conn.close()
        srv.close()
        time.sleep(0.2)
    return got[0] if got else 0


#: slow_small_reader: the server's MSS (the smallest Linux takes, TCP_MIN_MSS), its receive
#: buffer, and how it reads: a small piece at a time, with a pause between.
TINY_MSS, TINY_RCVBUF, READ_PIECE, READ_PAUSE, TINY_BYTES = 88, 2048, 100, 0.01, 12000


def slow_small_reader(path):
    """The server announces MSS 88 and a small receive buffer and reads 100 bytes every 10 ms;
    the client writes 12,000 bytes at once. The server's window closes and reopens as its
    application reads: the receiver's silly-window-syndrome avoidance (RFC 9293 3.8.6.2.2) shows
    in the windows it offers. Returns the bytes the server read."""
    with _sniff(path):
        srv = _small_listener(TINY_MSS, TINY_RCVBUF)
        cli = socket.create_connection((HOST, PORT), timeout=TMO)
        conn, _ = srv.accept()
        conn.settimeout(TMO)
        got = [0]

        def read_slowly():
            deadline = time.monotonic() + 4 * TMO
            while time.monotonic() < deadline:
                piece = conn.recv(READ_PIECE)
                if not piece:
                    return
                got[0] += len(piece)
                time.sleep(READ_PAUSE)
        reader = threading.Thread(target=read_slowly, daemon=True)
        reader.start()
        cli.sendall(b"r" * TINY_BYTES)
        cli.close()
        reader.join(5 * TMO)
        conn.close()
        srv.close()
        time.sleep(0.2)
    return got[0]


SCENARIOS = {f.__name__: f for f in (small_mss_bulk, window_scaled_bulk, slow_small_reader)}
