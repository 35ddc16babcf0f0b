"""The observation model (oracle/observation.py): every latitude is declared with a bound and
a reason, and a trace just outside each bound is a violation; the three cases the issue
found too lenient are violations at the first evidence."""
import pytest

from synack.oracle import Monitor
from synack.oracle.observation import BY_NAME, GSO_MAX, LATITUDES, MAX_CROSSED, OBSERVATION_PARAMS, table
from synack.spec import SpecError, get_profile

LAG = OBSERVATION_PARAMS["lag"].default
DELACK = get_profile("linux").params["delack_max"]


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


def test_every_latitude_has_a_bound_a_reason_and_tests_on_both_sides():
    for lat in LATITUDES:
        assert lat.bound and lat.reason and lat.needed_by and lat.outside, lat.name
        assert lat.param in ("", "tolerance", "delack_max", "rto_max") or lat.param in OBSERVATION_PARAMS, lat.name
    assert "processing-lag" in table() and "| delayed-ack |" in table()


def test_every_test_a_latitude_names_exists():
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parents[2]
    for lat in LATITUDES:
        for ref in lat.needed_by + lat.outside:
            m = re.match(r"(tests/\S+?\.py)(?:::(\w+))?", ref)
            assert m, ref
            text = (root / m.group(1)).read_text()
            assert m.group(2) is None or f"def {m.group(2)}(" in text, ref


def test_the_monitor_reads_its_bounds_from_the_model():
    m = Monitor("linux", observation={"lag": 0.02})
    assert m.lag == 0.02 and m._dl_ack == pytest.approx(DELACK + 0.02)
    with pytest.raises(SpecError, match="lag must be within"):
        Monitor("linux", observation={"lag": 5})


# --- TIME-WAIT: a FIN retransmitted into it must be re-ACKed within the delayed-ACK bound --------
def _time_wait(reacks):
    """The client closes first and reaches TIME-WAIT; its last ACK is lost, so the server
    retransmits its FIN five times over about seven seconds. `reacks`: the client's delay in
    answering each retransmission (None: it never does)."""
    tr = [s("out", "SYN", 1000, t=0.0), s("in", "SYN,ACK", 5000, 1001, t=0.001), s("out", "ACK", 1001, 5001, t=0.001),
          s("out", "FIN,ACK", 1001, 5001, t=0.01), s("in", "ACK", 5001, 1002, t=0.011),
          s("in", "FIN,ACK", 5001, 1002, t=0.02), s("out", "ACK", 1002, 5002, t=0.0201)]
    for k, at in enumerate((0.22, 0.62, 1.42, 3.02, 6.22)):
        tr.append(s("in", "FIN,ACK", 5001, 1002, t=at))
        if reacks is not None:
            tr.append(s("out", "ACK", 1002, 5002, t=at + reacks))
    return tr


def test_time_wait_that_never_reacks_a_fin_is_a_violation():
    assert Monitor("linux").check(_time_wait(0.0001)).ok
    v = Monitor("linux").check(_time_wait(None))
    assert v.status == "violation" and v.index == 10, str(v)       # the third FIN: 1.2 s after the first
    assert "owed since t=0.220000" in v.message and "<ACK seq=1002 ack=5002>" in v.message, str(v)


def test_owed_ack_later_than_its_deadline_is_a_violation():
    """Just inside the bound (delack_max + lag) and just outside it."""
    bound = DELACK + LAG
    assert Monitor("linux").check(_time_wait(bound - 0.01)).ok
    v = Monitor("linux").check(_time_wait(bound + 0.01))
    assert v.status == "violation" and v.index == 9 and "IUT sends <ACK" in v.event, str(v)


def test_a_capture_that_goes_on_past_a_deadline_ends_in_a_violation():
    tr = _time_wait(None)[:8]
    assert Monitor("linux").check(tr).ok                           # the deadline has not passed
    mon = Monitor("linux")
    for ev in tr:
        mon.feed(__import__("synack.oracle.events", fromlist=["x"]).event_from_json(ev))
    assert mon.verdict(end=0.22 + DELACK + LAG - 0.01).ok
    v = mon.verdict(end=0.22 + DELACK + LAG + 0.01)
    assert v.status == "violation" and "nothing came" in v.message and "delack_max + lag" in v.message, str(v)


def test_no_deadline_at_a_far_capture_point():
    """What a far end sent in time may have been lost before the capture point."""
    assert Monitor("linux", vantage="far").check(_time_wait(None)).ok


