"""The monitor on hand-written traces: hidden steps, learning ISNs, timing, errors."""
import pytest

from synack.oracle import Monitor, ReferenceEndpoint, TraceError
from synack.oracle.events import event_from_json, parse_jsonl
from synack.spec import Segment, SpecError, State, get_profile


def s(d, flags, seq, ack=None, n=0, t=None, win=None):
    ev = {"dir": d, "flags": flags, "seq": seq}
    if ack is not None:
        ev["ack"] = ack
    if n:
        ev["len"] = n
    if t is not None:
        ev["t"] = t
    if win is not None:
        ev["win"] = win
    return ev


CLIENT = [s("out", "SYN", 1000), s("in", "SYN,ACK", 5000, 1001), s("out", "ACK", 1001, 5001),
          s("out", "ACK,PSH", 1001, 5001, 10), s("in", "ACK", 5001, 1011), s("out", "FIN,ACK", 1011, 5001),
          s("in", "FIN,ACK", 5001, 1012), s("out", "ACK", 1012, 5002)]


def test_client_close_conformant_and_learns_hidden_calls():
    v = Monitor("rfc9293").check(CLIENT)
    assert v.ok and v.max_candidates >= 1 and "conformant" in str(v).lower()


def test_server_isn_is_learned_from_its_syn_ack():
    tr = [s("in", "SYN", 7), s("out", "SYN,ACK", 123456, 8), s("in", "ACK", 8, 123457)]
    assert Monitor("linux").check(tr).ok


def test_violation_names_event_states_rows():
    tr = [s("in", "SYN", 7), s("out", "ACK", 99, 8)]
    v = Monitor("rfc9293").check(tr)
    assert v.status == "violation" and v.index == 2 and "IUT sends <ACK seq=99 ack=8>" in v.event
    assert any(r.startswith("listen.syn [RFC 9293 3.10.7.2]") for r in v.rows)
    assert any("SYN-RECEIVED" in st for st in v.states)
    d = v.to_json()
    assert d["status"] == "violation" and d["index"] == 2 and v.exit_code == 1


def test_unfinished_trace_is_inconclusive():
    v = Monitor("rfc9293").check(CLIENT[:6])          # our FIN was never acknowledged
    assert v.status == "inconclusive" and "FIN" in v.message and v.exit_code == 3


def test_data_and_fin_in_one_segment():
    tr = CLIENT[:3] + [s("out", "FIN,ACK,PSH", 1001, 5001, 5), s("in", "ACK", 5001, 1007)]
    assert Monitor("rfc9293").check(tr).ok


def test_retransmission_may_be_repacketized():
    tr = CLIENT[:3] + [s("out", "ACK", 1001, 5001, 100), s("out", "ACK", 1101, 5001, 100),
                       s("out", "ACK", 1001, 5001, 100), s("in", "ACK", 5001, 1201)]
    assert Monitor("rfc9293").check(tr).ok
    bad = tr[:5] + [s("out", "ACK", 1150, 5001, 100)]  # beyond what was sent
    assert Monitor("rfc9293").check(bad).status == "violation"


def test_syn_ack_backoff_is_timed():
    """Retransmission k of a SYN,ACK waits at least rto_initial * 2^(k-1) (less the tolerance)."""
    head = [s("in", "SYN", 7, t=0.0), s("out", "SYN,ACK", 50, 8, t=0.0), s("out", "SYN,ACK", 50, 8, t=1.0)]
    assert Monitor("linux").check(head + [s("out", "SYN,ACK", 50, 8, t=3.0)]).status == "inconclusive"
    v = Monitor("linux").check(head + [s("out", "SYN,ACK", 50, 8, t=1.5)])
    assert v.status == "violation" and v.index == 4


