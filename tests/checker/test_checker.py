"""The explorer and its properties: the spec passes, each teaching variant is refuted by the
property it was built to break, with the counterexample's key steps."""
import pytest

from synack.checker.explore import PROPERTIES, explore
from synack.checker.system import System, make_config
from synack.checker.trace import render_text, steps
from synack.spec import SpecError


def run(profile="rfc9293", scenario="client-close", **kw):
    kw.setdefault("capacity", 1)
    kw.setdefault("retries", 1)
    ex = explore(System(make_config(profile, scenario=scenario, properties=PROPERTIES, **kw)))
    assert ex.complete
    return ex


def rows_of(ex, prop):
    return [r["id"] for st in steps(ex, ex.found[prop]) for r in st.get("rows", [])]


def dfs_count(system):
    """A second, deliberately plain exploration: depth-first with an explicit stack."""
    seen, stack = {system.initial()}, [system.initial()]
    while stack:
        s = stack.pop()
        for _, child, _, _ in system.successors(s):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen)


@pytest.mark.parametrize("scenario,capacity", [("handshake", 1), ("client-close", 1), ("simultaneous-open", 1),
                                               ("abort", 2), ("half-close", 1)])
def test_bfs_and_plain_dfs_find_the_same_states(scenario, capacity):
    cfg = make_config("rfc9293", scenario=scenario, capacity=capacity, retries=1)
    assert len(explore(System(cfg), properties=("no-deadlock",)).states) == dfs_count(System(cfg))


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
@pytest.mark.parametrize("scenario", ["handshake", "client-close", "server-close", "simultaneous-open",
                                      "simultaneous-close", "half-close", "abort", "data"])
def test_profiles_pass_single_incarnation_scenarios(profile, scenario):
    ex = run(profile, scenario)
    found = set(ex.found)
    if profile == "linux" and scenario in ("client-close", "server-close", "simultaneous-open",
                                           "simultaneous-close", "data"):
        # A result, not a table bug: Linux drops an orphaned FIN-WAIT-2 after tcp_fin_timeout,
        # so a peer application that closes later than that gets RST for its FIN.
        if scenario in ("simultaneous-open", "simultaneous-close"):
            # Also a result of the bounded retries (1 here; Linux's tcp_retries2 is 15): in CLOSING,
            # the peer's FIN retransmitted with the ACK of ours ends at RCV.NXT, so Linux takes the
            # ACK (tcp_sequence(): option dup-end-acceptable), enters TIME-WAIT and consumes the
            # segment without an ACK (tcp_rcv_state_process(): goto consume). With its ACK lost
            # before, the peer's next retransmission is what the timewait socket would ACK; with
            # none left, it gives up.
            assert found == {"graceful-close", "progress"}
            assert "text.dup.lx.tw" in rows_of(ex, "progress")
        else:
            assert found == {"graceful-close"}
        assert "finwait2.timeout" in rows_of(ex, "graceful-close")
    else:
        assert not found, render_text(ex, next(iter(ex.found.values())))


def test_two_way_handshake_deadlocks_like_seed_002():
    ex = run("rfc9293+two-way-handshake", "data", capacity=1, retries=2)
    f = ex.found["progress"]
    trace = steps(ex, f)
    moves = [(s["actor"], s["move"], tuple(r["id"] for r in s.get("rows", []))) for s in trace]
    # the server is ESTABLISHED on the SYN alone and sends data; the SYN,ACK is lost
    assert any("listen.syn.2way" in m[2] for m in moves)
    assert any(s["move"].startswith("lose B->A") and s["segment"]["flags"] == "SYN,ACK" for s in trace)
    # the client, still in SYN-SENT, drops what the server sends: retransmissions never resolve it
    assert any(m[0] == "network" and "synsent.other" in m[2] for m in moves)
    assert trace[-1]["phase"] == "then only giving up is left"
    assert trace[-1]["A"]["state"] == "CLOSED" or trace[-1]["B"]["state"] == "CLOSED"


