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
