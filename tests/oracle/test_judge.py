"""Judging whole captures: split by connection, the same verdicts in one process or several,
incarnations decided by each 4-tuple's own segments."""
import json

from synack.oracle.judge import judge_capture
from synack.oracle.reference import reference_capture
from synack.spec.model import ACK


def _bad_ack(conn, k, seg):
    """Connection 3's fifth segment acknowledges one byte too many: a violation."""
    if conn == 3 and k == 4 and seg.flags & ACK:
        return seg._replace(ack=(seg.ack + 1) & 0xFFFFFFFF)
    return seg


def _judge(path, jobs, **kw):
    out = []
    code = judge_capture(str(path), "linux", (), None, None, False, True, 4096, out.append, jobs=jobs, **kw)
    lines = [json.loads(x) for x in out]
    return code, lines[:-1], lines[-1]["summary"]


def test_several_processes_give_the_same_verdicts_in_first_segment_order(tmp_path):
    cap = tmp_path / "many.pcap"
    n = reference_capture(str(cap), 600, sizes="varied", tamper=_bad_ack)
    code1, one, sum1 = _judge(cap, 1)
    code2, two, sum2 = _judge(cap, 2)
    assert code1 == code2 == 1
    assert sum1["segments"] == sum2["segments"] == n and sum1["connections"] == sum2["connections"] > 10
    assert sum1["violation"] == sum2["violation"] == 1 and sum2["jobs"] == 2
    # the same lines; with several processes, ordered by each connection's first segment
    key = lambda d: (d["connection"], d["iut"])  # noqa: E731
    assert sorted(one, key=key) == sorted(two, key=key)
    firsts = [d["connection"] for d in two]
    assert firsts == sorted(firsts, key=lambda c: int(c.split(":")[1].split(" ")[0]))
    bad = [d for d in two if d["status"] == "violation"]
    assert [d["connection"] for d in bad] == ["10.1.0.1:1026 <-> 10.1.0.2:80"] and bad[0]["index"] == 5


def test_a_quiet_ended_connection_is_followed_by_a_new_incarnation_whatever_else_is_captured(tmp_path):
    """The same 4-tuple reused after 2 x TIME-WAIT of silence, with no other traffic in between
    to trigger a release: still two incarnations, both conformant."""
    cap = tmp_path / "reuse.pcap"
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    reference_capture(str(a), 1, per_conn_data=1)
    reference_capture(str(b), 1, per_conn_data=1, t0=1.0e9 + 1000)
    import dpkt
    with open(cap, "wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=1)
        for src in (a, b):
            with open(src, "rb") as f:
                for ts, buf in dpkt.pcap.Reader(f):
                    w.writepkt(buf, ts=ts)
    code, lines, summary = _judge(cap, 1)
    assert code == 0 and summary["connections"] == 2
    assert [d["connection"].endswith("#2") for d in lines] == [False, False, True, True]
