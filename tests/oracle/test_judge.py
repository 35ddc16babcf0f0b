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


def _rewrite(src, dst, change):
    """Copy a pcap, `change(index, frame)` deciding each frame (None drops it)."""
    import dpkt
    with open(src, "rb") as f, open(dst, "wb") as out:
        w = dpkt.pcap.Writer(out, linktype=1)
        for i, (ts, buf) in enumerate(dpkt.pcap.Reader(f)):
            buf = change(i, buf)
            if buf is not None:
                w.writepkt(buf, ts=ts)


def _data_offset_3(at):
    def change(i, buf):
        return buf[:46] + bytes([0x30 | buf[46] & 15]) + buf[47:] if i == at else buf
    return change


def test_a_malformed_frame_makes_its_connection_unjudgeable_not_a_violation(tmp_path):
    """Was: the frame was counted as malformed and its connection judged without it, the IUT
    blamed with a violation that never mentioned the dropped frame."""
    ref = tmp_path / "r.pcap"
    reference_capture(str(ref), 120, per_conn_data=2)
    cap = tmp_path / "m.pcap"
    _rewrite(ref, cap, _data_offset_3(4))                    # connection 1's fifth frame
    code, lines, summary = _judge(cap, 1)
    assert code == 3 and summary["unjudgeable"] == 2 and summary["malformed"] == 1
    unj = [d for d in lines if d["status"] == "unjudgeable"]
    assert {d["connection"] for d in unj} == {lines[0]["connection"]}
    assert all(d["message"] == "frame 5 malformed (TCP data offset 3): not judged past it" for d in unj)
    assert all(d["status"] == "conformant" for d in lines if d not in unj)
    assert _judge(cap, 2)[:2] == (code, sorted(lines, key=lambda d: lines.index(d)))


def test_a_violation_before_the_lost_frame_stands_and_elsewhere_wins(tmp_path):
    ref = tmp_path / "r.pcap"
    reference_capture(str(ref), 120, per_conn_data=2, tamper=_bad_ack)
    cap = tmp_path / "m.pcap"
    _rewrite(ref, cap, _data_offset_3(6))
    code, lines, summary = _judge(cap, 1)
    assert code == 1 and summary["violation"] == 1 and summary["unjudgeable"] == 2


def test_a_malformed_ip_header_makes_the_hosts_live_connections_unjudgeable(tmp_path):
    ref = tmp_path / "r.pcap"
    reference_capture(str(ref), 120, per_conn_data=2)
    cap = tmp_path / "m.pcap"
    _rewrite(ref, cap, lambda i, buf: buf[:14] + bytes([0x43]) + buf[15:] if i == 3 else buf)   # IHL 3
    code, lines, summary = _judge(cap, 1)
    assert code == 3 and all(d["status"] == "unjudgeable" for d in lines[:2])
    assert lines[0]["message"].startswith("frame 4 malformed (IPv4 header length 12)")


