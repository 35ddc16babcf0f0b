"""The pieces a judging run on another process or machine stands on: the job pickles (the
profile rebuilt equal), a worker refuses a capture that is not the one the client saw, the
executor option, and which captures a directory or a glob names."""
import os
import pickle

import pytest

from synack.oracle.captures import expand, is_many
from synack.oracle.events import TraceError
from synack.oracle.executors import ExecutorSpec, parse_executor
from synack.oracle.judge import _Capture, _Job, _judge_shard, _Ref
from synack.oracle.inputs import open_source
from synack.spec.profiles import get_profile

EX = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "captures")
CAP = os.path.join(EX, "half-close.pcap")


def _job(prof) -> _Job:
    return _Job(_Job.pack(prof), None, None, 4096, False, True, "python", None, 10, None)


def test_the_job_pickles_and_rebuilds_the_same_profile():
    prof = get_profile("linux", ("no-time-wait",)).with_params(ka_idle=3)
    with pytest.raises(TypeError):
        pickle.dumps(prof)                     # why the job carries the profile's fields
    back = pickle.loads(pickle.dumps(_job(prof))).prof()
    assert back == prof and back.label() == "linux+no-time-wait" and back.params["ka_idle"] == 3
    assert type(back.params) is type(prof.params)


def test_a_shard_judged_by_path_is_the_capture_judged_in_process():
    with open_source(CAP) as src:
        cap = _Capture.of(src, keep=False)
        assert cap.source is None and cap.path == os.path.abspath(CAP) and cap.size == os.path.getsize(CAP)
        whole = _judge_shard(_job(get_profile("rfc9293")), cap.ref(True), 0, 1)
    parts = [_judge_shard(_job(get_profile("rfc9293")), cap.ref(True), s, 2) for s in range(2)]
    assert whole.counts["conformant"] == 2 and sum(p.counts["conformant"] for p in parts) == 2
    assert sorted(ln for p in parts for ln in p.lines) == sorted(whole.lines)


def test_a_worker_refuses_a_capture_it_cannot_read_or_that_is_another_file(tmp_path):
    size = os.path.getsize(CAP)
    head = open(CAP, "rb").read(4)
    with pytest.raises(TraceError, match=r"cannot read 'x.pcap' at /nonexistent/x.pcap on .*: No such file .*"
                                         r"a filesystem they share"):
        _Ref("x.pcap", "/nonexistent/x.pcap", size, head).open()
    other = tmp_path / "x.pcap"
    other.write_bytes(open(CAP, "rb").read()[:-1])          # one byte short: not the client's file
    with pytest.raises(TraceError, match=rf"x.pcap: {other} on .* is not the file judged here \({size - 1} bytes, "
                                         rf"not {size}"):
        _Ref("x.pcap", str(other), size, head).open()
    src = _Ref("x.pcap", CAP, size, head).open()
    assert src.kind == "pcap" and src.name == "x.pcap"
    src.close()


@pytest.mark.parametrize("spec, want", [(None, ExecutorSpec()), ("processes", ExecutorSpec()),
                                        ("dask", ExecutorSpec("dask")),
                                        ("dask=tcp://10.0.0.5:8786", ExecutorSpec("dask", "tcp://10.0.0.5:8786"))])
def test_executor_option(spec, want):
    assert parse_executor(spec) == want


@pytest.mark.parametrize("spec", ["dask=", "dask:tcp://h:1", "threads", ""])
def test_a_malformed_executor_option_is_refused(spec):
    with pytest.raises(TraceError, match="expected processes, dask or dask=ADDRESS"):
        parse_executor(spec)


def test_a_directory_gives_its_captures_and_a_glob_its_files(tmp_path):
    for n in ("b.pcap", "a.pcapng", "c.CAP", "notes.txt", "t.jsonl"):
        (tmp_path / n).write_bytes(b"x")
    (tmp_path / "sub.pcap").mkdir()
    assert expand([str(tmp_path)]) == [str(tmp_path / n) for n in ("a.pcapng", "b.pcap", "c.CAP")]
    assert expand([str(tmp_path / "*.jsonl"), "-", CAP]) == [str(tmp_path / "t.jsonl"), "-", CAP]
    assert is_many(str(tmp_path)) and is_many(str(tmp_path / "*.pcap")) and not is_many(CAP) and not is_many("-")
    (tmp_path / "lit[1].pcap").write_bytes(b"x")                # a file named like a pattern is that file
    assert not is_many(str(tmp_path / "lit[1].pcap"))


def test_an_empty_directory_or_pattern_is_bad_input(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(TraceError, match=r": a directory with no capture in it \(no file ending in .pcap, "):
        expand([str(tmp_path)])
    with pytest.raises(TraceError, match=r"nope/\*.pcap: no file matches this pattern"):
        expand([str(tmp_path / "nope" / "*.pcap")])
