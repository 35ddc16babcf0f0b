"""The kernel audit's options, live (docs/linux-audit.md): this machine's kernel in a namespace
of its own, driven by a scripted peer (tests/live/scenarios.py, RawPeer) to the places where
Linux answers otherwise than RFC 9293. The `linux` profile judges each capture conformant and
every single mutation of it a violation; where an option decides, `rfc9293` and `linux`
without that option judge the real capture a violation."""
import os
import random
import sys
from dataclasses import replace

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from netns import can_unshare, run_in_netns  # noqa: E402
from scenarios import AUDIT_SCENARIOS  # noqa: E402

from synack.oracle import Monitor  # noqa: E402
from synack.oracle.capture import read_capture  # noqa: E402
from synack.oracle.generate import MUTATIONS, mutate  # noqa: E402
from synack.oracle.judge import CaptureJudge  # noqa: E402
from synack.spec import get_profile  # noqa: E402

pytestmark = pytest.mark.skipif(bool(can_unshare()), reason=can_unshare() or "-")

#: The scenarios a linux option decides, and that option.
DECIDED_BY = {"orphan_fin_wait_2_rst_in_window": "fin-wait-2-minisock", "orphan_fin_wait_2_syn": "fin-wait-2-minisock",
              "time_wait_data": "time-wait-minisock", "rst_after_fin": "rst-after-fin",
              "request_bad_ack": "syn-recv-ack-first"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("audit")
    out = {}
    for name, fn in AUDIT_SCENARIOS.items():
        got = run_in_netns(fn, str(d / f"{name}.pcap"), timeout=60)
        out[name] = got if isinstance(got, tuple) else (got, None)
    return out


from synack.oracle.monitor import LEARNABLE  # noqa: E402


def judged(caps, profile):
    judges, results = [], []
    for path, iut in caps:
        # this namespace keeps the kernel's default sysctls and the scenarios set no socket
        # option: the harness knows its configuration, so nothing is learned (oracle/monitor.py LEARNABLE)
        judge = CaptureJudge(profile, (iut, None), keep_events=True, given=tuple(LEARNABLE))
        for p in read_capture(path):
            results += list(judge.feed(p))
        results += list(judge.close())
        judges.append(judge)
    return judges, results


@pytest.mark.parametrize("name", sorted(AUDIT_SCENARIOS))
def test_linux_judges_the_audit_captures_conformant(runs, name):
    _, results = judged(runs[name][0], get_profile("linux"))
    assert len(results) == 1, results
    assert results[0].verdict.status == "conformant", str(results[0].verdict)


@pytest.mark.parametrize("name", sorted(DECIDED_BY))
def test_the_option_decides_on_the_real_capture(runs, name):
    linux = get_profile("linux")
    for prof in (replace(linux, options=linux.options - {DECIDED_BY[name]}), get_profile("rfc9293")):
        _, results = judged(runs[name][0], prof)
        assert [r.verdict.status for r in results] == ["violation"], (prof.label(), str(results[0].verdict))


@pytest.mark.parametrize("name", sorted(AUDIT_SCENARIOS))
def test_every_mutation_of_an_audit_capture_is_rejected(runs, name):
    prof = get_profile("linux")
    judges, _ = judged(runs[name][0], prof)
    rng = random.Random(name)
    tried = 0
    for conn in (c for j in judges for c in j.released):
        for events in conn.events.values():
            for kind in MUTATIONS:
                m = mutate(events, kind, rng)
                if m is None:
                    continue
                bad, k = m
                v = Monitor(prof).check(bad)
                assert v.status == "violation" and v.index == k + 1, f"{name} {kind}:\n{v}"
                tried += 1
    assert tried > 0


def test_what_the_user_saw(runs):
    """The user's side of the scenarios: CLOSE-WAIT reset by a RST at RCV.NXT - 1 fails the next
    write with EPIPE (tcp_reset()); a request that got a wrong ACK, or an inexact RST, still
    completes; data received before a reset stays readable, then ECONNRESET once, then EOF; an ACK
    of unsent data is answered in ESTABLISHED, at most once per 500 ms."""
    assert runs["rst_after_fin"][1] == "EPIPE"
    assert runs["request_bad_ack"][1] is True and runs["request_rst_challenged"][1] is True
    assert runs["reset_with_unread_data"][1] == [100, "ECONNRESET", 0]
    assert runs["ack_of_unsent_data"][1] == [(_ACK, 0, 0, 0), (_ACK, 0, 0, 0), 0]


_ACK = 0x10
