"""lwIP 2.1.3 through stacks/lwip: the shim's smoke tests, each exchange judged by the oracle,
then the kit's generated tests (one per row of the table; the stack's confirmed deviations,
from stacks/lwip/stack.json, fail as xfail with the oracle's report)."""
import json
import os
import sys

import pytest

import synack.testing

sys.path.insert(0, os.path.dirname(__file__))
from peer import (ACK, RST, SCENARIOS, SYN, Peer, check_smoke, load_adapter, shim_or_skip,
                  time_wait_probe)  # noqa: E402

adapter = load_adapter("lwip")
CFG = json.load(open(os.path.join(os.path.dirname(adapter.__file__), "stack.json")))

#: Where lwIP deviates from RFC 9293, confirmed in its source (stacks/REPORT.md lists them):
#: every RST lwIP sends carries ACK, because tcp_rst() (src/core/tcp_out.c) builds it with
#: TCP_RST | TCP_ACK; RFC 9293 3.10.5 (ABORT) and 3.10.7.1 (a segment with ACK on for no
#: connection) send <SEQ=...><CTL=RST> without it.
DEVIATIONS = {
    "abort": "tcp_abandon() -> tcp_rst(): <RST,ACK> where 3.10.5 sends <SEQ=SND.NXT><CTL=RST>",
    "peer-reset": "tcp_input() -> tcp_rst(): <RST,ACK> where 3.10.7.1 sends <SEQ=SEG.ACK><CTL=RST>",
}


@pytest.fixture(scope="session")
def lwip_shim() -> str:
    """Installs liblwip-dev (as root) and builds the shim once per session."""
    return shim_or_skip(adapter)


@pytest.fixture
def lwip(lwip_shim):
    d = adapter.LwipDriver()
    info = d.init()
    assert info.clock == "virtual" and info.stack.startswith("lwIP 2.1")
    yield d
    d.quit()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_smoke(lwip, name):
    check_smoke(lwip, name, DEVIATIONS)


def test_virtual_clock_runs_the_syn_backoff(lwip):
    """Time passes only on advance, and lwIP's timers run at their own times: a SYN the peer
    never answers is retransmitted after lwIP's initial RTO: 6 ticks of its 500 ms slow timer
    (pcb->rto = 3000 / TCP_SLOW_INTERVAL), the first tick coming up to one tick early."""
    p = Peer(lwip, port=5000)
    lwip.connect(5000)
    assert len(p.pull()) == 1
    assert p.advance(2.4) == []
    out = p.advance(0.7)
    assert len(out) == 1 and out[0].seg.flags == SYN and 2.5 <= out[0].t <= 3.0, out


def test_time_wait_lasts_two_minutes_not_four(lwip):
    """lwIP's TIME-WAIT is 2 * TCP_MSL = 120 s (src/include/lwip/priv/tcp_priv.h, ended in
    tcp_slowtmr()); RFC 9293 3.4.2 takes MSL = 2 minutes, so 240 s. A retransmitted FIN 100 s
    in is still acknowledged; 130 s in it meets a closed port and the oracle rejects the RST
    (TIME-WAIT may not end before 240 s less the profile's tolerance)."""
    p, port, out = time_wait_probe(lwip, 100)
    assert [o.seg.flags for o in out] == [ACK] and p.verdict(port).ok
    d = adapter.LwipDriver()
    d.init()
    p, port, out = time_wait_probe(d, 130)
    v = p.verdict(port)
    assert [o.seg.flags & RST for o in out] == [RST] and v.status == "violation" and "TIME-WAIT" in str(v), v
    d.quit()


@pytest.mark.parametrize("flags", [ACK, SYN])
def test_a_full_sized_segment_to_a_listener_is_taken(lwip, flags):
    """A datagram of more than 592 bytes once overflowed its pbuf in the shim (Debian's
    liblwip sizes PBUF_POOL blocks for 592 bytes, pbuf_alloc() fills them up to 1536): 1460
    bytes, as an ACK or a SYN, to a listening port. lwIP answers (RST to the ACK, SYN,ACK to
    the SYN) and goes on serving: a second, small segment (another connection) is answered too."""
    p = Peer(lwip, port=5001)
    p.listen(80)
    for k, n in enumerate((1460, 1)):
        p.port = 5001 + k               # a connection of its own each
        out = p.send(flags, 1000 + 100000 * k, 7, n, iut_port=80)
        assert len(out) == 1 and out[0].seg.flags & (RST if flags == ACK else SYN), out


class TestLwipKit(synack.testing.StackTests):
    """The kit's rows against lwIP (about 20 s, most of it planning the runs)."""
    profile = CFG["profile"]
    params = CFG.get("params", {})
    known_deviations = {row: f"{c['kind']}: {c['source']}" for row, c in CFG["causes"].items()}
    variation_causes = {k: f"{c['kind']}: {c['source']}" for k, c in CFG.get("variation_causes", {}).items()}

    def make_driver(self):
        shim_or_skip(adapter)
        return adapter.LwipDriver()