def test_time_wait_may_not_end_early():
    """Linux holds TIME-WAIT 60 s and no user call reaches it: a segment answered as by CLOSED
    1 s after entering it is wrong. RFC 9293 lets the user ABORT in TIME-WAIT (3.10.5)."""
    close = CLIENT[:6] + [s("in", "ACK", 5001, 1012, t=0.5), s("in", "FIN,ACK", 5001, 1012, t=1.0),
                          s("out", "ACK", 1012, 5002, t=1.0)]
    early = close + [s("in", "ACK", 5002, 1012, t=2.0), s("out", "RST", 1012, t=2.0)]
    late = close + [s("in", "ACK", 5002, 1012, t=80.0), s("out", "RST", 1012, t=80.0)]
    assert Monitor("linux").check(early).status == "violation"
    assert Monitor("linux").check(late).ok
    assert Monitor("rfc9293").check(early).ok


def _keepalive_trace(probe_times, giveup=None):
    """A client handshake at t=0 (last segment received at t=0), then keep-alive probes
    (SEQ = SND.NXT - 1) at the given times, nobody answering, then optionally Linux's RST."""
    tr = [s("out", "SYN", 1000, t=0.0), s("in", "SYN,ACK", 5000, 1001, t=0.0, win=1000),
          s("out", "ACK", 1001, 5001, t=0.0)]
    tr += [s("out", "ACK", 1000, 5001, t=x) for x in probe_times]
    if giveup is not None:
        tr.append(s("out", "RST,ACK", 1001, 5001, t=giveup))
    return tr


KA = {"ka_idle": 10.0, "ka_interval": 10.0, "KA.PROBES": 2}  # tolerance 0.25: bounds 7.5, 15, 22.5 s


@pytest.mark.parametrize("probes, giveup, status", [
    ((10.0,), None, "conformant"),
    ((4.0,), None, "violation"),                 # before the idle period (RFC 9293 3.8.4, MUST-26)
    ((10.0, 20.0), None, "conformant"),
    ((10.0, 12.0), None, "violation"),           # the second probe before ka_idle + ka_interval
    ((10.0, 20.0), 30.0, "conformant"),          # Linux gives up with RST after KA.PROBES probes
    ((10.0, 20.0), 21.0, "violation"),           # too soon after the last probe (calls logged: no ABORT)
])
def test_keepalive_probes_are_timed(probes, giveup, status):
    prof = get_profile("linux").with_params(**KA)
    trace = [{"call": "connect", "result": "ok"}] + _keepalive_trace(probes, giveup)
    v = Monitor(prof, calls_logged=True).check(trace)
    assert v.status == status, str(v)
    if status == "violation":
        assert v.index == len(trace)


def test_keepalive_idle_counts_from_the_last_segment_received():
    prof = get_profile("linux").with_params(**KA)
    tr = _keepalive_trace(()) + [s("in", "ACK", 5001, 1001, 5, t=8.0, win=1000), s("out", "ACK", 1001, 5006, t=8.0)]
    assert Monitor(prof).check(tr + [s("out", "ACK", 1000, 5006, t=18.0)]).ok
    assert Monitor(prof).check(tr + [s("out", "ACK", 1000, 5006, t=12.0)]).status == "violation"


def test_a_timed_keepalive_is_not_excused_by_an_untimed_trace_of_the_same_shape():
    """The memo must not carry a probe accepted without times into a timed trace."""
    prof = get_profile("linux").with_params(**KA)
    untimed = [{k: v for k, v in e.items() if k != "t"} for e in _keepalive_trace((4.0,))]
    assert Monitor(prof).check(untimed).ok
    assert Monitor(prof).check(_keepalive_trace((4.0,))).status == "violation"


def test_orphaned_fin_wait_2_may_not_end_before_fin_timeout():
    """Linux drops an orphaned FIN-WAIT-2 after tcp_fin_timeout (60 s): a FIN answered as by
    CLOSED 5 s after our FIN was acknowledged is too early."""
    head = CLIENT[:3] + [s("out", "FIN,ACK", 1001, 5001, t=1.0), s("in", "ACK", 5001, 1002, t=1.0)]
    late = head + [s("in", "FIN,ACK", 5001, 1002, t=70.0), s("out", "RST", 1002, t=70.0)]
    early = head + [s("in", "FIN,ACK", 5001, 1002, t=6.0), s("out", "RST", 1002, t=6.0)]
    assert Monitor("linux").check(late).ok
    v = Monitor("linux").check(early)
    assert v.status == "violation" and v.index == len(early)
    assert Monitor("linux").check([{k: v for k, v in e.items() if k != "t"} for e in early]).ok


