"""The real kernel, judged: each scenario runs on this machine's Linux stack in a network
namespace of its own, captured by AF_PACKET; the `linux` profile must judge both ends of
every connection conformant, and every single mutation of an end's trace a violation."""
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from netns import can_unshare, run_in_netns  # noqa: E402
from scenarios import CLIENT, SCENARIOS, SERVER, SYSCTLS  # noqa: E402

from synack.oracle import Monitor  # noqa: E402
from synack.oracle.capture import CaptureStats, read_capture  # noqa: E402
from synack.oracle.generate import missed_mutations  # noqa: E402
from synack.oracle.monitor import LEARNABLE  # noqa: E402
from synack.oracle.judge import CaptureJudge  # noqa: E402
from synack.spec import SYN, get_profile  # noqa: E402
from synack.spec.machine import machine  # noqa: E402
from synack.spec.midstream import midstream_tcbs  # noqa: E402

pytestmark = pytest.mark.skipif(bool(can_unshare()), reason=can_unshare() or "-")

#: Profile parameters given per scenario: none. The namespaces are tuned (sysctls, socket
#: options) and the oracle is not told: it learns the values (oracle/monitor.py LEARNABLE).
PARAMS: dict = {}
#: Ends that are a real endpoint (the silent address is nobody).
IUT = {"syn_to_silent_address": "10.250.0.1"}


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    """name -> [(pcap, IUT host or None for both ends)]: a scenario on one loopback writes one
    capture; one over the relay writes a capture per host, judged with that host as IUT."""
    d = tmp_path_factory.mktemp("live")
    out = {}
    for name, fn in SCENARIOS.items():
        path = str(d / f"{name}.pcap")
        made = run_in_netns(fn, path, sysctls=SYSCTLS.get(name), timeout=60)
        out[name] = made or [(path, IUT.get(name))]
    return out


def judged(name, caps, profile="linux"):
    """Judge every capture of a scenario; the judges (with their events) and all results."""
    prof = get_profile(profile).with_params(**PARAMS.get(name, {}))
    judges, results = [], []
    for path, iut in caps:
        judge = CaptureJudge(prof, (iut, None) if iut else None, keep_events=True)
        stats = CaptureStats()
        for p in read_capture(path, stats):
            results += list(judge.feed(p))
        results += list(judge.close(stats.last_t))      # the capture went on to its last frame
        judges.append(judge)
    return judges, results


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_linux_profile_judges_live_capture_conformant(captures, name):
    _, results = judged(name, captures[name])
    assert results, f"{name}: no TCP connection captured"
    for r in results:
        assert r.verdict.status == "conformant", f"{name} {r.conn} IUT {r.iut}:\n{r.verdict}"
    if name == "many_connections":
        assert len(results) == 40


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_mutation_of_a_live_capture_is_rejected(captures, name):
    judges, _ = judged(name, captures[name])
    prof = get_profile("linux").with_params(**PARAMS.get(name, {}))
    rng = random.Random(name)
    tried = 0
    for conn in (c for j in judges for c in j.released):
        for end, events in conn.events.items():
            start = "closed" if events[0].seg.flags & 0x02 else "any"
            n, missed = missed_mutations(events, prof, rng, start=start, learn=LEARNABLE)
            assert not missed, f"{name}: " + "\n".join(missed)
            tried += n
    assert tried > 0


def test_live_captures_cut_mid_connection_stay_conformant(captures):
    """A capture that begins mid-connection: cut each end's trace at every segment where the
    TCB the monitor tracked from the start is one of the mid-connection starts (spec/midstream.py);
    the `linux` profile must judge the rest no violation."""
    cuts = 0
    for name in sorted(SCENARIOS):
        cuts += _cuts(name, captures[name])
    assert cuts > 100


