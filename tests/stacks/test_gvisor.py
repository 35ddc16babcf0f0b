"""gVisor's netstack through stacks/gvisor: the shim's smoke tests, exchanges beyond the kit's
rows that found deviations, and the kit's generated tests, every exchange judged by the oracle.
The rows where netstack deviates, or the oracle is wrong about it, are the hand-read causes in
stacks/gvisor/stack.json (each names the netstack source function)."""
import json
import os
import sys

import pytest

import synack.testing

sys.path.insert(0, os.path.dirname(__file__))
from peer import (ACK, PSH, RST, SCENARIOS, SYN, Peer, accept_one, check_smoke, load_adapter,  # noqa: E402
                  shim_or_skip, time_wait_probe)

adapter = load_adapter("gvisor")
CFG = json.load(open(adapter.HERE / "stack.json"))

#: The smoke exchange where netstack deviates: its abortive RST carries ACK
#: (connect.go: (*endpoint).resetConnectionLocked(), as the kit's abort.rst row shows).
SMOKE_DEVIATIONS = {"abort": CFG["causes"]["abort.rst"]["source"]}


@pytest.fixture(scope="session")
def gvisor_shim() -> str:
    """Installs Debian's Go and golang-inet-netstack-dev (as root) and builds the shim once."""
    return shim_or_skip(adapter)


@pytest.fixture
def gvisor(gvisor_shim):
    d = adapter.GvisorDriver()
    info = d.init()
    assert info.clock == "virtual" and info.stack.startswith("gVisor netstack")
    yield d
    d.quit()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_smoke(gvisor, name):
    check_smoke(gvisor, name, SMOKE_DEVIATIONS)


def test_virtual_clock_runs_the_syn_backoff_exactly(gvisor):
    """Time moves only on advance, one timer deadline at a time: netstack's unanswered SYN is
    retransmitted at exactly 1, 3 and 7 s (initial RTO 1 s, doubled), nothing in between."""
    p = Peer(gvisor, port=5000)
    gvisor.connect(5000)
    assert [o.seg.flags for o in p.pull()] == [SYN]
    assert p.advance(0.999) == []
    times = [o.t for o in p.advance(0.001) + p.advance(6.0)]
    assert times == [1.0, 3.0, 7.0]


def test_runs_repeat_exactly(gvisor_shim):
    """Seeded random sources and the virtual clock: two shims send the same SYN (port, ISS,
    options, TSval) byte for byte. Not the IPv4 header: netstack draws its IP ID hash from
    crypto/rand (network/hash RandN32), which no option seeds."""
    seen = []
    for _ in range(2):
        d = adapter.GvisorDriver()
        d.init()
        sock, sport = d.connect(5000)
        seen.append((sport, [raw[20:] for _, raw in d.collect()]))
        d.quit()
    assert seen[0] == seen[1] and seen[0][1]


def test_time_wait_lasts_60_seconds_not_2msl(gvisor):
    """Beyond the kit's rows: netstack holds TIME-WAIT for 60 s (tcp/protocol.go
    DefaultTCPTimeWaitTimeout), not RFC 9293 3.6.1's 2 MSL (240 s): the peer's FIN
    retransmitted 50 s in is acknowledged, 70 s in it meets a closed port (RST), and the
    oracle says where (TIME-WAIT may not end before 240 s less the profile's tolerance)."""
    p, port, out = time_wait_probe(gvisor, 50)
    assert [o.seg.flags for o in out] == [ACK] and p.verdict(port).ok
    d = adapter.GvisorDriver()
    d.init()
    p, port, out = time_wait_probe(d, 70)
    d.quit()
    v = p.verdict(port)
    assert [o.seg.flags for o in out] == [RST], out
    assert v.status == "violation" and v.index == len(p.events(port)), str(v)
    assert any(r.startswith("seq.bad.tw") for r in v.rows), str(v)


def test_in_window_rst_resets_without_a_challenge_ack(gvisor):
    """Beyond the kit's rows (it finds no run to rst.challenge): a RST inside the window but
    not at RCV.NXT resets the connection (tcp/connect.go (*endpoint).handleReset() takes any
    acceptable SEQ, RFC 793's rule) where RFC 9293 3.10.7.4 with RFC 5961 3.2 sends a
    challenge ACK; the oracle reports the challenge ACK owed when the next segment shows the
    connection gone."""
    p = Peer(gvisor)
    sock, iss = accept_one(gvisor, p)
    assert p.send(RST, 1001 + 100, iut_port=80) == []
    assert [e.kind for e in gvisor.events() if e.sock == sock][-1] == "reset"
    out = p.send(ACK | PSH, 1001, iss + 1, 10, iut_port=80)
    assert [o.seg.flags for o in out] == [RST]
    v = p.verdict(80)
    assert v.status == "violation" and v.index == len(p.events(80)), str(v)
    assert any(r.startswith("rst.challenge") for r in v.rows), str(v)


def test_abort_in_simultaneous_open_panics_netstack(gvisor):
    """netstack bug: close() with SO_LINGER 0 on a socket in SYN-RECEIVED (a simultaneous
    open) dereferences e.snd, which exists only after the handshake (tcp/endpoint.go Close() ->
    connect.go resetConnectionLocked()). The shim turns the panic into EIO and lives on."""
    p = Peer(gvisor, port=5000)
    sock, sport = gvisor.connect(5000)
    p.pull()
    assert [o.seg.flags for o in p.send(SYN, 7000, iut_port=sport)] == [SYN | ACK]
    with pytest.raises(synack.testing.DriverError, match="netstack panicked: runtime error: invalid memory"):
        gvisor.abort(sock)
    assert gvisor.listen(80) > 0                    # the shim still answers


class TestGvisorKit(synack.testing.StackTests):
    """The kit's generated tests: one per row of rfc9293's table. Rows in stack.json's causes
    fail as xfail with their oracle report (deviations, and oracle false alarms for the table's
    owner); every other row that the kit reaches must conform."""
    profile = CFG["profile"]
    known_deviations = {row: f"{c['kind']}: {c['source']}" for row, c in CFG["causes"].items()}
    variation_causes = {k: f"{c['kind']}: {c['source']}" for k, c in CFG.get("variation_causes", {}).items()}

    def make_driver(self):
        shim_or_skip(adapter)
        return adapter.GvisorDriver()

