"""Fuzzing the readers and the CLI's exit codes with hypothesis (issue 20), bounded for CI:
SYNACK_FUZZ_EXAMPLES examples per target (default 25; raise it for a longer run by hand, or
use bench/fuzz_readers.py, which runs for minutes and prints the figures). Every input the
issue reported is kept as an explicit test in tests/cli/test_input.py, tests/cli/
test_interrupt.py and tests/oracle/test_capture.py."""
import json
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))
from corpus import KINDS, judge_outcome, mutate, read_outcome, seeds  # noqa: E402

from synack.oracle import native  # noqa: E402

N = int(os.environ.get("SYNACK_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=N, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255), st.sampled_from(KINDS)), max_size=6)


@FUZZ
@given(edits=EDITS)
def test_pcap_reader_yields_or_says_one_line(edits):
    read_outcome(mutate(seeds()["pcap"][0], edits, keep_header=4))


@FUZZ
@given(edits=EDITS)
def test_pcapng_reader_yields_or_says_one_line(edits):
    read_outcome(mutate(seeds()["pcapng"][0], edits, keep_header=4))


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_after_a_capture_magic(data):
    for magic in (b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a"):
        read_outcome(magic + data)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
                    max_leaves=12)
FIELD = st.sampled_from(["dir", "flags", "seq", "ack", "len", "win", "t", "call", "state", "synack_trace", "params",
                         "calls_logged", "profile", "iut", "ts", "mss", "wscale", "n", "result"])
EVENT = st.dictionaries(FIELD, JSON | st.sampled_from(["in", "out", "SYN", "ACK,FIN", "close", "LISTEN", 1]),
                        max_size=6)


@FUZZ
@given(lines=st.lists(EVENT | JSON, max_size=6), raw=st.lists(st.binary(max_size=12), max_size=2))
def test_jsonl_reader_yields_or_says_one_line(lines, raw):
    data = b"".join(json.dumps(x).encode() + b"\n" for x in lines) + b"\n".join(raw)
    read_outcome(data)


@FUZZ
@given(edits=EDITS, which=st.integers(0, 10))
def test_jsonl_mutations(edits, which):
    traces = seeds()["jsonl"]
    read_outcome(mutate(traces[which % len(traces)], edits))


@pytest.mark.skipif(native.library() is None, reason="no C compiler for the native judge")
@FUZZ
@given(edits=EDITS)
def test_both_engines_agree_on_every_fuzzed_pcap(edits):
    data = mutate(seeds()["pcap"][0], edits, keep_header=4)
    assert judge_outcome(data, "python") == judge_outcome(data, "auto")


@settings(max_examples=max(5, N // 5), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(edits=EDITS, fmt=st.sampled_from(["pcap", "pcapng", "jsonl"]), jobs=st.sampled_from(["1", "2"]))
def test_the_cli_exit_code_is_a_verdict_or_one_line(tmp_path_factory, edits, fmt, jobs):
    """Exit 0, 1 or 3 with verdicts on stdout, or 2 with one line on stderr; never a traceback."""
    from click.testing import CliRunner

    from synack.cli import main
    data = mutate(seeds()[fmt][0], edits, keep_header=4 if fmt != "jsonl" else 0)
    p = tmp_path_factory.mktemp("cli") / f"x.{fmt}"
    p.write_bytes(data)
    r = CliRunner().invoke(main, ["oracle", str(p), "--jobs", jobs] if fmt != "jsonl" else ["oracle", str(p)])
    assert r.exit_code in (0, 1, 2, 3), (r.exit_code, r.output, r.exception)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    if r.exit_code == 2:
        assert r.stderr.startswith("synack: error: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.output
