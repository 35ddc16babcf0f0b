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


# --- tfoaudit: the kernel audit's options, against a scripted peer (docs/linux-audit.md) ---------
# The IUT is this kernel's socket on one end of a veth pair; the peer is this test, writing and
# reading Ethernet frames on the other end through AF_PACKET, so it can send what no stack would
# (a RST at RCV.NXT - 1, a SYN into FIN-WAIT-2, data into TIME-WAIT). The peer address has no
# stack behind it (the far end has no IP address and the namespace does not forward), so nothing
# but the IUT answers. Each returns [(pcap, IUT host)] plus what the IUT's user saw.

AUD_IUT, AUD_PEER = "10.79.0.1", "10.79.0.2"
AUD_MAC = {AUD_IUT: "02:00:00:00:79:01", AUD_PEER: "02:00:00:00:79:02"}


class RawPeer:
    """The peer of one TCP connection, spoken frame by frame on the far end of a veth pair."""

    def __init__(self, port=PORT, iut_port=None):
        import subprocess
        for cmd in (["ip", "link", "add", "aud0", "address", AUD_MAC[AUD_IUT], "type", "veth", "peer", "name", "aud1",
                     "address", AUD_MAC[AUD_PEER]],
                    ["ip", "addr", "add", AUD_IUT + "/24", "dev", "aud0"],
                    ["ip", "link", "set", "aud0", "up"], ["ip", "link", "set", "aud1", "up"],
                    ["ip", "neigh", "add", AUD_PEER, "lladdr", AUD_MAC[AUD_PEER], "dev", "aud0", "nud", "permanent"]):
            subprocess.run(cmd, check=True, timeout=10)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.bind(("aud1", 0))
        self.port, self.iut_port = port, iut_port

    def send(self, flags, seq, ack=0, data=b"", win=64000):
        tcp = dpkt.tcp.TCP(sport=self.port, dport=self.iut_port, seq=seq & MASK, ack=ack & MASK, flags=flags,
                           win=win, data=data)
        ip = dpkt.ip.IP(src=socket.inet_aton(AUD_PEER), dst=socket.inet_aton(AUD_IUT), p=dpkt.ip.IP_PROTO_TCP,
                        ttl=64, data=tcp)
        ip.len = len(bytes(ip))
        eth = dpkt.ethernet.Ethernet(dst=bytes.fromhex(AUD_MAC[AUD_IUT].replace(":", "")),
                                     src=bytes.fromhex(AUD_MAC[AUD_PEER].replace(":", "")), data=ip)
        self.sock.send(bytes(eth))

    def expect(self, want, seconds=3.0):
        """The IUT's next segment to the peer for which want(tcp) holds (others are skipped)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            buf, addr = self.sock.recvfrom(65600)
            if addr[2] == 4:          # PACKET_OUTGOING: our own injection
                continue
            eth = dpkt.ethernet.Ethernet(buf)
            tcp = getattr(eth.data, "data", None)
            if not isinstance(tcp, dpkt.tcp.TCP) or tcp.dport != self.port:
                continue
            if self.iut_port is None:
                self.iut_port = tcp.sport
            if want(tcp):
                return tcp
        raise AssertionError("the IUT did not send the segment the scenario waits for")

    def quiet(self, seconds=0.3):
        """Nothing from the IUT for a while: the segments it sent meanwhile (to assert none)."""
        got, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if r:
                buf, addr = self.sock.recvfrom(65600)
                tcp = getattr(dpkt.ethernet.Ethernet(buf).data, "data", None)
                if addr[2] != 4 and isinstance(tcp, dpkt.tcp.TCP) and tcp.dport == self.port:
                    got.append(tcp)
        return got

    def close(self):
        self.sock.close()


_F = dpkt.tcp


def _aud_client(peer, peer_iss=7000):
    """The IUT connects to the peer: SYN, the peer's SYN,ACK, the IUT's ACK. (socket, IUT ISS + 1,
    peer's next sequence number)."""
    cli = socket.socket()
    cli.setblocking(False)
    assert cli.connect_ex((AUD_PEER, PORT)) in (errno.EINPROGRESS, 0)
    syn = peer.expect(lambda t: t.flags & _F.TH_SYN)
    peer.send(_F.TH_SYN | _F.TH_ACK, peer_iss, syn.seq + 1)
    peer.expect(lambda t: t.flags & _F.TH_ACK and t.ack == peer_iss + 1)
    cli.setblocking(True)
    cli.settimeout(TMO)
    return cli, (syn.seq + 1) & MASK, peer_iss + 1


def _aud_orphan_fin_wait_2(peer):
    """The IUT closes (FIN), the peer acknowledges the FIN: an orphaned FIN-WAIT-2."""
    cli, nxt, pnxt = _aud_client(peer)
    cli.close()
    fin = peer.expect(lambda t: t.flags & _F.TH_FIN)
    peer.send(_F.TH_ACK, pnxt, fin.seq + 1)
    assert not peer.quiet(0.2)
    return (fin.seq + 1) & MASK, pnxt


def orphan_fin_wait_2_rst_in_window(path):
    """A RST 50 bytes into the window of an orphaned FIN-WAIT-2 ends it silently
    (tcp_timewait_state_process(), TCP_FIN_WAIT2 substate): the peer's next (old) ACK meets no
    connection and gets <SEQ=SEG.ACK><CTL=RST>. RFC 9293 with RFC 5961 would challenge the RST
    and ignore the ACK."""
    peer = RawPeer()
    with _sniff(path, ifname="aud0"):
        nxt, pnxt = _aud_orphan_fin_wait_2(peer)
        peer.send(_F.TH_RST, pnxt + 50)
        assert not peer.quiet(0.2), "the RST was answered"
        # the probe acknowledges one byte less than the IUT sent: a RST the IUT's user could have
        # made (ABORT, <SEQ=SND.NXT>) would not carry its number
        peer.send(_F.TH_ACK, pnxt, nxt - 1)
        rst = peer.expect(lambda t: t.flags & _F.TH_RST)
        assert rst.seq == (nxt - 1) & MASK and not rst.flags & _F.TH_ACK
        peer.close()
    return [(path, AUD_IUT)]


def orphan_fin_wait_2_syn(path):
    """A SYN above RCV.NXT reaching an orphaned FIN-WAIT-2 is answered with RST,ACK (TCP_TW_RST)
    and the connection is gone; RFC 5961 4 answers with a challenge ACK."""
    peer = RawPeer()
    with _sniff(path, ifname="aud0"):
        nxt, pnxt = _aud_orphan_fin_wait_2(peer)
        peer.send(_F.TH_SYN, pnxt + 5)
        rst = peer.expect(lambda t: t.flags & _F.TH_RST)
        assert (rst.seq, rst.ack, rst.flags & _F.TH_ACK) == (0, pnxt + 6, _F.TH_ACK)
        peer.close()
    return [(path, AUD_IUT)]


def time_wait_data(path):
    """Data at RCV.NXT reaching TIME-WAIT is acknowledged (tcp_timewait_state_process() ACKs
    every segment but a bare ACK or RST at RCV.NXT), and a bare ACK there is not; RFC 9293
    3.10.7.4 ignores the text silently."""
    peer = RawPeer()
    with _sniff(path, ifname="aud0"):
        cli, nxt, pnxt = _aud_client(peer)
        cli.close()
        fin = peer.expect(lambda t: t.flags & _F.TH_FIN)
        peer.send(_F.TH_FIN | _F.TH_ACK, pnxt, fin.seq + 1)
        peer.expect(lambda t: t.flags == _F.TH_ACK and t.ack == pnxt + 1)
        peer.send(_F.TH_ACK, pnxt + 1, fin.seq + 1)
        assert not peer.quiet(0.2), "a bare ACK at RCV.NXT was answered"
        peer.send(_F.TH_ACK | _F.TH_PUSH, pnxt + 1, fin.seq + 1, b"late data!")
        ack = peer.expect(lambda t: t.flags & _F.TH_ACK)
        assert (ack.seq, ack.ack, len(ack.data)) == (fin.seq + 1, pnxt + 1, 0)
        peer.close()
    return [(path, AUD_IUT)]


def rst_after_fin(path):
    """CLOSE-WAIT, reset by a RST at RCV.NXT - 1, the sequence number of the peer's FIN
    (tcp_reset_check()): the user's write fails with EPIPE, and the peer's next ACK meets no
    connection. RFC 9293 drops that RST as outside the window."""
    peer = RawPeer()
    with _sniff(path, ifname="aud0"):
        cli, nxt, pnxt = _aud_client(peer)
        peer.send(_F.TH_FIN | _F.TH_ACK, pnxt, nxt)
        peer.expect(lambda t: t.flags & _F.TH_ACK and t.ack == pnxt + 1)
        peer.send(_F.TH_RST, pnxt)
        assert not peer.quiet(0.2)
        try:
            cli.send(b"x")
            outcome = "sent"
        except OSError as e:
            outcome = errno.errorcode.get(e.errno, str(e.errno))
        peer.send(_F.TH_ACK, pnxt + 1, nxt - 1)     # an old ACK: CLOSE-WAIT would ignore it
        rst = peer.expect(lambda t: t.flags & _F.TH_RST)
        assert rst.seq == (nxt - 1) & MASK
        cli.close()
        peer.close()
    return [(path, AUD_IUT)], outcome


def _aud_request(peer):
    """A listener and a request in SYN-RECEIVED: the peer's SYN and the IUT's SYN,ACK."""
    srv = _listener(AUD_IUT)
    peer.send(_F.TH_SYN, 9000)
    return srv, peer.expect(lambda t: t.flags & _F.TH_SYN)


def _accepted(srv):
    srv.settimeout(0.3)
    try:
        srv.accept()[0].close()
        return True
    except (TimeoutError, socket.timeout):
        return False
    finally:
        srv.close()


def request_bad_ack(path):
    """A request socket (SYN-RECEIVED) checks the ACK before the sequence number
    (tcp_check_req()): an ACK segment far outside the window with a wrong ACK gets
    <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.4 would send an ACK and drop it); the request
    survives and the peer's right ACK completes the handshake."""
    peer = RawPeer(port=40000, iut_port=PORT)
    with _sniff(path, ifname="aud0"):
        srv, synack = _aud_request(peer)
        peer.send(_F.TH_ACK, 9001 + 100000, 4242)
        rst = peer.expect(lambda t: t.flags & _F.TH_RST)
        assert (rst.seq, rst.flags & _F.TH_ACK) == (4242, 0)
        peer.send(_F.TH_ACK, 9001, synack.seq + 1)
        accepted = _accepted(srv)
        peer.send(_F.TH_RST, 9001)
        peer.close()
    return [(path, AUD_IUT)], accepted


def request_rst_challenged(path):
    """A RST ten bytes into a request socket's window gets a challenge ACK and the request
    survives (RFC 5961 3.2; on this kernel tcp_check_req() does so, where older ones dropped
    the request on any in-window RST); the peer's ACK then completes the handshake."""
    peer = RawPeer(port=40000, iut_port=PORT)
    with _sniff(path, ifname="aud0"):
        srv, synack = _aud_request(peer)
        peer.send(_F.TH_RST, 9011)
        ack = peer.expect(lambda t: t.flags & _F.TH_ACK)
        assert (ack.seq, ack.ack, ack.flags & _F.TH_RST) == (synack.seq + 1, 9001, 0)
        peer.send(_F.TH_ACK, 9001, synack.seq + 1)
        accepted = _accepted(srv)
        peer.send(_F.TH_RST, 9001)
        peer.close()
    return [(path, AUD_IUT)], accepted


def reset_with_unread_data(path):
    """The peer sends 100 bytes, then resets the connection before the user reads: Linux keeps
    the received data readable after the reset (tcp_reset() purges only the write queue; the
    receive queue is read before sk_err), then reports ECONNRESET once, then end of file. RFC
    9293 3.10.7.4 flushes the queues on a reset."""
    peer = RawPeer()
    with _sniff(path, ifname="aud0"):
        cli, nxt, pnxt = _aud_client(peer)
        peer.send(_F.TH_ACK | _F.TH_PUSH, pnxt, nxt, b"d" * 100)
        peer.expect(lambda t: t.flags & _F.TH_ACK and t.ack == pnxt + 100)
        peer.send(_F.TH_RST, pnxt + 100)
        time.sleep(0.1)
        reads = []
        for _ in range(3):
            try:
                reads.append(len(cli.recv(1000)))
            except OSError as e:
                reads.append(errno.errorcode.get(e.errno, str(e.errno)))
        cli.close()
        peer.close()
    return [(path, AUD_IUT)], reads


def ack_of_unsent_data(path):
    """ESTABLISHED: the peer acknowledges 1000 bytes the IUT never sent, first on a bare ACK, then
    on 10 bytes of data, 0.6 s apart. Both are answered with <SEQ=SND.NXT><ACK=RCV.NXT> and
    dropped (the data is not taken), as RFC 9293 3.10.7.4 says; a third at once gets no answer
    (tcp_send_challenge_ack()'s per-socket rate limit). Returns the answers (flags, SEQ - ISS - 1,
    ACK - peer's next) and the number of segments answering the third."""
    peer = RawPeer()
    out = []
    with _sniff(path, ifname="aud0"):
        cli, nxt, pnxt = _aud_client(peer)
        for data in (b"", b"x" * 10):
            time.sleep(0.6)               # past the per-socket rate limit (tcp_invalid_ratelimit, 500 ms)
            peer.send(_F.TH_ACK, pnxt, nxt + 1000, data)
            ack = peer.expect(lambda t: t.flags & _F.TH_ACK)
            out.append((ack.flags, (ack.seq - nxt) & MASK, (ack.ack - pnxt) & MASK, len(ack.data)))
        # at once again: within the rate limit, no answer (tcp_send_challenge_ack())
        peer.send(_F.TH_ACK, pnxt, nxt + 1000)
        out.append(len(peer.quiet(0.3)))
        cli.close()
        fin = peer.expect(lambda t: t.flags & _F.TH_FIN)
        peer.send(_F.TH_FIN | _F.TH_ACK, pnxt, fin.seq + 1)
        peer.expect(lambda t: t.flags == _F.TH_ACK and t.ack == (pnxt + 1) & MASK)
        peer.close()
    return [(path, AUD_IUT)], out


AUDIT_SCENARIOS = {f.__name__: f for f in (orphan_fin_wait_2_rst_in_window, orphan_fin_wait_2_syn, time_wait_data,
                                           rst_after_fin, request_bad_ack, request_rst_challenged,
                                           reset_with_unread_data, ack_of_unsent_data)}


# --- held out-of-order text (RFC 9293 3.10.7.4 SHLD-31), against a scripted peer ------------------

def out_of_order_held(path):
    """The peer sends its second 100 bytes before its first: the kernel holds them
    (tcp_data_queue_ofo()) and answers at once with an ACK of RCV.NXT (RFC 5681 4.2); when the
    first 100 arrive, one ACK covers all 200 (tcp_ofo_queue()). A second hole is filled in two
    parts (the first part leaves the held range in place). Then the peer closes. Returns what
    the user read and the ACK numbers the peer saw, relative to the peer's first data byte."""
    peer = RawPeer()
    acks = []
    with _sniff(path, ifname="aud0"):
        cli, nxt, pnxt = _aud_client(peer)

        def send(off, size):
            peer.send(_F.TH_ACK | _F.TH_PUSH, pnxt + off, nxt, bytes([65 + off // 100]) * size)
            acks.append((peer.expect(lambda t: t.flags & _F.TH_ACK and not t.data).ack - pnxt) & MASK)
        send(100, 100)          # held: ACK 0
        send(0, 100)            # fills the gap: ACK 200
        send(300, 100)          # held: ACK 200
        send(200, 40)           # part of the gap: ACK 240
        send(240, 60)           # the rest: ACK 400
        got = b""
        while len(got) < 400:
            chunk = cli.recv(1000)
            if not chunk:
                break
            got += chunk
        peer.send(_F.TH_FIN | _F.TH_ACK, pnxt + 400, nxt)
        peer.expect(lambda t: t.flags & _F.TH_ACK and t.ack == (pnxt + 401) & MASK)
        cli.close()
        fin = peer.expect(lambda t: t.flags & _F.TH_FIN)
        peer.send(_F.TH_ACK, pnxt + 401, fin.seq + 1)
        time.sleep(0.1)
        peer.close()
    return [(path, AUD_IUT)], (got, acks)


# --- tfoaudit: TCP Fast Open (RFC 7413) with net.ipv4.tcp_fastopen = 3 -----------------------------

MSG_FASTOPEN = getattr(socket, "MSG_FASTOPEN", 0x20000000)
TCP_FASTOPEN = getattr(socket, "TCP_FASTOPEN", 23)
TFO_KIND = 34                       # RFC 7413 2.1: the TCP Fast Open Cookie option


def _tfo_cookie(tcp):
    """The TFO option of a segment: None if absent, b"" for a cookie request, else the cookie."""
    for kind, data in dpkt.tcp.parse_opts(tcp.opts):
        if kind == TFO_KIND:
            return bytes(data)
    return None


def tfo_loopback(path):
    """Two connections from a TFO client to a TFO listener on loopback: the first sendto()
    with MSG_FASTOPEN has no cookie, so its SYN asks for one (an empty TFO option) and the data
    follows the handshake; the second carries the cached cookie and the data on its SYN, which
    the server acknowledges in its SYN,ACK. Returns the TFO options seen on the SYNs."""
    with _sniff(path):
        srv = _listener(HOST)
        srv.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 5)
        for i in range(2):
            cli = socket.socket()
            cli.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", int(TMO), 0))
            cli.sendto(b"hello %d" % i, MSG_FASTOPEN, (HOST, PORT))
            cli.settimeout(TMO)
            conn, _ = srv.accept()
            conn.settimeout(TMO)
            assert conn.recv(100) == b"hello %d" % i
            conn.sendall(b"reply")
            assert cli.recv(100) == b"reply"
            cli.close()
            _drain(conn)
            conn.close()
            time.sleep(0.05)
        srv.close()
        time.sleep(0.2)
    syns = []
    with open(path, "rb") as fh:
        for _, buf in dpkt.pcap.Reader(fh):
            tcp = getattr(dpkt.ethernet.Ethernet(buf).data, "data", None)
            if isinstance(tcp, dpkt.tcp.TCP) and tcp.flags & _F.TH_SYN:
                syns.append((bool(tcp.flags & _F.TH_ACK), len(tcp.data), _tfo_cookie(tcp)))
    return [(path, None)], syns


def tfo_server_data_before_ack(path):
    """The server side, against a scripted client: a cookie request, then a SYN with the cookie
    and 11 bytes. The listener's SYN,ACK acknowledges the data, its application reads it and
    answers at once, and that reply leaves before the handshake's final ACK (the TFO child
    socket sends in SYN-RECEIVED); then the client's ACK completes the handshake."""
    peer = RawPeer(port=40000, iut_port=PORT)
    with _sniff(path, ifname="aud0"):
        srv = _listener(AUD_IUT)
        srv.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 5)
        peer.port = 40001
        _peer_syn(peer, 7000, opts=bytes([TFO_KIND, 2]))
        synack = peer.expect(lambda t: t.flags & _F.TH_SYN)
        cookie = _tfo_cookie(synack)
        assert cookie, "the listener gave no cookie"
        assert synack.ack == 7001
        peer.send(_F.TH_RST, 7001)                       # that request is done with
        peer.port = 40002
        request = b"GET / TFO\r\n"
        _peer_syn(peer, 9000, opts=bytes([TFO_KIND, 2 + len(cookie)]) + cookie, data=request)
        synack = peer.expect(lambda t: t.flags & _F.TH_SYN)
        assert synack.ack == 9001 + len(request), "the SYN's data was not acknowledged"
        conn, _ = srv.accept()
        conn.settimeout(TMO)
        assert conn.recv(100) == request
        conn.sendall(b"early reply")
        data = peer.expect(lambda t: len(t.data) > 0)
        assert (data.seq, bytes(data.data)) == (synack.seq + 1, b"early reply")
        peer.send(_F.TH_ACK, 9001 + len(request), data.seq + len(data.data))
        conn.close()
        fin = peer.expect(lambda t: t.flags & _F.TH_FIN)
        peer.send(_F.TH_RST, 9001 + len(request))
        srv.close()
        peer.close()
    return [(path, AUD_IUT)], fin.seq


def _peer_syn(peer, seq, opts=b"", data=b""):
    """A SYN from the scripted peer with TCP options (padded to 4 bytes)."""
    pad = (-len(opts)) % 4
    tcp = dpkt.tcp.TCP(sport=peer.port, dport=peer.iut_port, seq=seq, flags=_F.TH_SYN, win=64000,
                       opts=opts + b"\x01" * pad, data=data)
    tcp.off = (20 + len(tcp.opts)) // 4
    ip = dpkt.ip.IP(src=socket.inet_aton(AUD_PEER), dst=socket.inet_aton(AUD_IUT), p=dpkt.ip.IP_PROTO_TCP, ttl=64,
                    data=tcp)
    ip.len = len(bytes(ip))
    eth = dpkt.ethernet.Ethernet(dst=bytes.fromhex(AUD_MAC[AUD_IUT].replace(":", "")),
                                 src=bytes.fromhex(AUD_MAC[AUD_PEER].replace(":", "")), data=ip)
    peer.sock.send(bytes(eth))


def _peer_synack(peer, seq, ack, opts=b""):
    pad = (-len(opts)) % 4
    tcp = dpkt.tcp.TCP(sport=peer.port, dport=peer.iut_port, seq=seq, ack=ack, flags=_F.TH_SYN | _F.TH_ACK,
                       win=64000, opts=opts + b"\x01" * pad)
    tcp.off = (20 + len(tcp.opts)) // 4
    ip = dpkt.ip.IP(src=socket.inet_aton(AUD_PEER), dst=socket.inet_aton(AUD_IUT), p=dpkt.ip.IP_PROTO_TCP, ttl=64,
                    data=tcp)
    ip.len = len(bytes(ip))
    eth = dpkt.ethernet.Ethernet(dst=bytes.fromhex(AUD_MAC[AUD_IUT].replace(":", "")),
                                 src=bytes.fromhex(AUD_MAC[AUD_PEER].replace(":", "")), data=ip)
    peer.sock.send(bytes(eth))


def tfo_client_fallback(path):
    """The client side, against a scripted server: the first connection asks for a cookie and
    gets one; the second carries it and 9 bytes on the SYN, but the server's SYN,ACK
    acknowledges only the SYN (it ignored the data, RFC 7413 4.2.2): the client's next segment
    retransmits the data with the handshake's ACK (tcp_rcv_fastopen_synack())."""
    peer = RawPeer()
    cookie = b"\x11\x22\x33\x44\x55\x66\x77\x88"
    out = []
    with _sniff(path, ifname="aud0"):
        for k, msg in enumerate((b"first one", b"tfo data!")):
            cli = socket.socket()
            cli.setblocking(False)
            try:
                cli.sendto(msg, MSG_FASTOPEN, (AUD_PEER, PORT))
            except BlockingIOError:
                pass
            peer.iut_port = None
            syn = peer.expect(lambda t: t.flags & _F.TH_SYN)
            out.append((len(syn.data), _tfo_cookie(syn)))
            _peer_synack(peer, 7000, syn.seq + 1, opts=bytes([TFO_KIND, 10]) + cookie)
            first = peer.expect(lambda t: not t.flags & _F.TH_SYN)
            out.append((first.seq - syn.seq, len(first.data), bytes(first.data)))
            end = first.seq + len(first.data)
            peer.send(_F.TH_ACK, 7001, end)
            cli.setblocking(True)
            cli.settimeout(TMO)
            if k == 0 and not first.data:                # no cookie yet: the data is sent again later
                cli.sendall(msg)
                data = peer.expect(lambda t: len(t.data) > 0)
                out.append((data.seq - syn.seq, len(data.data), bytes(data.data)))
                end = data.seq + len(data.data)
                peer.send(_F.TH_ACK, 7001, end)
            cli.close()
            fin = peer.expect(lambda t: t.flags & _F.TH_FIN)
            peer.send(_F.TH_FIN | _F.TH_ACK, 7001, fin.seq + 1)
            peer.expect(lambda t: t.flags == _F.TH_ACK and t.ack == 7002)
        peer.close()
    return [(path, AUD_IUT)], out


TFO_SCENARIOS = {f.__name__: f for f in (tfo_loopback, tfo_server_data_before_ack, tfo_client_fallback)}
TFO_SYSCTLS = {"net.ipv4.tcp_fastopen": 3}
