"""libslirp 4.7 through stacks/slirp: the shim's smoke tests, each exchange judged by the oracle,
then the kit's generated tests (one per row; the confirmed causes in stacks/slirp/stack.json
fail as xfail). The kit plays slirp's guest; the IUT is slirp's BSD-derived TCP (see
stacks/slirp/shim.c)."""
import json
import os
import sys

import pytest

import synack.testing

sys.path.insert(0, os.path.dirname(__file__))
from peer import (ACK, PSH, RST, SCENARIOS, SYN, Peer, check_smoke, load_adapter,
                  shim_or_skip, time_wait_probe)  # noqa: E402

from synack.testing import ShimError  # noqa: E402

adapter = load_adapter("slirp")
CFG = json.load(open(os.path.join(os.path.dirname(adapter.__file__), "stack.json")))

#: Where slirp deviates from RFC 9293, confirmed in its source (stacks/REPORT.md lists them):
#: a dropped connection's RST comes from tcp_output() in CLOSED, whose tcp_outflags entry is
#: TH_RST | TH_ACK (src/tcp_output.c, as in 4.4BSD); RFC 9293 3.10.5 sends <SEQ=SND.NXT><CTL=RST>.
DEVIATIONS = {
    "abort": "soread() ECONNRESET -> tcp_drop() -> tcp_output(): <RST,ACK> where 3.10.5 sends <CTL=RST>",
}


@pytest.fixture(scope="session")
def slirp_shim() -> str:
    """Installs libslirp-dev (as root) and builds the shim once per session."""
    return shim_or_skip(adapter)


@pytest.fixture
def slirp(slirp_shim):
    d = adapter.SlirpDriver()
    info = d.init()
    assert info.clock == "virtual" and info.stack.startswith("libslirp 4.7")
    yield d
    d.quit()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_smoke(slirp, name):
    check_smoke(slirp, name, DEVIATIONS)


def test_virtual_clock_runs_the_syn_backoff(slirp):
    """Time passes only on advance, and slirp's 500 ms slow timer runs at its own times: a SYN
    the peer never answers is retransmitted after slirp's initial RTO, 4.4BSD's 6 s: 12 slow
    ticks ((TCPTV_SRTTBASE >> 2) + (TCPTV_SRTTDFLT << 2)) >> 1, in tcp_newtcpcb()), each tick
    at least 499 ms after the last (TIMEOUT_SLOW in slirp_pollfds_poll())."""
    p = Peer(slirp, port=5000)
    slirp.connect(5000)
    assert len(p.pull()) == 1
    assert p.advance(5.9) == []
    out = p.advance(0.2)
    assert len(out) == 1 and out[0].seg.flags == SYN and 5.9 <= out[0].t <= 6.1, out


def _ends_at(isn: int, n: int) -> bool:
    """In FIN-WAIT-2 (slirp closed first, the guest acknowledged its FIN), the guest sends n bytes
    in order from isn + 1: whether slirp survives."""
    d = adapter.SlirpDriver()
    d.init()
    p = Peer(d)
    lsock = p.listen(80)
    iss = p.send(SYN, isn, iut_port=80, mss=1460)[0].seg.seq
    p.send(ACK, isn + 1, iss + 1, iut_port=80)
    p.close(p.accept(lsock))
    p.pull()
    p.send(ACK, isn + 1, iss + 2, iut_port=80)
    try:
        p.send(ACK | PSH, isn + 1, iss + 2, n, iut_port=80)
        alive = True
    except ShimError:
        alive = False
    d.quit()
    return alive


def test_a_segment_ending_at_sequence_zero_crashes_libslirp(slirp):
    """libslirp 4.7.0's tcp_reass() walks past the end of its reassembly queue (stack.json,
    fin.remain): outside ESTABLISHED every in-order segment goes through it, and one that leaves
    RCV.NXT at 0 makes it read the tcpcb as a segment. Data in FIN-WAIT-2 ending exactly at
    2^32 kills the process; ending one byte before or after, or away from the wrap, it lives."""
    assert [_ends_at(0xFFFFFFF0, n) for n in (14, 15, 16)] == [True, False, True]
    assert _ends_at(1000, 15)


def test_time_wait_lasts_ten_seconds(slirp):
    """slirp's TIME-WAIT is 2 * TCPTV_MSL = 10 s (src/tcp_timer.h, 4.4BSD's MSL of 30 s cut to
    5); RFC 9293 3.4.2 takes MSL = 2 minutes. A retransmitted FIN 8 s in is acknowledged; 15 s
    in it is answered with RST and the oracle rejects it (TIME-WAIT ended early)."""
    p, port, out = time_wait_probe(slirp, 8)
    assert [o.seg.flags for o in out] == [ACK] and p.verdict(port).ok
    d = adapter.SlirpDriver()
    d.init()
    p, port, out = time_wait_probe(d, 15)
    v = p.verdict(port)
    assert [o.seg.flags & RST for o in out] == [RST] and v.status == "violation" and "TIME-WAIT" in str(v), v
    d.quit()


class TestSlirpKit(synack.testing.StackTests):
    """The kit's rows against slirp (about 20 s, most of it planning the runs). A row whose run
    crashes libslirp is a deviation (a crash, with slirp's stderr and the events before it),
    xfail when it is a confirmed "crash" cause; the kit restarts the shim for the rows after it."""
    profile = CFG["profile"]
    params = CFG.get("params", {})
    known_deviations = {row: f"{c['kind']}: {c['source']}" for row, c in CFG["causes"].items()}
    variation_causes = {k: f"{c['kind']}: {c['source']}" for k, c in CFG.get("variation_causes", {}).items()}

    def make_driver(self):
        shim_or_skip(adapter)
        return adapter.SlirpDriver()

