"""The data path rows: SEND queues, OUTPUT sends within the MSS and the window, the window is
scaled by the peer's SYN option, and CLOSE queues its FIN behind unsent data."""
import pytest

from synack.spec import Endpoint, Segment, State, arrive, call, output, step, timeout
from synack.spec.model import ACK, FIN, SYN

P = "rfc9293"


def est(**kw) -> Endpoint:
    base = dict(state=State.ESTABLISHED, iss=100, irs=300, snd_una=101, snd_nxt=101, snd_wnd=1000,
                rcv_nxt=301, rcv_wnd=65535, snd_mss=500)
    base.update(kw)
    return Endpoint(**base)


def rows(ep, ev, profile=P):
    return [t.rows for t in step(profile, ep, ev)]


def test_the_send_mss_comes_from_the_peers_syn_option_or_the_default():
    listen = step(P, Endpoint(), call("LISTEN"))[0].endpoint
    with_opt = step(P, listen, arrive(Segment(SYN, 7, wnd=1000, mss=1400, ws=3), isn=50))[0].endpoint
    assert (with_opt.snd_mss, with_opt.snd_ws, with_opt.snd_wnd) == (1400, 2, 1000)   # SYN's window unscaled
    without = step(P, listen, arrive(Segment(SYN, 7, wnd=1000), isn=50))[0].endpoint
    assert (without.snd_mss, without.snd_ws) == (536, 0)
    capped = step(P, listen, arrive(Segment(SYN, 7, wnd=1000, ws=15), isn=50))[0].endpoint
    assert capped.snd_ws == 14                      # RFC 7323 2.3: above 14 is taken as 14


def test_later_windows_are_scaled_by_the_peers_shift():
    ep = est(snd_nxt=201, snd_ws=4)
    after = step(P, ep, arrive(Segment(ACK, 301, 201, 0, 10)))[0].endpoint
    assert after.snd_wnd == 160


def test_send_goes_out_at_once_only_within_the_mss_and_the_window():
    assert rows(est(), call("SEND", n=500)) == [("send.now",), ("send.defer",)]
    assert rows(est(), call("SEND", n=501)) == [("send",)]                     # over the MSS: queued
    assert rows(est(snd_nxt=601), call("SEND", n=500)) == [("send.now",), ("send.defer",)]
    assert rows(est(snd_nxt=602), call("SEND", n=500)) == [("send",)]          # one byte past the window
    assert rows(est(snd_q=1), call("SEND", n=10)) == [("send",)]               # behind queued data


def test_output_respects_the_mss_and_the_right_edge_of_the_window():
    ep = est(snd_q=3000)
    (t,) = step(P, ep, output(500))
    assert t.sends == (Segment(ACK, 101, 301, 500, 65535),) and t.endpoint.snd_q == 2500
    assert step(P, ep, output(501)) == []                       # larger than the MSS
    ep = est(snd_q=3000, snd_nxt=601)                           # 500 outstanding of a 1000-byte window
    assert step(P, ep, output(500)) and step(P, ep, output(501)) == []    # one byte past SND.UNA + SND.WND
    assert step(P, est(snd_q=3000, snd_wnd=0), output(1)) == []           # a zero window: nothing
    assert rows(est(snd_q=3000, snd_wnd=0), timeout("PERSIST")) == [("persist",), ("persist.data",)]


def test_no_profile_sends_a_segment_larger_than_the_mss():
    """A super-segment is what a capture before segmentation offload shows, not what a stack
    sends (oracle/observation.py `segmentation-offload`): the `tso` variant is gone and every
    profile bounds a segment by SND.MSS (RFC 9293 3.7.1, MUST-15)."""
    from synack.spec import SpecError
    from synack.spec.profiles import get_profile
    ep = est(snd_q=3000, snd_wnd=5000)
    for prof in (P, "rfc9293", "linux"):
        assert step(prof, ep, output(1500)) == []
    with pytest.raises(SpecError):
        get_profile("linux", "tso")


def test_close_with_queued_data_queues_the_fin_behind_the_last_byte():
    ep = est(snd_q=700)
    (t,) = step(P, ep, call("CLOSE"))
    assert t.sends == () and t.endpoint.state is State.FIN_WAIT_1 and not t.endpoint.fin_sent
    f1 = t.endpoint
    assert rows(f1, output(500)) == [("output",)]
    last = step(P, f1, output(500))[0].endpoint
    # the last 200 bytes: alone, or with the FIN on them
    res = {t.rows: t.sends for t in step(P, last, output(200))}
    assert res[("output",)] == (Segment(ACK, 601, 301, 200, 65535),)
    assert res[("output.fin",)] == (Segment(FIN | ACK, 601, 301, 200, 65535),)
    alone = step(P, last, output(200))[0].endpoint
    (fin,) = step(P, alone, output(0))
    assert fin.sends == (Segment(FIN | ACK, 801, 301, 0, 65535),) and fin.endpoint.fin_sent
    # an ACK of all the data is not an ACK of the FIN still queued
    acked = step(P, alone._replace(snd_una=801), arrive(Segment(ACK, 301, 801, 0, 1000)))
    assert [t.endpoint.state for t in acked] == [State.FIN_WAIT_1]


def test_no_keepalive_while_data_waits():
    assert step(P, est(snd_q=10, snd_wnd=0), timeout("KEEPALIVE")) == []
    assert step(P, est(), timeout("KEEPALIVE"))
