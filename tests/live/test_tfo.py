"""TCP Fast Open on this kernel (net.ipv4.tcp_fastopen = 3 in a namespace of its own): a client
that asks for a cookie and then sends data on its SYN, a listener that accepts data on a SYN and
answers before the handshake's final ACK, and a client whose server acknowledges only the SYN.
The `linux` profile (option `tfo`) judges them conformant; `rfc9293`, and `linux` without `tfo`,
reject them at the SYN carrying data or the SYN,ACK acknowledging it.

A client's data-carrying SYN is one call, sendto(MSG_FASTOPEN): CONNECT with data. The monitor
offers hidden CONNECTs without data, so a capture alone leaves that SYN unexplained; the client
ends are judged with that one call logged (the rest of their trace as captured)."""
import os
import random
import sys
from dataclasses import replace

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from netns import can_unshare, run_in_netns  # noqa: E402
from scenarios import AUD_IUT, HOST, PORT, TFO_SCENARIOS, TFO_SYSCTLS  # noqa: E402

from synack.oracle import Monitor  # noqa: E402
from synack.oracle.capture import read_capture  # noqa: E402
from synack.oracle.events import CallEvent  # noqa: E402
from synack.oracle.generate import MUTATIONS, mutate  # noqa: E402
from synack.oracle.judge import CaptureJudge  # noqa: E402
from synack.spec import SYN, get_profile  # noqa: E402

pytestmark = pytest.mark.skipif(bool(can_unshare()), reason=can_unshare() or "-")

LINUX = get_profile("linux")
STRICT = (get_profile("rfc9293"), replace(LINUX, options=LINUX.options - {"tfo"}))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("tfo")
    return {name: run_in_netns(fn, str(d / f"{name}.pcap"), sysctls=TFO_SYSCTLS, timeout=60)
            for name, fn in TFO_SCENARIOS.items()}


def ends(path, profile, iut=None):
    """The judged ends' events, {(connection index, end): events}, and the judge's results."""
    judge = CaptureJudge(profile, iut, keep_events=True)
    results = [r for p in read_capture(path) for r in judge.feed(p)] + list(judge.close())
    return {(k, end): events for k, conn in enumerate(judge.released) for end, events in conn.events.items()}, results


def client_trace(events):
    """A client end's events with its opening call logged: CONNECT carrying the SYN's data."""
    syn = next(e for e in events if getattr(e, "dir", "") == "out" and e.seg.flags & SYN)
    return [CallEvent("CONNECT", syn.seg.data, t=syn.t)] + list(events)


def test_the_kernel_asked_for_a_cookie_then_sent_data_on_the_syn(runs):
    caps, syns = runs["tfo_loopback"]
    (client1, synack1, client2, synack2) = syns
    assert client1 == (False, 0, b"") and synack1[0] and len(synack1[2]) == 8      # request; cookie given
    assert client2[0] is False and client2[1] > 0 and client2[2] == synack1[2]      # data on the SYN, with it


def test_linux_judges_tfo_server_ends_conformant_and_rfc9293_does_not(runs):
    for path, iut in (runs["tfo_loopback"][0][0], runs["tfo_server_data_before_ack"][0][0]):
        server = (AUD_IUT, PORT) if iut else (HOST, PORT)
        _, results = ends(path, LINUX, server)
        assert results and all(r.verdict.status == "conformant" for r in results), [str(r.verdict) for r in results]
        for prof in STRICT:
            _, results = ends(path, prof, server)
            assert "violation" in [r.verdict.status for r in results], prof.label()


def test_linux_judges_tfo_client_ends_conformant_with_the_connect_logged(runs):
    for path, iut in (runs["tfo_loopback"][0][0], runs["tfo_client_fallback"][0][0]):
        client = (AUD_IUT, None) if iut else None
        got, _ = ends(path, LINUX, client)
        traces = [client_trace(ev) for (k, end), ev in got.items() if end[1] != PORT]
        assert len(traces) == 2
        for tr in traces:
            v = Monitor(LINUX).check(tr)
            assert v.status == "conformant", str(v)
        # the second connection sent data on its SYN: only TFO explains it
        for prof in STRICT:
            assert Monitor(prof).check(traces[1]).status == "violation", prof.label()


def test_fallback_retransmits_the_syn_data_after_the_handshake(runs):
    _, seen = runs["tfo_client_fallback"]
    (syn1, first1, data1, syn2, first2) = seen
    assert syn1 == (0, b"") and first1[:2] == (1, 0) and data1[:2] == (1, 9)   # cookie request; data after
    assert syn2[0] == 9 and first2 == (1, 9, b"tfo data!")                      # data on the SYN, sent again


@pytest.mark.parametrize("name", sorted(TFO_SCENARIOS))
def test_every_mutation_of_a_tfo_capture_is_rejected(runs, name):
    path, iut = runs[name][0][0]
    got, _ = ends(path, LINUX, (iut, None) if iut else None)
    rng = random.Random(name)
    tried = 0
    for (k, end), events in got.items():
        trace = client_trace(events) if end[1] != PORT else list(events)
        tfo_child = any(getattr(e, "dir", "") == "in" and e.seg.flags & SYN and e.seg.data for e in trace)
        for kind in MUTATIONS:
            if kind == "data-before-third-segment" and tfo_child:
                continue        # not a mutation here: RFC 7413 4.2.2 lets a server that took the SYN's data send
            m = mutate(trace, kind, rng)
            if m is None:
                continue
            bad, i = m
            v = Monitor(LINUX).check(bad)
            assert v.status == "violation" and v.index == i + 1, f"{name} {kind}:\n{v}"
            tried += 1
    assert tried > 0
