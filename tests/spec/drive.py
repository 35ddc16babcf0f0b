"""Helpers to drive `step` through scenarios in tests."""
from synack.spec import TABLE, Endpoint, Segment, State, arrive, call, step, timeout

CHOICE = {r.id for r in TABLE if r.choice}

__all__ = ["one", "seg", "est", "handshake", "Endpoint", "Segment", "State", "arrive", "call", "step", "timeout"]


def one(profile, endpoint, event):
    """The one result that takes no optional choice (delayed ACK, rate-limited challenge ACK)."""
    res = [t for t in step(profile, endpoint, event) if not CHOICE.intersection(t.rows)]
    assert len(res) == 1, f"expected one result for {event} in {endpoint.state}, got {res}"
    return res[0]


def seg(flags, seq, ack=0, data=0, wnd=65535):
    return Segment.make(flags, seq, ack, data, wnd)


def est(snd, rcv, iss=None, irs=None, wnd=65535, **kw):
    """An ESTABLISHED endpoint whose next sequence number is `snd` and which expects `rcv`."""
    return Endpoint(State.ESTABLISHED, iss=(snd - 1) if iss is None else iss, irs=(rcv - 1) if irs is None else irs,
                    snd_una=snd, snd_nxt=snd, snd_wnd=wnd, rcv_nxt=rcv, rcv_wnd=wnd, **kw)


def handshake(profile="rfc9293", a_iss=100, b_iss=300):
    """Run the three-way handshake; return (A, B) ESTABLISHED and the three segments."""
    a = one(profile, Endpoint(), call("CONNECT", isn=a_iss))
    b = one(profile, Endpoint(), call("LISTEN"))
    b = one(profile, b.endpoint, arrive(a.sends[0], isn=b_iss))
    a2 = one(profile, a.endpoint, arrive(b.sends[0]))
    b2 = one(profile, b.endpoint, arrive(a2.sends[0]))
    return a2.endpoint, b2.endpoint, (a.sends[0], b.sends[0], a2.sends[0])