def test_many_open_connections_are_neither_closed_early_nor_split_by_jobs(tmp_path):
    """Was: past 20,000 open connections (MAX_LIVE) the quietest were judged early and opened
    again mid-connection (527 s, 3.4 GB for 20,100), and --jobs 2 reported another number."""
    import struct
    n = 20_100
    cap = tmp_path / "open.pcap"
    with open(cap, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for half in (0, 1):                       # every connection's SYN, then every SYN,ACK
            for k in range(n):
                cport = 1024 + k % 60000
                cli = bytes([10, 2, k // 60000, 1])
                a, b, sp, dp = (cli, b"\x0a\x09\0\x01", cport, 80) if half == 0 else (b"\x0a\x09\0\x01", cli, 80, cport)
                tcp = struct.pack("!HHIIBBHHH", sp, dp, 1000 + half * 7, 1001 if half else 0, 0x50,
                                  0x12 if half else 0x02, 1000, 0, 0)
                ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, a, b) + tcp
                fh.write(struct.pack("<IIII", 1000 + half, k, len(ip), len(ip)) + ip)
    out = []
    code = judge_capture(str(cap), "linux", (), "10.9.0.1", None, True, True, 4096, out.append, engine="python")
    one = json.loads(out[-1])["summary"]
    assert one["connections"] == n and one["segments"] == 2 * n and one["judged"] == n
    out = []
    code2 = judge_capture(str(cap), "linux", (), "10.9.0.1", None, True, True, 4096, out.append, jobs=2,
                          engine="python")
    two = json.loads(out[-1])["summary"]
    assert code2 == code and (two["connections"], two["judged"], two["inconclusive"]) == (
        one["connections"], one["judged"], one["inconclusive"])


def test_every_verdict_names_the_options_its_end_saw_and_no_rule_read(tmp_path):
    """Issue 22 item 4: a verdict says which options were recorded and ignored (SACK-permitted,
    timestamps, ...: events.IgnoredOptions), in the text report and in --json, for its own end
    (a Linux kernel end from Linux's packetdrill tests: both SYNs SACK-permitted, only the
    kernel sends timestamps there)."""
    import os
    cap = os.path.join(os.path.dirname(__file__), "..", "data", "linux-packetdrill",
                       "close--close-local-close-then-remote-fin.pcap")
    text, js = [], []
    assert judge_capture(cap, "linux", (), "192.168.0.1", None, False, False, 4096, text.append, engine="python") == 0
    assert judge_capture(cap, "linux", (), "192.168.0.1", None, False, True, 4096, js.append, engine="python") == 0
    line = ("options recorded and ignored: SACK-permitted (both ends), timestamps (sent by the IUT); not modelled "
            "(RFC 2018 2; RFC 7323: RTTM, PAWS but the option paws's duplicate ACK)")
    assert text[1] == "    " + line
    assert json.loads(js[0])["ignored"] == line
    # a capture whose segments carry none of them: no line, an empty field
    plain, pj = [], []
    bare = _plain(cap, tmp_path / "bare.pcap")
    judge_capture(bare, "linux", (), "192.168.0.1", None, False, False, 4096, plain.append,
                  engine="python")
    judge_capture(bare, "linux", (), "192.168.0.1", None, False, True, 4096, pj.append, engine="python")
    assert not any("ignored" in ln for ln in plain) and json.loads(pj[0])["ignored"] == ""


def _plain(cap, path):
    """`cap` with every TCP option replaced by NOPs (the same segments, nothing left to ignore)."""
    import dpkt
    with open(cap, "rb") as fh, open(path, "wb") as out:
        r = dpkt.pcap.Reader(fh)
        w = dpkt.pcap.Writer(out, linktype=r.datalink())
        for ts, buf in r:
            i = buf.find(b"\x45", 0, 24)
            b = bytearray(buf)
            ihl = (b[i] & 15) * 4
            if b[i + 9] == 6:
                t = i + ihl
                hl = (b[t + 12] >> 4) * 4
                b[t + 20:t + hl] = b"\x01" * (hl - 20)
            w.writepkt(bytes(b), ts=ts)
    return str(path)


def test_an_icmp_error_goes_to_the_end_whose_segment_it_quotes(monkeypatch):
    """Linux's packetdrill test fastopen/server/icmp-before-accept: two ICMP errors quote the kernel's
    SYN,ACK (the first with a SEQ 5000 past it): both are events of the kernel's end, in capture
    order between its segments, and of no other end (RFC 9293 3.9.2.2, MUST-54). They go to a
    monitor that takes ICMP (Monitor.takes_icmp; here one that records what it is fed), and to none
    that does not."""
    import os

    from synack.oracle.capture import read_capture
    from synack.oracle.events import IcmpEvent
    from synack.oracle.judge import CaptureJudge
    from synack.oracle.monitor import Monitor
    from synack.spec import get_profile
    fed = []
    feed = Monitor.feed
    monkeypatch.setattr(Monitor, "takes_icmp", True, raising=False)
    monkeypatch.setattr(Monitor, "feed", lambda self, ev: fed.append((self.role, ev)) if isinstance(
        ev, IcmpEvent) else feed(self, ev))
    cap = os.path.join(os.path.dirname(__file__), "..", "data", "linux-packetdrill",
                       "fastopen--server--icmp-before-accept.pcap")
    cj = CaptureJudge(get_profile("linux"), None, keep_events=True)
    for p in read_capture(cap):
        list(cj.feed(p))
    list(cj.close())
    (c,) = cj.released
    kernel = [e for end, evs in c.events.items() if end[0] == "192.168.0.1" for e in evs]
    peer = [e for end, evs in c.events.items() if end[0] != "192.168.0.1" for e in evs]
    icmps = [e for e in kernel if isinstance(e, IcmpEvent)]
    synack = next(e for e in kernel if getattr(e, "dir", "") == "out")
    assert [(e.type, e.code, (e.seq - synack.seg.seq) & 0xFFFFFFFF) for e in icmps] == [(3, 0, 5000), (3, 1, 0)]
    assert kernel.index(icmps[0]) == 2 and not any(isinstance(e, IcmpEvent) for e in peer)
    assert [(role, ev) for role, ev in fed] == [("IUT 192.168.0.1:8080", e) for e in icmps]
    monkeypatch.setattr(Monitor, "takes_icmp", False, raising=False)
    cj = CaptureJudge(get_profile("linux"), None, keep_events=True)
    for p in read_capture(cap):
        list(cj.feed(p))
    list(cj.close())
    assert not any(isinstance(e, IcmpEvent) for evs in cj.released[0].events.values() for e in evs)


def test_a_json_lines_trace_names_the_options_no_rule_read(tmp_path):
    """The same line for a JSON Lines trace (its segments' "sack_ok", "ts", "other" fields) as for
    the capture it was converted from, through `synack oracle` and through `synack.oracle.source.judge`;
    none for a trace whose segments carry none."""
    import glob
    import os

    from click.testing import CliRunner

    from synack.cli import main
    from synack.oracle.source import judge

    cap = os.path.join(os.path.dirname(__file__), "..", "data", "linux-packetdrill",
                       "close--close-local-close-then-remote-fin.pcap")
    out = CliRunner().invoke(main, ["trace", cap, "--to-jsonl", "--iut", "192.168.0.1", "-o", str(tmp_path)])
    assert out.exit_code == 0, out.output
    (trace,) = glob.glob(str(tmp_path / "*.jsonl"))
    line = ("options recorded and ignored: SACK-permitted (both ends), timestamps (sent by the IUT); not modelled "
            "(RFC 2018 2; RFC 7323: RTTM, PAWS but the option paws's duplicate ACK)")
    res = CliRunner().invoke(main, ["oracle", trace, "-p", "linux"])
    assert res.exit_code == 0 and line in [x.strip() for x in res.output.splitlines()], res.output
    assert judge(trace, "linux").ignored == line
    bare = tmp_path / "bare.jsonl"
    rows = [json.loads(x) for x in open(trace)]
    for r in rows:
        for k in ("sack_ok", "ts", "other"):
            r.pop(k, None)
    bare.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert judge(str(bare), "linux").ignored == ""
