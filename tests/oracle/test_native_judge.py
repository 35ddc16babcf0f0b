"""The native judge (oracle/native.py, _judge.c) judges exactly as the Python judge: the same
lines, verdicts, reports and counts on every kind of capture, cold or with the memo warm,
when the monitors' memo is cleared under it, with few live connections allowed, with an IUT
filter, mid-connection starts, several processes; and the same errors for broken files."""
import json
import struct

import dpkt
import pytest

from synack.oracle import TraceError, judge as judge_mod, monitor, native, stepcache
from synack.oracle.judge import judge_capture
from synack.oracle.reference import reference_capture
from synack.oracle.inputs import open_source
from synack.spec import get_profile
from synack.spec.model import ACK, FIN, SYN

from test_capture import LINK, write  # noqa: E402 (tests/oracle is on sys.path under pytest)

pytestmark = pytest.mark.skipif(native.library() is None, reason="no C compiler to build the native judge")


def _run(path, engine, *, cold=True, as_json=True, iut=None, start=None, jobs=1, profile="linux"):
    """(exit code, lines less the summary, the summary without its timing) of one judging."""
    if cold:
        monitor._SHARED.clear()
    out = []
    code = judge_capture(str(path), profile, (), iut, start, False, as_json, 4096, out.append, jobs=jobs,
                         engine=engine)
    at = next(i for i, ln in enumerate(out) if ln.startswith(('{"summary"', "summary:")))
    lines = out[:at] + out[at + 1:]
    if as_json:
        summary = json.loads(out[at])["summary"]
        assert summary.pop("engine") == engine
        work = summary.pop("native", None)
        assert (work is not None) == (engine == "native")
        if work:
            _run.work = work
        summary.pop("seconds"), summary.pop("segments_per_second")
        return code, lines, summary
    return code, lines, out[at].rsplit(";", 1)[0]


def _agree(path, **kw):
    """Both engines, each cold; then native again with the memo the Python run left."""
    py = _run(path, "python", **kw)
    assert _run(path, "native", **kw) == py
    assert _run(path, "native", cold=False, **kw) == py
    return py


def _tamper(kind):
    """Plant violations in every seventh connection: a wrong ACK, a dropped segment, a SYN on
    an established connection, a FIN with a wrong sequence number."""
    def t(conn, k, seg):
        if conn % 7 != 3 or k != 4 + conn % 5:
            return seg
        if kind == "ack" and seg.flags & ACK:
            return seg._replace(ack=(seg.ack + 1) & 0xFFFFFFFF)
        if kind == "drop":
            return None
        if kind == "syn":
            return seg._replace(flags=seg.flags | SYN)
        if kind == "fin":
            return seg._replace(flags=seg.flags | FIN, seq=(seg.seq + 3) & 0xFFFFFFFF)
        return seg
    return t


@pytest.mark.parametrize("sizes", ["same", "varied"])
@pytest.mark.parametrize("kind", [None, "ack", "drop", "syn", "fin"])
def test_reference_captures_with_planted_violations(tmp_path, sizes, kind):
    cap = tmp_path / "c.pcap"
    reference_capture(str(cap), 1500, sizes=sizes, tamper=_tamper(kind) if kind else None)
    code, lines, summary = _agree(cap)
    assert summary["connections"] > 20 and code == (0 if kind is None else 1)
    # C took most steps of a capture whose connections differ only by ISNs, ports and times
    w = _run.work
    if sizes == "same":
        assert w["fast_steps"] > 5 * w["python_steps"] and w["released"] == summary["connections"]
    if kind:
        assert summary["violation"] > 0
    # the text reports too
    assert _run(cap, "native", as_json=False) == _run(cap, "python", as_json=False)


@pytest.mark.parametrize("link", sorted(LINK))
@pytest.mark.parametrize("v6", [False, True])
@pytest.mark.parametrize("nano", [False, True])
def test_every_link_type_both_ip_versions_and_stamp_precisions(tmp_path, link, v6, nano):
    cap = tmp_path / "c.pcap"
    junk = [b"\x00" * 12 + struct.pack("!H", 0x0806) + b"\x00" * 28,     # ARP
            b"\x00" * 12 + struct.pack("!H", 0x0800) + b"\x45\x00\x00",  # a cut IPv4 header
            b"\x00" * 3]
    write(cap, link, v6, "pcap", nano, extra=junk if link == "eth" else ())
    code, lines, summary = _agree(cap)
    assert summary["connections"] == 1 and len(lines) == 2 and code == 0
    if link == "eth":
        assert (summary["non_tcp"], summary["malformed"]) == (1, 2)


