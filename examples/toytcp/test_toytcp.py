"""A foreign test suite: how a project tests its own TCP (here ToyTCP, `toytcp.py`) with
synack. It uses only synack's public pieces: the pytest plugin's `tcp_oracle` fixture and
`synack_profile` marker, the hypothesis strategies, and the reference endpoint.

    pytest examples/toytcp                          # passes: ToyTCP conforms
    TOYTCP_BUG=fin-ack pytest examples/toytcp       # plants the bug: the oracle's reports

ToyTCP logs every user call it is given, so every check passes `calls_logged=True`: the
oracle then explains segments by timers only, never by a call nobody made.
"""
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import ReferenceSide, ToySide, run
from synack.oracle import ReferenceEndpoint
from synack.oracle.strategies import Script, endpoint_in, environment_segments, named_script, scenarios
from toytcp import Seg, ToyTCP

#: TOYTCP_BUG=fin-ack runs the whole suite against the planted bug.
BUG = os.environ.get("TOYTCP_BUG") or None
NAMED = ["abort", "client-close", "data", "half-close", "handshake", "server-close", "simultaneous-close",
         "simultaneous-open"]
#: ToyTCP's ISN clock advances 64000 per connection; the reference is told the same.
ISN_STEP = 64000
#: derandomize: CI sees the same examples every run (3,000 random ones per test were clean when
#: this was written); drop it to let hypothesis explore afresh.
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def play(script: Script, toy_role: str, toy_isn: int = 5000, peer_isn: int = 90000, bug=BUG,
         profile: str = "rfc9293"):
    """Run `script` with ToyTCP as application `toy_role` ("a" or "b") and the reference as the
    other; returns the toy and everything that crossed the wire."""
    toy = ToyTCP(isn=toy_isn, bug=bug)
    mine, peer = ToySide(toy), ReferenceSide(ReferenceEndpoint(profile, isn=peer_isn, isn_step=ISN_STEP))
    sent = run(script, *((mine, peer) if toy_role == "a" else (peer, mine)))
    return toy, sent


# 1. every named scenario, the toy on either side ------------------------------------------
@pytest.mark.synack_profile("rfc9293")
@pytest.mark.parametrize("role", ["a", "b"])
@pytest.mark.parametrize("name", NAMED)
def test_toy_conforms_in_named_scenarios(tcp_oracle, name, role):
    toy, _ = play(named_script(name), role)
    tcp_oracle.assert_conformant(toy.trace, calls_logged=True)


# 2. any sequence of user calls (hypothesis) ------------------------------------------------
@SETTINGS
@given(script=scenarios(), role=st.sampled_from("ab"))
def test_toy_conforms_under_any_calls(tcp_oracle, script, role):
    toy, _ = play(script, role)
    tcp_oracle.assert_conformant(toy.trace, calls_logged=True)


# 3. whatever a peer might send, valid or not (hypothesis) ---------------------------------
def toy_in(state: str) -> ToyTCP:
    """ToyTCP brought to exactly the TCB that `environment_segments(state)` aims at."""
    e = endpoint_in(state)
    if state == "CLOSE-WAIT":                     # the server side, after the client's FIN
        toy, _ = play(Script("x", (("connect", 0), ("await", "established"), ("shutdown", 0)),
                             (("listen", 0), ("await", "eof"))), "b", e.iss, e.irs)
    else:
        toy, _ = play(Script("x", (("connect", 0), ("await", "established")), (("listen", 0),)),
                      "a", e.iss, e.irs)
        if state == "FIN-WAIT-1":
            toy.shutdown()                        # the FIN is still in flight
    toy.outbox.clear()
    assert (toy.state, toy.iss, toy.irs, toy.una, toy.nxt, toy.rcv) == (
        str(e.state), e.iss, e.irs, e.snd_una, e.snd_nxt, e.rcv_nxt), "setup did not reach the strategy's TCB"
    return toy