# --- CLOSE-WAIT: an exact RST ends the connection; data half a second later is not lag ----------
def _close_wait(gap):
    return [s("in", "SYN", 5000, t=0.0), s("out", "SYN,ACK", 1000, 5001, t=0.0001), s("in", "ACK", 5001, 1001, t=0.001),
            s("in", "FIN,ACK", 5001, 1001, t=0.1), s("out", "ACK", 1001, 5002, t=0.1001),
            s("in", "RST,ACK", 5002, 1001, t=0.2), s("out", "ACK,PSH", 1001, 5002, 100, t=0.2 + gap)]


def test_close_wait_that_ignores_rst_is_a_violation():
    assert Monitor("linux").check(_close_wait(0.0001)).ok          # sent before the stack saw the RST
    v = Monitor("linux").check(_close_wait(0.5))
    assert v.status == "violation" and v.index == 7, str(v)


def test_crossing_older_than_the_lag_is_a_violation():
    assert Monitor("linux").check(_close_wait(LAG - 0.001)).ok
    assert Monitor("linux").check(_close_wait(LAG + 0.001)).status == "violation"


def test_crossing_more_than_max_crossed_is_a_violation():
    """A window update whose ACK trails MAX_CROSSED incoming data segments is lag; one more
    is not."""
    def trace(k):
        tr = [s("out", "SYN", 1000, t=0.0), s("in", "SYN,ACK", 5000, 1001, t=0.001),
              s("out", "ACK", 1001, 5001, t=0.001), s("in", "ACK", 5001, 1001, 100, t=0.005),
              s("out", "ACK", 1001, 5101, t=0.006)]
        seq = 5101
        for i in range(k):
            tr.append(s("in", "ACK", seq, 1001, 100, t=0.01 + i * 0.0001))
            seq += 100
        return tr + [s("out", "ACK", 1001, 5101, t=0.02, win=9000), s("out", "ACK", 1001, seq, t=0.021)]
    assert Monitor("linux").check(trace(MAX_CROSSED)).ok
    assert Monitor("linux").check(trace(MAX_CROSSED + 1)).status == "violation"


# --- SYN-RECEIVED: an acceptable ACK establishes; a SYN,ACK retransmitted a second later is wrong
def test_syn_received_ignoring_an_ack_is_reported_at_once():
    tr = [s("in", "SYN", 5000, t=0.0), s("out", "SYN,ACK", 1000, 5001, t=0.0001), s("in", "ACK", 5001, 1001, t=0.001),
          s("out", "SYN,ACK", 1000, 5001, t=1.0), s("in", "ACK", 5001, 1001, t=1.001),
          s("out", "SYN,ACK", 1000, 5001, t=3.0)]
    v = Monitor("linux").check(tr)
    assert v.status == "violation" and v.index == 4, str(v)


def test_a_reply_is_due_within_the_lag():
    """A SYN in LISTEN owes a SYN,ACK: at a near capture point it is due within the lag."""
    def tr(gap):
        return [s("in", "SYN", 5000, t=0.0), s("out", "SYN,ACK", 1000, 5001, t=gap),
                s("in", "ACK", 5001, 1001, t=gap + 0.001)]
    assert Monitor("linux").check(tr(LAG - 0.001)).ok
    v = Monitor("linux").check(tr(LAG + 0.001))
    assert v.status == "violation" and v.index == 2, str(v)


def test_flags_other_than_psh_are_compared():
    """With every call logged, a FIN needs a logged close: only PSH may differ."""
    head = [{"call": "connect", "result": "ok"}, s("out", "SYN", 1000), s("in", "SYN,ACK", 5000, 1001)]
    assert Monitor("linux", calls_logged=True).check(head + [s("out", "ACK,PSH", 1001, 5001)]).ok
    assert Monitor("linux", calls_logged=True).check(head + [s("out", "FIN,ACK", 1001, 5001)]).status == "violation"


def test_windows_are_not_a_latitude_for_other_fields():
    head = [s("out", "SYN", 1000), s("in", "SYN,ACK", 5000, 1001)]
    assert Monitor("linux").check(head + [s("out", "ACK", 1001, 5001, win=1)]).ok
    assert Monitor("linux").check(head + [s("out", "ACK", 1001, 5002, win=65535)]).status == "violation"


def test_retransmission_beyond_the_range_is_a_violation():
    head = [s("out", "SYN", 1000), s("in", "SYN,ACK", 5000, 1001), s("out", "ACK", 1001, 5001),
            s("out", "ACK", 1001, 5001, 100)]
    done = [s("in", "ACK", 5001, 1101)]
    assert Monitor("rfc9293").check(head + [s("out", "ACK", 1051, 5001, 50)] + done).ok
    assert Monitor("rfc9293").check(head + [s("out", "ACK", 1051, 5001, 51)] + done).status == "violation"


def test_latitude_names_are_unique():
    assert len(BY_NAME) == len(LATITUDES)