def test_a_memo_cleared_under_the_native_judge_changes_nothing(tmp_path, monkeypatch):
    cap = tmp_path / "c.pcap"
    reference_capture(str(cap), 3000, sizes="varied", tamper=_tamper("ack"))
    whole = _run(cap, "python")
    monkeypatch.setattr(stepcache, "MEMO_MAX", 300)    # cleared every few connections
    assert _run(cap, "native") == whole
    assert _run(cap, "python") == whole


def test_an_iut_filter_and_mid_connection_starts(tmp_path):
    cap = tmp_path / "c.pcap"
    reference_capture(str(cap), 1200, sizes="varied", tamper=_tamper("syn"))
    _agree(cap)
    code, lines, summary = _agree(cap, iut="10.1.0.2:80")
    assert summary["judged"] == summary["connections"]
    for engine in ("python", "native"):      # nothing to judge is bad input (issue 20)
        with pytest.raises(TraceError, match="nothing to judge: no TCP connection with an endpoint matching"):
            _run(cap, engine, iut="10.9.9.9")
    _agree(cap, start="any")


def test_the_same_verdicts_in_several_processes(tmp_path):
    cap = tmp_path / "c.pcap"
    reference_capture(str(cap), 1500, sizes="varied", tamper=_tamper("drop"))
    code, lines, summary = _run(cap, "python")
    code2, lines2, summary2 = _run(cap, "native", jobs=2)
    assert code2 == code and sorted(lines2) == sorted(lines)
    assert summary2["segments"] == summary["segments"] and summary2["connections"] == summary["connections"]
    # each process judges a share of the connections
    prof = get_profile("linux")
    with open_source(str(cap)) as src:
        shares = [judge_mod._judge(src, prof, None, None, 4096, True, False, None, k, 2, "native") for k in range(2)]
    assert all(t.engine == "native" and t.connections > 5 for t in shares)
    assert sum(t.segments for t in shares) == summary["segments"]
    assert sum(t.connections for t in shares) == summary["connections"]