@pytest.mark.parametrize("state", ["ESTABLISHED", "FIN-WAIT-1", "CLOSE-WAIT"])
def test_toy_answers_any_segment_conformantly(tcp_oracle, state):
    @SETTINGS
    @given(seg=environment_segments(state=state))
    def check(seg):
        toy = toy_in(state)
        toy.segment_arrives(Seg(seg.flags, seg.seq, seg.ack, seg.data, seg.wnd))
        if toy.state in ("FIN-WAIT-1", "CLOSING", "LAST-ACK"):
            # our FIN may be unacknowledged when the trace ends: the spec may still owe a
            # retransmission (inconclusive), but nothing may contradict it
            v = tcp_oracle.check(toy.trace, calls_logged=True)
            assert v.status != "violation", str(v)
        else:
            tcp_oracle.assert_conformant(toy.trace, calls_logged=True)
    check()


@pytest.mark.synack_profile("rfc9293")
def test_toy_drops_a_rst_below_its_window_and_challenges_one_in_it(tcp_oracle):
    """RFC 9293 3.10.7.4 (RFC 5961 3.2): a RST with data starting one below RCV.NXT passes the
    first check but its sequence number is outside the window: dropped, no challenge ACK (the
    kit found the oracle requiring one); one above RCV.NXT is challenged."""
    for off, answers in ((-1, 0), (1, 1)):
        toy = toy_in("ESTABLISHED")
        toy.segment_arrives(Seg(0x04, (toy.rcv + off) % 2 ** 32, 0, 100))
        assert len(toy.outbox) == answers and toy.state == "ESTABLISHED"
        tcp_oracle.assert_conformant(toy.trace, calls_logged=True)


@pytest.mark.synack_profile("rfc9293")
def test_toy_takes_the_data_a_synack_carries(tcp_oracle):
    """RFC 9293 3.10.7.3: text on the SYN,ACK goes on to the sixth step: ToyTCP acknowledges
    it (the kit's size variations sent 1460 bytes on a SYN,ACK)."""
    toy = ToyTCP(isn=5000)
    toy.connect()
    toy.segment_arrives(Seg(0x12, 90000, 5001, 100))
    assert toy.state == "ESTABLISHED" and toy.rcv == 90101
    tcp_oracle.assert_conformant(toy.trace, calls_logged=True)


# 4. differential: the toy and the reference make the same moves -----------------------------
def moves(sent, side: str, iss: int, irs: int):
    """What `side` sent, in relative numbers, flags less PSH (the reference never sets PSH)."""
    return [(s.flags & ~0x08, (s.seq - iss) % 2 ** 32, (s.ack - irs) % 2 ** 32 if s.flags & 0x10 else 0, s.data)
            for who, s in sent if who == side]


@SETTINGS
@given(script=scenarios(), role=st.sampled_from("ab"))
def test_toy_and_reference_send_the_same_segments(script, role):
    toy, sent = play(script, role)
    ref = ReferenceEndpoint("rfc9293", isn=5000, isn_step=ISN_STEP)
    peer = ReferenceSide(ReferenceEndpoint("rfc9293", isn=90000, isn_step=ISN_STEP))
    sides = (ReferenceSide(ref), peer) if role == "a" else (peer, ReferenceSide(ref))
    expected = run(script, *sides)
    assert moves(sent, role, 5000, 90000) == moves(expected, role, 5000, 90000)


# 5. the planted bug, reported ---------------------------------------------------------------
def test_planted_bug_is_reported_with_the_rule_it_breaks(tcp_oracle):
    """bug="fin-ack": the ACK of the peer's FIN forgets that a FIN takes a sequence number."""
    toy, _ = play(named_script("client-close"), "b", bug="fin-ack")
    v = tcp_oracle.assert_violation(toy.trace, calls_logged=True)
    fin = next(i for i, e in enumerate(toy.trace, 1) if e.get("dir") == "in" and "FIN" in e["flags"])
    assert v.index == fin + 1                     # the ACK right after the FIN
    assert v.rows[0].startswith("fin.est [RFC 9293 3.10.7.4")
    assert "nearest allowed: <ACK" in v.message