# --- far capture point: a loss is not the far end's violation ------------------------------------
def _lost_last_ack():
    """The server (IUT) closes; the client's ACK of its FIN is captured but lost before the
    server, which retransmits the FIN; the client re-ACKs."""
    return [s("in", "SYN", 5000, t=0.0), s("out", "SYN,ACK", 1000, 5001, t=0.0001), s("in", "ACK", 5001, 1001, t=0.001),
            s("in", "FIN,ACK", 5001, 1001, t=0.01), s("out", "ACK", 1001, 5002, t=0.0101),
            s("out", "FIN,ACK", 1001, 5002, t=0.02), s("in", "ACK", 5002, 1002, t=0.021),
            s("out", "FIN,ACK", 1001, 5002, t=0.3), s("in", "ACK", 5002, 1002, t=0.301)]


def test_a_loss_after_the_capture_point_is_not_a_far_ends_violation():
    assert Monitor("linux", vantage="far").check(_lost_last_ack()).ok


def test_the_same_loss_at_a_near_end_is_a_violation():
    v = Monitor("linux").check(_lost_last_ack())
    assert v.status == "violation" and v.index == 8, str(v)


def test_data_lost_before_a_far_capture_point_is_not_a_violation():
    """A gap in the far end's sequence space: its segment before it never reached the capture."""
    tr = [s("out", "SYN", 1000, t=0.0), s("in", "SYN,ACK", 5000, 1001, t=0.05), s("out", "ACK", 1001, 5001, t=0.1),
          s("out", "ACK", 1101, 5001, 100, t=0.11), s("in", "ACK", 5001, 1001, t=0.2),
          s("out", "ACK", 1001, 5001, 100, t=0.4), s("in", "ACK", 5001, 1201, t=0.5)]
    assert Monitor("linux", vantage="far").check(tr).ok
    assert Monitor("linux").check(tr).status == "violation"


# --- silent ends, every violation, headlines -----------------------------------------------------
def test_an_end_that_sent_nothing_is_silent_not_inconclusive():
    tr = [s("in", "SYN", 5000, t=0.0), s("in", "SYN", 5000, t=1.0), s("in", "SYN", 5000, t=3.0)]
    v = Monitor("linux").check(tr)
    assert v.status == "silent" and v.exit_code == 0 and v.ok and "sent nothing" in str(v)


def test_every_violation_is_reported_up_to_the_cap():
    """Two wrong ACK numbers in one connection: the second is found after resynchronising."""
    tr = [s("out", "SYN", 1000), s("in", "SYN,ACK", 5000, 1001), s("out", "ACK", 1001, 5002),
          s("out", "ACK", 1001, 5001), s("in", "ACK", 5001, 1001, 10), s("out", "ACK", 1001, 5099),
          s("out", "ACK", 1001, 5011)]
    one = Monitor("linux").check(tr)
    assert one.status == "violation" and one.index == 3 and one.violations == 1
    many = Monitor("linux", max_violations=10).check(tr)
    assert many.status == "violation" and many.violations == 2 and many.more[0].index == 6, str(many)
    d = many.to_json()
    assert d["violations"] == 2 and d["more"][0]["index"] == 6 and d["more"][0]["headline"]


def test_the_headline_names_the_rule_that_should_have_applied():
    """A SYN in SYN-SENT must be answered with SYN,ACK (RFC 9293 3.10.7.3), not acknowledged."""
    tr = [s("out", "SYN", 1000, t=0.0), s("in", "SYN", 5000, t=0.01), s("out", "ACK", 1001, 5001, t=0.02)]
    v = Monitor("rfc9293").check(tr)
    assert v.headline.startswith("in SYN-SENT the spec required <SYN,ACK seq=1000 ack=5001>"), v.headline
    assert "(synsent.syn, RFC 9293 3.10.7.3)" in v.headline and v.rows[0].startswith("synsent.syn")
    assert all(a.split(" (")[0] != "<ACK seq=1001 ack=5001>" for a in v.allowed), v.allowed


# --- configuration learned, not assumed ----------------------------------------------------------
def _keepalive(first, second=None):
    tr = [s("out", "SYN", 1000, t=0.0), s("in", "SYN,ACK", 5000, 1001, t=0.0, win=1000),
          s("out", "ACK", 1001, 5001, t=0.0), s("out", "ACK", 1000, 5001, t=first),
          s("in", "ACK", 5001, 1001, t=first + 0.001, win=1000)]
    return tr + ([s("out", "ACK", 1000, 5001, t=first + 0.001 + second)] if second is not None else [])


