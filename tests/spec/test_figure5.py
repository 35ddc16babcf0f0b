"""Every arc of RFC 9293 Figure 5 (and its note that FIN-WAIT-1 may go straight to TIME-WAIT)."""
import pytest

from drive import Endpoint, State, arrive, call, est, handshake, one, seg, timeout
from synack.spec import machine

P = "rfc9293"
S = State
SEEN: set[str] = set()


def go(ep, ev, to):
    t = one(P, ep, ev)
    SEEN.update(t.rows)
    assert t.endpoint.state is to, f"{ep.state} --{ev}--> {t.endpoint.state}, expected {to} (rows {t.rows})"
    return t


def synrcvd(passive=True):
    ls = one(P, Endpoint(), call("LISTEN")).endpoint
    return one(P, ls, arrive(seg("SYN", 100), isn=300)).endpoint


def finwait1():
    return one(P, est(100, 300), call("CLOSE")).endpoint


ARCS = [
    ("CLOSED --passive OPEN--> LISTEN", lambda: (Endpoint(), call("LISTEN")), S.LISTEN),
    ("CLOSED --active OPEN / snd SYN--> SYN-SENT", lambda: (Endpoint(), call("CONNECT", isn=7)), S.SYN_SENT),
    ("LISTEN --rcv SYN / snd SYN,ACK--> SYN-RECEIVED",
     lambda: (one(P, Endpoint(), call("LISTEN")).endpoint, arrive(seg("SYN", 1), isn=9)), S.SYN_RECEIVED),
    ("LISTEN --SEND(OPEN active) / snd SYN--> SYN-SENT",
     lambda: (one(P, Endpoint(), call("LISTEN")).endpoint, call("CONNECT", isn=9)), S.SYN_SENT),
    ("LISTEN --CLOSE--> CLOSED", lambda: (one(P, Endpoint(), call("LISTEN")).endpoint, call("SHUTDOWN")), S.CLOSED),
    ("SYN-SENT --CLOSE--> CLOSED",
     lambda: (one(P, Endpoint(), call("CONNECT", isn=7)).endpoint, call("SHUTDOWN")), S.CLOSED),
    ("SYN-SENT --rcv SYN / snd SYN,ACK--> SYN-RECEIVED",
     lambda: (one(P, Endpoint(), call("CONNECT", isn=7)).endpoint, arrive(seg("SYN", 50))), S.SYN_RECEIVED),
    ("SYN-SENT --rcv SYN,ACK / snd ACK--> ESTABLISHED",
     lambda: (one(P, Endpoint(), call("CONNECT", isn=7)).endpoint, arrive(seg("SYN,ACK", 50, 8))), S.ESTABLISHED),
    ("SYN-RECEIVED --rcv ACK of SYN--> ESTABLISHED", lambda: (synrcvd(), arrive(seg("ACK", 101, 301))),
     S.ESTABLISHED),
    ("SYN-RECEIVED --rcv RST (passive)--> LISTEN", lambda: (synrcvd(), arrive(seg("RST", 101))), S.LISTEN),
    ("SYN-RECEIVED --CLOSE / snd FIN--> FIN-WAIT-1", lambda: (synrcvd(), call("SHUTDOWN")), S.FIN_WAIT_1),
    ("ESTABLISHED --CLOSE / snd FIN--> FIN-WAIT-1", lambda: (est(100, 300), call("SHUTDOWN")), S.FIN_WAIT_1),
    ("ESTABLISHED --rcv FIN / snd ACK--> CLOSE-WAIT", lambda: (est(100, 300), arrive(seg("FIN,ACK", 300, 100))),
     S.CLOSE_WAIT),
    ("FIN-WAIT-1 --rcv ACK of FIN--> FIN-WAIT-2", lambda: (finwait1(), arrive(seg("ACK", 300, 101))), S.FIN_WAIT_2),
    ("FIN-WAIT-1 --rcv FIN / snd ACK--> CLOSING", lambda: (finwait1(), arrive(seg("FIN,ACK", 300, 100))), S.CLOSING),
    ("FIN-WAIT-1 --rcv FIN,ACK of FIN / snd ACK--> TIME-WAIT",
     lambda: (finwait1(), arrive(seg("FIN,ACK", 300, 101))), S.TIME_WAIT),
    ("FIN-WAIT-2 --rcv FIN / snd ACK--> TIME-WAIT",
     lambda: (one(P, finwait1(), arrive(seg("ACK", 300, 101))).endpoint, arrive(seg("FIN,ACK", 300, 101))),
     S.TIME_WAIT),
    ("CLOSING --rcv ACK of FIN--> TIME-WAIT",
     lambda: (one(P, finwait1(), arrive(seg("FIN,ACK", 300, 100))).endpoint, arrive(seg("ACK", 301, 101))),
     S.TIME_WAIT),
    ("CLOSE-WAIT --CLOSE / snd FIN--> LAST-ACK",
     lambda: (one(P, est(100, 300), arrive(seg("FIN,ACK", 300, 100))).endpoint, call("SHUTDOWN")), S.LAST_ACK),
    ("LAST-ACK --rcv ACK of FIN--> CLOSED",
     lambda: (one(P, one(P, est(100, 300), arrive(seg("FIN,ACK", 300, 100))).endpoint, call("CLOSE")).endpoint,
              arrive(seg("ACK", 301, 101))), S.CLOSED),
    ("TIME-WAIT --timeout 2MSL--> CLOSED",
     lambda: (one(P, finwait1(), arrive(seg("FIN,ACK", 300, 101))).endpoint, timeout("2MSL")), S.CLOSED),
    ("SYN-SENT --rcv RST,ACK--> CLOSED (connection refused)",
     lambda: (one(P, Endpoint(), call("CONNECT", isn=7)).endpoint, arrive(seg("RST,ACK", 0, 8))), S.CLOSED),
    ("ESTABLISHED --ABORT / snd RST--> CLOSED", lambda: (est(100, 300), call("ABORT")), S.CLOSED),
]


@pytest.mark.parametrize("name,make,to", ARCS, ids=[a[0] for a in ARCS])
def test_arc(name, make, to):
    ep, ev = make()
    go(ep, ev, to)


def test_simultaneous_open_arc():
    # SYN-RECEIVED --rcv SYN,ACK--> ESTABLISHED (Figure 7's arc)
    a, b = one(P, Endpoint(), call("CONNECT", isn=1)), one(P, Endpoint(), call("CONNECT", isn=5))
    a2 = one(P, a.endpoint, arrive(b.sends[0]))
    b2 = one(P, b.endpoint, arrive(a.sends[0]))
    go(a2.endpoint, arrive(b2.sends[0]), S.ESTABLISHED)


def test_every_figure5_row_is_driven():
    """Runs last in this module: the arcs above passed through every row marked as a Figure 5 arc."""
    for name, make, to in ARCS:
        ep, ev = make()
        SEEN.update(one(P, ep, ev).rows)
    test_simultaneous_open_arc()
    fig5 = {r.id for r in machine(P).rows if r.figure5}
    assert len(fig5) >= 20
    assert fig5 - SEEN == set()


def test_handshake_helper_agrees_with_isns():
    a, b, _ = handshake(P, 10, 20)
    assert (a.irs, b.irs) == (b.iss, a.iss) == (20, 10)