def test_window_is_learned_from_the_iut():
    tr = CLIENT[:2] + [s("out", "ACK", 1001, 5001, win=100), s("in", "ACK", 5001 + 200, 1001, 10),
                       s("out", "ACK", 1001, 5001)]
    assert Monitor("rfc9293").check(tr).ok                 # out of window: a duplicate ACK


def test_calls_and_states_are_checked():
    tr = [{"call": "listen", "result": "ok"}, {"state": "LISTEN"}, s("in", "SYN", 7),
          s("out", "SYN,ACK", 50, 8), {"state": "SYN_RCVD"}]
    assert Monitor("rfc9293").check(tr).status == "inconclusive"
    bad = tr[:1] + [{"state": "ESTABLISHED"}]
    assert Monitor("rfc9293").check(bad).status == "violation"
    err = [{"call": "send", "n": 5, "result": "ok"}]          # SEND on CLOSED fails
    assert Monitor("rfc9293").check(err).status == "violation"


def test_candidate_bound():
    v = Monitor("linux", max_candidates=1).check(CLIENT)
    assert v.status == "inconclusive" and "max_candidates" in v.message


@pytest.mark.parametrize("obj,msg", [
    ({"dir": "sideways", "flags": "SYN", "seq": 1}, "'dir'"),
    ({"dir": "out", "seq": 1}, "missing required field 'flags'"),
    ({"dir": "out", "flags": "SYN"}, "missing required field 'seq'"),
    ({"dir": "out", "flags": "ACK", "seq": 1}, "missing required field 'ack'"),
    ({"dir": "out", "flags": "SYN", "seq": -1}, "'seq'"),
    ({"dir": "out", "flags": "SYN,BOGUS", "seq": 1}, "BOGUS"),
    ({"call": "dance"}, "unknown call"),
    ({"state": "SLEEPING"}, "unknown state"),
    ({"hello": 1}, "not an event"),
])
def test_malformed_events_name_the_problem(obj, msg):
    with pytest.raises(TraceError, match=msg):
        event_from_json(obj, "t.jsonl:3")


def test_jsonl_errors_name_the_line():
    with pytest.raises(TraceError, match="t.jsonl:2: not valid JSON"):
        list(parse_jsonl(['{"dir":"out","flags":"SYN","seq":1}', "{oops"], "t.jsonl"))
    with pytest.raises(TraceError, match="version 9"):
        list(parse_jsonl(['{"synack_trace": 9}'], "t.jsonl"))


def test_bad_monitor_arguments():
    with pytest.raises(SpecError, match="unknown profile"):
        Monitor("bsd")
    with pytest.raises(SpecError, match="start"):
        Monitor("rfc9293", start="middle")


def test_reference_endpoint_drives_a_handshake_the_monitor_accepts():
    a, b = ReferenceEndpoint("rfc9293", isn=100), ReferenceEndpoint("rfc9293", isn=900)
    b.call("listen")
    trace = []
    for seg in a.call("connect"):
        trace.append({"dir": "out", "flags": "SYN", "seq": seg.seq})
        for r in b.receive(seg):
            trace.append({"dir": "in", "flags": "SYN,ACK", "seq": r.seq, "ack": r.ack})
            for r2 in a.receive(r):
                trace.append({"dir": "out", "flags": "ACK", "seq": r2.seq, "ack": r2.ack})
                b.receive(r2)
    assert a.state is State.ESTABLISHED and b.state is State.ESTABLISHED and "established" in a.signals
    assert Monitor("rfc9293").check(trace).ok
    assert not a.armed("RTO") and a.timeout("RTO") == []
    with pytest.raises(SpecError):
        a.receive("not a segment")
    assert isinstance(a.call("send", n=3)[0], Segment)