def test_keepalive_idle_is_learned_within_its_legal_range():
    assert Monitor("linux").check(_keepalive(2.0)).status == "violation"     # the default 7200 s as a fact
    v = Monitor("linux", learn=["ka_idle"]).check(_keepalive(2.0))
    assert v.ok and v.learned and v.learned[0].startswith("ka_idle 2.0 s") and "TCP_KEEPIDLE=2" in v.learned[0]
    # below the legal range (TCP_KEEPIDLE >= 1 s, less the tolerance): no value explains it
    assert Monitor("linux", learn=["ka_idle"]).check(_keepalive(0.5)).status == "violation"


def test_a_given_parameter_is_not_learned():
    prof = get_profile("linux").with_params(ka_idle=10)
    assert Monitor(prof, learn=[]).check(_keepalive(2.0)).status == "violation"


def test_a_retry_limit_above_the_default_is_learned_not_a_violation():
    """RFC 1122 4.2.3.5 bounds R2 from below: a stack retransmitting data more often than the
    profile's default count (gVisor 8, libslirp 12 against rfc9293's 7) is configured so, not
    wrong; given the default as a fact (--param), the extra retransmission is a violation."""
    from synack.oracle import Monitor
    from synack.oracle.monitor import LEARNABLE
    tr = [{"call": "connect", "result": "ok", "t": 0.0}, {"dir": "out", "flags": "SYN", "seq": 100, "t": 0.0},
          {"dir": "in", "flags": "SYN,ACK", "seq": 500, "ack": 101, "t": 0.01},
          {"dir": "out", "flags": "ACK", "seq": 101, "ack": 501, "t": 0.02},
          {"call": "send", "n": 10, "result": "ok", "t": 0.03},
          {"dir": "out", "flags": "ACK", "seq": 101, "ack": 501, "len": 10, "t": 0.03}]
    t = 0.03
    for k in range(9):
        t += min(2.0 ** k, 120.0)
        tr.append({"dir": "out", "flags": "ACK", "seq": 101, "ack": 501, "len": 10, "t": t})
    v = Monitor("rfc9293", calls_logged=True, learn=LEARNABLE).check(tr)
    assert v.status != "violation" and any("DATA.RETRIES at least 8" in x for x in v.learned), str(v)
    given = Monitor("rfc9293", calls_logged=True, learn=()).check(tr)
    assert given.status == "violation", str(given)


# --- segmentation offload: a capture on the sender's host sees TSO/GSO segments whole ----------
OFFLOAD = {"offload": 1}


def _super(n, win=65535, ws=7):
    """The client's handshake (the server announces MSS 1000 and window scale `ws`), then one
    captured segment of n bytes from the client, acknowledged whole."""
    syn = dict(s("out", "SYN", 1000, t=0.0, win=65535), mss=1460, wscale=ws)
    synack = dict(s("in", "SYN,ACK", 5000, 1001, t=0.001, win=win), mss=1000, wscale=ws)
    return [syn, synack, s("out", "ACK", 1001, 5001, t=0.002), s("out", "ACK", 1001, 5001, n, t=0.003),
            s("in", "ACK", 5001, 1001 + n, t=0.004)]


def test_a_tso_super_segment_is_several_segments_at_a_near_host():
    """packetdrill's eor/no-coalesce-large shape: 10,000 bytes in one frame over an MSS of 1000."""
    assert Monitor("linux", observation=OFFLOAD).check(_super(10000)).status == "conformant"
    assert Monitor("linux", observation=OFFLOAD).check(_super(GSO_MAX)).status == "conformant"


def test_a_super_segment_without_offload_is_a_violation():
    """The default (a trace a stack or the kit wrote; a capture on the wire): one byte over the MSS."""
    assert Monitor("linux").check(_super(1001)).status == "violation"
    assert Monitor("linux", observation=OFFLOAD, vantage="far").check(_super(1001)).status == "violation"


def test_a_super_segment_past_the_window_is_a_violation():
    """The pieces stay within the peer's window: 3000 bytes into a window of 2000 (no scaling)."""
    assert Monitor("linux", observation=OFFLOAD).check(_super(2000, win=2000, ws=0)).status == "conformant"
    assert Monitor("linux", observation=OFFLOAD).check(_super(3000, win=2000, ws=0)).status == "violation"


def test_a_super_segment_above_gso_max_is_a_violation():
    assert Monitor("linux", observation=OFFLOAD).check(_super(GSO_MAX + 1)).status == "violation"


# --- a required retransmission within the RTO upper bound (RFC 6298 5.5; Linux tcp_rto_max()) ---
RTO_GAP = get_profile("linux").params["rto_max"] * (1 + get_profile("linux").params["tolerance"]) + LAG


