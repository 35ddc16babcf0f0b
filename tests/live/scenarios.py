"""Live scenarios: ordinary sockets on this machine's kernel, inside a namespace of their own.
Those on loopback write one pcap (both ends judged); those over the relay write one per host
and return [(pcap, IUT host)]. Every wait is bounded (socket timeouts); nothing leaves the
namespace."""
from __future__ import annotations

import contextlib
import errno
import select
import socket
import struct
import threading
import time

import dpkt

from relay import C2S, CLIENT, DROP, HOLD, PASS, S2C, SERVER, Wire, inside
from synack.oracle.sniff import Sniffer

HOST, PORT = "127.0.0.1", 5000
TMO = 5.0


def _listener(host, backlog=4):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, PORT))
    srv.listen(backlog)
    srv.settimeout(TMO)
    return srv


@contextlib.contextmanager
def _sniff(path, **kw):
    """A Sniffer that refuses a capture with gaps: frames the kernel could not queue for it."""
    sn = Sniffer(path, **kw)
    with sn:
        yield sn
    assert sn.dropped == 0, f"the capture of {path} dropped {sn.dropped} frames"


@contextlib.contextmanager
def _connected(path, settle=0.2):
    """A captured loopback connection: yields (client, accepted); closes all, then lets the
    last segments through before the capture ends."""
    with _sniff(path):
        srv = _listener(HOST)
        cli = socket.create_connection((HOST, PORT), timeout=TMO)
        conn, _ = srv.accept()
        conn.settimeout(TMO)
        yield cli, conn
        for x in (cli, conn, srv):
            x.close()
        time.sleep(settle)