def test_schema_lists_every_event_field_the_reader_accepts():
    import json
    import os
    from synack.spec import CALLS
    path = os.path.join(os.path.dirname(__file__), "..", "..", "oracle", "trace.schema.json")
    schema = json.load(open(path))
    seg, callev = schema["oneOf"][1], schema["oneOf"][2]
    assert set(seg["required"]) == {"dir", "flags", "seq"}
    assert set(callev["properties"]["call"]["enum"]) == {c.lower() for c in CALLS}
    for field in ("ack", "len", "win", "wscale", "mss", "ts", "t"):
        assert field in seg["properties"]


@pytest.mark.parametrize("result,status", [("ok", "conformant"), ("error", "violation")])
def test_abort_returns_normally_only_queued_calls_see_the_reset(result, status):
    """RFC 9293 3.10.5: ABORT itself returns; queued SENDs and RECEIVEs get 'connection reset'."""
    tr = [{"call": "connect", "result": "ok"}] + CLIENT[:3] + [{"call": "abort", "result": result},
                                                               s("out", "RST", 1001)]
    v = Monitor("rfc9293", calls_logged=True).check(tr)
    assert v.status == status, str(v)
    if status == "violation":
        assert v.index == 5 and "connection reset" in " ".join(v.allowed)


def test_calls_logged_and_nearest_allowed_segment():
    """With every call logged a SYN needs a logged connect; a wrong ACK of a FIN is reported
    beside the owed ACK it should have been, citing the FIN row."""
    assert Monitor("rfc9293", calls_logged=True).check([{"call": "listen", "result": "ok"},
                                                        s("out", "SYN", 1)]).status == "violation"
    tr = [s("in", "SYN", 7), s("out", "SYN,ACK", 100, 8), s("in", "ACK", 8, 101), s("in", "FIN,ACK", 8, 101),
          s("out", "ACK", 101, 8)]
    v = Monitor("rfc9293").check(tr)
    assert v.status == "violation" and v.index == 5
    assert "nearest allowed: <ACK seq=101 ack=9>" in v.message and v.rows[0].startswith("fin.est ")