def _unacked(gap, data=True):
    """The client sends 10 bytes at t=1.03 (or, with data=False, only its SYN at t=0) and
    nothing acknowledges them; `gap` seconds after its last segment a duplicate segment from the
    peer shows the capture was still running."""
    if not data:                  # the connect logged: no hidden CLOSE or ABORT ended SYN-SENT silently
        return [{"call": "connect", "result": "ok", "t": 0.0}, s("out", "SYN", 100, t=0.0),
                s("in", "RST,ACK", 0, 101, t=gap)]
    return [s("out", "SYN", 100, t=1.0), s("in", "SYN,ACK", 500, 101, t=1.01), s("out", "ACK", 101, 501, t=1.02),
            s("out", "ACK", 101, 501, 10, t=1.03), s("in", "ACK", 501, 101, t=1.03 + gap)]


def test_a_retransmission_owed_past_the_rto_bound_is_a_violation():
    v = Monitor("linux").check(_unacked(RTO_GAP + 0.01))
    assert v.status == "violation" and v.index == 5, str(v)
    assert "retransmission <ACK seq=101 ack=501 len=10>" in v.message and "since t=1.030000" in v.message
    assert "rto_max 120 s" in v.message and "required retransmission" in v.headline


def test_a_retransmission_owed_within_the_rto_bound_is_not_yet_a_violation():
    assert Monitor("linux").check(_unacked(RTO_GAP - 0.01)).status != "violation"


def test_a_silent_syn_past_the_bound_is_a_violation_even_with_the_retry_limit_unknown():
    """SYN.RETRIES is at least 1 on Linux (TCP_SYNCNT 1..127): a SYN never retransmitted while
    the capture went on is a violation whatever the configuration; DATA.RETRIES may be 0
    (tcp_retries2), so unacknowledged data may legally stop being retransmitted."""
    from synack.oracle.monitor import LEARNABLE
    syn = _unacked(RTO_GAP + 0.01, data=False)
    assert Monitor("linux", learn=LEARNABLE, calls_logged=True).check(syn).status == "violation"
    assert Monitor("linux", calls_logged=True).check(_unacked(RTO_GAP - 0.01, data=False)).status != "violation"
    assert Monitor("linux", learn=LEARNABLE).check(_unacked(RTO_GAP + 0.01)).status != "violation"


def test_no_retransmission_deadline_at_a_far_end_or_without_an_rto_maximum():
    assert Monitor("linux", vantage="far").check(_unacked(RTO_GAP + 0.01)).status != "violation"
    # RFC 6298 2.5 only bounds rto_max from below: under rfc9293 an unknown rto_max has no upper bound
    from synack.oracle.monitor import LEARNABLE
    assert Monitor("rfc9293", learn=LEARNABLE).check(_unacked(10_000.0)).status != "violation"
    assert Monitor("rfc9293").check(_unacked(60 * 1.25 + LAG + 1.0)).status != "violation"


# --- the initial RTO and the user timeout learned, not assumed ----------------------------------
def _early_syn(gap):
    return [{"call": "connect", "result": "ok", "t": 0.0}, s("out", "SYN", 100, t=0.0), s("out", "SYN", 100, t=gap),
            s("in", "SYN,ACK", 500, 101, t=gap + 0.01), s("out", "ACK", 101, 501, t=gap + 0.02)]


def test_a_lower_initial_rto_is_learned_with_its_evidence():
    """A SYN retransmitted 0.2 s after the first (a host whose initial RTO is lowered, e.g. by a
    BPF_SOCK_OPS_TIMEOUT_INIT program): under linux's legal range (TCP_TIMEOUT_INIT may go down
    to a jiffy) it is learned and printed; given as a fact, the default 1 s makes it a violation."""
    from synack.oracle.monitor import LEARNABLE
    v = Monitor("linux", calls_logged=True, learn=LEARNABLE).check(_early_syn(0.2))
    assert v.status == "conformant", str(v)
    assert any(x.startswith("rto_initial below the default") and "0.200 s after" in x for x in v.learned), v.learned
    assert Monitor("linux", calls_logged=True).check(_early_syn(0.2)).status == "violation"


def test_an_initial_rto_below_the_rfc_range_is_still_a_violation():
    """RFC 6298 2.4: an RTO below 1 s SHOULD be rounded up to 1 s (rfc9293's range starts at 1 s)."""
    from synack.oracle.monitor import LEARNABLE
    assert Monitor("rfc9293", calls_logged=True, learn=LEARNABLE).check(_early_syn(0.2)).status == "violation"


