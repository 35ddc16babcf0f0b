"""The observation model (oracle/observation.py): every latitude is declared with a bound and
a reason, and a trace just outside each bound is a violation; the three cases the issue
found too lenient are violations at the first evidence."""
import pytest

from synack.oracle import Monitor
from synack.oracle.observation import BY_NAME, LATITUDES, MAX_CROSSED, OBSERVATION_PARAMS, table
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
        assert lat.param in ("", "tolerance", "delack_max") or lat.param in OBSERVATION_PARAMS, lat.name
    assert "processing-lag" in table() and "| delayed-ack |" in table()


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
