"""Row obligations hold on every profile's table and each fails on a table built to break it
(the seeded bugs of issue 25: a FIN at SND.UNA, SND.NXT moved before the send, a SYN sent
before ISS is chosen, a wrong user signal, a retry count reset by the wrong counter)."""
from dataclasses import replace

import pytest

from synack.checker.obligations import BY_NAME, OBLIGATIONS, check_obligations
from synack.checker.proofs import prove
from synack.spec import TABLE, State, get_profile
from synack.spec.machine import Machine


@pytest.mark.parametrize("name", ["rfc9293", "linux"])
def test_profiles_keep_every_obligation(name):
    report = check_obligations(name)
    assert report.ok, "\n".join(map(str, report.breaches))
    assert report.cases > 400


def _breaches(edit, rows, profile="rfc9293"):
    """The breaches of `rows` once `edit(row) -> row` has been applied to the table."""
    p = get_profile(profile)
    table = tuple(edit(r) for r in TABLE)
    return check_obligations(p, Machine(p, table=table), rows=frozenset(rows)).breaches


def _actions(rid, fn):
    return lambda r: replace(r, actions=fn(r.actions)) if r.id == rid else r


def _ack_first(actions):
    """fin.est's actions with its ACK moved before RCV.NXT counts the FIN (ToyTCP's planted bug)."""
    acts = list(actions)
    nxt = next(i for i, a in enumerate(acts) if a.startswith("RCV.NXT :="))
    ack = next(i for i, a in enumerate(acts) if a.startswith("send"))
    acts.insert(nxt, acts.pop(ack))
    return tuple(acts)


def _names(breaches):
    return {b.obligation for b in breaches}


def test_fin_at_snd_una_breaks_send_new():
    edit = _actions("closewait.shutdown", lambda a: tuple(x.replace("<SEQ=SND.NXT>", "<SEQ=SND.UNA>") for x in a))
    got = _breaches(edit, {"closewait.shutdown"})
    assert _names(got) == {"send-new"}
    b = got[0]
    assert b.example["SND.UNA"] != b.example["SND.NXT"] and "SEQ = SND.NXT" in str(b)


def test_snd_nxt_moved_before_the_fin_breaks_send_new():
    edit = _actions("est.shutdown", lambda a: (a[1], a[0]) + a[2:])        # SND.NXT := SND.NXT + 1 first
    got = _breaches(edit, {"est.shutdown"})
    assert _names(got) == {"send-new"} and "SND.NXT does not end" in str(got[-1])


def test_syn_sent_before_iss_is_chosen_breaks_send_new():
    edit = _actions("listen.connect", lambda a: (a[-1],) + a[:-1])
    got = _breaches(edit, {"listen.connect"})
    assert "send-new" in _names(got) and any("SEQ = ISS" in str(b) for b in got)


def test_retransmission_from_snd_nxt_breaks_send_resend():
    edit = _actions("rto.data", lambda a: tuple(x.replace("<SEQ=SND.UNA>", "<SEQ=SND.NXT>") for x in a))
    assert _names(_breaches(edit, {"rto.data"})) == {"send-resend"}


def test_probe_beyond_snd_nxt_breaks_send_probe():
    edit = _actions("keepalive", lambda a: tuple(x.replace("SND.NXT - 1", "SND.NXT + 1") for x in a))
    assert _names(_breaches(edit, {"keepalive"})) == {"send-probe"}


def test_reset_reply_in_the_wrong_form_breaks_send_reply():
    edit = _actions("closed.ack", lambda a: ("reply <SEQ=0><ACK=SEG.SEQ + SEG.LEN><CTL=RST,ACK>",))
    assert _names(_breaches(edit, {"closed.ack"})) == {"send-reply"}


def test_stale_ack_of_a_fin_breaks_send_ack():
    """ToyTCP's planted bug, in the table: the FIN is acknowledged before RCV.NXT counts it."""
    edit = _actions("fin.est", _ack_first)
    got = _breaches(edit, {"fin.est"})
    assert _names(got) == {"send-ack"}


def test_ack_without_retry_reset_breaks_retry_reset():
    edit = _actions("ack.new", lambda a: tuple(x for x in a if x != "RTX := 0"))
    assert "retry-reset" in _names(_breaches(edit, {"ack.new"}))


