"""The pytest plugin (entry point ``pytest11``: ``synack``).

    def test_my_stack(tcp_oracle):
        trace = run_my_stack_and_record()          # events or JSON Lines dicts
        tcp_oracle.assert_conformant(trace)        # fails with the verdict's report

    @pytest.mark.synack_profile("linux")
    def test_against_linux_rules(tcp_oracle): ...

The profile comes from the marker, else from ``--synack-profile`` (default rfc9293).
"""
from __future__ import annotations

from typing import Iterable

import pytest

from synack.spec.model import SpecError

from .monitor import Monitor, Verdict


class TcpOracle:
    """What the `tcp_oracle` fixture gives a test: the monitor for one profile."""

    def __init__(self, profile: str = "rfc9293"):
        self.profile = profile
        Monitor(profile)                # a bad profile name fails here, with the names allowed

    def monitor(self, **kw) -> Monitor:
        return Monitor(self.profile, **kw)

    def check(self, trace: Iterable, **kw) -> Verdict:
        return Monitor(self.profile, **kw).check(trace)

    def assert_conformant(self, trace: Iterable, **kw) -> Verdict:
        v = self.check(trace, **kw)
        if not v.ok:
            pytest.fail(str(v), pytrace=False)
        return v

    def assert_violation(self, trace: Iterable, **kw) -> Verdict:
        v = self.check(trace, **kw)
        if v.status != "violation":
            pytest.fail(f"expected a violation, got:\n{v}", pytrace=False)
        return v


def assert_conformant(trace: Iterable, profile: str = "rfc9293", **kw) -> Verdict:
    """Outside the fixture: raise AssertionError with the verdict's report unless conformant."""
    v = Monitor(profile, **kw).check(trace)
    if not v.ok:
        raise AssertionError(str(v))
    return v


def pytest_addoption(parser) -> None:
    group = parser.getgroup("synack", "TCP conformance oracle (synack)")
    group.addoption("--synack-profile", default="rfc9293",
                    help="profile the tcp_oracle fixture judges against (rfc9293, linux, or base+variant)")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "synack_profile(name): the profile the tcp_oracle fixture judges against")


@pytest.fixture
def tcp_oracle(request) -> TcpOracle:
    marker = request.node.get_closest_marker("synack_profile")
    profile = marker.args[0] if marker and marker.args else request.config.getoption("--synack-profile")
    try:
        return TcpOracle(profile)
    except SpecError as exc:
        raise pytest.UsageError(f"synack: {exc}") from None
