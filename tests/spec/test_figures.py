"""RFC 9293 Figures 6 to 13, step by step, with the figures' own segments."""
from drive import Endpoint, State, arrive, call, est, one, seg, timeout

P = "rfc9293"


def test_figure6_basic_three_way_handshake():
    a = one(P, Endpoint(), call("CONNECT", isn=100))
    assert a.endpoint.state is State.SYN_SENT and a.sends == (seg("SYN", 100, wnd=65535),)
    b = one(P, one(P, Endpoint(), call("LISTEN")).endpoint, arrive(a.sends[0], isn=300))
    assert b.endpoint.state is State.SYN_RECEIVED
    assert (b.sends[0].seq, b.sends[0].ack, b.sends[0].flags) == (300, 101, seg("SYN,ACK", 0, 0).flags)
    a = one(P, a.endpoint, arrive(b.sends[0]))
    assert a.endpoint.state is State.ESTABLISHED
    assert (a.sends[0].seq, a.sends[0].ack, a.sends[0].flags) == (101, 301, seg("ACK", 0, 0).flags)
    b = one(P, b.endpoint, arrive(a.sends[0]))
    assert b.endpoint.state is State.ESTABLISHED and b.sends == ()
    # line 5: data on an established connection: <SEQ=101><ACK=301><CTL=ACK><DATA>
    d = one(P, a.endpoint, call("SEND", n=10))
    assert (d.sends[0].seq, d.sends[0].ack, d.sends[0].data) == (101, 301, 10)
    b = one(P, b.endpoint, arrive(d.sends[0]))
    assert b.endpoint.rcv_nxt == 111 and b.sends[0].ack == 111


def test_figure7_simultaneous_open():
    a = one(P, Endpoint(), call("CONNECT", isn=100))
    b = one(P, Endpoint(), call("CONNECT", isn=300))
    a2 = one(P, a.endpoint, arrive(b.sends[0]))
    b2 = one(P, b.endpoint, arrive(a.sends[0]))
    assert a2.endpoint.state is b2.endpoint.state is State.SYN_RECEIVED
    assert (a2.sends[0].seq, a2.sends[0].ack) == (100, 301) and (b2.sends[0].seq, b2.sends[0].ack) == (300, 101)
    a3 = one(P, a2.endpoint, arrive(b2.sends[0]))
    b3 = one(P, b2.endpoint, arrive(a2.sends[0]))
    assert a3.endpoint.state is b3.endpoint.state is State.ESTABLISHED
    assert a3.rows[0] == "synrcvd.simopen-synack" and a3.sends == () and b3.sends == ()


def test_figure8_recovery_from_old_duplicate_syn():
    a = one(P, Endpoint(), call("CONNECT", isn=100))
    b = one(P, Endpoint(), call("LISTEN"))
    b = one(P, b.endpoint, arrive(seg("SYN", 90), isn=300))           # the old duplicate arrives first
    assert (b.sends[0].seq, b.sends[0].ack) == (300, 91)
    a = one(P, a.endpoint, arrive(b.sends[0]))                         # A: the ACK is unacceptable
    assert a.endpoint.state is State.SYN_SENT and a.sends == (seg("RST", 91, wnd=0),)
    b = one(P, b.endpoint, arrive(a.sends[0]))                         # B: back to LISTEN
    assert b.endpoint.state is State.LISTEN
    b = one(P, b.endpoint, arrive(seg("SYN", 100), isn=400))           # A's SYN finally arrives
    assert (b.sends[0].seq, b.sends[0].ack) == (400, 101)
    a = one(P, a.endpoint, arrive(b.sends[0]))
    assert a.endpoint.state is State.ESTABLISHED and (a.sends[0].seq, a.sends[0].ack) == (101, 401)
    b = one(P, b.endpoint, arrive(a.sends[0]))
    assert b.endpoint.state is State.ESTABLISHED


def test_figure9_half_open_connection_discovery():
    b = est(snd=300, rcv=100)                                          # B still thinks it is connected
    a = one(P, Endpoint(), call("CONNECT", isn=400))                   # A crashed and reconnects
    bb = one(P, b, arrive(a.sends[0]))
    assert bb.endpoint.state is State.ESTABLISHED and (bb.sends[0].seq, bb.sends[0].ack) == (300, 100)
    a2 = one(P, a.endpoint, arrive(bb.sends[0]))
    assert a2.sends == (seg("RST", 100, wnd=0),)
    b2 = one(P, bb.endpoint, arrive(a2.sends[0]))
    assert b2.endpoint.state is State.CLOSED and "error: connection reset" in b2.signals


