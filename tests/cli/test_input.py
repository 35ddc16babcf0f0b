"""Hostile, broken and empty input at the command line (issue 20): read once as a stream
(pipes, `-`, FIFOs, process substitution), nothing to judge is bad input, every bad input is
one line naming the file and the line, byte offset or block, exit 2, never a traceback."""
import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from test_capture import write  # noqa: E402

from synack.oracle import native  # noqa: E402

ENGINES = ["python"] + (["native"] if native.library() is not None else [])
VIOLATING = [{"dir": "out", "flags": "SYN", "seq": 1}, {"dir": "in", "flags": "SYN,ACK", "seq": 9, "ack": 2},
             {"dir": "out", "flags": "ACK", "seq": 2, "ack": 11}]
SYN = {"dir": "out", "flags": "SYN", "seq": 1}


def sh(cmd: str, env=None, timeout=120):
    """Run a shell command line (pipes, process substitution) with the synack of this checkout."""
    e = dict(os.environ, **(env or {}))
    p = subprocess.run(["bash", "-c", cmd.replace("synack ", f"{sys.executable} -m synack.cli ")],
                       capture_output=True, text=True, timeout=timeout, env=e)
    return p.returncode, p.stdout, p.stderr


def one_line(err: str) -> bool:
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err and err.startswith("synack: error: ")


def jl(path, lines):
    path.write_text("".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines))
    return str(path)


@pytest.mark.parametrize("how", ["cat {f} | synack oracle /dev/stdin", "cat {f} | synack oracle -",
                                 "synack oracle <(cat {f})", "synack oracle - < {f}"])
def test_a_piped_trace_is_judged_on_all_its_events(tmp_path, how):
    """Was: the magic sniff drained the pipe, the path was opened again: CONFORMANT on 0 events."""
    f = jl(tmp_path / "v.jsonl", VIOLATING)
    code, out, err = sh(how.format(f=f))
    assert code == 1 and "VIOLATION" in out and "3 events" in out, (out, err)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("how", ["cat {f} | synack oracle - {a}", "synack oracle <(cat {f}) {a}",
                                 "synack oracle <(cat {f}) {a} --jobs 2"])
def test_a_piped_capture_is_judged_as_the_file(tmp_path, engine, how):
    """Was: a traceback. Both formats, both engines, one and two processes."""
    for fmt in ("pcap", "pcapng"):
        cap = tmp_path / f"c.{fmt}"
        write(cap, fmt=fmt)
        args = f"--engine {engine if fmt == 'pcap' else 'python'} --json --summary"
        code, out, err = sh(how.format(f=cap, a=args))
        code2, out2, _ = sh(f"synack oracle {cap} {args}")
        assert code == code2 == 0, err
        got, want = json.loads(out)["summary"], json.loads(out2)["summary"]
        for k in ("seconds", "segments_per_second", "capture", "native", "jobs"):
            got.pop(k, None), want.pop(k, None)
        assert got == want and got["segments"] == 8


