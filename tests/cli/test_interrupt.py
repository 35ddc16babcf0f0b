"""Ctrl-C and limits (issue 20): every command stops within a second of SIGINT in both
engines, says what it did, exits 130; --max-seconds covers the whole run and must be a
finite, non-negative number; --max-states stops at its bound."""
import ctypes
import json
import signal
import struct
import subprocess
import sys
import time

import pytest

from synack.checker import native as checker_native
from synack.oracle import native as oracle_native

CHECK_ENGINES = ["python"] + (["native"] if checker_native.library() is not None else [])
JUDGE_ENGINES = ["python"] + (["native"] if oracle_native.library() is not None else [])


def _die_with_parent():
    """In the child: SIGKILL when the test process dies (prctl PR_SET_PDEATHSIG), so a killed
    pytest leaves no `synack check` running on (one grew to 19 GB once)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def _spawn(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "synack.cli", *args], preexec_fn=_die_with_parent, **kw)


def interrupted(args, started, wait=30.0):
    """Run synack, send SIGINT once `started(stderr so far)`... is not observable: once the
    command has run `wait` seconds or has printed progress; (exit code, seconds to stop, stderr)."""
    p = _spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(started)
        assert p.poll() is None, "the command ended before it could be interrupted"
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=wait)
        return p.returncode, time.monotonic() - t0, err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@pytest.mark.parametrize("engine", CHECK_ENGINES)
def test_ctrl_c_stops_the_checker_at_once_and_says_how_far_it_got(engine):
    """Was: the native explorer swallowed KeyboardInterrupt (raised inside a ctypes callback)
    and ran on; an honoured interrupt exited 1, the code of a failed property."""
    code, secs, err = interrupted(["check", "-s", "any", "--budget", "4", "-C", "3", "--engine", engine, "-q"], 6)
    assert code == 130 and secs < 5, err          # within a second on a quiet machine; CI shares its cores
    assert err.startswith("synack: interrupted after ") and "states" in err and "Traceback" not in err


def _many_syns(path, n):
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for k in range(n):
            a = bytes([10, 3, k >> 16 & 255, k >> 8 & 255])
            tcp = struct.pack("!HHIIBBHHH", 1024 + k % 50000, 80, k, 0, 0x50, 0x02, 1000, 0, 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, a, b"\x0a\x09\0\x01") + tcp
            fh.write(struct.pack("<IIII", 1000 + k // 1000, k % 1000, len(ip), len(ip)) + ip)


@pytest.mark.parametrize("engine", JUDGE_ENGINES)
def test_ctrl_c_stops_the_oracle_at_once_and_says_how_far_it_got(tmp_path, engine):
    cap = tmp_path / "syns.pcap"
    _many_syns(cap, 400_000)
    code, secs, err = interrupted(["oracle", str(cap), "--engine", engine, "--summary"], 6)
    assert code == 130 and secs < 5, err
    assert err.startswith("synack: interrupted after ") and "segments" in err and "Traceback" not in err


def test_ctrl_c_while_reading_a_pipe_and_with_several_processes(tmp_path):
    p = _spawn(["oracle", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        p.stdin.flush()
        time.sleep(3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 130 and b"synack: interrupted" in err and b"Traceback" not in err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    cap = tmp_path / "syns.pcap"
    _many_syns(cap, 400_000)
    code, secs, err = interrupted(["oracle", str(cap), "--summary", "--jobs", "2"], 6)
    assert code == 130 and secs < 5 and "Traceback" not in err, err


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "-inf"])
def test_max_seconds_must_be_finite_and_not_negative(value):
    """Was: --max-seconds nan meant no limit."""
    p = subprocess.run([sys.executable, "-m", "synack.cli", "check", "--max-seconds", value, "-q"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and ("--max-seconds must be a finite number" in p.stderr
                                  or "--max-seconds must not be negative" in p.stderr)
    assert len(p.stderr.strip().splitlines()) == 1


def test_max_seconds_covers_the_whole_run():
    """Every scenario shares the one budget: the run ends near it, not after it per scenario."""
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "synack.cli", "check", "-s", "any", "-s", "any", "-s", "any",
                        "--budget", "4", "-C", "3", "--max-seconds", "2", "--json"],
                       capture_output=True, text=True, timeout=120)
    took = time.monotonic() - t0
    assert p.returncode == 3, p.stderr
    res = json.loads(p.stdout)["results"]
    assert sum(r["seconds"] for r in res) < 2 + 3 * 1.5 and took < 60
    assert all(r["status"] == "incomplete" for r in res)


@pytest.mark.parametrize("engine", CHECK_ENGINES)
def test_max_states_stops_at_its_bound(engine):
    """Was: checked every 4,096 states, so --max-states 100 explored thousands."""
    p = subprocess.run([sys.executable, "-m", "synack.cli", "check", "-s", "any", "--budget", "4", "-C", "3",
                        "--max-states", "100", "--engine", engine, "--json"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 3, p.stderr
    (r,) = json.loads(p.stdout)["results"]
    assert 100 <= r["states"] < 150 and "--max-states 100 reached" in r["stopped"]