def _user_timeout(end):
    """rfc9293 (user timeout 5 minutes by default): data unacknowledged from t=1.03 on, the
    connection ends silently, and at t=`end` the IUT answers the peer's ACK as a closed port."""
    return [{"call": "connect", "result": "ok", "t": 0.0}, s("out", "SYN", 100, t=0.0),
            s("in", "SYN,ACK", 500, 101, t=0.01), s("out", "ACK", 101, 501, t=0.02),
            {"call": "send", "n": 10, "result": "ok", "t": 1.03}, s("out", "ACK", 101, 501, 10, t=1.03),
            s("in", "ACK", 501, 111, t=end), s("out", "RST", 111, t=end + 0.001)]


def test_a_shorter_user_timeout_is_learned_with_its_evidence():
    from synack.oracle.monitor import LEARNABLE
    v = Monitor("rfc9293", calls_logged=True, learn=LEARNABLE).check(_user_timeout(30.0))
    assert v.status == "conformant", str(v)
    assert any(x.startswith("user_timeout at most 30.0 s") for x in v.learned), v.learned
    assert Monitor("rfc9293", calls_logged=True).check(_user_timeout(30.0)).status == "violation"


def test_a_user_timeout_is_learned_under_linux_whose_default_is_none():
    """Linux's TCP_USER_TIMEOUT defaults to 0, none (the row's guard USER.TIMEOUT.ON): a connection
    that ended silently with data unacknowledged is explained by a user timeout it learns; just
    outside, with nothing unacknowledged (the row's other guard), learning explains nothing."""
    from synack.oracle.monitor import LEARNABLE
    for end in (0.5, 30.0):
        v = Monitor("linux", calls_logged=True, learn=LEARNABLE).check(_user_timeout(end))
        assert v.status == "conformant", str(v)
        assert any(x.startswith(f"user_timeout at most {end:.1f} s") and "0 s (none)" in x for x in v.learned), v.learned
        assert Monitor("linux", calls_logged=True).check(_user_timeout(end)).status == "violation"
    idle = _user_timeout(30.0)[:4] + [s("in", "ACK", 501, 101, 5, t=30.0), s("out", "RST", 101, t=30.001)]
    assert Monitor("linux", calls_logged=True, learn=LEARNABLE).check(idle).status == "violation"


def test_the_memo_keeps_offload_apart():
    """Steps memoized with offload on are never reused by a monitor without it."""
    assert Monitor("linux", observation=OFFLOAD).check(_super(3000)).ok
    assert Monitor("linux").check(_super(3000)).status == "violation"
    assert Monitor("linux", observation=OFFLOAD).check(_super(3000)).ok


# --- retransmissions are at most the MSS; Linux's tail loss probe stays conformant ---------------
def _rtx(first, n, offload=False):
    """Three 1000-byte segments (the server's MSS 1000), then a retransmission of `n` bytes from
    sequence number `first`, then the server acknowledges everything."""
    tr = _super(0)[:3] + [s("out", "ACK", 1001 + 1000 * k, 5001, 1000, t=0.003 + 0.001 * k) for k in range(3)]
    return tr + [s("out", "ACK", first, 5001, n, t=0.03), s("in", "ACK", 5001, 4001, t=0.04)]


def test_a_tail_loss_probe_of_the_last_segment_is_conformant():
    """Linux tcp_send_loss_probe(): with no new data, the last segment again, about 2 RTT on."""
    assert Monitor("linux").check(_rtx(3001, 1000)).ok
    assert Monitor("linux").check(_rtx(1001, 1000)).ok          # or the first: an RTO retransmission


def test_a_retransmission_larger_than_the_mss_is_a_violation():
    """RFC 9293 3.7.1: 1001 bytes of the outstanding range in one segment over an MSS of 1000;
    the same capture taken before segmentation offload is two segments (observation model)."""
    v = Monitor("linux").check(_rtx(1001, 1001))
    assert v.status == "violation" and v.index == 7, str(v)
    assert Monitor("linux").check(_rtx(1001, 3000)).status == "violation"
    assert Monitor("linux", observation=OFFLOAD).check(_rtx(1001, 3000)).ok


# --- a retransmission that stops: a legal give-up once the next RTO has run out -----------------
def _blackholed(rtx_times=(0.202, 0.602, 1.402)):
    """The IUT sends 100 bytes right after the handshake and retransmits them at `rtx_times`,
    the RTO doubling (RFC 6298 5.5); nothing answers, and it stops."""
    return [s("out", "SYN", 1000, t=0.0), s("in", "SYN,ACK", 5000, 1001, t=0.001), s("out", "ACK", 1001, 5001, t=0.001),
            s("out", "ACK", 1001, 5001, 100, t=0.002)] + [s("out", "ACK", 1001, 5001, 100, t=x) for x in rtx_times]