def test_a_fifo_is_read_once_and_one_without_writer_does_not_hang(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    f = jl(tmp_path / "v.jsonl", VIOLATING)
    code, out, err = sh(f"(sleep 0.5; cat {f} > {fifo}) & synack oracle {fifo}")
    assert code == 1 and "3 events" in out
    t0 = time.monotonic()
    code, out, err = sh(f"synack oracle {fifo}", env={"SYNACK_FIFO_WAIT": "1"}, timeout=30)
    assert code == 2 and one_line(err) and "no writer opened it within 1 s" in err
    assert time.monotonic() - t0 < 20


@pytest.mark.parametrize("make, said", [
    (lambda d: "/dev/null", "nothing to judge: no events (an empty input)"),
    (lambda d: jl(d / "e.jsonl", []), "nothing to judge: no events (an empty input)"),
    (lambda d: jl(d / "h.jsonl", [{"synack_trace": 1}]), "nothing to judge: no events (a header only)"),
    (lambda d: jl(d / "b.jsonl", ["", "  "]), "nothing to judge"),
])
def test_nothing_to_judge_is_bad_input(tmp_path, make, said):
    """Was: CONFORMANT, exit 0."""
    code, out, err = sh(f"synack oracle {make(tmp_path)}")
    assert code == 2 and said in err and one_line(err) and not out


@pytest.mark.parametrize("engine", ENGINES)
def test_a_capture_without_tcp_is_bad_input(tmp_path, engine):
    cap = tmp_path / "u.pcap"
    import dpkt
    udp = dpkt.ip.IP(src=b"\x0a\0\0\x01", dst=b"\x0a\0\0\x02", p=17, data=dpkt.udp.UDP(sport=1, dport=2))
    with open(cap, "wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=101)
        w.writepkt(bytes(udp), ts=1.0)
    code, out, err = sh(f"synack oracle {cap} --engine {engine}")
    assert code == 2 and one_line(err) and "nothing to judge: no TCP segment in the capture (1 frames: 1 not TCP" in err
    with open(cap, "wb") as fh:
        dpkt.pcap.Writer(fh, linktype=101)          # a header only
    code, out, err = sh(f"synack oracle {cap} --engine {engine}")
    assert code == 2 and one_line(err) and "nothing to judge" in err


@pytest.mark.parametrize("lines, said", [
    (["[" * 990 + "]" * 990], "v.jsonl:1: JSON nested too deeply"),
    ([f'{{"dir": "out", "flags": "SYN", "seq": {"1" * 4500}}}'], "v.jsonl:1: not a usable JSON value"),
    ([{**SYN, "t": 0}, '{"dir": "in", "flags": "RST", "seq": 9, "t": Infinity}'],
     "v.jsonl:2: not a usable JSON value (Infinity is not a number JSON allows)"),
    ([{**SYN, "t": 0}, '{"dir": "in", "flags": "RST", "seq": 9, "t": NaN}'], "v.jsonl:2: not a usable JSON value"),
    ([{**SYN, "t": 0}, '{"dir": "in", "flags": "RST", "seq": 9, "t": 1e999}'], "v.jsonl:2: not a usable JSON"),
    ([{**SYN, "t": 5}, {"dir": "in", "flags": "RST", "seq": 9, "t": 4}], "v.jsonl:2: time t=4.0 goes backwards"),
    ([{"synack_trace": 1}, SYN, {"synack_trace": 1, "profile": "linux"}], "v.jsonl:3: a second header line"),
    ([SYN, {"synack_trace": 1}], "v.jsonl:2: a second header line"),
    ([{"synack_trace": 1, "calls_logged": "yes"}, SYN], "v.jsonl:1: the header's 'calls_logged' must be true or"),
    ([{"synack_trace": 1, "params": [1]}, SYN], "v.jsonl:1: the header's 'params' must be an object"),
    ([{"synack_trace": 1, "params": {"SYN.RETRIES": 70000}}, SYN], "v.jsonl:1: the header's \"params\": profile "
                                                                  "parameter SYN.RETRIES = 70000 is outside"),
    ([{"synack_trace": 1, "profile": 7}, SYN], "v.jsonl:1: the header's 'profile' must be a string"),
    ([SYN, "\udcff".encode("utf-8", "surrogateescape").decode("latin-1")], "v.jsonl:2: not UTF-8 text"),
    ([{"dir": "out", "flags": "SYNX", "seq": 1}], "v.jsonl:1: unknown TCP flag"),
])
def test_a_bad_trace_is_one_line_naming_file_and_line(tmp_path, lines, said):
    """Was: tracebacks (deep nesting, huge integers) or silently accepted (Infinity turned a
    timing violation into CONFORMANT; times backwards; a second header replaced the first;
    calls_logged "yes" was ignored). No error repeats `file:line:`."""
    p = tmp_path / "v.jsonl"
    p.write_bytes("".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n"
                          for ln in lines).encode("latin-1" if "\xff" in str(lines) else "utf-8"))
    code, out, err = sh(f"synack oracle {p}")
    assert code == 2 and said in err and one_line(err), err
    assert err.count("v.jsonl:") == 1


def test_a_bad_pcap_magic_is_not_called_a_text_file_error(tmp_path):
    p = tmp_path / "x.pcap"
    p.write_bytes(b"\xd4\xc3\xb2\xa0" + bytes(range(256)))
    code, out, err = sh(f"synack oracle {p}")
    assert code == 2 and one_line(err) and "not a UTF-8 text file" not in err
    assert "neither a JSON Lines trace nor a pcap/pcapng capture" in err and "d4 c3 b2 a0" in err


@pytest.mark.parametrize("cmd", ["synack why time-wait -o {f}", "synack why time-wait -o {f}/sub",
                                 "synack trace {cap} --to-jsonl -o {f}", "synack trace {cap} --to-jsonl -o {f}/x",
                                 "synack trace {cap} --to-jsonl -o /proc/synack-nope"])
def test_an_output_path_that_cannot_be_written_is_one_line(tmp_path, cmd):
    """Was: a traceback with exit 1 (an existing file, a missing or unwritable directory)."""
    f = tmp_path / "afile"
    f.write_text("x")
    cap = tmp_path / "c.pcap"
    write(cap)
    code, out, err = sh(cmd.format(f=f, cap=cap))
    assert code == 2 and one_line(err) and "cannot write to" in err, err


def test_a_param_out_of_range_in_a_capture_run(tmp_path):
    cap = tmp_path / "c.pcap"
    write(cap)
    for arg in ("SYN.RETRIES=70000", "KA.PROBES=1e9"):
        code, out, err = sh(f"synack oracle {cap} --param {arg}", timeout=60)
        assert code == 2 and one_line(err) and "is outside linux's range" in err
