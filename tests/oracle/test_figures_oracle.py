"""RFC 9293 Figures 6 to 13 as observed traces, each side judged as the IUT under rfc9293
(and linux); one altered segment per figure is rejected."""
import pytest

from synack.oracle import Monitor


def s(d, flags, seq, ack=None, n=0):
    ev = {"dir": d, "flags": flags, "seq": seq}
    if ack is not None:
        ev["ack"] = ack
    if n:
        ev["len"] = n
    return ev


FIGURES = {
    # Figure 6: basic three-way handshake, then data
    "fig6-A": ("closed", [s("out", "SYN", 100), s("in", "SYN,ACK", 300, 101), s("out", "ACK", 101, 301),
                          s("out", "ACK", 101, 301, 10), s("in", "ACK", 301, 111)]),
    "fig6-B": ("closed", [s("in", "SYN", 100), s("out", "SYN,ACK", 300, 101), s("in", "ACK", 101, 301),
                          s("in", "ACK", 101, 301, 10), s("out", "ACK", 301, 111)]),
    # Figure 7: simultaneous open (no third segment)
    "fig7-A": ("closed", [s("out", "SYN", 100), s("in", "SYN", 300), s("out", "SYN,ACK", 100, 301),
                          s("in", "SYN,ACK", 300, 101)]),
    # Figure 8: recovery from an old duplicate SYN
    "fig8-A": ("closed", [s("out", "SYN", 100), s("in", "SYN,ACK", 300, 91), s("out", "RST", 91),
                          s("in", "SYN,ACK", 400, 101), s("out", "ACK", 101, 401)]),
    "fig8-B": ("closed", [s("in", "SYN", 90), s("out", "SYN,ACK", 300, 91), s("in", "RST", 91),
                          s("in", "SYN", 100), s("out", "SYN,ACK", 400, 101), s("in", "ACK", 101, 401)]),
    # Figure 9: half-open connection discovery (A crashed and reconnects)
    "fig9-A": ("closed", [s("out", "SYN", 400), s("in", "ACK", 300, 100), s("out", "RST", 100),
                          s("in", "SYN,ACK", 500, 401), s("out", "ACK", 401, 501)]),
    # Figure 10: active side causes half-open discovery
    "fig10-A": ("any", [s("out", "ACK", 100, 300, 10), s("in", "RST", 300)]),
    "fig10-B": ("closed", [s("in", "ACK", 100, 300, 10), s("out", "RST", 300)]),
    # Figure 11: an old duplicate SYN initiates a reset on a passive socket
    "fig11-B": ("closed", [s("in", "SYN", 1000), s("out", "SYN,ACK", 5000, 1001), s("in", "RST", 1001),
                           s("in", "SYN", 2000), s("out", "SYN,ACK", 6000, 2001), s("in", "ACK", 2001, 6001)]),
    # Figure 12: normal close sequence
    "fig12-A": ("any", [s("out", "FIN,ACK", 100, 300), s("in", "ACK", 300, 101), s("in", "FIN,ACK", 300, 101),
                        s("out", "ACK", 101, 301)]),
    "fig12-B": ("any", [s("in", "FIN,ACK", 100, 300), s("out", "ACK", 300, 101), s("out", "FIN,ACK", 300, 101),
                        s("in", "ACK", 101, 301)]),
    # Figure 13: simultaneous close
    "fig13-A": ("any", [s("out", "FIN,ACK", 100, 300), s("in", "FIN,ACK", 300, 100), s("out", "ACK", 101, 301),
                        s("in", "ACK", 301, 101)]),
}


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_trace_is_conformant(name, profile):
    start, trace = FIGURES[name]
    v = Monitor(profile, start=start).check(trace)
    assert v.status == "conformant", str(v)


def _last_out_ack(trace):
    return max((i for i, e in enumerate(trace) if e["dir"] == "out" and "ack" in e), default=None)


# (a trace that starts mid-connection learns RCV.NXT from its first segment: skip those whose
# only acknowledging segment is the first)
@pytest.mark.parametrize("name", sorted(n for n, (_, t) in FIGURES.items() if _last_out_ack(t)))
def test_each_figure_rejects_a_wrong_acknowledgment(name):
    """Acknowledge one byte more than was received in the IUT's last ACK-bearing segment."""
    start, trace = FIGURES[name]
    idx = _last_out_ack(trace)
    bad = [dict(e) for e in trace]
    bad[idx]["ack"] += 1
    v = Monitor("rfc9293", start=start).check(bad)
    assert v.status == "violation" and v.index == idx + 1, str(v)