def test_shutdown_resetting_the_wrong_counter_breaks_retries():
    """Issue 25's survivor: SHUTDOWN in ESTABLISHED resets PROBES (or RTX) though nothing was
    acknowledged and no segment arrived."""
    probes = _actions("est.shutdown", lambda a: a + ("PROBES := 0",))
    assert _names(_breaches(probes, {"est.shutdown"})) == {"probes-only"}
    rtx = _actions("est.shutdown", lambda a: a + ("RTX := 0",))
    assert _names(_breaches(rtx, {"est.shutdown"})) == {"retry-only"}


def test_reset_signal_on_a_close_breaks_signal_reset():
    edit = _actions("late.shutdown", lambda a: ("signal error: connection reset",))
    got = _breaches(edit, {"late.shutdown"})
    assert "signal-reset" in _names(got)


def test_reset_signal_for_a_dropped_rst_breaks_signal_reset():
    """A mutant the extended bench found surviving: SYN-SENT drops an ACK-less RST (RFC 9293
    3.10.7.3) yet tells the user the connection was reset."""
    edit = _actions("synsent.rst-noack", lambda a: a + ("signal error: connection reset",))
    got = _breaches(edit, {"synsent.rst-noack"})
    assert _names(got) == {"signal-reset"} and "not accepted" in str(got[0])


def test_accepted_rst_without_its_signal_breaks_signal_reset():
    edit = _actions("synsent.rst", lambda a: tuple(x for x in a if not x.startswith("signal")))
    assert _names(_breaches(edit, {"synsent.rst"})) == {"signal-reset"}


def test_refused_for_reset_is_caught_without_the_linux_option():
    edit = _actions("synsent.rst", lambda a: tuple(x.replace("reset", "refused") for x in a))
    assert _names(_breaches(edit, {"synsent.rst"})) == {"signal-reset"}


def test_missing_eof_breaks_signal_eof():
    edit = _actions("fin.est", lambda a: tuple(x for x in a if x != "signal eof"))
    assert _names(_breaches(edit, {"fin.est"})) == {"signal-eof"}


def test_eof_without_a_fin_breaks_signal_eof():
    edit = _actions("text.data", lambda a: a + ("signal eof",))
    assert "signal-eof" in _names(_breaches(edit, {"text.data"}))


def test_established_signal_must_match_entering_established():
    missing = _actions("synsent.synack", lambda a: tuple(x for x in a if x != "signal established"))
    assert _names(_breaches(missing, {"synsent.synack"})) == {"signal-established"}
    extra = _actions("ack.new", lambda a: a + ("signal established",))
    assert "signal-established" in _names(_breaches(extra, {"ack.new"}))


def test_wrong_call_error_breaks_call_errors():
    named = _actions("closing.send", lambda a: ("signal error: connection reset",))
    got = _breaches(named, {"closing.send"})
    assert "call-errors" in _names(got) and any("must return 'error: connection closing'" in str(b) for b in got)
    dropped = _actions("closed.abort", lambda a: ())
    assert _names(_breaches(dropped, {"closed.abort"})) == {"call-errors"}


def test_every_obligation_has_a_breaking_test():
    """Each obligation named above is broken by some test in this module."""
    import inspect
    import sys
    src = inspect.getsource(sys.modules[__name__])
    missing = [o.name for o in OBLIGATIONS if f"{o.name}" not in src.replace("test_every_obligation", "")]
    assert not missing, missing
    assert set(BY_NAME) == {o.name for o in OBLIGATIONS}


def test_a_breach_fails_the_proof_report():
    """`synack prove` (prove(..., obligations=True)) fails on a breach and lists it."""
    p = get_profile("rfc9293")
    table = tuple(_actions("fin.est", _ack_first)(r) for r in TABLE)
    m = Machine(p, table=table)
    report = prove(p, m)
    assert report.ok and report.obligations is None          # the other proofs cannot see this bug
    report.obligations = check_obligations(p, m, rows=frozenset({"fin.est"}))
    assert not report.ok and any(b.obligation == "send-ack" for b in report.problems())
    assert "obligations BROKEN" in report.summary()


def test_fin_in_closing_left_unacknowledged_breaks_segment_acked():
    """The survivor of the extended mutation bench: CLOSING's ACK of our FIN stops instead of
    going on to the text and FIN stages, so a FIN arriving with it is neither consumed nor
    acknowledged (RFC 9293 3.10.7.4 eighth: "send an acknowledgment for the FIN")."""
    edit = lambda r: replace(r, next=None) if r.id == "ack.fin.closing" else r      # noqa: E731
    got = _breaches(edit, {"ack.fin.closing"})
    assert _names(got) == {"segment-acked"}
    b = got[0]
    assert b.state.value == "CLOSING" and b.example["FIN"] and b.example["ACK"] and not b.example["RST"]