def test_reused_four_tuples_and_a_self_connection(tmp_path):
    cap = tmp_path / "c.pcap"
    reference_capture(str(tmp_path / "a.pcap"), 1, per_conn_data=1)
    reference_capture(str(tmp_path / "b.pcap"), 1, per_conn_data=1, t0=1.0e9 + 1000)
    with open(cap, "wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=1)
        for src, later in (("a", 0), ("b", 0), ("a", 4000)):      # one 4-tuple, three incarnations
            with open(tmp_path / f"{src}.pcap", "rb") as f:
                for ts, buf in dpkt.pcap.Reader(f):
                    w.writepkt(buf, ts=ts + later)
        # a socket connected to itself: one end, every segment its own
        me = b"\x0a\x00\x00\x07"
        for i, (flags, seq, ack) in enumerate([(SYN, 500, 0), (SYN | ACK, 500, 501), (ACK, 501, 501)]):
            tcp = dpkt.tcp.TCP(sport=5555, dport=5555, seq=seq, ack=ack, flags=flags, win=1000)
            ip = dpkt.ip.IP(src=me, dst=me, p=6, data=tcp)
            ip.len = 20 + len(bytes(tcp))
            w.writepkt(b"\x00" * 12 + struct.pack("!H", 0x0800) + bytes(ip), ts=1.0e9 + 5000 + i)
    code, lines, summary = _agree(cap)
    assert summary["connections"] == 4 and summary["judged"] == 7


@pytest.mark.parametrize("cut", [5, 30, 60])       # short data twice, a short record header
def test_a_truncated_file_is_the_same_error(tmp_path, cut):
    cap = tmp_path / "c.pcap"
    reference_capture(str(cap), 40, per_conn_data=1)
    data = cap.read_bytes()
    cap.write_bytes(data[:-cut])
    errors = []
    for engine in ("python", "native"):
        with pytest.raises(TraceError) as e:
            _run(cap, engine)
        errors.append(str(e.value))
    assert errors[0] == errors[1] and "truncated pcap" in errors[0]


def test_pcapng_is_judged_by_python_unless_native_is_demanded(tmp_path):
    cap = tmp_path / "c.pcapng"
    write(cap, "eth", False, "pcapng")
    out = []
    judge_capture(str(cap), "linux", (), None, None, True, True, 4096, out.append)
    assert json.loads(out[-1])["summary"]["engine"] == "python"
    with pytest.raises(native.NativeUnavailable, match="classic pcap"):
        judge_capture(str(cap), "linux", (), None, None, True, True, 4096, out.append, engine="native")


def test_without_a_compiler_auto_uses_python_and_native_says_why(tmp_path, monkeypatch):
    cap = tmp_path / "c.pcap"
    write(cap)
    monkeypatch.setattr(native, "_lib", None)
    out = []
    judge_capture(str(cap), "linux", (), None, None, True, True, 4096, out.append)
    assert json.loads(out[-1])["summary"]["engine"] == "python"
    with pytest.raises(native.NativeUnavailable, match="C compiler"):
        judge_capture(str(cap), "linux", (), None, None, True, True, 4096, out.append, engine="native")


@pytest.mark.parametrize("change", ["offset3", "ihl3", "frag_first", "frag_later", "total", "short_tcp"])
def test_frames_that_cannot_be_judged_make_the_same_unjudgeable_verdicts(tmp_path, change):
    """Malformed frames and fragments: the same connections unjudgeable, the same frame named."""
    from test_judge import _rewrite
    ref = tmp_path / "r.pcap"
    reference_capture(str(ref), 300, sizes="varied", tamper=_tamper("ack"))

    def edit(i, buf):
        if i not in (9, 60):
            return buf
        if change == "offset3":
            return buf[:46] + bytes([0x30]) + buf[47:]
        if change == "ihl3":
            return buf[:14] + bytes([0x43]) + buf[15:]
        if change.startswith("frag"):
            return buf[:20] + struct.pack("!H", 0x2000 if change == "frag_first" else 0x0008) + buf[22:]
        if change == "total":
            return buf[:16] + struct.pack("!H", 1500) + buf[18:]
        return buf[:14 + 20 + 10]
    cap = tmp_path / "m.pcap"
    _rewrite(ref, cap, edit)
    code, lines, summary = _agree(cap)
    assert summary["unjudgeable"] >= 2 and code in (1, 3)
    assert _run(cap, "native", jobs=2)[0] == code


def test_link_type_fields_are_read_alike(tmp_path):
    """Was: 0x80000001 judged by the native engine (masked), rejected by Python."""
    from test_capture import eth_tcp, pcap_records
    f = eth_tcp(flags=0x02)
    pcap_records(tmp_path / "l.pcap", [(1.0, f, len(f))], field=0x80000001)
    assert _agree(tmp_path / "l.pcap")[0] == 3
    pcap_records(tmp_path / "r.pcap", [(1.0, f, len(f))], field=0x00010001)
    for engine in ("python", "native"):
        with pytest.raises(TraceError, match="r.pcap: the link-type field 0x00010001 has reserved bits set"):
            _run(tmp_path / "r.pcap", engine)


def test_both_engines_check_the_retransmission_deadline(tmp_path):
    """Three connections whose client's data is never acknowledged; the last one's duplicate ACK
    comes 200 s later (past rto_max x 1.25 + lag): the native judge hands that segment to Python,
    and both engines name the owed retransmission (the retry limits given, as a harness that knows
    its host gives them)."""
    import dpkt
    from synack.oracle.monitor import LEARNABLE

    cap = tmp_path / "rto.pcap"
    a, b = b"\x0a\0\0\x01", b"\x0a\0\0\x02"
    with open(cap, "wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=1)
        t = 100.0
        for k in range(3):
            port = 40001 + k
            segs = [(0, 0x02, 1000, 0, 0), (1, 0x12, 5000, 1001, 0), (0, 0x10, 1001, 5001, 0), (0, 0x18, 1001, 5001, 10)]
            segs.append((1, 0x10, 5001, 1001, 0))
            for i, (d, flags, seq, ack, n) in enumerate(segs):
                t += 200.0 if (k == 2 and i == 4) else 0.001
                tcp = dpkt.tcp.TCP(sport=port if d == 0 else 80, dport=80 if d == 0 else port, seq=seq, ack=ack,
                                   flags=flags, win=65535, off=5, data=b"x" * n)
                ip = dpkt.ip.IP(src=a if d == 0 else b, dst=b if d == 0 else a, p=6, ttl=64, data=tcp)
                ip.len = 20 + len(bytes(tcp))
                w.writepkt(bytes(dpkt.ethernet.Ethernet(src=b"\0" * 6, dst=b"\0" * 6, type=0x0800, data=ip)), ts=t)
    runs = []
    for engine in ("python", "native", "native"):
        if engine == "python" or len(runs) == 1:
            monitor._SHARED.clear()
        out = []
        code = judge_capture(str(cap), "linux", (), None, None, False, True, 4096, out.append, engine=engine,
                             given=tuple(LEARNABLE))
        runs.append((code, [ln for ln in out if not ln.startswith('{"summary"')]))
    assert runs[0] == runs[1] == runs[2]
    code, lines = runs[0]
    assert code == 1
    clients = [v for v in (json.loads(ln) for ln in lines) if v["iut"].startswith("10.0.0.1")]
    # the first two at the capture's end (its last frame), the third at the late segment, which the
    # native judge would otherwise have taken in C by the step the first two taught its memo
    assert [v["status"] for v in clients] == ["violation"] * 3, lines
    assert all("retransmission <ACK seq=1001 ack=5001 len=10" in v["message"] for v in clients), lines