def _ended(trace, end, **kw):
    from synack.oracle.events import as_events
    from synack.oracle.monitor import LEARNABLE
    m = Monitor("linux", learn=kw.pop("learn", LEARNABLE), **kw)
    for ev in as_events(trace):
        m.feed(ev)
    return m.verdict(end=end)


def _next_rto_due(last=1.402, t0=0.0):
    """`Monitor._next_rto_by`: twice the time since the trace began, with the tolerance and the lag."""
    tol = get_profile("linux").params["tolerance"]
    return last + 2 * (last - t0) * (1 + tol) + LAG


def test_data_retransmissions_that_stop_are_a_give_up_after_the_next_rto():
    """tcp_retries2 / tcp_orphan_retries / TCP_USER_TIMEOUT nobody gave: the capture went on past
    the latest the next retransmission could have come, so the stack gave up (DATA.RETRIES 3)."""
    v = _ended(_blackholed(), _next_rto_due() + 0.01)
    assert v.status == "conformant" and any(x.startswith("DATA.RETRIES 3") for x in v.learned), str(v)


def test_a_capture_ending_before_the_next_rto_is_inconclusive():
    v = _ended(_blackholed(), _next_rto_due() - 0.01)
    assert v.status == "inconclusive", str(v)


def test_no_give_up_is_learned_without_a_retransmission_or_when_the_limit_was_given():
    assert _ended(_blackholed(()), 1000.0).status == "inconclusive"
    assert _ended(_blackholed(), _next_rto_due() + 0.01, learn=()).status == "inconclusive"


def _far_peer_misses_a_deadline(replies):
    """The IUT's peer sends data the IUT never acknowledges in the capture: at the trace's end
    the owed ACK is overdue. `replies`: the IUT's and its peer's quickest reply."""
    from synack.oracle.events import as_events
    tr = [s("out", "SYN", 1000, t=0.0), s("in", "SYN,ACK", 5000, 1001, t=0.002), s("out", "ACK", 1001, 5001, t=0.00201),
          s("in", "ACK", 5001, 1001, 100, t=0.01)]
    m = Monitor("linux", vantage="auto")
    m.replies = replies
    for ev in as_events(tr):
        m.feed(ev)
    return m.verdict(end=5.0)


def test_a_deadline_missed_at_the_end_by_an_end_whose_replies_show_a_network_is_not_its_violation():
    v = _far_peer_misses_a_deadline((0.002, 0.00001))
    assert v.status != "violation" and v.vantage.startswith("far"), str(v)


def test_the_same_missed_deadline_at_an_end_that_answers_at_once_is_a_violation():
    v = _far_peer_misses_a_deadline((0.00005, 0.00001))
    assert v.status == "violation", str(v)


# --- an option a sysctl sets, learned: net.ipv4.tcp_rfc1337 (monitor.LEARNABLE_OPTIONS) ---------
def _rst_into_time_wait(answer):
    """The IUT closes first and reaches TIME-WAIT; a RST at RCV.NXT arrives, then the peer's FIN
    again; `answer`: the IUT's reply to that FIN."""
    return [s("out", "SYN", 1000, t=0.0), s("in", "SYN,ACK", 5000, 1001, t=0.001), s("out", "ACK", 1001, 5001, t=0.001),
            s("out", "FIN,ACK", 1001, 5001, t=0.01), s("in", "ACK", 5001, 1002, t=0.011),
            s("in", "FIN,ACK", 5001, 1002, t=0.02), s("out", "ACK", 1002, 5002, t=0.0201),
            s("in", "RST", 5002, t=0.1), s("in", "FIN,ACK", 5001, 1002, t=0.2), answer]


def test_a_time_wait_that_ignores_a_rst_teaches_rfc1337():
    """tcp_rfc1337 = 1 (tcp_timewait_state_process()): TIME-WAIT survives the RST and ACKs the FIN."""
    v = _ended(_rst_into_time_wait(s("out", "ACK", 1002, 5002, t=0.2001)), 0.3)
    assert v.status == "conformant" and any(x.startswith("option rfc1337") for x in v.learned), str(v)
    # the default (TIME-WAIT assassinated, the FIN meets no connection) needs nothing learned
    v = _ended(_rst_into_time_wait(s("out", "RST", 1002, t=0.2001)), 0.3)
    assert v.status == "conformant" and not v.learned, str(v)


def test_rfc1337_is_not_learned_without_learning_or_for_a_wrong_ack():
    tr = _rst_into_time_wait(s("out", "ACK", 1002, 5002, t=0.2001))
    assert _ended(tr, 0.3, learn=()).status == "violation"
    assert _ended(_rst_into_time_wait(s("out", "ACK", 1002, 5003, t=0.2001)), 0.3).status == "violation"
    from synack.oracle.monitor import LEARNABLE
    assert Monitor("rfc9293", learn=LEARNABLE).check(tr).status == "violation"