def test_text_delivered_without_an_ack_breaks_segment_acked():
    edit = _actions("text.data", lambda a: tuple(x for x in a if not x.startswith("send")))
    got = _breaches(edit, {"text.data"})
    assert _names(got) == {"segment-acked"} and got[0].row == "text.data"


def test_a_stage_skipped_earlier_on_the_path_breaks_segment_acked():
    """A row early on the path that skips the text stage is found where the path ends
    (fin.none), through the rows before it."""
    edit = lambda r: replace(r, next="fin") if r.id == "rst.none" else r      # noqa: E731
    got = _breaches(edit, {"rst.none"})
    assert "segment-acked" in _names(got)
    assert any(b.row == "fin.none" and "rst.none > this row" in str(b) for b in got)


def test_unacceptable_segment_dropped_silently_breaks_segment_acked():
    edit = _actions("seq.bad", lambda a: ())
    assert _names(_breaches(edit, {"seq.bad"})) == {"segment-acked"}


def test_dropping_what_rfc9293_drops_keeps_segment_acked():
    """Just inside: text after the peer's FIN is ignored unanswered (3.10.7.4 seventh), so
    dropping text.ignore's continuation for a segment without FIN is not a breach; but with a
    FIN it is (the eighth step acknowledges it)."""
    edit = lambda r: replace(r, next=None) if r.id == "text.ignore" else r      # noqa: E731
    got = [b for b in _breaches(edit, {"text.ignore"}) if b.obligation == "segment-acked"]
    assert got and all(b.example["FIN"] for b in got)


def test_time_wait_entered_without_its_timer_breaks_timewait_timer():
    edit = _actions("fin.finwait2", lambda a: tuple(x for x in a if x != "restart 2MSL"))
    got = _breaches(edit, {"fin.finwait2"})
    assert _names(got) == {"timewait-timer"} and "without starting" in str(got[0])


def test_fin_in_time_wait_without_restart_breaks_timewait_timer():
    edit = _actions("fin.timewait", lambda a: tuple(x for x in a if x != "restart 2MSL"))
    got = _breaches(edit, {"fin.timewait"})
    assert _names(got) == {"timewait-timer"} and got[0].example["FIN"]


def test_closed_without_deleting_the_tcb_breaks_tcb_deleted():
    edit = _actions("listen.close", lambda a: tuple(x for x in a if x != "delete TCB"))
    assert _names(_breaches(edit, {"listen.close"})) == {"tcb-deleted"}


def test_close_in_syn_sent_to_listen_breaks_listen_passive():
    edit = lambda r: replace(r, to=State.LISTEN) if r.id == "synsent.close" else r      # noqa: E731
    assert _names(_breaches(edit, {"synsent.close"})) == {"listen-passive"}


def test_back_to_listen_from_an_active_open_breaks_listen_passive():
    edit = lambda r: replace(r, guard="RST and SEG.SEQ == RCV.NXT") if r.id == "rst.synrcvd.passive.exact" else r  # noqa
    got = _breaches(edit, {"rst.synrcvd.passive.exact"})
    assert "listen-passive" in _names(got) and any(not b.example.get("PASSIVE", True) for b in got)


def test_ack_in_listen_left_unanswered_breaks_reset_answer():
    edit = _actions("listen.ack", lambda a: ())
    got = _breaches(edit, {"listen.ack"})
    assert _names(got) == {"reset-answer"} and got[0].example["ACK"] and not got[0].example["RST"]


def test_listen_dropping_an_ack_less_segment_keeps_reset_answer():
    """Just inside: LISTEN drops a segment with neither RST, ACK nor SYN (3.10.7.2 fourth)."""
    assert _breaches(lambda r: r, {"listen.other"}) == []
    edit = _actions("closed.noack", lambda a: ())
    assert _names(_breaches(edit, {"closed.noack"})) == {"reset-answer"}


def test_abort_without_telling_queued_calls_breaks_abort_reset():
    edit = _actions("abort.rst", lambda a: tuple(x for x in a if not x.startswith("signal")))
    assert _names(_breaches(edit, {"abort.rst"})) == {"abort-reset"}


def test_persist_without_its_probe_breaks_timer_sends():
    edit = _actions("persist", lambda a: ())
    assert _names(_breaches(edit, {"persist"})) == {"timer-sends"}