def test_a_fin_that_crossed_an_incoming_fin_at_the_capture_point_is_conformant():
    """Captured at the IUT, the peer's FIN is seen before the IUT's own FIN, which was sent
    before the stack processed it (ACK field one short); a FIN acknowledging too much is not."""
    def s(d, flags, seq, ack):
        return {"dir": d, "flags": flags, "seq": seq, "ack": ack}
    head = [s("out", "SYN", 100, 0), s("in", "SYN,ACK", 300, 101), s("out", "ACK", 101, 301),
            s("in", "FIN,ACK", 301, 101)]
    tail = [s("in", "ACK", 302, 102), s("out", "ACK", 102, 302)]
    for p in ("rfc9293", "linux"):
        assert Monitor(p).check(head + [s("out", "FIN,ACK", 101, 301)] + tail).status == "conformant"
        assert Monitor(p).check(head + [s("out", "FIN,ACK", 101, 303)] + tail).status == "violation"


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
def test_a_window_update_that_crossed_a_burst_of_incoming_data_is_conformant(profile):
    """On loopback the reader's window update can leave while two data segments are still on
    their way up the stack: captured at the IUT, its ACK trails both (a live 8 MB transfer
    showed it). It may cross the incoming segments since the IUT's previous segment, and no
    earlier ones."""
    head = CLIENT[:3] + [s("in", "ACK", 5001, 1001, 1000), s("in", "ACK", 6001, 1001, 1000),
                         s("out", "ACK", 1001, 7001)]
    burst = [s("in", "ACK", 7001, 1001, 1000), s("in", "ACK", 8001, 1001, 1000)]
    update = s("out", "ACK", 1001, 7001, win=9000)
    v = Monitor(profile).check(head + burst + [update, s("out", "ACK", 1001, 9001)])
    assert v.ok, str(v)
    # the IUT's own ACK of 8001 came between: the update cannot have crossed the first segment
    between = head + burst[:1] + [s("out", "ACK", 1001, 8001)] + burst[1:] + [update]
    assert Monitor(profile).check(between).status == "violation"


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
def test_several_segments_the_iut_sent_before_its_stack_processed_a_burst(profile):
    """A client writing a large buffer sends two data segments back to back while the server's
    reply is still on its way up the stack: both carry the ACK from before it (a real 500-
    connection loopback capture showed it). Its own segments keep their order: once one has
    acknowledged the reply, a later one cannot go back."""
    head = CLIENT[:3] + [s("in", "ACK", 5001, 1001, 40), s("out", "ACK", 1001, 5041, 5000),
                         s("in", "ACK", 5041, 6001), s("in", "ACK", 5041, 6001, 1707)]
    stale = [s("out", "ACK", 6001, 5041, 3000), s("out", "ACK", 9001, 5041, 3000)]
    v = Monitor(profile).check(head + stale + [s("out", "ACK", 12001, 6748), s("in", "ACK", 6748, 12001)])
    assert v.ok, str(v)
    back = head + [s("out", "ACK", 6001, 6748, 3000), s("out", "ACK", 9001, 5041, 3000)]
    assert Monitor(profile).check(back).status == "violation"


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
def test_the_iut_may_repeat_its_last_pure_ack_but_not_an_older_one(profile):
    """A window update the stack sent before it processed the data captured since repeats its
    previous ACK (a live 8 MB loopback transfer did): both were sent before the segment up to
    7001 was processed, though the second has no incoming segment between it and the first.
    An ACK going back after 7001 was acknowledged is still a violation."""
    head = CLIENT[:3] + [s("in", "ACK", 5001, 1001, 1000), s("in", "ACK", 6001, 1001, 1000),
                         s("out", "ACK", 1001, 6001)]
    again = s("out", "ACK", 1001, 6001, win=4000)
    assert Monitor(profile).check(head + [again, s("out", "ACK", 1001, 7001)]).ok
    older = head + [s("out", "ACK", 1001, 7001), again]
    assert Monitor(profile).check(older).status == "violation"


def _burst(k=12, size=1000):
    """A handshake, then the peer sends k data segments back to back before the IUT ACKs."""
    tr = CLIENT[:3]
    seq = 5001
    for _ in range(k):
        tr.append(s("in", "ACK", seq, 1001, size))
        seq += size
    return tr, seq


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
def test_acks_trailing_a_burst_are_explained_and_the_candidates_stay_few(profile):
    """A receiver may ACK any of the burst's segment boundaries, late and in increasing order
    (RFC 1122 4.2.3.2); which ones a candidate still owes is merged, so the set stays small.
    It grew by a factor of two per segment before (a live bulk transfer reached 5,035)."""
    tr, end = _burst()
    ok = tr + [s("out", "ACK", 1001, 5001 + 3000), s("out", "ACK", 1001, 5001 + 9000), s("out", "ACK", 1001, end)]
    v = Monitor(profile).check(ok)
    assert v.ok, str(v)
    assert v.max_candidates <= 8
    # a boundary no segment ended on, or an ACK going backwards, is still a violation
    assert Monitor(profile).check(tr + [s("out", "ACK", 1001, 5001 + 2500)]).status == "violation"
    back = tr + [s("out", "ACK", 1001, 5001 + 9000), s("out", "ACK", 1001, 5001 + 3000)]
    assert Monitor(profile).check(back).status == "violation"


