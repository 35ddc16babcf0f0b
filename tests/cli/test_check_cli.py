"""`synack check`: exit codes 0/1/2/3, text and JSON counterexamples, --trace-out."""
import json

import pytest
from click.testing import CliRunner

from synack.cli import main

FAST = ["-C", "1", "-q"]


def check(*args):
    return CliRunner().invoke(main, ["check", *args])


def test_check_exits_0_when_every_property_holds():
    r = check("-s", "handshake", "-s", "client-close", *FAST)
    assert r.exit_code == 0, r.output
    assert "handshake: HOLDS" in r.output and "client-close: HOLDS" in r.output and "states/s" in r.output


def test_check_exits_1_with_a_readable_counterexample_for_a_teaching_variant():
    r = check("-v", "no-time-wait", "-s", "client-close", *FAST)
    assert r.exit_code == 1
    assert "property graceful-close FAILS" in r.output
    assert "rows:" in r.output and "[RFC 9293" in r.output and "deliver" in r.output


def test_check_json_and_trace_out(tmp_path):
    out = tmp_path / "cex.json"
    r = check("-v", "two-way-handshake", "-s", "handshake", "--json", "--trace-out", str(out), *FAST)
    assert r.exit_code == 1
    d = json.loads(r.output)
    assert d["profile"] == "rfc9293+two-way-handshake" and d["results"][0]["status"] == "fails"
    cex = json.loads(out.read_text())
    assert cex == d["counterexamples"]
    step = cex[0]["steps"][-1]
    assert {"actor", "move", "A", "B", "rows"} <= step.keys()
    assert all("rfc" in r for r in step["rows"])


@pytest.mark.parametrize("args,word", [
    (["-s", "nosuch"], "unknown scenario 'nosuch'"),
    (["--property", "liveness"], "unknown property 'liveness'"),
    (["-p", "bsd"], "unknown profile 'bsd'"),
    (["-v", "three-way"], "unknown variant 'three-way'"),
    (["-s", "handshake", "-C", "0"], "capacity must be an integer in 1..8, got 0"),
    (["-s", "handshake", "--retries", "99"], "retries must be an integer in 0..15, got 99"),
    (["--max-states", "-1"], "--max-states must not be negative"),
])
def test_check_bad_input_is_one_line_and_exit_2(args, word):
    r = check(*args)
    assert r.exit_code == 2
    assert word in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_check_limit_says_incomplete_and_exits_3():
    r = check("-s", "data", "-C", "2", "--max-states", "3000", "-q")
    assert r.exit_code == 3
    assert "INCOMPLETE" in r.output and "--max-states 3000 reached" in r.output


def test_check_engines_agree_and_native_without_a_compiler_is_one_line_and_exit_2(monkeypatch):
    from synack.checker import native

    runs = {e: json.loads(check("-s", "client-close", "--engine", e, "--json", *FAST).output)["results"][0]
            for e in ("python", "native")}
    if native.library() is not None:
        assert runs["native"]["engine"] == "native"
    assert runs["python"]["engine"] == "python"
    assert [runs[e]["states"] for e in runs] == [runs["python"]["states"]] * 2
    monkeypatch.setattr(native, "_lib", None)
    r = check("-s", "handshake", "--engine", "native", *FAST)
    assert r.exit_code == 2 and "no C compiler" in r.stderr and r.stderr.count("\n") == 1
    r = check("-s", "handshake", *FAST)
    assert r.exit_code == 0 and "python" in r.output
