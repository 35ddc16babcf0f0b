"""Sequence charts: one arrow per segment of the trace, in order; the states written on the
lifelines are the trace's states; losses, retransmissions and timers as the run had them."""
import pytest

from synack.checker.paths import NoPath, choose, path_config
from synack.diagrams.chart import chart_dot, from_steps
from synack.gallery import RUNS, run_chart, run_steps
from synack.spec import SpecError, get_profile
from synack.spec.profiles import timer_seconds

RUN = {r.name: r for r in RUNS}


@pytest.mark.parametrize("name", [r.name for r in RUNS])
def test_one_arrow_per_segment_in_order_and_states_match(name):
    steps, _ = run_steps(RUN[name])
    ch = from_steps(steps, name)
    sent = [(st["step"], x["flags"], x["seq"]) for st in steps for x in st.get("sends", [])]
    assert [(m.sent, m.text.split()[0]) for m in ch.arrows()] == [(n, f) for n, f, _ in sent]
    for i, side in enumerate("AB"):
        states = ["CLOSED"]
        for st in steps:
            if st[side]["state"] != states[-1]:
                states.append(st[side]["state"])
        assert ch.states(i) == states
    src = chart_dot(ch)
    assert src.count(" -> msg") == len(ch.messages) and "layout=neato" in src


def test_four_way_close_has_four_closing_segments_and_three_when_the_ack_is_delayed():
    def closing(name):
        steps, _ = run_steps(RUN[name])
        first = next(st["step"] for st in steps if st["move"] == "CLOSE")
        return [m.text.split()[0] for m in from_steps(steps, name).arrows() if m.sent >= first]
    assert closing("four-way-close") == ["FIN,ACK", "ACK", "FIN,ACK", "ACK"]
    assert closing("three-segment-close") == ["FIN,ACK", "FIN,ACK", "ACK"]


def test_lost_final_ack_is_crossed_out_and_time_wait_restarts():
    ch = run_chart(RUN["lost-final-ack"])
    lost = [m for m in ch.messages if m.lost is not None]
    assert len(lost) == 1 and lost[0].text.startswith("ACK") and lost[0].src == 0
    assert any(m.note == "retransmission" and m.text.startswith("FIN") for m in ch.messages)
    labels = [s.label for s in ch.spans]
    assert "2MSL 240 s (restarted)" in labels and "2MSL 240 s" in labels


def test_syn_backoff_spans_double():
    ch = run_chart(RUN["syn-backoff"])
    prof = get_profile("rfc9293")
    assert [s.label for s in ch.spans if s.side == 0] == [f"RTO {timer_seconds(prof, 'RTO', k):g} s" for k in (0, 1)]
    assert [s.label for s in ch.spans] == ["RTO 1 s", "RTO 2 s"]


def test_relative_and_absolute_numbers():
    rel = run_chart(RUN["three-way-handshake"]).arrows()
    assert [m.text for m in rel] == ["SYN seq=x", "SYN,ACK seq=y ack=x+1", "ACK seq=x+1 ack=y+1"]
    ab = run_chart(RUN["three-way-handshake"], absolute=True).arrows()
    assert "seq=4294967294" in ab[0].text


def test_bad_milestones_are_named():
    with pytest.raises(SpecError, match="bad milestone 'lose:A-B'"):
        path_config(via=("lose:A-B",))
    with pytest.raises(SpecError, match="no row 'nope'"):
        choose(path_config(via=("row:nope",)), ("row:nope",))
    with pytest.raises(NoPath):
        choose(path_config(scenario="handshake", via=("row:fin.est",)), ("row:fin.est",), max_states=2000)


def test_observed_charts_write_state_sets_and_mark_the_violation_with_a_legend():
    from synack.diagrams.chart import from_observed, state_set
    from synack.oracle.events import as_events

    assert state_set(["ESTABLISHED", "CLOSED", "LISTEN", "CLOSED"]) == "{CLOSED, LISTEN, ESTABLISHED}"
    assert state_set(["SYN-SENT"]) == "SYN-SENT"
    evs = as_events([{"dir": "out", "flags": "SYN", "seq": 1}, {"dir": "in", "flags": "SYN,ACK", "seq": 9, "ack": 2},
                     {"dir": "out", "flags": "ACK", "seq": 2, "ack": 11}])
    ch = from_observed(evs, ["CLOSED", "SYN-SENT", "{CLOSED, ESTABLISHED}", ""], "t", violation=3)
    assert [m.note for m in ch.arrows()] == ["", "", "✗ violation"]
    assert "{A, B}: the states the IUT could be in" in ch.footer and "red ✗" in ch.footer
    assert "✗" not in from_observed(evs, ["CLOSED", "SYN-SENT", "ESTABLISHED", ""], "t").footer
    src = chart_dot(ch)
    assert "(✗ violation)" in src and "{CLOSED, ESTABLISHED}" in src and "|" not in src.split("label=")[1][:40]


def test_explain_titles_in_chinese():
    from synack.diagrams.explain import TITLES_ZH, title

    assert set(TITLES_ZH) == {r.name for r in RUNS}
    assert title("four-way-close", "Four-way close", "zh").startswith("四次挥手")
    assert title("x", "Scenario x", "zh", "handshake") == "场景 handshake"
    assert title("four-way-close", "Four-way close", "en") == "Four-way close"
