"""Captures of tuned Linux hosts (tests/data/tuned/, made by tests/live/test_tuned_linux.py on
this machine's kernel; README.md there lists each tuning), judged without root: every end under
`linux` with no parameter given, as `synack oracle CAP -p linux` does, and a mutant of each
end's own segments rejected where it was made."""
import json
import os
import random
import sys

import pytest

from synack.oracle import Monitor
from synack.oracle.capture import CaptureStats, read_capture
from synack.oracle.generate import missed_mutations
from synack.oracle.judge import CaptureJudge, judge_capture
from synack.oracle.monitor import LEARNABLE
from synack.spec import get_profile

HERE = os.path.dirname(__file__)
DATA = os.path.join(HERE, "..", "data", "tuned")
sys.path.insert(0, os.path.join(HERE, "..", "live"))
#: The scripted peer's address: only the IUT is judged in those captures (the peer is a script).
AUD_IUT = "10.79.0.1"
SCRIPTED = {"rfc1337", "invalid_ratelimit_0", "challenge_ack_limit_1"}
#: Known failures and their causes: the live module's list (tests/live/test_tuned_linux.py KNOWN).
KNOWN = {
    "synack_retries_1": "a far end with no reply in the capture is judged near",
    "orphan_retries_1": "the server's capture: the client is never shown far: its quickest segment after "
                        "one of the server's (46 us here) is under looks_far's 80 us, so the ACKs lost "
                        "after the capture point are judged its violation",
}
FLAKY = {"orphan_retries_1"}      # whether it fails depends on the capture's timing


#: Captures of a known-failing case that pass (the other host's capture of it).
PASSING = {"synack_retries_1-client.pcap", "orphan_retries_1-client.pcap"}


def _case(fname: str) -> str:
    base = fname[:-5]
    for side in ("-client", "-server"):
        if base.endswith(side):
            return base[: -len(side)]
    return base


CAPS = sorted(f for f in os.listdir(DATA) if f.endswith(".pcap"))


def _mark(f):
    c = _case(f)
    if c in KNOWN:
        return pytest.param(f, marks=pytest.mark.xfail(reason=KNOWN[c], strict=f not in PASSING))
    return f


def test_the_stored_captures_are_there():
    assert len(CAPS) >= 25 and os.path.exists(os.path.join(DATA, "README.md"))


@pytest.mark.parametrize("fname", [_mark(f) for f in CAPS])
def test_a_stored_tuned_capture_is_judged_conformant_untold(fname):
    out = []
    iut = AUD_IUT if _case(fname) in SCRIPTED else None
    judge_capture(os.path.join(DATA, fname), "linux", (), iut, None, False, True, 4096, out.append)
    lines = [json.loads(x) for x in out[:-1]]
    assert lines and all(x["status"] in ("conformant", "silent") for x in lines), json.dumps(lines, indent=1)


@pytest.mark.parametrize("fname", CAPS)
def test_a_mutant_of_a_stored_tuned_capture_is_a_violation(fname):
    prof = get_profile("linux")
    rng = random.Random(fname)
    iut = AUD_IUT if _case(fname) in SCRIPTED else None
    judge = CaptureJudge(prof, (iut, None) if iut else None, keep_events=True, given=())
    stats = CaptureStats()
    for p in read_capture(os.path.join(DATA, fname), stats):
        list(judge.feed(p))
    list(judge.close(stats.last_t))
    tried = 0
    for conn in judge.released:
        for end, events in conn.events.items():
            if not any(e.dir == "out" for e in events):
                continue
            start = "closed" if events[0].seg.flags & 0x02 else "any"
            if Monitor(prof, start=start, learn=LEARNABLE).check(events).status == "violation":
                continue
            n, missed = missed_mutations(events, prof, rng, start=start, learn=LEARNABLE)
            assert not missed, f"{fname}: " + "\n".join(missed)
            tried += n
    assert tried > 0 or _case(fname) in KNOWN or _case(fname) in FLAKY
