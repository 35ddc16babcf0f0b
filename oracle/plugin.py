"""The pytest plugin (entry point ``pytest11``: ``synack``), registered when synack is installed.

    def test_my_stack(tcp_oracle):
        tcp_oracle.assert_conformant("recorded.jsonl")   # or a pcap, events, dicts, a Trace

    @pytest.mark.synack_profile("linux")
    def test_against_linux_rules(tcp_oracle): ...

    @given(traces(settled=True))                         # under hypothesis: no fixture needed
    def test_generated(trace):
        oracle().assert_conformant(trace)

A trace is judged against, in order: the `synack_profile` marker, ``--synack-profile``, the
trace header's profile, else rfc9293 (a capture: linux, as ``synack oracle`` does). The
header's params and calls_logged are honoured. The fixture holds nothing but the profile
name, so sharing it between hypothesis examples is safe; `oracle(profile)` gives the same
object without a fixture (what hypothesis's health check prefers).
"""
from __future__ import annotations

import pytest

from synack.spec.model import SpecError
from synack.spec.profiles import get_profile

from .monitor import Monitor, Verdict
from .source import CaptureVerdict, TraceLike, judge


class TcpOracle:
    """Judges traces against one profile (None: each trace header's, else rfc9293). Every
    method takes events, JSON Lines dicts, a path to a JSON Lines trace or a pcap/pcapng
    capture, `read_jsonl`'s (header, events), or a `Trace`; keywords go to `Monitor`
    (start, max_candidates, calls_logged), plus `params` (profile parameters) and, for
    captures, `iut` (HOST[:PORT])."""

    def __init__(self, profile: "str | None" = None):
        self.profile = profile
        if profile is not None:
            get_profile(profile)            # a bad profile name fails here, with the names allowed

    def monitor(self, **kw) -> Monitor:
        """A monitor to feed event by event (`feed`, then `verdict()`)."""
        return Monitor(self.profile or "rfc9293", **kw)

    def check(self, trace: TraceLike, **kw) -> "Verdict | CaptureVerdict":
        """The verdict (for a capture: every judged end's), whatever it is."""
        return judge(trace, self.profile, **kw)

    def assert_conformant(self, trace: TraceLike, **kw) -> "Verdict | CaptureVerdict":
        """Fail the test with the verdict's report unless conformant (inconclusive fails too:
        the trace ends while the spec still owes a transmission)."""
        v = self.check(trace, **kw)
        if not v.ok:
            _fail(str(v))
        return v

    def assert_violation(self, trace: TraceLike, **kw) -> "Verdict | CaptureVerdict":
        """Fail the test unless the oracle finds a violation."""
        v = self.check(trace, **kw)
        if v.status != "violation":
            _fail(f"expected a violation, got:\n{v}")
        return v


def _fail(report: str) -> None:
    """pytest's failure (no traceback of ours) inside a test run, AssertionError outside one."""
    if _IN_PYTEST:
        pytest.fail(report, pytrace=False)
    raise AssertionError(report)


def oracle(profile: "str | None" = None) -> TcpOracle:
    """A `TcpOracle` without the fixture: in hypothesis tests, scripts, other frameworks."""
    return TcpOracle(profile)


def assert_conformant(trace: TraceLike, profile: "str | None" = None, **kw) -> "Verdict | CaptureVerdict":
    """Outside the fixture: raise AssertionError with the verdict's report unless conformant."""
    v = judge(trace, profile, **kw)
    if not v.ok:
        raise AssertionError(str(v))
    return v


def assert_violation(trace: TraceLike, profile: "str | None" = None, **kw) -> "Verdict | CaptureVerdict":
    """Outside the fixture: raise AssertionError unless the oracle finds a violation."""
    v = judge(trace, profile, **kw)
    if v.status != "violation":
        raise AssertionError(f"expected a violation, got:\n{v}")
    return v


_IN_PYTEST = False


def pytest_addoption(parser) -> None:
    group = parser.getgroup("synack", "TCP conformance oracle (synack)")
    group.addoption("--synack-profile", default=None,
                    help="profile the tcp_oracle fixture judges against (rfc9293, linux, or base+variant; "
                         "default: each trace header's profile, else rfc9293)")


def pytest_configure(config) -> None:
    global _IN_PYTEST
    _IN_PYTEST = True
    config.addinivalue_line("markers", "synack_profile(name): the profile the tcp_oracle fixture judges against")


@pytest.fixture
def tcp_oracle(request) -> TcpOracle:
    """The oracle for this test: the `synack_profile` marker's profile, else --synack-profile's,
    else each trace header's (rfc9293 when it names none)."""
    marker = request.node.get_closest_marker("synack_profile")
    profile = marker.args[0] if marker and marker.args else request.config.getoption("--synack-profile")
    try:
        return TcpOracle(profile)
    except SpecError as exc:
        raise pytest.UsageError(f"synack: {exc}") from None