def _cuts(name, caps) -> int:
    judges, _ = judged(name, caps)
    prof = get_profile("linux").with_params(**PARAMS.get(name, {}))
    m = machine(prof)
    cuts = 0
    for conn in (c for j in judges for c in j.released):
        for end, events in conn.events.items():
            mon = Monitor(prof, learn=LEARNABLE)
            eligible = []
            for k, ev in enumerate(events):
                before = {_start_key(c.ep) for c in mon.cands}
                mon.feed(ev)
                if ev.seg.flags & 0x02:
                    continue
                tracked = before if ev.dir == "in" else {_start_key(c.ep) for c in mon.cands}
                if tracked & {_start_key(e) for e in midstream_tcbs(m, ev.dir, ev.seg)}:
                    eligible.append(k)
            # every cut of a short trace; of a bulk transfer's hundreds, MAX_CUTS spread evenly.
            # Each is judged over a window after it: a cut's start shows within it (a trace cut
            # short is inconclusive, never a violation)
            for k in eligible[::-(-len(eligible) // MAX_CUTS) or 1]:
                v = Monitor(prof, start="any", learn=LEARNABLE).check(events[k:k + CUT_WINDOW])
                assert v.status != "violation", f"{name} {conn.name()} {end} cut at {k}:\n{v}"
                cuts += 1
    return cuts


#: Events judged after each cut, and cuts judged per trace.
CUT_WINDOW, MAX_CUTS = 40, 30


def _start_key(ep):
    return (ep.state, ep.snd_una, ep.snd_nxt, ep.rcv_nxt, ep.fin_sent, ep.orphan, ep.unread, ep.rtx)


def test_rfc9293_is_stricter_than_linux_on_abort(captures):
    """Linux's abortive RST carries an ACK (tcp_send_active_reset); RFC 9293 3.10.5 sends
    <SEQ=SND.NXT><CTL=RST>: the strict profile rejects what the linux profile accepts."""
    _, results = judged("linger_zero_abort", captures["linger_zero_abort"], "rfc9293")
    bad = [r for r in results if r.verdict.status == "violation"]
    assert bad and "RST,ACK" in bad[0].verdict.event


def test_lost_final_ack_refutes_no_time_wait(captures):
    """The real kernel ACKs the retransmitted FIN from TIME-WAIT; without TIME-WAIT the client
    would be CLOSED and could only answer with RST: the variant is refuted by a real capture,
    at the re-ACK, citing the CLOSED row."""
    client = [c for c in captures["lost_final_ack"] if c[1] == CLIENT]
    _, results = judged("lost_final_ack", client, "linux+no-time-wait")
    (r,) = results
    v = r.verdict
    assert v.status == "violation" and v.rows and v.rows[0].startswith("closed."), str(v)
    assert v.event.startswith("IUT sends <ACK"), str(v)


def test_linux_reopens_time_wait_by_its_row_and_only_by_it(captures):
    """The server's TIME-WAIT takes the client's new SYN (the judge splits the 4-tuple into two
    incarnations; here the server's end is judged as one run): the linux monitor explains the
    SYN by `timewait.reopen` alone, with the kernel's ISS = old SND.NXT + 65537, and the same
    profile without `time-wait-reopen` cannot explain the SYN,ACK."""
    from dataclasses import replace

    judges, _ = judged("time_wait_reopen", captures["time_wait_reopen"])
    conns = judges[0].released
    assert len(conns) == 2
    server = next(end for end in conns[0].events if end[1] == 5000)
    events = [ev for c in conns for ev in c.events[server]]
    syn = next(k for k, ev in enumerate(events) if k and ev.dir == "in" and ev.seg.flags == SYN)
    linux = get_profile("linux")
    mon = Monitor(linux, role="server")
    for k, ev in enumerate(events):
        mon.feed(ev)
        if k == syn:
            assert set(mon.cands.values()) == {"timewait.reopen"}
    assert mon.verdict().status == "conformant", str(mon.verdict())
    strict = Monitor(replace(linux, options=linux.options - {"time-wait-reopen"}), role="server")
    for ev in events:
        strict.feed(ev)
    v = strict.verdict()
    assert v.status == "violation" and v.event.startswith("IUT sends <SYN,ACK"), str(v)


def _frames(path):
    """A capture's frames, whether its stamps are in nanoseconds, and which frames are TCP."""
    import dpkt

    with open(path, "rb") as fh:
        rd = dpkt.pcap.Reader(fh)
        frames, nano = list(rd), rd._divisor != 1e6
    tcp = [i for i, (_, buf) in enumerate(frames)
           if isinstance(getattr(dpkt.ethernet.Ethernet(buf).data, "data", None), dpkt.tcp.TCP)]
    return frames, nano, tcp


def _rewrite(path, out, k, how):
    """Copy a capture with its k-th frame's ACK number one higher, or without that frame."""
    import dpkt

    frames, nano, _ = _frames(path)
    with open(out, "wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=1, nano=nano)
        for i, (ts, buf) in enumerate(frames):
            if i == k:
                if how == "drop":
                    continue
                eth = dpkt.ethernet.Ethernet(buf)
                eth.data.data.ack = (eth.data.data.ack + 1) & 0xFFFFFFFF
                buf = bytes(eth)
            w.writepkt(buf, ts=ts)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_native_and_python_judges_agree_on_live_captures(captures, name, tmp_path):
    """The native judge (oracle/native.py) gives the Python judge's lines on every real
    capture, and on copies of it with one ACK number wrong or one segment dropped."""
    import json

    from synack.oracle import monitor
    from synack.oracle.judge import judge_capture

    prof = get_profile("linux").with_params(**PARAMS.get(name, {}))
    rng = random.Random(name)
    for n, (path, iut) in enumerate(captures[name]):
        tcp = _frames(path)[2]
        variants = [path]
        for how in ("ack", "drop"):
            for k in rng.sample(tcp, min(2, len(tcp))):
                variants.append(str(tmp_path / f"{n}-{how}-{k}.pcap"))
                _rewrite(path, variants[-1], k, how)
        for cap in variants:
            got = []
            for engine in ("python", "native"):
                monitor._SHARED.clear()
                out = []
                code = judge_capture(cap, prof, (), iut, None, False, True, 4096, out.append, engine=engine)
                s = json.loads(out[-1])["summary"]
                assert s.pop("engine") == engine
                for k in ("seconds", "segments_per_second", "native"):
                    s.pop(k, None)
                got.append((code, out[:-1], s))
            assert got[0] == got[1], f"{name} {cap}"


# --- the observation model on real captures (oracle/observation.py) ------------------------------
from synack.oracle.judge import judge_capture  # noqa: E402

#: Tuned hosts and what the oracle must learn from each capture without being told.
TUNED = {"keepalive_idle": "ka_idle", "syn_to_silent_address": "SYN.GIVEUP", "fin_timeout_lowered": "fin_timeout"}


@pytest.mark.parametrize("name", sorted(TUNED))
def test_tuned_hosts_are_judged_conformant_with_what_was_learned(captures, name):
    """Socket options and sysctls nobody told the oracle: conformant, the value learned and
    printed; judged with the profile's defaults taken as facts, the same capture is not."""
    _, results = judged(name, captures[name])
    assert all(r.verdict.status in ("conformant", "silent") for r in results), [str(r.verdict) for r in results]
    learned = [x for r in results for x in r.verdict.learned]
    assert any(x.startswith(TUNED[name]) for x in learned), learned
    prof = get_profile("linux")
    strict = []
    for path, iut in captures[name]:
        judge = CaptureJudge(prof, (iut, None) if iut else None, given=tuple(LEARNABLE))
        stats = CaptureStats()
        for p in read_capture(path, stats):
            strict += list(judge.feed(p))
        strict += list(judge.close(stats.last_t))
    assert any(r.verdict.status != "conformant" for r in strict), [str(r.verdict) for r in strict]


@pytest.mark.parametrize("name", ["lost_final_ack", "lost_handshake_ack", "keepalive_silent_peer"])
def test_far_end_behind_a_lossy_wire_is_conformant(captures, name):
    """Each host's capture over the lossy relay, with both ends judged: the host is near, its
    peer far (the relay dropped segments between the capture point and the peer)."""
    for path, host in captures[name]:
        out = []
        code = judge_capture(path, get_profile("linux"), (), None, None, False, True, 4096, out.append,
                             engine="python", vantage=host)
        import json
        lines = [json.loads(x) for x in out[:-1]]
        assert code == 0 and len(lines) == 2, out
        far = [x for x in lines if not x["iut"].startswith(host + ":")]
        assert far and far[0]["status"] == "conformant" and far[0]["vantage"].startswith("far"), far


def test_the_same_loss_judged_at_a_near_end_is_a_violation(captures):
    """The client's capture of lost_final_ack judged as if taken at the server (--vantage
    SERVER): the server's retransmitted FIN after an ACK the capture holds is its violation.
    Without --vantage the server's replies (over the relay, ten times slower than the client's)
    show it is far, and the loss is not its violation."""
    (path, _), = [c for c in captures["lost_final_ack"] if c[1] == CLIENT]
    import json
    # near: not conformant (a violation, or inconclusive when the retransmission came within
    # the processing lag of the ACK, so the capture cannot tell it from lag)
    # without --vantage: never a violation (far once a violation shows its replies are slow;
    # inconclusive when the lag already explained the retransmission)
    for vantage, status in ((SERVER, ("violation", "inconclusive")), (None, ("conformant", "inconclusive"))):
        out = []
        judge_capture(path, get_profile("linux"), (), None, None, False, True, 4096, out.append, engine="python",
                      vantage=vantage)
        server = [json.loads(x) for x in out[:-1] if json.loads(x)["iut"].startswith(SERVER + ":")]
        assert server[0]["status"] in status, out


def test_an_address_that_never_answered_is_silent_not_inconclusive(captures):
    (path, _), = captures["syn_to_silent_address"]
    out = []
    code = judge_capture(path, get_profile("linux"), (), None, None, False, True, 4096, out.append)
    import json
    statuses = sorted(json.loads(x)["status"] for x in out[:-1])
    assert code == 0 and statuses == ["conformant", "silent"], out