def test_figure10_active_side_causes_half_open_discovery():
    a = one(P, Endpoint(), arrive(seg("ACK", 300, 100, data=10)))      # A rebooted: CLOSED
    assert a.sends == (seg("RST", 100, wnd=0),)
    b = one(P, est(snd=310, rcv=100), arrive(a.sends[0]))
    assert b.endpoint.state is State.CLOSED


def test_figure11_old_duplicate_syn_resets_two_passive_sockets():
    a = one(P, Endpoint(), call("LISTEN")).endpoint
    b = one(P, one(P, Endpoint(), call("LISTEN")).endpoint, arrive(seg("SYN", 7000), isn=5000))
    a2 = one(P, a, arrive(b.sends[0]))
    assert a2.endpoint.state is State.LISTEN and a2.sends == (seg("RST", 7001, wnd=0),)
    b2 = one(P, b.endpoint, arrive(a2.sends[0]))
    assert b2.endpoint.state is State.LISTEN


def test_figure12_normal_close():
    a, b = est(snd=100, rcv=300), est(snd=300, rcv=100)
    a1 = one(P, a, call("CLOSE"))
    assert a1.endpoint.state is State.FIN_WAIT_1 and (a1.sends[0].seq, a1.sends[0].ack) == (100, 300)
    b1 = one(P, b, arrive(a1.sends[0]))
    assert b1.endpoint.state is State.CLOSE_WAIT and (b1.sends[0].seq, b1.sends[0].ack) == (300, 101)
    a2 = one(P, a1.endpoint, arrive(b1.sends[0]))
    assert a2.endpoint.state is State.FIN_WAIT_2
    b2 = one(P, b1.endpoint, call("CLOSE"))
    assert b2.endpoint.state is State.LAST_ACK and (b2.sends[0].seq, b2.sends[0].ack) == (300, 101)
    a3 = one(P, a2.endpoint, arrive(b2.sends[0]))
    assert a3.endpoint.state is State.TIME_WAIT and (a3.sends[0].seq, a3.sends[0].ack) == (101, 301)
    b3 = one(P, b2.endpoint, arrive(a3.sends[0]))
    assert b3.endpoint.state is State.CLOSED
    assert one(P, a3.endpoint, timeout("2MSL")).endpoint.state is State.CLOSED


def test_figure13_simultaneous_close():
    a, b = est(snd=100, rcv=300), est(snd=300, rcv=100)
    a1, b1 = one(P, a, call("CLOSE")), one(P, b, call("CLOSE"))
    a2, b2 = one(P, a1.endpoint, arrive(b1.sends[0])), one(P, b1.endpoint, arrive(a1.sends[0]))
    assert a2.endpoint.state is b2.endpoint.state is State.CLOSING
    assert (a2.sends[0].seq, a2.sends[0].ack) == (101, 301) and (b2.sends[0].seq, b2.sends[0].ack) == (301, 101)
    a3, b3 = one(P, a2.endpoint, arrive(b2.sends[0])), one(P, b2.endpoint, arrive(a2.sends[0]))
    assert a3.endpoint.state is b3.endpoint.state is State.TIME_WAIT


def test_simultaneous_open_with_queued_data_sends_it_on_the_peers_syn_ack():
    """Figure 7 with a SEND queued in SYN-RECEIVED: the peer's SYN,ACK establishes the
    connection and the queued byte goes out (a hole `synack check --scenario any` found)."""
    a = one("rfc9293", Endpoint(), call("CONNECT", isn=100)).endpoint
    a = one("rfc9293", a, arrive(seg("SYN", 300))).endpoint          # SYN-RECEIVED, not passive
    a = one("rfc9293", a, call("SEND", n=1)).endpoint                 # queued
    t = one("rfc9293", a, arrive(seg("SYN,ACK", 300, 101)))
    assert t.endpoint.state is State.ESTABLISHED and t.rows[0] == "synrcvd.simopen-synack.queued"
    assert [(s.seq, s.ack, s.data) for s in t.sends] == [(101, 301, 1)]
