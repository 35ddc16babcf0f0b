"""The kit's timer waits and its re-planning past the planner's retry cap, and the parameters
the oracle learns: an active open's SYN waits the SYN's own RTO (timer_seconds 'RTO-SYN'), not
the data RTO; a stack that retransmits more often than the planner's model is re-planned in a
model with the profile's own limits; parameters the stack does not give are learned."""
import pytest

from synack.spec.model import Endpoint, State
from synack.spec.profiles import get_profile, timer_seconds
from synack.testing import CONFORMANT, NOT_REACHED
from synack.testing.kit import Coverage
from synack.testing.play import NotDrivable, RowResult, RunPlayer, _timer_kind, _translate
from synack.testing.plan import Planner
from synack.testing.report import markdown


class _RealClockSyn:
    """A driver on a real clock that has a SYN ready at every collect: a wait that wants one
    segment returns at once, so only the kit's bound on the wait is exercised."""
    clock = "real"

    def collect(self):
        from synack.spec.model import SYN, Segment
        from synack.testing.packets import Addr, build
        return [(0.0, build(Addr("10.0.0.2", 10001, "10.0.0.1", 40001), Segment(SYN, 1000, 0, 0, 65535)))]

    def advance(self, seconds):
        return 0.0


def _player(profile, max_real_wait):
    pl = Planner(profile, "handshake", 0, max_states=100)
    return RunPlayer(_RealClockSyn(), pl, profile, "rto.syn", (10001, 40001), max_real_wait=max_real_wait)


def test_syn_sent_waits_the_syns_rto():
    # Linux's stock tcp_syn_linear_timeouts 4: the 4th SYN retransmission comes 1 s after the
    # 3rd (RTO-SYN), where the data RTO would back off to 8 s
    prof = get_profile("linux").with_params(**{"SYN.LINEAR": 4})
    ep = Endpoint(state=State.SYN_SENT, iss=1000, snd_una=1000, snd_nxt=1001, rtx=3)
    assert _timer_kind("RTO", ep) == "RTO-SYN" and timer_seconds(prof, "RTO-SYN", 3) == 1.0
    got = _player(prof, 2.0)._wait_timer("RTO", ep, 1, 1000)
    assert len(got) == 1                                 # waited within the 2 s the kit allows


def test_syn_sent_wait_past_the_real_clock_bound_is_not_drivable():
    # just outside: the 6th expiry backs off to 2 s, 2.8 s with the tolerance and the lag
    prof = get_profile("linux").with_params(**{"SYN.LINEAR": 4})
    ep = Endpoint(state=State.SYN_SENT, iss=1000, snd_una=1000, snd_nxt=1001, rtx=5)
    with pytest.raises(NotDrivable, match="2 s"):
        _player(prof, 2.0)._wait_timer("RTO", ep, 1, 1000)


def test_other_states_wait_the_data_rto():
    ep = Endpoint(state=State.SYN_RECEIVED, iss=1000, snd_una=1000, snd_nxt=1001, rtx=3)
    assert _timer_kind("RTO", ep) == "RTO"
    with pytest.raises(NotDrivable, match="8 s"):
        _player(get_profile("linux").with_params(**{"SYN.LINEAR": 4}), 2.0)._wait_timer("RTO", ep, 1, 1000)


def test_a_state_moves_between_planners_of_different_caps():
    a = Planner(get_profile("rfc9293"), "handshake", 0, max_states=200, retries=2)
    b = Planner(get_profile("rfc9293"), "handshake", 0, max_states=200, retries=7)
    s = a.system.initial()
    for _ in range(3):                                  # a few moves in, with segments in flight
        lab, child, _, _ = next(iter(a.system.successors(s)))
        s = child
    t = _translate(s, a.system, b.system)
    assert b.system.eps[t[0]] == a.system.eps[s[0]] and b.system.eps[t[1]] == a.system.eps[s[1]]
    for i in (2, 3):
        assert [b.system.tsegs[x] and b.system.segs[b.system.tsegs[x][0]] for x in t[i]] == \
               [a.system.segs[a.system.tsegs[x][0]] for x in s[i]]
    assert t[4:] == s[4:]


