"""`synack oracle CAPTURES... --executor dask`: the same captures judged by local processes and
on a Dask LocalCluster of 2 worker processes give the same lines and exit codes; the cluster's
error cases are one line and exit 2, within a bounded time.

`distributed` is the `cluster` extra, which `./dev` installs for the tests: no skip when it is
missing (CI would then pass without judging anything on a cluster)."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import distributed
import pytest

from synack.oracle.reference import reference_capture
from synack.spec.model import ACK

EX = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "captures")
TIMEOUT = 240          # seconds for one command: a hang fails the test instead of the suite


def run(*args, env=None):
    p = subprocess.run([sys.executable, "-m", "synack.cli", *args], capture_output=True, text=True,
                       timeout=TIMEOUT, env={**os.environ, **(env or {})})
    return p.returncode, p.stdout, p.stderr


def _bad_ack(conn, k, seg):
    """Connection 5's sixth segment acknowledges one byte too many: a violation."""
    if conn == 5 and k == 5 and seg.flags & ACK:
        return seg._replace(ack=(seg.ack + 1) & 0xFFFFFFFF)
    return seg


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    """A directory of four captures: the shipped ones (one a violation under rfc9293) and a
    generated one of varied connections with a planted violation."""
    d = tmp_path_factory.mktemp("caps")
    for name in sorted(os.listdir(EX)):
        if name.endswith(".pcap"):
            shutil.copy(os.path.join(EX, name), d / name)
    reference_capture(str(d / "varied.pcap"), 400, sizes="varied", tamper=_bad_ack)
    return d