def test_two_way_handshake_accepts_an_old_duplicate_syn():
    ex = run("rfc9293+two-way-handshake", "handshake")
    f = ex.found["handshake-agreement"]
    assert "Figure 8" in f.message
    trace = steps(ex, f)
    assert trace[-1]["signals"] == ["established"] and trace[-1]["B"]["state"] == "ESTABLISHED"
    assert any("error: connection timed out" in s.get("signals", []) for s in trace)  # A had given up


def test_three_way_handshake_has_neither_failure_on_the_same_bounds():
    for scenario, kw in (("data", dict(capacity=1, retries=2)), ("handshake", {})):
        assert not run("rfc9293", scenario, **kw).found


def test_no_time_wait_breaks_graceful_close():
    ex = run("rfc9293+no-time-wait", "client-close")
    trace = steps(ex, ex.found["graceful-close"])
    ids = [r["id"] for s in trace for r in s.get("rows", [])]
    assert "fin.finwait2.notw" in ids or "ack.fin.closing.notw" in ids
    assert any(s.get("segment", {}).get("flags") == "RST" for s in trace)   # the FIN is answered by RST
    assert any("lost" in x for s in trace for x in s.get("sends", [])) or any(
        s["move"].startswith("lose") for s in trace)                        # after the last ACK was lost


def test_short_time_wait_breaks_graceful_close():
    ex = run("rfc9293+short-time-wait", "client-close")
    trace = steps(ex, ex.found["graceful-close"])
    assert any(s["move"] == "2MSL expires" for s in trace)
    assert any(s.get("segment", {}).get("flags") == "RST" for s in trace)
    assert not run("rfc9293", "client-close").found


def test_time_wait_absorbs_a_retransmitted_fin():
    ex = run("rfc9293", "client-close", capacity=2)
    assert "time-wait-absorbs-fin" in ex.checked and "time-wait-absorbs-fin" not in ex.found
    sys_ = ex.system
    # the property is not vacuous: some reachable move delivers a FIN to TIME-WAIT
    hits = 0
    for s in ex.states:
        if sys_.st[s[0]] == "TIME-WAIT":
            hits += sum(1 for lab, *_ in sys_.successors(s) if lab[0] == "deliver" and lab[1] == 0
                        and sys_.segs[sys_.tsegs[s[3][lab[2]]][0]].flags & 1)
    assert hits > 0


def test_time_wait_absorbs_fin_fails_when_time_wait_answers_with_rst():
    """The property can fail: a table whose TIME-WAIT resets on a retransmitted FIN."""
    from dataclasses import replace

    from synack.spec import State
    from synack.spec.machine import Machine
    from synack.spec.table import TABLE

    broken = tuple(replace(r, actions=("send <SEQ=SND.NXT><CTL=RST>", "delete TCB"), to=State.CLOSED)
                   if r.id == "seq.bad.tw" else r for r in TABLE)
    cfg = make_config("rfc9293", scenario="client-close", capacity=2, retries=1, properties=PROPERTIES)
    ex = explore(System(cfg, Machine(cfg.profile, table=broken)))
    assert "time-wait-absorbs-fin" in ex.found


@pytest.mark.parametrize("row,scenario", [("abort.rst", "abort"), ("rst.synrcvd.active.exact", "simultaneous-open"),
                                          ("keepalive.giveup", "handshake")])
def test_no_unrequested_listen_fails_when_an_active_connection_falls_back_to_listen(row, scenario):
    """RFC 9293 3.10.7.3: only a connection from a passive OPEN returns to LISTEN. A table that
    sends an active one there would accept connections its user never asked for."""
    from dataclasses import replace

    from synack.spec import State
    from synack.spec.machine import Machine
    from synack.spec.table import TABLE

    broken = tuple(replace(r, to=State.LISTEN) if r.id == row else r for r in TABLE)
    cfg = make_config("rfc9293", scenario=scenario, capacity=1, retries=1, properties=PROPERTIES)
    ex = explore(System(cfg, Machine(cfg.profile, table=broken)))
    assert "no-unrequested-listen" in ex.found and "LISTEN" in ex.found["no-unrequested-listen"].message
    assert "no-unrequested-listen" not in run("rfc9293", scenario).found


@pytest.mark.parametrize("row,action,scenario,timer", [("rto.syn", "RTX := RTX + 1", "handshake", "RTO"),
                                                        ("rto.fin", "RTX := RTX + 1", "client-close", "RTO"),
                                                        ("keepalive", "PROBES := PROBES + 1", "handshake",
                                                         "KEEPALIVE")])
