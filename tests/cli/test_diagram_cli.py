"""`synack diagram`, `synack why`, `synack explain`: files written with the real dot binary,
exit codes, one-line errors, and the missing-Graphviz path."""
import os
import subprocess
import sys

from click.testing import CliRunner

from synack.cli import main

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def run(*args, cwd=None):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_state_diagram_svg(tmp_path):
    out = tmp_path / "s.svg"
    r = run("diagram", "state", "--format", "svg", "-o", str(out))
    assert r.exit_code == 0, r.output
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "ESTABLISHED" in svg and "rcv ACK of FIN" in svg


def test_state_diagram_default_name_and_variant(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("diagram", "state", "-v", "two-way-handshake", "-f", "dot", "--no-rst")
    assert r.exit_code == 0 and (tmp_path / "tcp-states-rfc9293+two-way-handshake.dot").exists()
    assert "differences from rfc9293" in (tmp_path / "tcp-states-rfc9293+two-way-handshake.dot").read_text()


def test_scenario_chart_and_bad_inputs(tmp_path):
    out = tmp_path / "c.png"
    assert run("diagram", "scenario", "half-close", "-f", "png", "-o", str(out)).exit_code == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    r = CliRunner().invoke(main, ["diagram", "scenario", "nope"])
    assert r.exit_code == 2 and "unknown scenario 'nope'" in r.output
    r = CliRunner().invoke(main, ["diagram", "scenario", "handshake", "--via", "lose:X"])
    assert r.exit_code == 2 and "bad milestone 'lose:X'" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["diagram", "state", "-p", "bsd"])
    assert r.exit_code == 2 and "unknown profile 'bsd'" in r.output


def test_check_diagram_out_and_diagram_trace(tmp_path):
    cex, chart = tmp_path / "cex.json", tmp_path / "cex.svg"
    r = CliRunner().invoke(main, ["check", "-v", "no-time-wait", "-s", "client-close", "-C", "1", "-q",
                                  "--trace-out", str(cex), "--diagram-out", str(chart)])
    assert r.exit_code == 1 and chart.exists() and "graceful&#45;close fails" in chart.read_text()
    out = tmp_path / "again.dot"
    assert run("diagram", "trace", str(cex), "-f", "dot", "-o", str(out)).exit_code == 0
    assert out.read_text().count("RST seq") == 1
    r = CliRunner().invoke(main, ["diagram", "trace", str(cex), "--index", "9"])
    assert r.exit_code == 2 and "out of range 1..1" in r.output


def test_observed_trace_chart(tmp_path):
    trace = os.path.join(ROOT, "examples", "traces", "violation-rfc9293-linux-abort.jsonl")
    out = tmp_path / "obs.dot"
    r = run("diagram", "trace", trace, "-f", "dot", "-o", str(out))
    assert r.exit_code == 0, r.output
    src = out.read_text()
    assert "oracle verdict" in src and "ESTABLISHED" in src


def test_missing_dot_writes_the_dot_file_and_exits_1(tmp_path):
    out = tmp_path / "s.svg"
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))
    p = subprocess.run([sys.executable, "-m", "synack.cli", "diagram", "state", "-o", str(out)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1
    assert (tmp_path / "s.dot").exists() and not out.exists()
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "apt-get install graphviz" in lines[0]


def test_why_list_and_time_wait(tmp_path):
    r = run("why", "--list")
    assert r.exit_code == 0 and "time-wait-assassination" in r.output
    r = run("why", "time-wait", "-o", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "rfc9293+no-time-wait, scenario client-close: graceful-close FAILS" in r.output
    assert "rfc9293, scenario client-close: every property holds" in r.output
    assert (tmp_path / "why-time-wait-no-time-wait.svg").exists()
    r = CliRunner().invoke(main, ["why", "nope"])
    assert r.exit_code == 2 and "unknown question 'nope'" in r.output


def test_why_four_way_close_counts_segments(tmp_path):
    r = run("why", "four-way-close", "-o", str(tmp_path), "-f", "dot")
    assert r.exit_code == 0
    assert "Three-segment close" in r.output and (tmp_path / "why-four-way-close-half-close.dot").exists()


def test_explain_english_and_chinese():
    en = run("explain", "three-way-handshake").output
    assert "B sends SYN,ACK seq=y ack=x+1" in en and "RCV.NXT = SEG.SEQ + SEG.LEN = x + 1" in en
    assert "row listen.syn (RFC 9293 3.10.7.2)" in en
    zh = run("explain", "four-way-close", "--lang", "zh").output
    assert "B 进入 CLOSE-WAIT 状态" in zh and "表行 fin.est（RFC 9293 3.10.7.4）" in zh
