"""The pytest plugin as another project uses it: the fixture, the marker, the option."""
pytest_plugins = ["pytester"]

SUITE = '''
import pytest

HS = [{"dir": "out", "flags": "SYN", "seq": 1}, {"dir": "in", "flags": "SYN,ACK", "seq": 9, "ack": 2},
      {"dir": "out", "flags": "ACK", "seq": 2, "ack": 10}]

def test_ok(tcp_oracle):
    assert tcp_oracle.assert_conformant(HS).ok

def test_bad(tcp_oracle):
    tcp_oracle.assert_conformant(HS[:2] + [{"dir": "out", "flags": "ACK", "seq": 2, "ack": 11}])

@pytest.mark.synack_profile("linux")
def test_marker(tcp_oracle):
    assert tcp_oracle.profile == "linux"

def test_option(tcp_oracle, request):
    assert tcp_oracle.profile == request.config.getoption("--synack-profile")
'''


def test_fixture_marker_and_failure_report(pytester):
    pytester.makepyfile(SUITE)
    res = pytester.runpytest("--synack-profile", "rfc9293")
    res.assert_outcomes(passed=3, failed=1)
    res.stdout.fnmatch_lines(["*VIOLATION under rfc9293*", "*at event 3: IUT sends <ACK seq=2 ack=11>*"])


def test_bad_profile_option_is_a_usage_error(pytester):
    pytester.makepyfile(SUITE)
    res = pytester.runpytest("--synack-profile", "bsd")
    assert res.ret != 0
    res.stdout.fnmatch_lines(["*unknown profile 'bsd'*"])


# ---------------------------------------------------------------- what the oracle accepts

import json
from pathlib import Path

import pytest
from hypothesis import given, settings

from synack.oracle import read_jsonl
from synack.oracle.plugin import TcpOracle, assert_conformant, assert_violation, oracle
from synack.oracle.source import CaptureVerdict, Trace
from synack.oracle.strategies import settled_traces, traces
from synack.spec.model import SpecError

ROOT = Path(__file__).resolve().parents[2]
TRACES = ROOT / "examples" / "traces"
CAPTURES = ROOT / "examples" / "captures"
HS = [{"dir": "out", "flags": "SYN", "seq": 1}, {"dir": "in", "flags": "SYN,ACK", "seq": 9, "ack": 2},
      {"dir": "out", "flags": "ACK", "seq": 2, "ack": 10}]


@pytest.mark.parametrize("shape", [str, Path, read_jsonl, lambda p: Trace(*reversed(read_jsonl(p)))])
def test_a_trace_in_any_shape_with_its_header(shape):
    path = TRACES / "linux-half-close-server.jsonl"
    v = oracle().assert_conformant(shape(str(path)) if shape is read_jsonl else shape(path))
    assert v.profile == "linux" and v.role == "127.0.0.1:5000"      # from the header


def test_the_header_profile_gives_way_to_a_named_one():
    path = TRACES / "violation-rfc9293-linux-abort.jsonl"
    assert oracle().check(path).status == "violation"                 # header: rfc9293
    assert oracle("linux").assert_conformant(path).profile == "linux"
    with pytest.raises(AssertionError, match="VIOLATION under rfc9293"):
        assert_conformant(str(path))
    assert assert_violation(path).index is not None


def test_header_lines_in_a_list_of_dicts_and_its_params_and_calls_logged():
    syn = [{"dir": "out", "flags": "SYN", "seq": 1}]
    assert oracle().check(syn).status != "violation"
    # calls_logged: a SYN with no logged connect call has no explanation
    assert oracle().check([{"synack_trace": 1, "calls_logged": True}] + syn).status == "violation"
    assert oracle().check(Trace(syn, {"calls_logged": True})).status == "violation"
    with pytest.raises(SpecError, match="unknown profile parameter 'no_such'"):
        oracle().check(Trace(syn, {"params": {"no_such": 1}}))
    with pytest.raises(SpecError, match="unknown profile parameter 'no_such'"):
        oracle().check(syn, params={"no_such": 1})


def test_a_capture_judges_every_end():
    v = oracle().assert_conformant(CAPTURES / "client-close.pcap")
    assert isinstance(v, CaptureVerdict) and v.profile == "linux" and len(v.ends) == 2
    bad = oracle("rfc9293").assert_violation(str(CAPTURES / "linger-zero-abort.pcap"))
    assert [e.verdict.status for e in bad.ends].count("violation") == 1
    assert "VIOLATION under rfc9293" in str(bad) and "at event 6: IUT sends <RST,ACK" in str(bad)
    one = oracle().check(CAPTURES / "client-close.pcap", iut="127.0.0.1:5000")
    assert [e.iut for e in one.ends] == ["127.0.0.1:5000"]
    with pytest.raises(SpecError, match="no TCP connection with an endpoint matching"):
        oracle().check(CAPTURES / "client-close.pcap", iut="10.9.9.9")


def test_bad_paths_are_one_line_errors(tmp_path):
    with pytest.raises(SpecError, match="cannot read"):
        oracle().check(tmp_path / "missing.jsonl")
    (tmp_path / "x.jsonl").write_text('{"dir": "out"}\n')
    with pytest.raises(SpecError, match="x.jsonl:1"):
        oracle().check(tmp_path / "x.jsonl")


@settings(max_examples=25, deadline=None)
@given(traces(settled=True))
def test_settled_traces_pass_assert_conformant_without_the_fixture(trace):
    assert trace.header["profile"] == "rfc9293" and trace.header["params"]["SYN.RETRIES"] == 2
    oracle().assert_conformant(trace)


@settings(max_examples=25, deadline=None)
@given(settled_traces("linux", scenario="client-close"))
def test_settled_traces_by_name(trace):
    assert_conformant(trace)


@settings(max_examples=40, deadline=None)
@given(traces())
def test_unsettled_traces_are_never_violations_and_stay_lists(trace):
    assert isinstance(trace, list)
    assert TcpOracle().check(trace).status in ("conformant", "inconclusive")
    assert TcpOracle().check(list(trace), params=trace.header["params"]).status != "violation"


def test_settled_does_not_apply_to_mutants():
    with pytest.raises(SpecError, match="settled"):
        traces(conformant=False, settled=True)


GIVEN_SUITE = '''
import pytest
from hypothesis import HealthCheck, given, settings
from synack.oracle.plugin import oracle
from synack.oracle.strategies import traces

@settings(max_examples=10, deadline=None)
@given(traces(settled=True))
def test_with_the_function(trace):
    oracle().assert_conformant(trace)

@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(traces(settled=True))
def test_with_the_fixture(tcp_oracle, trace):
    tcp_oracle.assert_conformant(trace)

def test_paths(tcp_oracle):
    tcp_oracle.assert_conformant(%r)
    tcp_oracle.assert_conformant(%r)
''' % (str(TRACES / "linux-client-close-client.jsonl"), str(CAPTURES / "half-close.pcap"))


def test_under_given_and_with_paths_in_a_foreign_suite(pytester):
    pytester.makepyfile(GIVEN_SUITE)
    res = pytester.runpytest("-p", "no:cacheprovider")
    res.assert_outcomes(passed=3)
