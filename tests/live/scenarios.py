"""Live scenarios: ordinary sockets on this machine's kernel, captured on loopback inside a
namespace of their own. Each writes a pcap and returns (server port, description). Every wait
is bounded (socket timeouts); nothing leaves the namespace."""
from __future__ import annotations

import socket
import struct
import threading
import time

from synack.oracle.sniff import Sniffer

HOST, PORT = "127.0.0.1", 5000
TMO = 5.0


def _pair():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((HOST, PORT))
    srv.listen(4)
    srv.settimeout(TMO)
    cli = socket.create_connection((HOST, PORT), timeout=TMO)
    conn, _ = srv.accept()
    conn.settimeout(TMO)
    return srv, cli, conn


def _drain(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def client_close(path):
    with Sniffer(path):
        srv, cli, conn = _pair()
        cli.sendall(b"hello" * 100)
        assert conn.recv(1000)
        cli.close()
        _drain(conn)
        conn.close()
        srv.close()
        time.sleep(0.2)


def server_close(path):
    with Sniffer(path):
        srv, cli, conn = _pair()
        conn.sendall(b"x" * 3000)
        conn.close()
        _drain(cli)
        cli.close()
        srv.close()
        time.sleep(0.2)


def half_close(path):
    """The client shuts down its sending side; the server still sends, then closes."""
    with Sniffer(path):
        srv, cli, conn = _pair()
        cli.sendall(b"request")
        cli.shutdown(socket.SHUT_WR)
        assert _drain(conn) == b"request"
        conn.sendall(b"r" * 20000)
        conn.close()
        assert len(_drain(cli)) == 20000
        cli.close()
        srv.close()
        time.sleep(0.2)


def close_unread_rst(path):
    """close() with received data unread: Linux sends RST instead of FIN (RFC 2525 2.17)."""
    with Sniffer(path):
        srv, cli, conn = _pair()
        conn.sendall(b"unread data")
        time.sleep(0.1)
        cli.close()
        time.sleep(0.1)
        try:
            conn.recv(100)
        except ConnectionResetError:
            pass
        conn.close()
        srv.close()
        time.sleep(0.1)


def linger_zero_abort(path):
    """SO_LINGER {on, 0}: close() aborts with RST (RFC 9293 3.10.5 ABORT)."""
    with Sniffer(path):
        srv, cli, conn = _pair()
        cli.sendall(b"ping")
        assert conn.recv(10) == b"ping"
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        cli.close()
        time.sleep(0.1)
        try:
            conn.recv(10)
        except ConnectionResetError:
            pass
        conn.close()
        srv.close()
        time.sleep(0.1)


def connect_refused(path):
    """Connect to a port nobody listens on: RST,ACK (RFC 9293 3.10.7.1)."""
    with Sniffer(path):
        s = socket.socket()
        s.settimeout(TMO)
        try:
            s.connect((HOST, PORT + 1))
        except ConnectionRefusedError:
            pass
        s.close()
        time.sleep(0.1)


def syn_to_silent_address(path):
    """SYN retransmission with backoff to an address that never answers (a veth pair whose far
    end has no such host: frames to an unknown MAC are dropped); tcp_syn_retries is 1 in this
    namespace, so the kernel gives up after ~3 s."""
    import subprocess
    for cmd in (["ip", "link", "add", "syn0", "type", "veth", "peer", "name", "syn1"],
                ["ip", "addr", "add", "10.250.0.1/24", "dev", "syn0"],
                ["ip", "link", "set", "syn0", "up"], ["ip", "link", "set", "syn1", "up"],
                ["ip", "neigh", "add", "10.250.0.2", "lladdr", "02:00:00:00:00:02", "dev", "syn0", "nud", "permanent"]):
        subprocess.run(cmd, check=True, timeout=10)
    with Sniffer(path, ifname="syn0", max_seconds=20):
        s = socket.socket()
        s.settimeout(10)
        try:
            s.connect(("10.250.0.2", PORT))
        except (TimeoutError, socket.timeout, OSError):
            pass
        s.close()


def simultaneous_close(path):
    """Both ends shut down at once from two threads."""
    with Sniffer(path):
        srv, cli, conn = _pair()
        go = threading.Barrier(2, timeout=TMO)

        def shut(s):
            go.wait()
            s.shutdown(socket.SHUT_WR)
        ts = [threading.Thread(target=shut, args=(x,)) for x in (cli, conn)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(TMO)
        _drain(cli)
        _drain(conn)
        cli.close()
        conn.close()
        srv.close()
        time.sleep(0.2)


def keepalive_idle(path):
    """Keep-alive probes on an idle connection, answered by the peer (TCP_KEEPIDLE = 1 s)."""
    with Sniffer(path):
        srv, cli, conn = _pair()
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        time.sleep(2.6)
        cli.close()
        _drain(conn)
        conn.close()
        srv.close()
        time.sleep(0.2)


def many_connections(path):
    """Twenty connections one after another, data both ways, alternating who closes first."""
    with Sniffer(path):
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((HOST, PORT))
        srv.listen(8)
        srv.settimeout(TMO)
        for i in range(20):
            cli = socket.create_connection((HOST, PORT), timeout=TMO)
            conn, _ = srv.accept()
            conn.settimeout(TMO)
            cli.sendall(b"q" * (100 * i + 1))
            conn.recv(65536)
            conn.sendall(b"a" * 5000)
            first, second = (cli, conn) if i % 2 else (conn, cli)
            first.shutdown(socket.SHUT_WR)
            _drain(second)
            second.close()
            _drain(first)
            first.close()
        srv.close()
        time.sleep(0.2)


SCENARIOS = {f.__name__: f for f in (client_close, server_close, half_close, close_unread_rst, linger_zero_abort,
                                       connect_refused, syn_to_silent_address, simultaneous_close, keepalive_idle,
                                       many_connections)}
SYSCTLS = {"syn_to_silent_address": {"net.ipv4.tcp_syn_retries": 1}}
