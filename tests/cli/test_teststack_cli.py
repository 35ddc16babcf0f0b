"""`synack test-stack`: drives a stack folder (stack.json) or a shim, writes the Markdown and
JSON report, exits 0 without deviations, 1 with, 2 on bad input (one line, no traceback)."""
import json
import os
import sys

from click.testing import CliRunner

from synack.cli import main

TOY = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "toytcp")
FAKE = os.path.join(os.path.dirname(__file__), "..", "testing", "fakeshim.py")


def run(*args, env=None):
    return CliRunner().invoke(main, ["test-stack", "--scenario", "client-close", "--max-states", "3000", *args],
                              env=env)


def test_conformant_rows_exit_0_and_write_reports(tmp_path):
    md, js = tmp_path / "r.md", tmp_path / "r.json"
    r = run("--stack", TOY, "--row", "fin.est", "--row", "est.close.plain", "-q", "--report", str(md),
            "--json", str(js))
    assert r.exit_code == 0, r.output
    assert "2 rows, 2 reached, 2 conformant" in r.output
    data = json.loads(js.read_text())["stacks"][0]
    assert data["name"] == "toytcp" and data["counts"]["conformant"] == 2
    text = md.read_text()
    assert "| `fin.est` |" in text and "| toytcp (ToyTCP) | rfc9293 | virtual |" in text


def test_planted_bug_exits_1_with_the_oracles_report(tmp_path):
    md = tmp_path / "r.md"
    r = run("--stack", TOY, "--row", "fin.est", "-q", "--report", str(md), env={"TOYTCP_BUG": "fin-ack"})
    assert r.exit_code == 1, r.output
    text = md.read_text()
    assert "**DEV**" in text and "VIOLATION under rfc9293" in text and "fin.est [RFC 9293 3.10.7.4]" in text
    assert "Cause: not yet read in the stack's source." in text


def test_merge_adds_saved_results(tmp_path):
    js, md = tmp_path / "a.json", tmp_path / "m.md"
    assert run("--stack", TOY, "--row", "fin.est", "-q", "--json", str(js)).exit_code == 0
    r = run("--merge", str(js), "--report", str(md))
    assert r.exit_code == 0 and "| `fin.est` | RFC 9293 3.10.7.4 | ok |" in md.read_text()


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    for args, text in ((["--stack", "no-such-stack"], "no stack 'no-such-stack'"),
                       ([], "name a stack"),
                       (["--stack", TOY, "--row", "no.such.row"], "has no row 'no.such.row'"),
                       (["--shim", "/nonexistent/my-shim"], "stack my-shim: shim my-shim: cannot start"),
                       (["--merge", str(tmp_path / "missing.json")], "cannot read saved results")):
        r = run(*args)
        assert r.exit_code == 2, (args, r.output)
        assert text in r.output and "Traceback" not in r.output, r.output


def test_unsupported_ops_of_a_shim_are_not_drivable():
    # the fake shim answers init/listen/deliver/collect/advance but not connect: every row it
    # cannot reach is reported as not drivable, with the reason. (It echoes the SYN it is given
    # instead of answering with a SYN,ACK: as a near end past the reply's deadline, it deviates.)
    r = run("--shim", f"{sys.executable} {FAKE}", "--row", "closed.connect", "--row", "listen.syn")
    assert r.exit_code == 1, r.output
    assert "1 deviating, 0 inconclusive, 0 not reached, 1 not drivable" in r.output
    assert "the driver lacks 'connect'" in r.output


def test_a_crashing_shim_is_its_rows_result_and_the_run_goes_on(tmp_path):
    """The fake shim serves ToyTCP and dies on the second row's run: that row is reported as a
    crash (the shim's stderr and the events before it), the kit restarts the shim, the third
    row runs, and the report is written."""
    md = tmp_path / "r.md"
    r = run("--shim", f"{sys.executable} {FAKE} toy-die 2", "--row", "closed.connect", "--row", "synsent.synack",
            "--row", "est.close.plain", "-q", "--report", str(md))
    assert r.exit_code == 1, r.output
    assert "3 rows, 3 reached, 2 conformant, 1 deviating" in r.output
    text = md.read_text()
    assert "| `synsent.synack` | RFC 9293 3.10.7.3 | **CRASH** |" in text
    assert "segfault in tcp_input() on connection 2" in text and "could not be started" not in text