_KITS = {}


def _kit():
    """A kit of the handshake scenario whose stack is configured to retransmit its SYN 5 times."""
    from synack.testing import Kit
    if "k" not in _KITS:
        _KITS["k"] = Kit("rfc9293", {"SYN.RETRIES": 5}, scenarios=("handshake",), max_states=3000)
    return _KITS["k"]


def test_retransmissions_past_the_planners_cap_are_replanned(toy):
    # ToyTCP retransmits its SYN 5 times before it gives up (toytcp.py retransmit(limit=5));
    # the planner's model caps every retry limit at 2, so the run to rto.syn.giveup meets a
    # third SYN the model did not plan: the kit re-plans once, in a model with SYN.GIVEUP 5
    r = _kit().run_row(toy, "rto.syn.giveup")
    assert r.status == CONFORMANT, (r.status, r.reason, r.report)
    assert r.replans == 1


def test_without_the_wider_model_each_extra_retransmission_costs_a_replan(toy, monkeypatch):
    # the capped model gives up after every retransmission past its cap: one re-plan each (3),
    # all the re-plans a run has (RunPlayer max_replans); one more retransmission and the row
    # would be out of reach
    monkeypatch.setattr(RunPlayer, "_recap", lambda self, states, row, stopped: None)
    r = _kit().run_row(toy, "rto.syn.giveup")
    assert r.replans == 3, (r.status, r.reason)
    monkeypatch.setattr(RunPlayer, "__init__", _fewer_replans(RunPlayer.__init__))
    r = _kit().run_row(toy, "rto.syn.giveup")
    assert r.status == NOT_REACHED and "within 2 re-plans" in r.reason, (r.status, r.reason)


def _fewer_replans(init):
    def wrapped(self, *a, **kw):
        init(self, *a, **{**kw, "max_replans": 2})
    return wrapped


def test_parameters_not_given_are_learned_and_reported():
    kit = _kit()
    assert "SYN.GIVEUP" not in kit.learn and "DATA.RETRIES" in kit.learn and "rto_initial" in kit.learn
    cov = Coverage("toy", "rfc9293", "virtual")
    cov.results.append(RowResult("rto.syn", CONFORMANT, learned={"rto_initial": {"value": 0.5, "why": "because"}}))
    d = cov.to_json()
    d["params"] = {"SYN.RETRIES": 5}
    assert d["learned"] == {"rto_initial": {"values": [0.5], "rows": ["rto.syn"], "why": "because"}}
    md = markdown([d])
    assert "## Parameters learned" in md and "| rto_initial | 0.5 | `rto.syn` | because |" in md
    assert "Given: SYN.RETRIES 5." in md


def test_a_stack_that_gives_up_before_the_models_limit_is_followed_and_its_limit_learned(toy):
    # no parameters given: the model (rfc9293) retransmits a SYN 7 times, ToyTCP 5; at the
    # silent 6th timeout the kit re-plans in a model capped at 5, and the oracle learns SYN.GIVEUP 5
    from synack.testing import Kit
    kit = _KITS.setdefault("untold", Kit("rfc9293", scenarios=("handshake",), max_states=3000))
    r = kit.run_row(toy, "rto.syn.giveup")
    assert r.status == CONFORMANT, (r.status, r.reason, r.report)
    assert r.learned["SYN.GIVEUP"]["value"] == 5


def test_without_the_narrower_model_that_row_is_not_reached(toy, monkeypatch):
    from synack.testing import Kit
    kit = _KITS.setdefault("untold", Kit("rfc9293", scenarios=("handshake",), max_states=3000))
    recap = RunPlayer._recap
    monkeypatch.setattr(RunPlayer, "_recap", lambda self, states, row, stopped: None if stopped else
                        recap(self, states, row, stopped))
    r = kit.run_row(toy, "rto.syn.giveup")
    assert r.status == NOT_REACHED and "sent nothing" in r.reason, (r.status, r.reason)
