"""The real kernel, judged: each scenario runs on this machine's Linux stack in a network
namespace of its own, captured by AF_PACKET; the `linux` profile must judge both ends of
every connection conformant, and every single mutation of an end's trace a violation."""
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from netns import can_unshare, run_in_netns  # noqa: E402
from scenarios import SCENARIOS, SYSCTLS  # noqa: E402

from synack.oracle import Monitor  # noqa: E402
from synack.oracle.capture import read_capture  # noqa: E402
from synack.oracle.generate import MUTATIONS, mutate  # noqa: E402
from synack.oracle.judge import CaptureJudge  # noqa: E402
from synack.spec import get_profile  # noqa: E402

pytestmark = pytest.mark.skipif(bool(can_unshare()), reason=can_unshare() or "-")

#: The profile as this namespace configures the kernel (sysctls the scenario set).
PARAMS = {"syn_to_silent_address": {"SYN.RETRIES": 1}}
#: Ends that are a real endpoint (the silent address is nobody).
IUT = {"syn_to_silent_address": ("10.250.0.1", None)}


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    d = tmp_path_factory.mktemp("live")
    out = {}
    for name, fn in SCENARIOS.items():
        path = str(d / f"{name}.pcap")
        run_in_netns(fn, path, sysctls=SYSCTLS.get(name), timeout=60)
        out[name] = path
    return out


def judged(name, path, profile="linux"):
    prof = get_profile(profile).with_params(**PARAMS.get(name, {}))
    judge = CaptureJudge(prof, IUT.get(name), keep_events=True)
    results = []
    for p in read_capture(path):
        results += list(judge.feed(p))
    results += list(judge.close())
    return judge, results


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_linux_profile_judges_live_capture_conformant(captures, name):
    judge, results = judged(name, captures[name])
    assert results, f"{name}: no TCP connection captured"
    for r in results:
        assert r.verdict.status == "conformant", f"{name} {r.conn} IUT {r.iut}:\n{r.verdict}"
    if name == "many_connections":
        assert len(results) == 40


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_mutation_of_a_live_capture_is_rejected(captures, name):
    judge, _ = judged(name, captures[name])
    prof = get_profile("linux").with_params(**PARAMS.get(name, {}))
    rng = random.Random(name)
    tried = 0
    for conn in judge.released:
        for end, events in conn.events.items():
            start = "closed" if events[0].seg.flags & 0x02 else "any"
            for kind in MUTATIONS:
                m = mutate(events, kind, rng)
                if m is None:
                    continue
                bad, i = m
                v = Monitor(prof, start=start).check(bad)
                assert v.status == "violation" and v.index == i + 1, f"{name} {kind}:\n{v}"
                tried += 1
    assert tried > 0


def test_rfc9293_is_stricter_than_linux_on_abort(captures):
    """Linux's abortive RST carries an ACK (tcp_send_active_reset); RFC 9293 3.10.5 sends
    <SEQ=SND.NXT><CTL=RST>: the strict profile rejects what the linux profile accepts."""
    _, results = judged("linger_zero_abort", captures["linger_zero_abort"], "rfc9293")
    bad = [r for r in results if r.verdict.status == "violation"]
    assert bad and "RST,ACK" in bad[0].verdict.event