def test_bounded_retransmission_fails_when_a_timer_never_counts_its_retries(row, action, scenario, timer):
    """The property can fail: without the count, a retransmission (or keep-alive probe) lost
    every time repeats forever and never reaches the give-up row. The real table passes
    (test_profiles_pass_single_incarnation_scenarios checks every property)."""
    from dataclasses import replace

    from synack.spec.machine import Machine
    from synack.spec.table import TABLE

    assert any(action in r.actions for r in TABLE if r.id == row)
    broken = tuple(replace(r, actions=tuple(a for a in r.actions if a != action)) if r.id == row else r
                   for r in TABLE)
    cfg = make_config("rfc9293", scenario=scenario, capacity=1, retries=1, properties=PROPERTIES)
    ex = explore(System(cfg, Machine(cfg.profile, table=broken)))
    assert set(ex.found) == {"bounded-retransmission"}
    loop = [st for st in steps(ex, ex.found["bounded-retransmission"]) if st["phase"] == "repeats forever"]
    assert loop and any(st["actor"].startswith("timer") and st["move"] == f"{timer} expires" for st in loop)
    assert all(st["actor"].startswith("timer") or st["move"].startswith("lose") for st in loop)
    assert any(row == r["id"] for st in loop for r in st.get("rows", []))
    assert "RFC 1122 4.2.3.5" in render_text(ex, ex.found["bounded-retransmission"])


def test_rfc1337_assassination_is_found_with_reconnects():
    ex = run("rfc9293", "reconnect", incarnations=2, capacity=2)
    f = ex.found["graceful-close"]
    ids = rows_of(ex, "graceful-close")
    assert "rst.timewait.exact" in ids        # an RST ends TIME-WAIT early ...
    assert "seq.bad.tw" in ids                # ... provoked by the ACK TIME-WAIT sent to an old duplicate
    assert f.path and len(steps(ex, f)) <= 30


def test_free_isn_lets_old_segments_into_a_new_incarnation():
    ex = run("rfc9293+free-isn", "reconnect", incarnations=2, capacity=1)
    assert set(ex.found) & {"no-ghost-acceptance", "handshake-agreement"}


def test_no_unspecified_reception_fails_on_a_table_with_a_hole():
    from synack.spec.machine import Machine
    from synack.spec.table import TABLE

    holed = tuple(r for r in TABLE if r.id != "closed.ack")
    cfg = make_config("rfc9293", scenario="client-close", properties=PROPERTIES)
    ex = explore(System(cfg, Machine(cfg.profile, table=holed)))
    assert "no-unspecified-reception" in ex.found and "CLOSED" in ex.found["no-unspecified-reception"].message


def test_limits_stop_cleanly_and_say_incomplete():
    from synack.checker.explore import Limits

    ex = explore(System(make_config("rfc9293", scenario="data", capacity=2)), Limits(max_states=5000))
    assert not ex.complete and "max-states" in ex.stopped and len(ex.states) >= 5000


@pytest.mark.parametrize("kw,word", [(dict(capacity=0), "capacity"), (dict(retries=99), "retries"),
                                     (dict(scenario="nope"), "scenario"), (dict(profile="bsd"), "profile")])
def test_bad_bounds_are_rejected_with_the_value_named(kw, word):
    with pytest.raises(SpecError, match=word):
        make_config(**kw)


def test_fifo_channels_explore_fewer_states_and_still_hold():
    fifo, multiset = run("rfc9293", "client-close", capacity=2, fifo=True), run("rfc9293", "client-close", capacity=2)
    assert not fifo.found and len(fifo.states) < len(multiset.states)
    assert dfs_count(fifo.system) == len(fifo.states)


def test_any_scenario_exercises_every_call_and_leaves_nothing_unspecified():
    """Users making any call in any order: every call kind is exercised, nothing is unspecified."""
    ex = run("rfc9293", "any", capacity=1, budget=2)
    assert "no-unspecified-reception" not in ex.found and "no-ghost-acceptance" not in ex.found
    used = {lab[2] for s in ex.states[:20000] for lab, *_ in ex.system.successors(s) if lab[0] == "call"}
    assert {"LISTEN", "CONNECT", "SEND", "SHUTDOWN", "CLOSE", "ABORT"} <= used


