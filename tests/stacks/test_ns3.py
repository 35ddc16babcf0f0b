"""ns-3.37's TCP through stacks/ns3: the shim's smoke tests, exchanges beyond the kit's rows
that found deviations (and a crash), and the kit's generated tests, every exchange judged by
the oracle. The rows where ns-3 deviates, or the oracle is wrong about it, are the hand-read
causes in stacks/ns3/stack.json (each names the ns-3 source function)."""
import json
import os
import sys

import pytest

import synack.testing
from synack.testing import ShimError, Unsupported

sys.path.insert(0, os.path.dirname(__file__))
from peer import (ACK, PSH, RST, SCENARIOS, SYN, Peer, accept_one, check_smoke, load_adapter,  # noqa: E402
                  shim_or_skip, time_wait_probe)

adapter = load_adapter("ns3")
CFG = json.load(open(adapter.HERE / "stack.json"))

#: Smoke exchanges ns-3 cannot play as written: it has no ABORT, and a segment for a reset
#: connection reaches the listener, which drops it (below).
OWN_TESTS = {"abort", "peer-reset"}


@pytest.fixture(scope="session")
def ns3_shim() -> str:
    """Installs Debian's libns3-dev, g++ and nlohmann-json3-dev (as root) and builds the shim once."""
    return shim_or_skip(adapter)


@pytest.fixture
def ns3(ns3_shim):
    d = adapter.Ns3Driver()
    info = d.init()
    assert info.clock == "virtual" and info.stack.startswith("ns-3.37")
    yield d
    d.quit()


@pytest.mark.parametrize("name", sorted(set(SCENARIOS) - OWN_TESTS))
def test_smoke(ns3, name):
    check_smoke(ns3, name, {})


def test_abort_is_not_drivable(ns3):
    """ns-3's Socket API has no ABORT (no SO_LINGER): the shim says so, and the kit reports
    the rows that need it as not drivable."""
    p = Peer(ns3)
    sock, _ = accept_one(ns3, p)
    with pytest.raises(Unsupported):
        ns3.abort(sock)


def test_segment_after_peer_reset_meets_a_silent_listener(ns3):
    """The peer resets an established connection (ns-3 tells the user: reset); its next
    segment for that connection reaches the listener on the port, and ns-3's
    ProcessListen() (src/internet/model/tcp-socket-base.cc) drops every segment but a SYN, where RFC 9293 3.10.7.2 answers an
    ACK-bearing segment in LISTEN with <SEQ=SEG.ACK><CTL=RST>. The oracle, with every call
    logged, finds the RST owed (inconclusive, as the trace ends)."""
    p = Peer(ns3)
    sock, iss = accept_one(ns3, p)
    assert p.send(RST, 1001, iut_port=80) == []
    p.advance(0.01)
    assert "reset" in [e.kind for e in ns3.events() if e.sock == sock]
    assert p.send(ACK | PSH, 1001, iss + 1, 10, iut_port=80) + p.advance(1) == []
    v = p.verdict(80)
    assert v.status == "inconclusive" and f"<RST seq={iss + 1}>" in v.message, str(v)


def test_virtual_clock_runs_the_syn_backoff_exactly(ns3):
    """Time moves only on advance (Simulator::Stop/Run): ns-3's unanswered SYN is
    retransmitted at 3, 9 and 21 s (TcpSocket ConnTimeout 3 s, doubled), nothing in between."""
    p = Peer(ns3, port=5000)
    ns3.connect(5000)
    assert [o.seg.flags for o in p.pull()] == [SYN]
    assert p.advance(2.999) == []
    times = [o.t for o in p.advance(0.001) + p.advance(18.0)]
    assert times == pytest.approx([3.0, 9.0, 21.0], abs=1e-6)   # each request may step 1 ns (the shim's Settle)


def test_every_connection_starts_at_iss_zero(ns3):
    """ns-3 never chooses an ISN: TcpSocketState's m_nextTxSequence starts at 0
    (src/internet/model/tcp-socket-state.h), so every connection's ISS is 0; RFC 9293 3.4.1
    (MUST-8) asks for a clock-driven ISN. The table takes ISNs as given (not modelled)."""
    p = Peer(ns3, port=5000)
    for _ in range(3):
        ns3.connect(5000)
    assert [(o.seg.flags, o.seg.seq) for o in p.pull()] == [(SYN, 0)] * 3


def test_time_wait_ignores_a_retransmitted_fin(ns3):
    """DoForwardUp() (tcp-socket-base.cc) does nothing in TIME-WAIT: the peer's FIN
    retransmitted 30 s in is not acknowledged, where RFC 9293 3.10.7.4 (TIME-WAIT)
    acknowledges it and restarts the 2 MSL timer. (The oracle owes pure ACKs no deadline: it
    judges this trace conformant; see the note for the lead.)"""
    p, port, out = time_wait_probe(ns3, 30)
    assert [o.seg.flags for o in p.pull() + p.advance(1) + out] == []
    assert [(e.seg.flags, e.seg.ack) for e in p.events(port) if getattr(e, "dir", "") == "out"][-1] == (ACK, 1002)


def test_out_of_window_rst_resets_the_connection(ns3):
    """ns-3 checks the sequence number only of segments that carry data
    (TcpSocketBase::IsValidTcpSegment()); ProcessEstablished() closes on any RST: one far
    outside the window resets the connection, where RFC 9293 3.10.7.4's first check drops it."""
    p = Peer(ns3)
    sock, iss = accept_one(ns3, p)
    assert p.send(RST, 1001 + 200000, iut_port=80) == []
    assert "reset" in [e.kind for e in ns3.events() if e.sock == sock]


def test_zero_window_with_nothing_to_send_crashes_ns3(ns3):
    """ns-3 bug: a segment with window 0 arms the persist timer whatever the socket holds
    (DoForwardUp()), and PersistTimeout() dereferences the TcpTxItem of the next unsent byte,
    null when nothing is queued (src/internet/model/tcp-socket-base.cc): SIGSEGV at the persist timeout (6 s). The kit's
    ack.dup and persist rows send such an ACK; the kit reports the row as a crash and restarts
    the shim (`ShimDriver.restart`)."""
    p = Peer(ns3, port=5000)
    sock, sport = ns3.connect(5000)
    iss = p.pull()[0].seg.seq
    p.send(SYN | ACK, 7000, iss + 1, iut_port=sport, mss=1460)
    p.send(ACK, 7001, iss + 1, iut_port=sport, win=0)
    assert p.advance(5.9) == []
    with pytest.raises(ShimError, match=r"exited \(status -11\)"):
        ns3.advance(0.2)
    ns3.restart()
    assert ns3.listen(80) > 0 and ns3.restarts == 1      # a fresh shim answers


class TestNs3Kit(synack.testing.StackTests):
    """The kit's generated tests: one per row of rfc9293's table, on one shim. ns-3 crashes on
    a zero-window ACK seconds after the row that sent it (see
    test_zero_window_with_nothing_to_send_crashes_ns3): the kit runs the virtual clock on
    after each row (kit.DRAIN) so that the crash is the result of the row that caused it, and
    restarts the shim. Rows in stack.json's causes fail as xfail with their oracle report;
    every other row the kit reaches must conform."""
    profile = CFG["profile"]
    known_deviations = {row: f"{c['kind']}: {c['source']}" for row, c in CFG["causes"].items()}
    variation_causes = {k: f"{c['kind']}: {c['source']}" for k, c in CFG.get("variation_causes", {}).items()}


    def make_driver(self):
        shim_or_skip(adapter)
        return adapter.Ns3Driver()
