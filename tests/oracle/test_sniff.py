"""`synack oracle --live IFACE` on loopback inside a network namespace of its own: a violation
is printed while the judge still runs, Ctrl-C (SIGINT) prints the summary and exits 130, and
--max-seconds ends with the worst verdict's exit code. Real kernel sockets; every wait bounded."""
from __future__ import annotations

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "live"))
from netns import can_unshare, run_in_netns  # noqa: E402

pytestmark = pytest.mark.skipif(bool(can_unshare()), reason=can_unshare() or "namespaces available")
SYNACK = [sys.executable, "-m", "synack.cli", "oracle", "--live", "lo"]


def _start(*args):
    p = subprocess.Popen(SYNACK + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = _line(p.stderr, 30)                     # it says so once its socket listens
    assert "judging TCP on lo" in line, line
    return p


def _line(fh, seconds: float) -> str:
    r, _, _ = select.select([fh], [], [], seconds)
    return fh.readline() if r else ""


def _connection(linger_zero: bool) -> None:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 5000))
    srv.listen(1)
    srv.settimeout(5)
    cli = socket.create_connection(("127.0.0.1", 5000), timeout=5)
    conn, _ = srv.accept()
    cli.sendall(b"ping")
    assert conn.recv(100) == b"ping"
    if linger_zero:                                 # close() becomes ABORT: Linux sends RST,ACK
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        cli.close()
        conn.close()
    else:
        cli.close()
        assert conn.recv(100) == b""
        conn.close()
    srv.close()


def _violation_then_sigint():
    p = _start("-p", "rfc9293", "--max-seconds", "60")
    try:
        _connection(linger_zero=True)
        first = _line(p.stdout, 20)                 # printed while the judge still runs
        running = p.poll() is None
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
    return first, running, out, err, p.returncode


def _max_seconds():
    p = _start("--max-seconds", "3")
    try:
        _connection(linger_zero=False)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    return out, err, p.returncode


def test_violations_as_they_happen_and_a_summary_on_sigint():
    first, running, out, err, code = run_in_netns(_violation_then_sigint, timeout=90)
    assert running and "VIOLATION at segment" in first and "<RST,ACK" in first
    assert code == 130 and "Traceback" not in err
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("summary (interrupted") and "1 violation" in summary and "1 connections" in summary


def test_max_seconds_ends_with_the_verdicts_exit_code():
    out, err, code = run_in_netns(_max_seconds, timeout=90)
    assert code == 0, out + err
    assert out.strip().splitlines()[-1].startswith("summary (stopped after 3")
    assert "2 conformant, 0 violation, 0 inconclusive" in out


def test_bad_interface_is_one_line():
    r = subprocess.run(SYNACK[:-1] + ["no-such-if0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no-such-if0" in r.stderr