def test_properties_reported_as_checked_are_evaluated_even_without_a_config_selection():
    """explore() defaults to every property; the edge checks must follow that selection."""
    ex = explore(System(make_config("rfc9293+two-way-handshake", scenario="handshake", capacity=1, retries=1)))
    assert "handshake-agreement" in ex.checked and "handshake-agreement" in ex.found
    with pytest.raises(SpecError, match="unknown property 'liveness'"):
        explore(System(make_config("rfc9293", scenario="handshake")), properties=("liveness",))


def _broken_run(edit, scenario, profile="rfc9293", capacity=1):
    from synack.spec.machine import Machine
    from synack.spec.table import TABLE

    cfg = make_config(profile, scenario=scenario, capacity=capacity, retries=1, properties=PROPERTIES)
    return explore(System(cfg, Machine(cfg.profile, table=tuple(edit(r) for r in TABLE))))


@pytest.mark.parametrize("scenario", ["client-close", "abort", "data"])
def test_user_visible_properties_hold(scenario):
    found = run("rfc9293", scenario).found
    assert "user-signals" not in found and "in-order-delivery" not in found


def test_user_signals_fails_when_a_data_segment_tells_end_of_data():
    """A row that says 'end of data' for data (not a FIN) tells the user the peer closed
    before its user did anything of the kind."""
    from dataclasses import replace

    ex = _broken_run(lambda r: replace(r, actions=r.actions + ("signal eof",)) if r.id == "text.data" else r, "data")
    assert "user-signals" in ex.found and "never closed" in ex.found["user-signals"].message


def test_user_signals_fails_when_a_close_reports_a_reset():
    """A close that tells the user 'connection reset' (where RFC 9293 3.10.4 says 'closing')."""
    from dataclasses import replace

    edit = (lambda r: replace(r, actions=r.actions + ("signal error: connection reset",))
            if r.id == "est.close.plain" else r)
    ex = _broken_run(edit, "client-close")
    assert "user-signals" in ex.found and "no RST arrived" in ex.found["user-signals"].message


def test_in_order_delivery_fails_when_data_is_taken_beyond_a_gap():
    """Accepting an out-of-order segment as if the gap were filled skips data (RFC 9293
    3.10.7.4 seventh); the checker's reordering network finds it."""
    from dataclasses import replace

    edit = (lambda r: replace(r, actions=("UNREAD := True", "RCV.NXT := SEG.END", "send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>"))
            if r.id == "text.ooo" else r)
    ex = _broken_run(edit, "data", capacity=2)
    assert "in-order-delivery" in ex.found and "gap" in ex.found["in-order-delivery"].message


def test_a_rate_limited_answer_is_a_loss_to_liveness():
    """A rate limit withholds an answer the way a loss does (Linux tcp_oow_rate_limited(): one
    per 500 ms; the SYN,ACK retransmissions that need it come a second or more apart), so a
    give-up after it is excused. Judged as an ordinary fair move instead, the limit could
    withhold every answer and `progress` fails (the run the test kit's timing variation found)."""
    import dataclasses

    from synack.spec.machine import Machine
    from synack.spec.table import TABLE

    cfg = make_config("linux", scenario="handshake", capacity=1, retries=1, properties=PROPERTIES)
    sys_ = System(cfg)
    assert "seq.bad.limited" in {r.id for r in sys_.m.rows}
    assert not explore(sys_).found
    untimed = Machine(cfg.profile, table=tuple(dataclasses.replace(r, rate_limited=False) for r in TABLE))
    ex = explore(System(cfg, spec=untimed))
    assert "progress" in ex.found
    # the rate-limited answer withheld: the retransmitted SYN,ACK ends at RCV.NXT, so Linux's
    # tcp_sequence() accepts it (option dup-end-acceptable) and step 4 challenges its SYN
    # (tcp_send_challenge_ack(), the same per-socket limit as seq.bad.limited's)
    assert "syn.challenge.limited" in rows_of(ex, "progress")