@pytest.fixture(scope="module")
def cluster():
    """2 worker processes, one thread each, small memory limits; on loopback."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="600MiB",
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50) as c:
        yield c


def _steady(out: str, jobs: bool = True) -> list[str]:
    """The output less what depends on time (a summary's seconds and rate, what ran the shares;
    `jobs=False`: and how many shares)."""
    lines = []
    for ln in out.splitlines():
        if ln.startswith("{"):
            d = json.loads(ln)
            for k in ("summary", "total"):
                if k in d:
                    for t in ("seconds", "segments_per_second", "executor", "native") + (() if jobs else ("jobs",)):
                        d[k].pop(t, None)
            ln = json.dumps(d, sort_keys=True)
        else:
            ln = re.sub(r"; [\d.]+ s \(.*\)(; exit \d)?$", r"\1", ln)
        lines.append(ln)
    return lines


@pytest.mark.parametrize("fmt", [(), ("--json",)])
def test_local_processes_and_a_local_cluster_give_the_same_lines_and_exit_code(captures, cluster, fmt):
    args = ("oracle", str(captures), "-p", "rfc9293", *fmt)
    code1, local, err1 = run(*args, "--jobs", "2")
    code2, dask, err2 = run(*args, "--jobs", "2", "--executor", f"dask={cluster.scheduler_address}")
    assert code1 == code2 == 1, (err1, err2)
    assert "Traceback" not in err1 + err2
    assert _steady(local) == _steady(dask)
    # what was judged: every capture, the planted violation among them, each capture's lines then its summary
    assert len([ln for ln in local.splitlines() if "summary" in ln]) == 4
    if not fmt:
        assert [ln for ln in dask.splitlines() if ln.startswith("capture: ")] == [
            f"capture: {captures / n}" for n in ("client-close.pcap", "half-close.pcap", "linger-zero-abort.pcap",
                                                  "varied.pcap")]
        assert "2 shares on dask scheduler tcp://127.0.0.1:" in dask
        assert dask.splitlines()[-1].startswith("total: 4 captures, ") and dask.endswith("; exit 1\n")
        assert "10.1.0.1:1028 <-> 10.1.0.2:80  IUT 10.1.0.1:1028: VIOLATION at segment 7" in dask
    # one process, lines as connections finish: the same lines, perhaps in another order
    code0, one, _ = run(*args)
    assert code0 == 1 and sorted(_steady(one, jobs=False)) == sorted(_steady(local, jobs=False))


def test_one_capture_split_by_connection_on_the_cluster_is_the_one_process_judgement(captures, cluster):
    cap = str(captures / "varied.pcap")
    code1, one, _ = run("oracle", cap, "--json")
    code2, dask, err = run("oracle", cap, "--json", "--jobs", "0", "--executor", f"dask={cluster.scheduler_address}")
    assert code1 == code2 == 1, err
    key = lambda ln: (ln.get("connection", ""), ln.get("iut", ""))  # noqa: E731
    d1 = [json.loads(ln) for ln in _steady(one)]
    d2 = [json.loads(ln) for ln in _steady(dask)]
    assert sorted(d1[:-1], key=key) == sorted(d2[:-1], key=key)
    s1, s2 = d1[-1]["summary"], d2[-1]["summary"]
    assert s2.pop("jobs") == 2 and s1.pop("jobs") == 1      # --jobs 0: one share per worker thread
    assert s1 == s2


def test_bare_dask_makes_a_local_cluster_of_jobs_workers(captures):
    code, out, err = run("oracle", str(captures / "half-close.pcap"), str(captures / "client-close.pcap"),
                         "--executor", "dask", "--jobs", "2", "--summary")
    assert code == 0 and err == "", err          # the cluster's own log lines are kept off stderr
    assert out.count("2 shares on dask LocalCluster of 2 worker processes)") == 2
    assert out.splitlines()[-1].startswith("total: 2 captures, 2 connections, 18 TCP segments; 4 conformant")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_bad_input_within_the_timeout(captures):
    addr = f"tcp://127.0.0.1:{_closed_port()}"
    t0 = time.monotonic()
    code, out, err = run("oracle", str(captures), "--executor", f"dask={addr}", env={"SYNACK_DASK_TIMEOUT": "2"})
    assert code == 2 and out == ""
    assert err.startswith(f"synack: error: --executor dask={addr}: no Dask scheduler answered there within 2 s")
    assert len(err.strip().splitlines()) == 1
    assert time.monotonic() - t0 < 60


def test_a_scheduler_without_workers_is_bad_input_not_a_hang(captures):
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50) as c:
        code, out, err = run("oracle", str(captures), "--executor", f"dask={c.scheduler_address}",
                             env={"SYNACK_DASK_TIMEOUT": "2"})
    assert code == 2 and "the scheduler has no worker (waited 2 s)" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("spec, said", [("dask=", "expected processes, dask or dask=ADDRESS"),
                                        ("spark", "expected processes, dask or dask=ADDRESS"),
                                        ("dask=nonsense://x:1", "no Dask scheduler answered there")])
def test_a_malformed_executor_is_one_line(captures, spec, said):
    code, out, err = run("oracle", str(captures / "half-close.pcap"), "--executor", spec,
                         env={"SYNACK_DASK_TIMEOUT": "2"})
    assert code == 2 and said in err and len(err.strip().splitlines()) == 1, err


def test_without_distributed_the_error_names_the_extra(captures, tmp_path):
    shadow = tmp_path / "shadow" / "distributed"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named distributed')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "shadow"), os.environ.get("PYTHONPATH", "")])}
    code, out, err = run("oracle", str(captures / "half-close.pcap"), "--executor", "dask", env=env)
    assert code == 2 and err.strip() == ("synack: error: --executor dask needs the 'distributed' package, which is "
                                         "not installed: pip install 'synack[cluster]'")
    assert run("oracle", str(captures / "half-close.pcap"), "-j", "2", env=env)[0] == 0   # local processes need none


def test_a_pipe_or_a_trace_cannot_go_to_a_cluster(captures, cluster):
    with open(captures / "half-close.pcap", "rb") as fh:
        p = subprocess.run([sys.executable, "-m", "synack.cli", "oracle", "-", "--executor",
                            f"dask={cluster.scheduler_address}"], stdin=fh, capture_output=True, text=True,
                           timeout=TIMEOUT)
    assert p.returncode == 2 and "<stdin>: a pipe or standard input cannot be judged on a Dask cluster" in p.stderr
    trace = os.path.join(EX, "..", "traces", "violation-rfc9293-linux-abort.jsonl")
    code, _, err = run("oracle", trace, "--executor", f"dask={cluster.scheduler_address}")
    assert code == 2 and "--executor dask judges captures; a JSON Lines trace is judged in this process" in err


def test_a_bad_capture_among_several_is_one_line_and_the_rest_are_judged(captures, cluster, tmp_path):
    empty = tmp_path / "empty.pcap"
    shutil.copy(captures / "half-close.pcap", tmp_path / "a.pcap")
    empty.write_bytes(open(captures / "half-close.pcap", "rb").read()[:24])      # a header, no frame
    for extra in ((), ("--jobs", "2"), ("--executor", f"dask={cluster.scheduler_address}")):
        code, out, err = run("oracle", str(tmp_path), "--summary", *extra)
        assert code == 2, (extra, err)
        assert err.strip() == f"synack: error: {tmp_path / 'empty.pcap'}: nothing to judge: no TCP segment in the " \
                              "capture (0 frames: 0 not TCP, 0 fragments, 0 malformed)"
        assert out.splitlines()[-1].startswith("total: 2 captures (1 bad input), 1 connections, 10 TCP segments")