def test_user_timeout_when_all_is_acknowledged_breaks_giveup_outstanding():
    """RFC 5482's user timeout bounds how long sent data stays unacknowledged (rfc9293 has the
    option on)."""
    edit = lambda r: replace(r, guard="SND.UNA == SND.NXT") if r.id == "user-timeout" else r      # noqa: E731
    got = _breaches(edit, {"user-timeout"})
    assert _names(got) == {"giveup-outstanding"} and got[0].example["SND.UNA"] == got[0].example["SND.NXT"]


def test_a_syn_with_rst_breaks_send_reset_form():
    edit = _actions("listen.connect", lambda a: tuple(x.replace("<CTL=SYN>", "<CTL=SYN,RST>") for x in a))
    assert "send-reset-form" in _names(_breaches(edit, {"listen.connect"}))


def test_peer_mss_ignored_breaks_syn_options():
    edit = _actions("synsent.syn", lambda a: tuple(x for x in a if x != "SND.MSS := MSS_RCVD"))
    assert _names(_breaches(edit, {"synsent.syn"})) == {"syn-options"}


def test_reset_signalled_in_closed_breaks_signal_reset():
    edit = _actions("closed.rst", lambda a: a + ("signal error: connection reset",))
    got = _breaches(edit, {"closed.rst"})
    assert _names(got) == {"signal-reset"} and "no connection to reset" in str(got[0])


def test_a_challenge_ack_turned_reset_breaks_send_reset_form():
    edit = _actions("rst.challenge", lambda a: tuple(x.replace("<CTL=ACK>", "<CTL=ACK,RST>") for x in a))
    got = _breaches(edit, {"rst.challenge"})
    assert "send-reset-form" in _names(got) and any("keeps it" in str(b) for b in got)


@pytest.mark.parametrize("rid", ["ack.none", "ack.unsent"])
def test_text_past_a_bad_ack_breaks_text_needs_ack(rid):
    """3.10.7.4 fifth drops a segment without ACK, or acknowledging unsent data, before its text."""
    edit = lambda r: replace(r, next="text") if r.id == rid else r      # noqa: E731
    assert "text-needs-ack" in _names(_breaches(edit, {rid}))


def test_trimmed_text_without_rcv_nxt_breaks_unread_needs_data():
    edit = _actions("text.trim", lambda a: tuple(x for x in a if not x.startswith("RCV.NXT")))
    assert _names(_breaches(edit, {"text.trim"})) == {"unread-needs-data"}


def test_out_of_window_rst_challenged_breaks_rst_silent():
    edit = lambda r: replace(r, next="rst") if r.id == "seq.bad-rst" else r      # noqa: E731
    got = _breaches(edit, {"seq.bad-rst"})
    assert "rst-silent" in _names(got) and all(b.example["RST"] for b in got if b.obligation == "rst-silent")


def test_an_optional_behaviour_made_the_only_one_breaks_choice_default():
    """Dropping the immediate ACK of a FIN leaves only its delayed alternative (RFC 1122
    4.2.3.2 makes delaying a SHOULD, not the only conformant behaviour)."""
    edit = lambda r: None if r.id == "fin.est" else r      # noqa: E731
    p = get_profile("rfc9293")
    table = tuple(r for r in (edit(x) for x in TABLE) if r is not None)
    got = check_obligations(p, Machine(p, table=table), rows=frozenset({"fin.est.delayed"})).breaches
    assert _names(got) == {"choice-default"} and got[0].row == "fin.est.delayed"


def test_processing_past_a_challenged_syn_breaks_syn_dropped():
    """The survivor of a fresh bench sample: SYN-RECEIVED's challenge ACK to a SYN went on to the
    ACK stage, so a stray SYN,ACK completed the handshake (3.10.7.4 fourth: discard it)."""
    edit = lambda r: replace(r, next="ack") if r.id == "syn.challenge.synrcvd" else r      # noqa: E731
    got = _breaches(edit, {"syn.challenge.synrcvd"})
    assert "syn-dropped" in _names(got)
    assert all(b.example["SYN"] and b.example["SEG.SEQ"] != b.example["IRS"] for b in got if b.obligation == "syn-dropped")


def test_bad_ack_in_syn_sent_left_unanswered_breaks_reset_answer():
    """A survivor of the linux sample: SYN-SENT must reset an unacceptable ACK (3.10.7.3)."""
    edit = _actions("synsent.badack", lambda a: ())
    got = _breaches(edit, {"synsent.badack"}, profile="linux")
    assert _names(got) == {"reset-answer"} and got[0].state.value == "SYN-SENT"