def _drain(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def client_close(path):
    with _connected(path) as (cli, conn):
        cli.sendall(b"hello" * 100)
        assert conn.recv(1000)
        cli.close()
        _drain(conn)


def server_close(path):
    with _connected(path) as (cli, conn):
        conn.sendall(b"x" * 3000)
        conn.close()
        _drain(cli)


def half_close(path):
    """The client shuts down its sending side; the server still sends, then closes."""
    with _connected(path) as (cli, conn):
        cli.sendall(b"request")
        cli.shutdown(socket.SHUT_WR)
        assert _drain(conn) == b"request"
        conn.sendall(b"r" * 20000)
        conn.close()
        assert len(_drain(cli)) == 20000


def close_unread_rst(path):
    """close() with received data unread: Linux sends RST instead of FIN (RFC 2525 2.17)."""
    with _connected(path, 0.1) as (cli, conn):
        conn.sendall(b"unread data")
        time.sleep(0.1)
        cli.close()
        time.sleep(0.1)
        try:
            conn.recv(100)
        except ConnectionResetError:
            pass


def linger_zero_abort(path):
    """SO_LINGER {on, 0}: close() aborts with RST (RFC 9293 3.10.5 ABORT)."""
    with _connected(path, 0.1) as (cli, conn):
        cli.sendall(b"ping")
        assert conn.recv(10) == b"ping"
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        cli.close()
        time.sleep(0.1)
        try:
            conn.recv(10)
        except ConnectionResetError:
            pass


def connect_refused(path):
    """Connect to a port nobody listens on: RST,ACK (RFC 9293 3.10.7.1)."""
    with _sniff(path):
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
    with _sniff(path, ifname="syn0", max_seconds=20):
        s = socket.socket()
        s.settimeout(10)
        try:
            s.connect(("10.250.0.2", PORT))
        except (TimeoutError, socket.timeout, OSError):
            pass
        s.close()
        # one frame a while after the kernel gave up: the capture shows it went on past the
        # timeout that ended the connection
        time.sleep(1.0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.sendto(b"end", ("10.250.0.2", 9))
        time.sleep(0.1)


def simultaneous_close(path):
    """Both ends shut down at once from two threads."""
    with _connected(path) as (cli, conn):
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


def bulk_slow_reader(path):
    """8 MB one way to a reader that first reads nothing for a second (the window closes; the
    sender probes it, RFC 9293 3.8.6.1), then reads in 64 KB chunks (each read may announce
    the reopened window), then 1 MB back; loopback's 64 KB segments, delayed and merged ACKs."""
    with _connected(path, settle=0.3) as (cli, conn):
        data = b"z" * 8_000_000
        sender = threading.Thread(target=cli.sendall, args=(data,), daemon=True)
        sender.start()
        time.sleep(1.0)
        got = 0
        while got < len(data):
            chunk = conn.recv(65536)
            assert chunk, "the sender closed early"
            got += len(chunk)
        sender.join(TMO)
        assert not sender.is_alive(), "the sender did not finish"
        conn.sendall(b"y" * 1_000_000)
        back = 0
        while back < 1_000_000:
            chunk = cli.recv(65536)
            assert chunk, "the server closed early"
            back += len(chunk)
        cli.shutdown(socket.SHUT_WR)
        assert _drain(conn) == b""


def keepalive_idle(path):
    """Keep-alive probes on an idle connection, answered by the peer (TCP_KEEPIDLE = 1 s)."""
    with _connected(path) as (cli, conn):
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        time.sleep(2.6)
        cli.close()
        _drain(conn)


def fin_timeout_lowered(path):
    """An orphaned FIN-WAIT-2 on a host with net.ipv4.tcp_fin_timeout = 1: the client closes,
    the server ACKs its FIN and stays silent for 2.5 s, then closes; the client's FIN-WAIT-2
    ended after about a second (tcp_time_wait() with the FIN_WAIT2 substate), so the server's
    FIN is answered with RST (under the default 60 s it would be ACKed from TIME-WAIT)."""
    with _sniff(path):
        srv = _listener(HOST)
        cli = socket.create_connection((HOST, PORT), timeout=TMO)
        conn, _ = srv.accept()
        cli.close()
        time.sleep(2.5)
        conn.close()
        srv.close()
        time.sleep(0.2)


def many_connections(path):
    """Twenty connections one after another, data both ways, alternating who closes first."""
    with _sniff(path):
        srv = _listener(HOST, 8)
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


def time_wait_reopen(path):
    """The server closes first, so its TIME-WAIT holds the 4-tuple; the client connects again
    at once from the same port. Linux reopens from TIME-WAIT because a listener holds the port
    (tcp_v4_rcv(): TCP_TW_SYN goes to inet_lookup_listener()), with ISS = the old SND.NXT +
    65537 (row timewait.reopen of the linux profile)."""
    with _sniff(path):
        srv = _listener(HOST)
        port = None
        for i in range(2):
            cli = socket.socket()
            cli.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            cli.bind((HOST, port or 0))
            port = cli.getsockname()[1]
            cli.settimeout(TMO)
            cli.connect((HOST, PORT))
            conn, _ = srv.accept()
            conn.settimeout(TMO)
            cli.sendall(b"round %d" % i)
            assert conn.recv(100)
            conn.close()                 # the server's active close: TIME-WAIT on its side
            _drain(cli)
            cli.close()
            time.sleep(0.05)
        srv.close()
        time.sleep(0.2)


# --- over the relay: two hosts, a wire that loses, delays and holds (relay.py) -------------------
# Each writes one capture per host and returns [(pcap, IUT host)]: a host is judged on what it
# itself sent and was given, not on what the relay dropped on the way.

MASK = 0xFFFFFFFF


def _wire_caps(path):
    base = path[:-5] if path.endswith(".pcap") else path
    return base + "-client.pcap", base + "-server.pcap"


def _judged(caps):
    return [(caps[0], CLIENT), (caps[1], SERVER)]


def _wire_sockets(w):
    """A listener on the server host and an unconnected socket on the client host."""
    with inside(w.server):
        srv = _listener(SERVER)
    with inside(w.client):
        cli = socket.socket()
    return srv, cli


def _wire_pair(w):
    srv, cli = _wire_sockets(w)
    cli.settimeout(TMO)
    cli.connect((SERVER, PORT))
    conn, _ = srv.accept()
    conn.settimeout(TMO)
    return srv, cli, conn


def _wait_for(cond, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not cond():
        time.sleep(0.02)
    return cond()


def _drop_first_ack_of(flag):
    """A relay rule: drop the client's first bare ACK of the server's segment carrying `flag`
    (the FIN, or the SYN,ACK)."""
    def rule(f, relay):
        st = relay.state
        if f.direction == S2C and f.flags & flag:
            st.setdefault("end", (f.tcp.seq + f.payload + 1) & MASK)
        if (f.direction == C2S and not st.get("dropped") and f.flags == dpkt.tcp.TH_ACK and not f.payload
                and f.tcp.ack == st.get("end")):
            st["dropped"] = True
            return DROP
        return PASS
    return rule


def lost_final_ack(path):
    """The client closes first; its ACK of the server's FIN is lost; the server retransmits the
    FIN after its RTO and the client, in TIME-WAIT, ACKs it again (RFC 9293 3.10.7.4, TIME-WAIT:
    "acknowledge it, and restart the 2 MSL timeout")."""
    caps = _wire_caps(path)
    with Wire(_drop_first_ack_of(dpkt.tcp.TH_FIN), *caps) as w:
        srv, cli, conn = _wire_pair(w)
        cli.sendall(b"bye")
        assert conn.recv(10) == b"bye"
        cli.close()
        assert _drain(conn) == b""
        conn.close()
        fins = lambda: sum(1 for _, d, fl, _, _ in w.relay.log if d == S2C and fl & dpkt.tcp.TH_FIN)  # noqa: E731
        assert _wait_for(lambda: fins() >= 2, 4), "the server did not retransmit its FIN"
        time.sleep(0.3)
        srv.close()
    return _judged(caps)


def lost_handshake_ack(path):
    """The third segment of the handshake is lost: the server, still in SYN-RECEIVED, retransmits
    its SYN,ACK after the initial RTO (1 s); the client, established, answers with an ACK that
    completes the handshake (RFC 9293 3.10.7.4 first check: unacceptable segment -> ACK)."""
    caps = _wire_caps(path)
    with Wire(_drop_first_ack_of(dpkt.tcp.TH_SYN), *caps) as w:
        srv, cli, conn = _wire_pair(w)             # accept returns once the retransmitted SYN,ACK is ACKed
        synacks = sum(1 for _, d, fl, _, _ in w.relay.log if d == S2C and fl & dpkt.tcp.TH_SYN)
        assert synacks >= 2, "the server did not retransmit its SYN,ACK"
        conn.sendall(b"welcome")
        assert cli.recv(10) == b"welcome"
        cli.close()
        _drain(conn)
        conn.close()
        srv.close()
        time.sleep(0.2)
    return _judged(caps)


def _delay_synack(f, relay):
    if f.direction == S2C and f.flags & dpkt.tcp.TH_SYN:
        return 0.3
    return PASS


def data_on_third_ack(path):
    """The client writes while its connect is still in SYN-SENT (the SYN,ACK is delayed 0.3 s):
    Linux then holds back the bare third ACK (tcp_rcv_synsent_state_process: sk_write_pending)
    and the handshake's third segment carries the data; the server accepts data in SYN-RECEIVED
    with the ACK that establishes it (RFC 9293 3.10.7.4)."""
    caps = _wire_caps(path)
    with Wire(_delay_synack, *caps) as w:
        srv, cli = _wire_sockets(w)
        cli.setblocking(False)
        assert cli.connect_ex((SERVER, PORT)) in (errno.EINPROGRESS, 0)
        # truly blocking (a Python timeout would poll instead), bounded by SO_SNDTIMEO: the
        # send waits in the kernel's sk_stream_wait_connect, which marks a write pending
        cli.setblocking(True)
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", int(TMO), 0))
        cli.sendall(b"GET / HTTP/1.0\r\n\r\n")
        cli.settimeout(TMO)
        conn, _ = srv.accept()
        conn.settimeout(TMO)
        assert conn.recv(100).startswith(b"GET")
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
        third = next(x for x in w.relay.log if x[1] == C2S and not x[2] & dpkt.tcp.TH_SYN)
        assert third[3] > 0, "the handshake's third segment carried no data"
        conn.close()
        _drain(cli)
        cli.close()
        srv.close()
        time.sleep(0.2)
    return _judged(caps)


def _cross_syns(f, relay):
    """Hold the first SYN until a SYN comes the other way, then let both go: the SYNs cross."""
    st = relay.state
    if f.flags & (dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK) == dpkt.tcp.TH_SYN:
        if "first" not in st:
            st["first"] = f.direction
            return HOLD
        if f.direction != st["first"]:
            relay.release()
    return PASS


def simultaneous_open(path):
    """Both hosts connect to each other at once, each from the port the other connects to:
    SYNs cross, each end goes SYN-SENT -> SYN-RECEIVED -> ESTABLISHED (RFC 9293 3.5 Figure 7)."""
    caps = _wire_caps(path)
    with Wire(_cross_syns, *caps) as w:
        socks = []
        for ns, mine, theirs in ((w.client, CLIENT, SERVER), (w.server, SERVER, CLIENT)):
            with inside(ns):
                s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((mine, PORT))
            s.setblocking(False)
            assert s.connect_ex((theirs, PORT)) == errno.EINPROGRESS
            socks.append(s)
        pending, end = set(socks), time.monotonic() + TMO
        while pending and time.monotonic() < end:
            pending -= set(select.select([], list(pending), [], 0.1)[1])
        assert not pending, "simultaneous open did not complete"
        syns = {d for _, d, fl, _, _ in w.relay.log if fl & (dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK) == dpkt.tcp.TH_SYN}
        assert syns == {C2S, S2C}, "the SYNs did not cross"
        a, b = socks
        for s in socks:
            s.settimeout(TMO)
            assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        a.sendall(b"from a")
        assert b.recv(10) == b"from a"
        a.close()
        _drain(b)
        b.close()
        time.sleep(0.3)
    return _judged(caps)


def _server_silent(f, relay):
    """After the handshake, nothing the server sends reaches the client."""
    st = relay.state
    if f.direction == C2S and f.flags == dpkt.tcp.TH_ACK:
        st["established"] = True
    if f.direction == S2C and st.get("established") and not f.flags & dpkt.tcp.TH_RST:
        return DROP
    return PASS


def keepalive_silent_peer(path):
    """Keep-alive probes that nobody answers (the server's ACKs are lost): after TCP_KEEPCNT = 2
    unanswered probes the client gives up and sends RST (Linux tcp_keepalive_timer); the server
    saw the probes, answered each, and is reset (RFC 1122 4.2.3.6)."""
    caps = _wire_caps(path)
    with Wire(_server_silent, *caps) as w:
        srv, cli, conn = _wire_pair(w)
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 2)
        try:
            cli.recv(10)                          # ends with ETIMEDOUT when the probes give up
            raise AssertionError("the client's keep-alive did not give up")
        except (TimeoutError, socket.timeout) as e:
            assert getattr(e, "errno", None) == errno.ETIMEDOUT, f"keep-alive: {e!r}"
        try:
            conn.recv(10)
        except ConnectionResetError:
            pass
        cli.close()
        conn.close()
        srv.close()
        time.sleep(0.1)
    return _judged(caps)


SCENARIOS = {f.__name__: f for f in (client_close, server_close, half_close, close_unread_rst, linger_zero_abort,
                                       connect_refused, syn_to_silent_address, simultaneous_close, keepalive_idle,
                                       many_connections, lost_final_ack, lost_handshake_ack, data_on_third_ack,
                                       simultaneous_open, keepalive_silent_peer, bulk_slow_reader,
                                       time_wait_reopen, fin_timeout_lowered)}
SYSCTLS = {"syn_to_silent_address": {"net.ipv4.tcp_syn_retries": 1},
           "fin_timeout_lowered": {"net.ipv4.tcp_fin_timeout": 1}}