# --- far capture point: segments reordered before it, segments cut after it ----------------------
REORDER = OBSERVATION_PARAMS["reorder"].default


def _held_back(late):
    """The far client acknowledges 100 bytes at 5001, then 100 more at 5101; the capture point
    sees the second ACK first and the first `late` seconds after it (the network held it back):
    no state sends an ACK below RCV.NXT, so only the state before the second explains it."""
    return [s("out", "SYN", 1000, t=0.0), s("in", "SYN,ACK", 5000, 1001, t=0.05), s("out", "ACK", 1001, 5001, t=0.1),
            s("in", "ACK", 5001, 1001, 100, t=0.11), s("in", "ACK", 5101, 1001, 100, t=0.12),
            s("out", "ACK", 1001, 5201, t=0.13), s("out", "ACK", 1001, 5101, t=0.13 + late)]


def test_a_far_ends_segment_held_back_past_a_later_one_is_conformant():
    assert Monitor("linux", vantage="far").check(_held_back(0.01)).ok
    assert Monitor("linux", vantage="far").check(_held_back(REORDER - 0.001)).ok


def test_a_segment_held_back_longer_than_reorder_or_at_a_near_end_is_a_violation():
    assert Monitor("linux", vantage="far").check(_held_back(REORDER + 0.001)).status == "violation"
    assert Monitor("linux", vantage="far", observation={"reorder": 0}).check(_held_back(0.01)).status == "violation"
    assert Monitor("linux").check(_held_back(0.01)).status == "violation"


def _cut(acks, mss=1000):
    """A near client's 3000-byte segment, captured whole on its host before TSO cut it into
    segments of the connection's MSS (the smaller SYN MSS option, here `mss`), and the far
    server's ACKs (`acks`: the acknowledgment numbers)."""
    syn = dict(s("in", "SYN", 1000, t=0.0, win=65535), mss=mss, wscale=7)
    synack = dict(s("out", "SYN,ACK", 5000, 1001, t=0.0001, win=65535), mss=1460, wscale=7)
    tr = [syn, synack, s("in", "ACK", 1001, 5001, t=0.001), s("in", "ACK", 1001, 5001, 3000, t=0.002)]
    return tr + [s("out", "ACK", 5001, a, t=0.003 + i * 0.0001) for i, a in enumerate(acks)]


def test_a_far_end_acknowledging_the_pieces_of_a_super_segment_is_conformant():
    assert Monitor("linux", vantage="far", observation=OFFLOAD).check(_cut([3001, 4001])).ok
    assert Monitor("linux", vantage="far", observation=OFFLOAD).check(_cut([2001, 4001])).ok


def test_a_piece_off_the_mss_or_without_offload_or_at_a_near_end_is_a_violation():
    assert Monitor("linux", vantage="far", observation=OFFLOAD).check(_cut([2501, 4001])).status == "violation"
    assert Monitor("linux", vantage="far").check(_cut([3001, 4001])).status == "violation"
    assert Monitor("linux", observation=OFFLOAD).check(_cut([3001, 4001])).status == "violation"


def _copy_after_close(t_rst):
    """The far server closes (LAST-ACK, then CLOSED); at `t_rst` it sends <SEQ=5001><CTL=RST>,
    the answer CLOSED gives a segment carrying ACK 5001 (RFC 9293 3.10.7.1): a copy of the
    client's data or FIN the network held back after the capture point (or duplicated)."""
    return [s("in", "SYN", 1000, t=0.0), s("out", "SYN,ACK", 5000, 1001, t=0.0001), s("in", "ACK", 1001, 5001, t=0.001),
            s("in", "ACK", 1001, 5001, 100, t=0.01), s("out", "ACK", 5001, 1101, t=0.011),
            s("in", "FIN,ACK", 1101, 5001, t=0.02), s("out", "FIN,ACK", 5001, 1102, t=0.021),
            s("in", "ACK", 1102, 5002, t=0.03), s("out", "RST", 5001, t=t_rst)]


def test_a_far_end_answering_a_copy_of_an_earlier_segment_is_conformant():
    assert Monitor("linux", vantage="far").check(_copy_after_close(0.04)).ok
    assert Monitor("linux", vantage="far").check(_copy_after_close(0.02 + REORDER - 0.001)).ok


def test_a_copy_older_than_reorder_or_at_a_near_end_is_a_violation():
    assert Monitor("linux", vantage="far").check(_copy_after_close(0.02 + REORDER + 0.001)).status == "violation"
    assert Monitor("linux").check(_copy_after_close(0.04)).status == "violation"
