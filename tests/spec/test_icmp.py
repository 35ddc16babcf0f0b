"""ICMP errors as an event the table handles (RFC 9293 3.9.2.2, RFC 1122 4.2.3.9; Linux tcp_v4_err(),
tcp_req_err()): which error aborts which state, and the quoted sequence number Linux checks."""
import pytest

from synack.spec import Endpoint, SpecError, State, icmp, step
from synack.spec.model import ICMP

NET, HOST, PROTO, PORT, FRAG, SRCROUTE, ADMIN = ((3, c) for c in (0, 1, 2, 3, 4, 5, 13))
TIME, PARAM, QUENCH = (11, 0), (12, 0), (4, 0)

SS = Endpoint(State.SYN_SENT, iss=100, snd_una=100, snd_nxt=101)
SR_REQ = Endpoint(State.SYN_RECEIVED, iss=100, irs=300, snd_una=100, snd_nxt=101, rcv_nxt=301, passive=True)
SR_TFO = SR_REQ._replace(tfo_child=True, rcv_nxt=311)
SR_SIM = SR_REQ._replace(passive=False)
ES = Endpoint(State.ESTABLISHED, iss=100, irs=300, snd_una=101, snd_nxt=201, rcv_nxt=301)


def after(profile, ep, err, seq):
    """{(state, signals)} the table allows after the ICMP error `err` quoting `seq`."""
    return {(t.endpoint.state, t.signals) for t in step(profile, ep, icmp(*err, seq))}


GOES_ON = lambda ep: {(ep.state, ())}  # noqa: E731
ABORT = {(State.CLOSED, ("error: destination unreachable",))}


def test_the_event():
    ev = icmp(*HOST, 7)
    assert ev.kind == ICMP and ev.seg.seq == 7 and ev.n == 3 << 8 | 1
    assert str(ev) == "rcv ICMP type 3 code 1 quoting seq=7"
    for bad in ((256, 0, 0), (3, -1, 0), (3, 1, 1 << 32)):
        with pytest.raises(SpecError):
            icmp(*bad)


@pytest.mark.parametrize("ep", [SS, SR_REQ, SR_TFO, ES])
@pytest.mark.parametrize("err", [NET, HOST, SRCROUTE, TIME, PARAM, QUENCH, ADMIN])
def test_rfc9293_never_aborts_on_a_soft_error(ep, err):
    """MUST-56 (soft errors), MUST-55 (Source Quench); a code RFC 9293 does not class is not hard."""
    assert after("rfc9293", ep, err, ep.snd_una) == GOES_ON(ep)


@pytest.mark.parametrize("ep", [SS, SR_REQ, ES])
@pytest.mark.parametrize("err", [PROTO, PORT, FRAG])
def test_rfc9293_may_abort_on_a_hard_error(ep, err):
    """SHLD-26: codes 2-4 SHOULD abort (a SHOULD: going on is allowed too)."""
    assert after("rfc9293", ep, err, ep.snd_una) == GOES_ON(ep) | ABORT


def test_rfc9293_has_nothing_to_abort_in_listen_or_closed():
    for st in (State.LISTEN, State.CLOSED):
        ep = Endpoint(st)
        assert after("rfc9293", ep, PORT, 0) == GOES_ON(ep)


@pytest.mark.parametrize("err", [NET, HOST, PROTO, PORT, SRCROUTE, ADMIN, TIME, PARAM])
def test_linux_aborts_syn_sent_on_any_error_it_acts_on(err):
    """tcp_v4_err(): tcp_done_with_error() in SYN-SENT, soft errors included (RFC 5461 4)."""
    assert after("linux", SS, err, 100) == ABORT
    assert after("linux", SS, err, 101) == ABORT                  # between(seq, snd_una, snd_nxt): inclusive


@pytest.mark.parametrize("err, seq", [(FRAG, 100), (QUENCH, 100), (HOST, 99), (HOST, 102), ((3, 16), 100)])
def test_linux_ignores_in_syn_sent_what_it_does_not_act_on(err, seq):
    """Just outside the rule: PMTU (code 4), Source Quench, a code past NR_ICMP_UNREACH, a quoted SEQ
    one below SND.UNA or one past SND.NXT (LINUX_MIB_OUTOFWINDOWICMPS)."""
    assert after("linux", SS, err, seq) == GOES_ON(SS)


@pytest.mark.parametrize("err", [NET, HOST, TIME, PARAM])
def test_linux_drops_a_request_socket_quoting_its_iss(err):
    """tcp_req_err(): the request is dropped, the listener remains (LISTEN), nothing is signalled."""
    (t,) = step("linux", SR_REQ, icmp(*err, 100))
    assert t.endpoint.state is State.LISTEN and t.signals == () and t.sends == ()
    assert t.endpoint.passive


@pytest.mark.parametrize("err, seq", [(HOST, 101), (HOST, 99), (PORT, 100), (PROTO, 100), (SRCROUTE, 100),
                                      (FRAG, 100)])
def test_linux_keeps_a_request_socket_otherwise(err, seq):
    """Just outside: a quoted SEQ other than the ISS (even SND.NXT), or a code tcp_req_err() is not told to
    abort on."""
    assert after("linux", SR_REQ, err, seq) == GOES_ON(SR_REQ)


def test_linux_fast_open_child_and_simultaneous_open():
    """A Fast Open child is aborted when not yet accepted, goes on when accepted (the table does not know
    which); a simultaneous open's SYN-RECEIVED is a full socket, aborted like SYN-SENT."""
    assert after("linux", SR_TFO, HOST, 100) == GOES_ON(SR_TFO) | ABORT
    assert after("linux", SR_TFO, HOST, 5100) == GOES_ON(SR_TFO)
    assert after("linux", SR_SIM, PORT, 101) == ABORT
    assert after("linux", SR_SIM, FRAG, 101) == GOES_ON(SR_SIM)


@pytest.mark.parametrize("err", [NET, HOST, PROTO, PORT, TIME, PARAM])
def test_linux_never_aborts_a_synchronized_connection(err):
    """'If we've already connected we will keep trying until we time out' (tcp_v4_err())."""
    assert after("linux", ES, err, 101) == GOES_ON(ES)