def test_a_fin_and_its_retransmission_each_get_an_ack_when_both_came_first():
    """Linux ACKs a FIN and, at once, its retransmission in CLOSE-WAIT (text.dup.lx.closing); when
    both FINs are captured before either ACK, the merged candidate still owes two identical ACKs
    (a kit run on the real clock met this). A third ACK is explained by nothing."""
    head = [s("in", "SYN", 5000), s("out", "SYN,ACK", 1000, 5001), s("in", "ACK", 5001, 1001),
            s("in", "FIN,ACK", 5001, 1001), s("in", "FIN,ACK", 5001, 1001)]
    two = head + [s("out", "ACK", 1001, 5002), s("out", "ACK", 1001, 5002)]
    v = Monitor("linux").check(two)
    assert v.ok, str(v)
    v = Monitor("linux").check(two + [s("out", "ACK", 1001, 5002)])
    assert v.status == "violation" and v.index == 8, str(v)


def test_a_cut_trace_may_ack_data_received_before_it_began():
    """start="any" on a received segment: ACKs up to that segment's SEQ (data the IUT received
    before the capture began) are explained; an ACK beyond what was received is not."""
    first = s("in", "ACK", 90000, 1001, 1000)
    early = [first, s("out", "ACK", 1001, 88000), s("out", "ACK", 1001, 90000), s("out", "ACK", 1001, 91000)]
    assert Monitor("linux", start="any").check(early).ok
    assert Monitor("linux", start="any").check([first, s("out", "ACK", 1001, 92000)]).status == "violation"


@pytest.mark.parametrize("result,status", [("error: connection does not exist", "conformant"),
                                           ("error: ENOTCONN", "conformant"),
                                           ("error: whatever the harness printed", "conformant"),
                                           ("error: connection reset", "violation"),
                                           ("error: ECONNRESET", "violation")])
def test_call_errors_are_compared_by_name(result, status):
    """RFC 9293 3.10.2: SEND on CLOSED is 'connection does not exist'. A harness that logs the
    error's name (or its errno) is held to it; an unknown text is compared as error only."""
    v = Monitor("rfc9293").check([{"call": "send", "n": 5, "result": result}])
    assert v.status == status, str(v)


@pytest.mark.parametrize("profile,params,status", [("linux", {}, "inconclusive"),
                                                   ("linux", {"SYN.LINEAR": 0}, "violation"),
                                                   ("rfc9293", {}, "violation")])
def test_linux_syn_retransmissions_are_linear_at_first(profile, params, status):
    """Linux 6.17+ (tcp_syn_linear_timeouts = 4) resends a SYN 1 s apart five times before it
    backs off: SYNs at 0, 1, 2, 3 s with the connect() logged are Linux's, not RFC 6298 5.5's."""
    from synack.spec import get_profile
    tr = [{"call": "connect", "result": "ok", "t": 0.0}] + [s("out", "SYN", 1000, t=float(k)) for k in range(4)]
    v = Monitor(get_profile(profile).with_params(**params), calls_logged=True).check(tr)
    assert v.status == status, str(v)


# --- a TFO client whose CONNECT the trace does not log (RFC 7413 3; Linux tcp_send_syn_data()) ---

TFO_HIDDEN = [s("out", "SYN", 100, n=20), s("in", "SYN,ACK", 300, 121), s("out", "ACK", 121, 301),
              s("out", "ACK", 121, 301, n=10), s("in", "ACK", 301, 131)]


def test_a_tfo_syn_with_data_is_explained_by_a_hidden_connect_carrying_it():
    """The hidden CONNECT carries exactly the data the SYN shows: conformant under linux (tfo),
    a violation where no row sends data on a SYN (rfc9293)."""
    assert Monitor("linux").check(TFO_HIDDEN).status == "conformant"
    assert Monitor("rfc9293+tfo").check(TFO_HIDDEN).status == "conformant"
    assert Monitor("rfc9293").check(TFO_HIDDEN).status == "violation"


def test_a_hidden_tfo_connect_carries_no_more_than_the_syn_shows():
    """Just outside: the SYN,ACK acknowledges one byte more than the SYN carried (data the hidden
    CONNECT would have had to send beyond the SYN): the IUT's ACK of it is a violation."""
    over = [s("out", "SYN", 100, n=20), s("in", "SYN,ACK", 300, 122), s("out", "ACK", 122, 301)]
    assert Monitor("linux").check(over).status == "violation"
