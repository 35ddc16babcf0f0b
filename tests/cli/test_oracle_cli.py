"""`synack oracle` and `synack trace`: verdicts, exit codes, one-line errors."""
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from test_capture import write  # noqa: E402

EX = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "traces")


def run(*args):
    p = subprocess.run([sys.executable, "-m", "synack.cli", *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def jl(path, events, header=None):
    with open(path, "w") as fh:
        if header:
            fh.write(json.dumps(header) + "\n")
        for e in events:
            fh.write(json.dumps(e) + "\n")
    return str(path)


HS = [{"dir": "out", "flags": "SYN", "seq": 1}, {"dir": "in", "flags": "SYN,ACK", "seq": 9, "ack": 2},
      {"dir": "out", "flags": "ACK", "seq": 2, "ack": 10}]


def test_jsonl_verdicts_and_exit_codes(tmp_path):
    assert run("oracle", jl(tmp_path / "ok.jsonl", HS))[0] == 0
    code, out, _ = run("oracle", jl(tmp_path / "bad.jsonl", HS[:2] + [{"dir": "out", "flags": "ACK", "seq": 2,
                                                                       "ack": 11}]), "--json")
    assert code == 1 and json.loads(out)["index"] == 3
    assert run("oracle", jl(tmp_path / "inc.jsonl", HS[:1]))[0] == 3


@pytest.mark.parametrize("content,msg", [
    ('{"dir": "out", "flags": "SYN"}\n', "x.jsonl:1: missing required field 'seq'"),
    ("{nope\n", "x.jsonl:1: not valid JSON"),
])
def test_bad_trace_is_one_line_exit_2(tmp_path, content, msg):
    p = tmp_path / "x.jsonl"
    p.write_text(content)
    code, out, err = run("oracle", str(p))
    assert code == 2 and msg in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unknown_profile_and_missing_file(tmp_path):
    code, _, err = run("oracle", jl(tmp_path / "ok.jsonl", HS), "--profile", "bsd")
    assert code == 2 and "unknown profile 'bsd'" in err
    code, _, err = run("oracle", str(tmp_path / "nope.jsonl"))
    assert code == 2 and "cannot read" in err


def test_capture_judged_per_connection_and_converted(tmp_path):
    cap = tmp_path / "c.pcap"
    write(cap)
    code, out, _ = run("oracle", str(cap), "--profile", "rfc9293")
    assert code == 0 and out.count("CONFORMANT") == 2 and "summary: 1 connections, 8 TCP segments" in out
    code, out, _ = run("oracle", str(cap), "--iut", "10.0.0.1:40000", "--json")
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and lines[0]["iut"] == "10.0.0.1:40000" and lines[-1]["summary"]["judged"] == 1
    code, out, _ = run("trace", str(cap), "--to-jsonl", "--iut", "10.0.0.2:80")
    assert code == 0 and json.loads(out.splitlines()[0])["iut"] == "10.0.0.2:80"
    conv = tmp_path / "s.jsonl"
    conv.write_text(out)
    assert run("oracle", str(conv), "--profile", "rfc9293")[0] == 0
    code, _, err = run("oracle", str(cap), "--iut", "not-an-address")
    assert code == 2 and "is not an IP address" in err
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(cap.read_bytes()[:-5])
    code, _, err = run("oracle", str(cut))
    assert code == 2 and "truncated pcap" in err and "Traceback" not in err


def test_examples_are_judged():
    names = sorted(f for f in os.listdir(EX) if f.endswith(".jsonl"))
    assert names
    for f in names:
        code, out, err = run("oracle", os.path.join(EX, f))
        want = 1 if f.startswith("violation-") else 0
        assert code == want, f"{f}: {out}{err}"


def test_calls_logged_rules_out_unlogged_calls(tmp_path):
    """A SYN from a listener: an unlogged connect explains it, unless the trace logs every call."""
    ev = [{"call": "listen", "result": "ok"}, {"dir": "out", "flags": "SYN", "seq": 1}]
    assert run("oracle", jl(tmp_path / "a.jsonl", ev))[0] == 3          # SYN owed an answer: inconclusive
    code, out, _ = run("oracle", jl(tmp_path / "b.jsonl", ev), "--calls-logged", "--json")
    assert code == 1 and json.loads(out)["index"] == 2
    code, _, _ = run("oracle", jl(tmp_path / "c.jsonl", ev, {"synack_trace": 1, "calls_logged": True}))
    assert code == 1


KEEPALIVE = [{"dir": "out", "flags": "SYN", "seq": 1000, "t": 0},
             {"dir": "in", "flags": "SYN,ACK", "seq": 5000, "ack": 1001, "t": 0, "win": 1000},
             {"dir": "out", "flags": "ACK", "seq": 1001, "ack": 5001, "t": 0},
             {"dir": "out", "flags": "ACK", "seq": 1000, "ack": 5001, "t": 4}]


def test_param_sets_the_timing_a_socket_option_changed(tmp_path):
    """A keep-alive probe 4 s into an idle connection: too early for ka_idle = 10 s (from the
    header), fine for TCP_KEEPIDLE = 3 (--param, which overrides the header)."""
    path = jl(tmp_path / "ka.jsonl", KEEPALIVE, {"synack_trace": 1, "profile": "linux", "params": {"ka_idle": 10}})
    code, out, _ = run("oracle", path)
    assert code == 1 and "not before t=7.5" in out
    code, out, _ = run("oracle", path, "--param", "ka_idle=3")
    assert code == 0, out


@pytest.mark.parametrize("arg, said", [("ka_idle=x", "expected NAME=NUMBER"), ("nosuch=1", "unknown profile parameter"),
                                       ("KA.PROBES=1.5", "whole number"), ("ka_idle=-1", "non-negative")])
def test_bad_param_is_a_one_line_error(tmp_path, arg, said):
    path = jl(tmp_path / "ka.jsonl", KEEPALIVE)
    code, out, err = run("oracle", path, "--param", arg)
    assert code == 2 and said in err and len(err.strip().splitlines()) == 1


def test_jobs_judges_a_capture_in_several_processes(tmp_path):
    cap = tmp_path / "c.pcap"
    write(cap)
    code, out, _ = run("oracle", str(cap), "--profile", "rfc9293", "--jobs", "0")
    assert code == 0 and out.count("CONFORMANT") == 2
    code, _, err = run("oracle", str(cap), "--jobs", "-3")
    assert code == 2 and "--jobs must be an integer in 1..64, got -3" in err and len(err.strip().splitlines()) == 1


def test_engines_give_the_same_lines_and_native_says_what_it_cannot_read(tmp_path):
    cap, ng = tmp_path / "c.pcap", tmp_path / "c.pcapng"
    write(cap)
    write(ng, fmt="pcapng")
    outs = {}
    for engine in ("native", "python"):
        code, out, _ = run("oracle", str(cap), "--json", "--engine", engine)
        lines = [json.loads(x) for x in out.splitlines()]
        assert code == 0 and lines[-1]["summary"]["engine"] == engine
        outs[engine] = lines[:-1]
    assert outs["native"] == outs["python"] and len(outs["native"]) == 2
    code, out, _ = run("oracle", str(ng), "--summary", "--json")               # auto: pcapng is Python's
    assert code == 0 and json.loads(out)["summary"]["engine"] == "python"
    code, _, err = run("oracle", str(ng), "--engine", "native")
    assert code == 2 and "not a classic pcap file" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("arg, said", [("SYN.RETRIES=70000", "SYN.RETRIES = 70000 is outside linux's range 1..127"),
                                       ("KA.PROBES=1e9", "KA.PROBES = 1000000000 is outside linux's range 0..255")])
def test_a_param_outside_its_range_is_one_line_exit_2(tmp_path, arg, said):
    """Issue 20: SYN.RETRIES=70000 was an OverflowError traceback, KA.PROBES=1e9 a hang."""
    path = jl(tmp_path / "ka.jsonl", KEEPALIVE, {"synack_trace": 1, "profile": "linux"})
    code, out, err = run("oracle", path, "--param", arg)
    assert code == 2 and said in err and len(err.strip().splitlines()) == 1
    code, out, err = run("oracle", jl(tmp_path / "h.jsonl", KEEPALIVE, {"synack_trace": 1, "profile": "linux",
                                                                       "params": {arg.split("=")[0]: 70000}}))
    assert code == 2 and "is outside linux's range" in err and len(err.strip().splitlines()) == 1


def test_an_iut_that_matches_no_connection_is_bad_input(tmp_path):
    cap = tmp_path / "c.pcap"
    write(cap)
    for engine in ("native", "python"):
        code, out, err = run("oracle", str(cap), "--iut", "192.0.2.77", "--engine", engine)
        assert code == 2 and not out and len(err.strip().splitlines()) == 1
        assert "no TCP connection with an endpoint matching --iut 192.0.2.77" in err


@pytest.mark.parametrize("args, said", [((), "give a trace or capture to judge (or --live IFACE)"),
                                        (("x.pcap", "--live", "lo"), "not both"),
                                        (("x.pcap", "--max-seconds", "2"), "--max-seconds applies to --live only"),
                                        (("--live", "lo", "--html", "r.html"), "need a trace or capture file")])
def test_live_and_report_options_misused_are_one_line(args, said):
    code, out, err = run("oracle", *args)
    assert code == 2 and said in err and len(err.strip().splitlines()) == 1


def test_several_captures_a_directory_or_a_glob_in_one_run(tmp_path):
    """Each capture's lines then its summary, in the order given, then one total line; the
    exit code is the worst verdict over all (here the rfc9293 violation of one capture)."""
    caps = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "captures")
    code, out, err = run("oracle", os.path.join(caps, "client-close.pcap"), os.path.join(caps, "*abort.pcap"),
                         "-p", "rfc9293", "--summary")
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert [ln.split(": ", 1)[0] for ln in lines] == ["capture", "summary", "capture", "summary", "total"]
    assert lines[2] == f"capture: {os.path.join(caps, 'linger-zero-abort.pcap')}"
    assert lines[-1].startswith("total: 2 captures, 2 connections, 14 TCP segments; 3 conformant, 1 violation, "
                                "0 inconclusive, 0 unjudgeable, 0 silent; ") and lines[-1].endswith("; exit 1")
    code, out, _ = run("oracle", caps, "--json")            # the directory: its three captures
    assert code == 0 and [json.loads(ln)["summary"]["capture"] for ln in out.splitlines() if "summary" in ln] == [
        os.path.join(caps, n) for n in ("client-close.pcap", "half-close.pcap", "linger-zero-abort.pcap")]
    assert json.loads(out.splitlines()[-1])["total"]["exit"] == 0


def test_a_trace_among_several_captures_or_reports_for_several_are_bad_input(tmp_path):
    caps = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "captures")
    trace = jl(tmp_path / "ok.jsonl", HS)
    code, out, err = run("oracle", os.path.join(caps, "client-close.pcap"), trace)
    assert code == 2 and out == "" and err.strip() == (f"synack: error: {trace}: not a pcap or pcapng capture (it "
                                                       "starts with bytes 7b 22 64 69: no capture's magic number)")
    code, out, err = run("oracle", caps, "--junit-xml", str(tmp_path / "r.xml"))
    assert code == 2 and "--junit-xml and --html take one capture" in err and len(err.strip().splitlines()) == 1
    code, out, err = run("oracle", str(tmp_path / "none" / "*.pcap"))
    assert code == 2 and err.strip().endswith("none/*.pcap: no file matches this pattern")
