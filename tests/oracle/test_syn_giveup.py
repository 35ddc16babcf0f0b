"""The oracle reads SYN-SENT's give-up as the table does (SYN.GIVEUP, spec.profiles.syn_giveup):
a Linux client with tcp_syn_retries 2 and the stock linear SYN timeouts retransmits five times."""
from synack.oracle import Monitor
from synack.oracle.events import as_events
from synack.oracle.judge import learnable
from synack.spec import get_profile


def _syns(times, end=9.0):
    """A logged connect, the SYN at t=0 and its retransmissions at `times`, then, at `end`, a
    RST whose ACK is not acceptable (SYN-SENT and CLOSED drop it: RFC 9293 3.10.7.1, 3.10.7.3), which
    shows the capture still running."""
    return ([{"call": "connect", "result": "ok", "t": 0.0}] + [{"dir": "out", "flags": "SYN", "seq": 100, "t": t}
                                                                for t in [0.0, *times]]
            + [{"dir": "in", "flags": "RST,ACK", "seq": 0, "ack": 999, "t": end}])


def _judged(mon: Monitor, trace: list):
    """As `synack oracle` judges a trace: its deadlines run to its last instant."""
    for ev in as_events(trace):
        if mon.feed(ev) is not None:
            break
    return mon.verdict(end=trace[-1]["t"])


LINEAR = [1.0, 2.0, 3.0, 4.0, 5.0]          # tcp_syn_linear_timeouts = 4: 1 s apart, five of them


def test_linux_with_syn_retries_2_retransmits_five_times_then_gives_up():
    prof = get_profile("linux").with_params(**{"SYN.RETRIES": 2})
    assert Monitor(prof, calls_logged=True).check(_syns(LINEAR)).status == "conformant"
    # just outside: giving up after four is early (the expiry at 5 s is short of 1 + 2 + 4 s);
    # the missing retransmission is a violation once the capture is past rto_max (observation.py)
    v = Monitor(prof, calls_logged=True).check(_syns(LINEAR[:4], end=200.0))
    assert v.status == "violation" and "rto.syn" in str(v), str(v)
    # and a sixth is one too many
    v = Monitor(prof, calls_logged=True).check(_syns(LINEAR + [7.0], end=12.0))
    assert v.status == "violation", str(v)


def test_rfc9293_counts_the_same_setting_in_retransmissions():
    prof = get_profile("rfc9293").with_params(**{"SYN.RETRIES": 2})
    assert Monitor(prof, calls_logged=True).check(_syns([1.0, 3.0], end=12.0)).status == "conformant"
    assert Monitor(prof, calls_logged=True).check(_syns(LINEAR)).status == "violation"


def test_an_untold_linux_client_that_gave_up_early_teaches_the_count():
    prof = get_profile("linux")
    v = _judged(Monitor(prof, calls_logged=True, learn=learnable(prof, ())), _syns(LINEAR, end=200.0))
    assert v.status == "conformant" and any(x.startswith("SYN.GIVEUP 5") for x in v.learned), (str(v), v.learned)
    # told the count (tcp_syn_retries 6, the default), the same trace is a violation
    assert Monitor(prof, calls_logged=True).check(_syns(LINEAR, end=200.0)).status == "violation"


def test_giving_syn_retries_gives_the_derived_count():
    assert "SYN.GIVEUP" not in learnable(get_profile("linux"), ("SYN.RETRIES",))
    assert "SYN.GIVEUP" in learnable(get_profile("linux"), ("rto_initial",))
    assert "SYN.GIVEUP" not in learnable(get_profile("linux").with_params(**{"SYN.RETRIES": 2}), None)
