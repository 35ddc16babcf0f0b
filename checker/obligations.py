"""Row obligations: what every row of a table must keep, proved by z3 for every row and every
state it applies in, not only for the rows the checker happens to reach.

The exhaustiveness, exclusivity and invariant proofs (`proofs.py`) say that the table is a
function and keeps its TCB sane; they do not say that a row sends what it claims or tells the
user the truth. These obligations do. Each is stated here once, with the RFC text it comes
from; `synack prove` checks them all and `tests/checker/test_obligations.py` shows each one
failing on a table built to break it.

Sequence accounting (RFC 9293 3.3.1, 3.4). A send action declares its kind by its first word
(`spec/vocab.py` SEND_KINDS):
- `send-new`: `send` uses new sequence space: a SYN carries SEQ = ISS (the ISS the row
  leaves), any other segment carries SEQ = SND.NXT as it was before the row (then the end of
  the previous new segment), and SND.NXT ends exactly past the last new segment;
- `send-resend`: `resend` repeats what was sent: SEQ = ISS on a SYN, else SEQ = SND.UNA, and
  it ends within [SND.UNA, SND.NXT];
- `send-probe`: `probe` (keep-alive, RFC 9293 3.8.4; zero-window, 3.8.6.1) lies at most one
  below SND.UNA and ends at or before SND.NXT;
- `send-reply`: `reply` answers the arriving segment as RFC 9293 3.10.7.1 says a reset is
  formed: <SEQ=SEG.ACK><CTL=RST> if it carried an ACK, else
  <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>;
- `send-ack`: every other segment with ACK set acknowledges RCV.NXT as the row leaves it
  (3.10.7.4: "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>").

Retries (RFC 9293 3.8.3, RFC 1122 4.2.3.5 R2, RFC 6298 5.x; keep-alive 3.8.4):
- `retry-reset`: whenever SND.UNA advances, the retransmission count returns to 0;
- `retry-only`: and only then, or by one on an RTO, or when the row starts a new
  synchronization (it assigns ISS or IRS);
- `probes-only`: the keep-alive probe count moves only by one on KEEPALIVE, or back to 0
  when a segment arrives, or with a new synchronization.

User signals (RFC 9293 3.10.1-3.10.7):
- `signal-reset`: "connection reset"/"refused" only when an arriving RST is accepted (queued
  calls also get "reset" on ABORT or when the row itself sends a RST); and an accepted RST
  tells the user what 3.10.7.3/3.10.7.4 say for the state it arrives in;
- `signal-eof`: "end of data" exactly when the FIN is consumed (RCV.NXT advances over it);
- `signal-established`: "established" exactly on entering ESTABLISHED;
- `call-errors`: each call in each state returns the error 3.10.1-3.10.6 names, and no row
  returns an error those sections do not name for that call in that state.

Answers and endings (RFC 9293 3.10.4-3.10.8), checked where an arriving segment's path through
the stages ends, or per row:
- `segment-acked`: a non-RST segment with ACK set that occupies sequence space in a
  synchronized state is answered with an ACK or owes one (exceptions in `_answered`);
- `text-needs-ack`: text or a FIN is accepted only past an acceptable ACK (fifth step);
- `unread-needs-data`: data becomes readable only as RCV.NXT advances over it (seventh);
- `rst-silent`: a RST outside the window is dropped silently (first; RFC 5961 3.2);
- `reset-answer`: CLOSED resets every non-RST segment, LISTEN every one with ACK set
  (3.10.7.1-2);
- `send-reset-form`: a reset carries neither SYN nor FIN, and a row's own reset (not a
  `reply`) ends the connection;
- `tcb-deleted`, `listen-passive`: a connection that ends deletes its TCB, and goes back to
  LISTEN only on a segment or timer and only if passively opened;
- `abort-reset`: ABORT tells queued calls "connection reset" (3.10.5);
- `timewait-timer`: entering TIME-WAIT starts 2 MSL, a FIN in TIME-WAIT restarts it;
- `timer-sends`, `giveup-outstanding`: a retransmission/probe/delayed-ACK timer that keeps the
  connection sends; a retransmission or user timeout gives up only with data outstanding;
- `syn-options`: a row that takes the peer's SYN records its MSS and window scale (3.7.1);
- `choice-default`: a `choice` row (a delayed ACK, a rate-limited challenge ACK, Nagle's
  deferral) is an alternative: a row that is not a choice applies wherever it does, so the
  table never makes an optional behaviour the only one. Not on OUTPUT, where what to send
  next (a FIN with the last bytes or after them) is the stack's own choice.
Each exception is an RFC sentence or an option a profile declares (`ack-unsent-silent`,
`fin-wait-2-minisock`), never a row name. These came from the survivors of
`bench/spec_mutants.py`'s extended operators.

What is not an obligation: the choice between alternatives the RFCs allow (those are
`choice` rows), and timing (the profile's intervals). A row that starts a new incarnation (it
assigns ISS) is exempt from the retry obligations, not from the send obligations.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from synack.spec.machine import Machine, machine
from synack.spec.model import ACK, ICMP, RST, SEGMENT, SYN, FIN, State, flags_str
from synack.spec.profiles import Profile, get_profile
from synack.spec.vocab import parse_expr, z3_term

from .proofs import _groups, _setup, _Symbols

S = State
SYNC_RESET = (S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT)


@dataclass(frozen=True)
class Obligation:
    name: str
    rfc: str
    text: str


OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation("send-new", "RFC 9293 3.3.1, 3.4",
               "new segments carry SEQ = ISS (SYN) or SND.NXT, and SND.NXT moves exactly past them"),
    Obligation("send-resend", "RFC 9293 3.10.8; RFC 1122 4.2.2.15",
               "a retransmission starts at SND.UNA (or is the SYN again) and ends within SND.NXT"),
    Obligation("send-probe", "RFC 9293 3.8.4, 3.8.6.1",
               "a probe lies at most one below SND.UNA and does not pass SND.NXT"),
    Obligation("send-reply", "RFC 9293 3.10.7.1",
               "a reset answering a segment has SEQ = SEG.ACK, or SEQ = 0 and ACK = SEG.SEQ + SEG.LEN"),
    Obligation("send-ack", "RFC 9293 3.10.7.4",
               "a segment with ACK set acknowledges RCV.NXT as the row leaves it"),
    Obligation("segment-acked", "RFC 9293 3.10.7.4; 3.8.6.3",
               "a non-RST segment with ACK set that occupies sequence space in a synchronized state is answered "
               "with an ACK (or one is owed), unless the connection ends on it or RFC 9293 lets it go unanswered"),
    Obligation("timewait-timer", "RFC 9293 3.10.7.4 eighth, 3.10.8",
               "entering TIME-WAIT starts the 2 MSL timer, and a FIN arriving in TIME-WAIT restarts it"),
    Obligation("tcb-deleted", "RFC 9293 3.10.4, 3.10.5, 3.10.7, 3.10.8",
               "a row that ends a connection (enters CLOSED, or LISTEN from a connection) deletes its TCB"),
    Obligation("listen-passive", "RFC 9293 3.10.7.3, 3.10.7.4 second and fourth",
               "a connection returns to LISTEN only on a segment or timer and only if it was passively opened"),
    Obligation("reset-answer", "RFC 9293 3.10.7.1, 3.10.7.2, 3.10.7.3",
               "CLOSED answers every non-RST segment with a reset; LISTEN every non-RST segment with ACK set; "
               "SYN-SENT every non-RST segment whose ACK is not acceptable"),
    Obligation("abort-reset", "RFC 9293 3.10.5",
               "ABORT of an open connection (LISTEN to CLOSE-WAIT) tells queued calls 'connection reset'"),
    Obligation("timer-sends", "RFC 9293 3.10.8, 3.8.4, 3.8.6.1, 3.8.6.3",
               "a retransmission, keep-alive, zero-window or delayed-ACK timer that keeps the connection sends"),
    Obligation("giveup-outstanding", "RFC 1122 4.2.3.5; RFC 5482 3",
               "a retransmission or user timeout gives up only while something sent is unacknowledged"),
    Obligation("send-reset-form", "RFC 9293 3.10.7.1, 3.5.2, 3.10.5",
               "a reset carries neither SYN nor FIN, and one a row sends of its own (not a `reply`) ends the "
               "connection"),
    Obligation("text-needs-ack", "RFC 9293 3.10.7.4 fifth",
               "text or a FIN is accepted only from a segment whose ACK is acceptable (ACK set, nothing unsent "
               "acknowledged)"),
    Obligation("syn-options", "RFC 9293 3.7.1; RFC 7323 2.2",
               "a row that takes the peer's SYN (assigns IRS) records its MSS and window scale"),
    Obligation("unread-needs-data", "RFC 9293 3.10.7.4 seventh",
               "data becomes readable only when RCV.NXT advances over it"),
    Obligation("rst-silent", "RFC 9293 3.10.7.4 first; RFC 5961 3.2",
               "a RST outside the receive window is dropped silently"),
    Obligation("choice-default", "RFC 9293 3.8.6.3; RFC 1122 4.2.3.2, 4.2.3.4; RFC 5961 7",
               "a `choice` row is an alternative the RFCs allow: a row that is not a choice applies wherever it does"),
    Obligation("syn-dropped", "RFC 9293 3.10.7.4 fourth; RFC 5961 4.2",
               "a SYN other than the peer's opening one, in a synchronized state, is answered and dropped: "
               "state, SND.UNA and RCV.NXT stay"),
    Obligation("retry-reset", "RFC 9293 3.8.3; RFC 6298 5.3",
               "the retransmission count returns to 0 whenever SND.UNA advances"),
    Obligation("retry-only", "RFC 1122 4.2.3.5",
               "the retransmission count changes only when SND.UNA advances, by one on RTO, or on a new "
               "synchronization"),
    Obligation("probes-only", "RFC 9293 3.8.4; RFC 1122 4.2.3.6",
               "the keep-alive probe count moves only by one on KEEPALIVE or back to 0 on an arriving segment"),
    Obligation("signal-reset", "RFC 9293 3.10.7.3, 3.10.7.4, 3.10.5",
               "'connection reset'/'refused' exactly when an RST is accepted (or ABORT/a sent RST, to queued "
               "calls)"),
    Obligation("signal-eof", "RFC 9293 3.10.7.4 eighth",
               "'end of data' exactly when the FIN is consumed"),
    Obligation("signal-established", "RFC 9293 3.10.7.3, 3.10.7.4",
               "'established' exactly on entering ESTABLISHED"),
    Obligation("call-errors", "RFC 9293 3.10.1-3.10.6",
               "each call returns the errors its section names for the state, and no others"),
)
BY_NAME = {o.name: o for o in OBLIGATIONS}

RESET, REFUSED = "error: connection reset", "error: connection refused"
QUEUED_RESET = "to queued calls: error: connection reset"
#: What an accepted RST tells the user, by the state it arrives in (None: nothing).
#: SYN-RECEIVED: "connection refused" for an active open, nothing for a passive one.
RST_SIGNAL: dict[State, str | None] = {
    S.SYN_SENT: RESET,                                        # 3.10.7.3 "error: connection reset"
    S.SYN_RECEIVED: REFUSED,                                  # 3.10.7.4 second, active OPEN
    S.ESTABLISHED: RESET, S.FIN_WAIT_1: RESET, S.FIN_WAIT_2: RESET, S.CLOSE_WAIT: RESET,
    S.CLOSING: None, S.LAST_ACK: None, S.TIME_WAIT: None,     # "enter CLOSED, delete TCB, return"
}

_ALL = tuple(State)
_CLOSING = (S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSING, S.LAST_ACK, S.TIME_WAIT)
#: (call, states, condition in the table's vocabulary, error, section): the errors RFC 9293
#: 3.10.1-3.10.6 name. A condition marks when the error is required; every error a row gives
#: must appear here for its call and state. SHUTDOWN is the RFC's CLOSE; the sockets API's
#: close() (CLOSE here) has no RFC section of its own and is not listed.
CALL_ERRORS: tuple[tuple[str, tuple[State, ...], str, str, str], ...] = (
    ("LISTEN", tuple(s for s in _ALL if s is not S.CLOSED), "True", "error: connection already exists", "3.10.1"),
    ("CONNECT", tuple(s for s in _ALL if s not in (S.CLOSED, S.LISTEN)), "True",
     "error: connection already exists", "3.10.1"),
    ("SEND", (S.CLOSED,), "True", "error: connection does not exist", "3.10.2"),
    ("SEND", (S.LISTEN,), "True", "error: foreign socket unspecified", "3.10.2"),
    ("SEND", (S.SYN_SENT, S.SYN_RECEIVED, S.ESTABLISHED, S.CLOSE_WAIT), "False",
     "error: insufficient resources", "3.10.2"),
    ("SEND", _CLOSING, "True", "error: connection closing", "3.10.2"),
    ("RECEIVE", (S.CLOSED,), "True", "error: connection does not exist", "3.10.3"),
    ("RECEIVE", (S.CLOSE_WAIT, S.CLOSING, S.LAST_ACK, S.TIME_WAIT), "not UNREAD", "error: connection closing",
     "3.10.3"),
    ("SHUTDOWN", (S.CLOSED,), "True", "error: connection does not exist", "3.10.4"),
    ("SHUTDOWN", (S.FIN_WAIT_1, S.FIN_WAIT_2), "False", "error: connection closing", "3.10.4"),
    ("SHUTDOWN", (S.CLOSING, S.LAST_ACK, S.TIME_WAIT), "True", "error: connection closing", "3.10.4"),
    ("CLOSE", (S.CLOSED,), "True", "error: connection does not exist", "3.10.4"),
    ("CLOSE", (S.CLOSING, S.LAST_ACK, S.TIME_WAIT), "False", "error: connection closing", "3.10.4"),
    ("ABORT", (S.CLOSED,), "True", "error: connection does not exist", "3.10.5"),
)


@dataclass
class Breach:
    """One row failing one obligation in one state, with a concrete witness where z3 gave one."""

    obligation: str
    row: str
    state: State
    event: str
    detail: str
    example: dict = field(default_factory=dict)

    def __str__(self) -> str:
        o = BY_NAME[self.obligation]
        ex = " ".join(f"{k}={v}" for k, v in self.example.items())
        return (f"OBLIGATION {self.obligation} ({o.rfc}): row {self.row} in {self.state} on {self.event}: "
                f"{self.detail}" + (f" [{ex}]" if ex else ""))


@dataclass
class ObligationReport:
    profile: str
    breaches: list[Breach] = field(default_factory=list)
    cases: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.breaches

    def summary(self) -> str:
        verdict = "KEPT" if self.ok else f"BROKEN ({len(self.breaches)} breaches)"
        return (f"{self.profile}: obligations {verdict}: {len(OBLIGATIONS)} obligations over {self.cases} "
                f"(row, state) cases, {self.seconds:.1f} s")


@dataclass
class _Run:
    """A row's actions applied symbolically, with what each send saw."""

    live: dict          # the TCB just before a `delete TCB` (or at the end)
    deleted: bool
    sends: list         # (kind, flags, seq, ack | None, len term)
    signals: list       # signal texts
    assigns: set        # TCB names the row assigns (before any delete)


def _run(actions, env: dict, params: dict) -> _Run:
    env = dict(env)
    live, sends, signals, assigns = None, [], [], set()
    for a in actions:
        op = a.op
        if op[0] == "set":
            env[op[1]] = z3_term(op[2], env, params)
            if live is None:
                assigns.add(op[1])
        elif op[0] == "send":
            flags, seq, ack, ln = op[1:]
            sends.append((a.kind, flags, z3_term(seq, env, params),
                          z3_term(ack, env, params) if ack is not None else None,
                          z3_term(ln, env, params) if ln is not None else z3.BitVecVal(0, 32)))
        elif op[0] == "signal":
            signals.append(op[1])
        elif op[0] == "delete" and live is None:
            live = dict(env)
    return _Run(env if live is None else live, live is not None, sends, signals, assigns)


def _state_of(c, at) -> State:
    return at["@state"]


def _cases(m: Machine, params: dict, env: dict):
    """Every (entry state, event, stage, row, environment the row sees, path condition, rows
    before it): calls and timers take one row; an arriving segment follows the stages of RFC
    9293 3.10.7, each row seeing the TCB the earlier stages left and holding only where their
    guards held (the rows before it on that path are the last item)."""
    for state, event, stage in _groups(m):
        if event != SEGMENT:
            for c in m.rows_for(state, event, stage):
                yield state, event, stage, c, dict(env, **{"@state": state}), z3.BoolVal(True), ()
        elif stage == m.entry[state]:
            yield from _chain(m, params, state, state, stage, dict(env, **{"@state": state}), z3.BoolVal(True), ())


def _chain(m, params, entry, state, stage, env, path, prior, depth=0):
    for c in m.rows_for(state, SEGMENT, stage):
        yield entry, SEGMENT, stage, c, env, path, prior
        if c.next is not None and depth < 12:
            guard = z3_term(m.parsed[c.row.id][0], env, params)
            after = _apply(m.parsed[c.row.id][1], env, params)
            nxt = c.row.to or state
            after["@state"] = nxt
            yield from _chain(m, params, entry, nxt, c.next, after, z3.And(path, guard), prior + (c,), depth + 1)


def _apply(actions, env: dict, params: dict) -> dict:
    env = dict(env)
    for a in actions:
        if a.op[0] == "set":
            env[a.op[1]] = z3_term(a.op[2], env, params)
    return env


def _seg_len(flags: int, ln):
    one = z3.BitVecVal(1, 32)
    out = ln
    if flags & SYN:
        out = out + one
    if flags & FIN:
        out = out + one
    return out


def check_obligations(profile: "Profile | str", m: Machine | None = None,
                      rows: "frozenset[str] | None" = None) -> ObligationReport:
    """Prove every obligation of `OBLIGATIONS` for every row of the profile's table (or only
    for the row ids in `rows`, which the tests use to keep a broken table's check short)."""
    if isinstance(profile, str):
        profile = get_profile(profile)
    m = m or machine(profile)
    params = dict(profile.params)
    report = ObligationReport(profile.label())
    t0 = time.perf_counter()
    sym = _Symbols(".o")
    env = sym.env
    inv, shown, witness = _setup(m, env, params)

    call_errors = [(call, states, parse_expr(cond, m.macros), err, sec) for call, states, cond, err, sec in CALL_ERRORS]
    for state, event, stage, c, at, path, prior in _cases(m, params, env):
        last = event == SEGMENT and c.next is None      # the path of an arriving segment ends here
        if rows is not None and c.row.id not in rows and not (last and any(p.row.id in rows for p in prior)):
            continue
        report.cases += 1
        guard_e, actions = m.parsed[c.row.id]
        pre = z3.And(sym.wellformed, inv[state], path, z3_term(guard_e, at, params))
        if witness(pre) is None:
            continue                # the row cannot apply along this path
        run = _run(actions, at, params)
        here = _state_of(c, at)
        to = c.row.to or here

        def breach(name, detail, claim=None, _c=c, _here=here):
            """Record a breach when `claim` can fail under the row's guard (or always, without one)."""
            if claim is None:
                report.breaches.append(Breach(name, _c.row.id, _here, event, detail))
                return
            model = witness(pre, z3.Not(claim))
            if model is not None:
                report.breaches.append(Breach(name, _c.row.id, _here, event, detail, sym.value(model, shown)))

        _sends(run, at, event, breach)
        _retries(run, at, event, breach)
        _signals(run, c.row, here, event, c.row.stage, to, at, params, pre, witness, breach, call_errors, profile)
        if last:
            _answered(m, params, state, prior, c.row, run, env, breach, profile)
            _timewait_fin(m, state, prior, c.row, run, env, breach)
            _reset_answer(m, params, state, prior, run, env, breach)
            _text_needs_ack(m, params, state, prior, c.row, run, env, breach, profile)
            _rst_silent(m, params, state, prior, run, env, breach, profile)
            _syn_dropped(m, state, prior, c.row, run, env, breach, profile)
        _ends(run, here, to, event, at, breach)
        if c.row.choice and event != "OUTPUT":    # OUTPUT: what to send next is the stack's own choice (3.7)
            others = [z3_term(m.parsed[o.row.id][0], at, params) for o in m.rows_for(here, event, stage)
                      if not o.row.choice]
            breach("choice-default", "is a choice, but no row that is not one applies where it does (the "
                   "behaviour it is an alternative to is missing)", z3.Or(*others) if others else z3.BoolVal(False))
        _timers_and_forms(run, here, event, at, actions, breach)
        if not run.deleted:
            # from the SYN that starts an incarnation, RCV.NXT advances from IRS + 1 (TFO data, RFC 7413)
            start = run.live["IRS"] + 1 if "IRS" in run.assigns else at["RCV.NXT"]
            breach("unread-needs-data", "marks data readable without RCV.NXT advancing over it",
                   z3.Or(z3.Not(run.live["UNREAD"]), at["UNREAD"], run.live["RCV.NXT"] != start))
        if to is S.TIME_WAIT and here is not S.TIME_WAIT and not run.deleted and \
                not any(a.op == ("restart", "2MSL") for a in actions):
            breach("timewait-timer", "enters TIME-WAIT without starting the 2 MSL timer")
    report.seconds = time.perf_counter() - t0
    return report


def _sends(run: _Run, env: dict, event: str, breach) -> None:
    live = run.live
    cursor = env["SND.NXT"]
    new = False
    for kind, flags, seq, ack, ln in run.sends:
        seglen = _seg_len(flags, ln)
        what = f"the {flags_str(flags)} it sends"
        if kind == "send":
            new = True
            if flags & SYN:
                breach("send-new", f"{what} does not carry SEQ = ISS", seq == live["ISS"])
            else:
                breach("send-new", f"{what} does not carry SEQ = SND.NXT", seq == cursor)
            cursor = seq + seglen
        elif kind == "resend":
            if flags & SYN:
                breach("send-resend", f"{what} is not the SYN (SEQ = ISS)", seq == live["ISS"])
            else:
                una, nxt = env["SND.UNA"], env["SND.NXT"]
                breach("send-resend", f"{what} does not start at SND.UNA", seq == una)
                breach("send-resend", f"{what} reaches past SND.NXT", z3.ULE(seq + seglen - una, nxt - una))
        elif kind == "probe":
            low, nxt = env["SND.UNA"] - 1, env["SND.NXT"]
            breach("send-probe", f"{what} lies outside [SND.UNA - 1, SND.NXT]",
                   z3.And(z3.ULE(seq - low, nxt - low), z3.ULE(seq + seglen - low, nxt - low)))
        elif kind == "reply":
            if event != SEGMENT:
                breach("send-reply", f"{what} answers no arriving segment")
                continue
            ok_acked = z3.BoolVal(flags == RST)
            ok_plain = z3.BoolVal(flags == RST | ACK)
            form = z3.If(env["ACK"], z3.And(ok_acked, seq == env["SEG.ACK"]),
                         z3.And(ok_plain, seq == 0, (ack if ack is not None else seq) == env["SEG.SEQ"] + env["SEG.LEN"]))
            breach("send-reply", f"{what} is not the reset RFC 9293 3.10.7.1 forms", form)
        if kind != "reply" and ack is not None:
            breach("send-ack", f"{what} does not acknowledge RCV.NXT", ack == live["RCV.NXT"])
    if not run.deleted or new:
        breach("send-new", "SND.NXT does not end exactly past the new segments sent"
               if new else "SND.NXT moves although no new segment is sent", live["SND.NXT"] == cursor)


def _retries(run: _Run, env: dict, event: str, breach) -> None:
    if run.deleted:
        return
    live = run.live
    fresh = bool(run.assigns & {"ISS", "IRS"})
    if fresh:
        return
    una_moved = live["SND.UNA"] != env["SND.UNA"]
    breach("retry-reset", "SND.UNA advances but the retransmission count is not reset",
           z3.Implies(una_moved, live["RTX"] == 0))
    allowed = z3.Or(z3.And(una_moved, live["RTX"] == 0),
                    z3.And(z3.BoolVal(event == "RTO"), live["RTX"] == env["RTX"] + 1))
    breach("retry-only", "the retransmission count changes without SND.UNA advancing or an RTO",
           z3.Or(live["RTX"] == env["RTX"], allowed))
    probes_ok = live["PROBES"] == env["PROBES"]
    if event == "KEEPALIVE":
        probes_ok = z3.Or(probes_ok, live["PROBES"] == env["PROBES"] + 1)
    elif event == SEGMENT:
        probes_ok = z3.Or(probes_ok, live["PROBES"] == 0)
    breach("probes-only", "the keep-alive probe count changes other than by a probe or an arriving segment",
           probes_ok)


#: States the peer's FIN has reached: text arriving now "should not occur" and is ignored
#: without an answer (RFC 9293 3.10.7.4 seventh); a FIN is still acknowledged (eighth).
_PEER_CLOSED = (S.CLOSE_WAIT, S.CLOSING, S.LAST_ACK, S.TIME_WAIT)
_SYNCHRONIZED = (S.SYN_RECEIVED, S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2) + _PEER_CLOSED


def _answered(m: Machine, params: dict, entry: State, prior, row, run: _Run, env: dict, breach, profile) -> None:
    """`segment-acked`, checked where the path of an arriving segment ends (`prior` are the
    rows before the last, `run` the last row's actions): a segment with the ACK bit that is
    not a RST and occupies sequence space, arriving in a synchronized state, leaves an ACK
    sent or owed. RFC 9293 3.10.7.4 acknowledges every such segment: an unacceptable one
    (first), an in-window SYN (fourth, RFC 5961 4.2's challenge ACK), an ACK of unsent data
    (fifth), accepted text (seventh), a FIN (eighth); a delayed ACK (3.8.6.3) is owed.
    Not required: when the path sends a RST or deletes the TCB (the connection ends on it), a
    `choice` row on it (an alternative the RFCs allow, RFC 5961 7's rate limit), text without
    a FIN after the peer's FIN (seventh: "ignore the segment text"), a segment without the ACK
    bit (fifth: "drop the segment and return"), a SYN,ACK in SYN-RECEIVED (the simultaneous
    open of 3.5 Figure 7 completes on it with nothing sent), and the latitudes a profile
    declares by an option: `ack-unsent-silent` (Linux tcp_ack() drops an ACK of unsent data in
    ESTABLISHED), `dup-end-acceptable` (CLOSING: a segment ending at RCV.NXT that acknowledges our
    FIN enters TIME-WAIT and is consumed, tcp_rcv_state_process()), `closing-fin-ignored` (CLOSE-WAIT,
    CLOSING, LAST-ACK: a FIN at or after RCV.NXT is dropped unanswered, tcp_rcv_state_process() step 7)."""
    if entry not in _SYNCHRONIZED:
        return
    sends = [a.op[1] for c in prior for a in m.parsed[c.row.id][1] if a.op[0] == "send"] + \
        [flags for _, flags, *_ in run.sends]
    if any(f & (ACK | RST) for f in sends) or run.deleted or row.choice or any(c.row.choice for c in prior) or \
            any(a.op[0] == "delete" for c in prior for a in m.parsed[c.row.id][1]):
        return
    applies = [z3.Not(env["RST"]), env["ACK"], z3.UGT(env["SEG.LEN"], 0)]
    if entry in _PEER_CLOSED:
        applies.append(env["FIN"])
    if entry is S.SYN_RECEIVED:
        applies.append(z3.Not(env["SYN"]))
    if profile.has("ack-unsent-silent"):
        applies.append(z3.Not(z3_term(parse_expr("ACK_UNSENT", m.macros), env, params)))
    if profile.has("dup-end-acceptable") and entry is S.CLOSING:
        # Linux tcp_rcv_state_process(): a segment ending at RCV.NXT (the peer's FIN again) that
        # acknowledges CLOSING's FIN makes it TIME-WAIT (tcp_time_wait(); goto consume): nothing sent
        applies.append(z3.Not(z3_term(parse_expr("LX_DUP_END and FIN.SENT and SEG.ACK == SND.NXT", m.macros),
                                      env, params)))
    if profile.has("closing-fin-ignored") and entry in (S.CLOSE_WAIT, S.CLOSING, S.LAST_ACK):
        # Linux tcp_rcv_state_process() step 7: after the peer's FIN, a segment at or after RCV.NXT never
        # reaches tcp_data_queue()/tcp_fin(): a FIN there is dropped without an ACK
        applies.append(z3.Not(z3_term(parse_expr("not (SEG.SEQ < RCV.NXT)", m.macros), env, params)))
        if entry is S.CLOSING:
            # ... and CLOSING whose FIN the segment acknowledges becomes TIME-WAIT before step 7
            # (tcp_time_wait(); goto consume): nothing of the segment is answered
            applies.append(z3.Not(z3_term(parse_expr("FIN.SENT and SEG.ACK == SND.NXT", m.macros), env, params)))
    breach("segment-acked", "the segment is neither acknowledged nor dropped as RFC 9293 3.10.7.4 allows "
           f"(path {' > '.join(c.row.id for c in prior) + (' > ' if prior else '')}this row)",
           z3.Or(z3.Not(z3.And(*applies)), run.live["ACK.OWED"]))


_OPENED = (S.SYN_SENT, S.SYN_RECEIVED, S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT)


def _ends(run: _Run, state: State, to: State, event: str, env: dict, breach) -> None:
    """`tcb-deleted` and `listen-passive` for one row. RFC 9293 says "delete the TCB" wherever
    a connection ends (3.10.4-3.10.5 CLOSE/ABORT, 3.10.7 RST and SYN, 3.10.8 timeouts); a
    listener stays a listener (a LISTEN call on a listener, or its SYN-RECEIVED children
    going back) only when "the connection was initiated with a passive OPEN"."""
    if to in (S.CLOSED, S.LISTEN) and to is not state and state is not S.CLOSED and not run.deleted:
        breach("tcb-deleted", f"goes from {state} to {to} without deleting the TCB")
    if to is S.LISTEN and state not in (S.CLOSED, S.LISTEN):
        if event not in (SEGMENT, ICMP, "RTO"):      # ICMP: a message from the network, like a segment
            breach("listen-passive", f"the user's {event} makes {state} a listener (RFC 9293 3.10.4-3.10.5: "
                   "the connection is closed)")
        else:
            breach("listen-passive", f"goes back to LISTEN from {state} though not passively opened", env["PASSIVE"])


#: timers that keep the connection only to send something (RFC 9293 3.10.8 retransmission,
#: 3.8.4 keep-alive probe, 3.8.6.1 zero-window probe, 3.8.6.3 the delayed ACK)
_SENDING_TIMERS = ("RTO", "KEEPALIVE", "PERSIST", "DELACK")


def _timers_and_forms(run: _Run, state: State, event: str, env: dict, actions, breach) -> None:
    """`timer-sends`, `giveup-outstanding`, `send-reset-form` and `syn-options` for one row."""
    if event in _SENDING_TIMERS and not run.deleted and not run.sends:
        breach("timer-sends", f"{event} fires and the connection stays, yet nothing is sent")
    gives_up = run.deleted or any(s.startswith("error: ") for s in run.signals)
    if event in ("RTO", "USER-TIMEOUT") and gives_up:
        breach("giveup-outstanding", f"gives up on {event} with nothing unacknowledged",
               env["SND.UNA"] != env["SND.NXT"])
    for kind, flags, *_ in run.sends:
        if flags & RST and flags & (SYN | FIN):
            breach("send-reset-form", f"sends a reset with other controls ({flags_str(flags)})")
        if flags & RST and kind != "reply" and not run.deleted:
            breach("send-reset-form", "sends a reset of its own connection and keeps it (RFC 9293 3.10.5: "
                   "a reset ends the connection; a reset answering a segment is a `reply`)")
    assigned = {a.op[1] for a in actions if a.op[0] == "set"}
    if "IRS" in assigned and not {"SND.MSS", "SND.WS"} <= assigned:
        missing = " and ".join(sorted({"SND.MSS", "SND.WS"} - assigned))
        breach("syn-options", f"takes the peer's SYN without recording its {missing}")


def _text_needs_ack(m: Machine, params: dict, entry: State, prior, row, run: _Run, env: dict, breach,
                    profile) -> None:
    """`text-needs-ack` where an arriving segment's path ends. RFC 9293 3.10.7.4 fifth, in
    SYN-RECEIVED to LAST-ACK: "if the ACK bit is off, drop the segment and return"; "If the
    ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment,
    and return"; so RCV.NXT moves only past a segment with an acceptable ACK. Not in
    TIME-WAIT (its fifth step reads no ACK field: only a retransmitted FIN is expected), not on
    a path that starts a new incarnation (it assigns IRS), and not in an orphaned FIN-WAIT-2
    that the profile makes a timewait socket (`fin-wait-2-minisock`:
    tcp_timewait_state_process() does not read the ACK field)."""
    if entry not in _SYNCHRONIZED or entry is S.TIME_WAIT or run.deleted:
        return
    if any(a.op[0] == "set" and a.op[1] == "IRS" for c in prior for a in m.parsed[c.row.id][1]) or \
            "IRS" in run.assigns:
        return
    unsent = z3_term(parse_expr("ACK_UNSENT", m.macros), env, params)
    claim = z3.Or(run.live["RCV.NXT"] == env["RCV.NXT"], z3.And(env["ACK"], z3.Not(unsent)))
    if entry is S.FIN_WAIT_2 and profile.has("fin-wait-2-minisock"):
        claim = z3.Or(claim, env["ORPHAN"])
    breach("text-needs-ack", "accepts text or a FIN from a segment without an acceptable ACK", claim)


def _rst_silent(m: Machine, params: dict, entry: State, prior, run: _Run, env: dict, breach, profile) -> None:
    """`rst-silent` where an arriving segment's path ends: 3.10.7.4 first, "If the RST bit is
    set, drop the segment and return" for an unacceptable segment; RFC 5961 3.2 "If the RST bit
    is set and the sequence number is outside the current receive window, silently drop the
    segment" (the challenge ACK is for a RST inside the window). Not in an orphaned FIN-WAIT-2
    the profile makes a timewait socket (`fin-wait-2-minisock`: tcp_timewait_state_process()
    answers anything outside its window with an ACK, a RST too)."""
    if entry not in _SYNCHRONIZED:
        return
    sent = [a for c in prior for a in m.parsed[c.row.id][1] if a.op[0] == "send"] + run.sends
    if not sent:
        return
    outside = z3.And(env["RST"], z3.Not(z3_term(parse_expr("ACCEPTABLE", m.macros), env, params)))
    if entry is S.FIN_WAIT_2 and profile.has("fin-wait-2-minisock"):
        outside = z3.And(outside, z3.Not(env["ORPHAN"]))
    breach("rst-silent", "answers a RST outside the receive window", z3.Not(outside))


def _syn_dropped(m: Machine, entry: State, prior, row, run: _Run, env: dict, breach, profile) -> None:
    """`syn-dropped` where an arriving segment's path ends: 3.10.7.4 fourth, a SYN in a
    synchronized state gets a challenge ACK (RFC 5961 4.2) or, in RFC 793's way, a RST; either
    way "discard the segment" (or the connection ends). The peer's opening SYN again (SEG.SEQ =
    IRS: a simultaneous open's SYN,ACK, a retransmitted SYN) and a path that starts a new
    incarnation (it assigns IRS) are not this case, nor an orphaned FIN-WAIT-2 the profile makes
    a timewait socket (`fin-wait-2-minisock`: tcp_timewait_state_process() takes a SYN below
    RCV.NXT as an old segment)."""
    if entry not in _SYNCHRONIZED or run.deleted:
        return
    acts = [a for c in prior for a in m.parsed[c.row.id][1]] + list(m.parsed[row.id][1])
    if any(a.op[0] == "delete" or (a.op[0] == "set" and a.op[1] == "IRS") for a in acts):
        return
    to = row.to or entry
    other = z3.And(env["SYN"], z3.Not(env["RST"]), env["SEG.SEQ"] != env["IRS"])
    if entry is S.FIN_WAIT_2 and profile.has("fin-wait-2-minisock"):
        other = z3.And(other, z3.Not(env["ORPHAN"]))
    if to is not entry:
        breach("syn-dropped", f"a SYN moves the connection from {entry} to {to}", z3.Not(other))
    live = run.live
    breach("syn-dropped", "a SYN moves SND.UNA or RCV.NXT", z3.Or(z3.Not(other), z3.And(
        live["SND.UNA"] == env["SND.UNA"], live["RCV.NXT"] == env["RCV.NXT"])))


def _reset_answer(m: Machine, params: dict, entry: State, prior, run: _Run, env: dict, breach) -> None:
    """`reset-answer` where an arriving segment's path ends: 3.10.7.1 "An incoming segment not
    containing a RST causes a RST to be sent in response"; 3.10.7.2 "Any acknowledgment is bad
    if it arrives on a connection still in the LISTEN state. An acceptable reset segment should
    be formed for any arriving ACK-bearing segment"; 3.10.7.3 SYN-SENT: "If SEG.ACK =< ISS or
    SEG.ACK > SND.NXT, send a reset (unless the RST bit is set ...)"."""
    if entry not in (S.CLOSED, S.LISTEN, S.SYN_SENT):
        return
    flags = [a.op[1] for c in prior for a in m.parsed[c.row.id][1] if a.op[0] == "send"] + \
        [f for _, f, *_ in run.sends]
    if any(f & RST for f in flags):
        return
    needs = z3.Not(env["RST"]) if entry is S.CLOSED else z3.And(z3.Not(env["RST"]), env["ACK"])
    if entry is S.SYN_SENT:         # 3.10.7.3 first: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset"
        needs = z3.And(needs, z3.Not(z3_term(parse_expr("ACK_NEW", m.macros), env, params)))
    breach("reset-answer", f"a segment arriving in {entry} is not answered with a reset", z3.Not(needs))


def _timewait_fin(m: Machine, entry: State, prior, row, run: _Run, env: dict, breach) -> None:
    """The second half of `timewait-timer`, where an arriving segment's path ends: a FIN with
    ACK set (not a RST, not a SYN: those the fourth and fifth steps end before the eighth)
    arriving in TIME-WAIT restarts the 2 MSL timer unless the path deletes the TCB (RFC 9293
    3.10.7.4 eighth: "Restart the 2 MSL time-wait timeout"; an unacceptable retransmitted FIN
    is the case it is for)."""
    if entry is not S.TIME_WAIT or run.deleted:
        return
    acts = [a for c in prior for a in m.parsed[c.row.id][1]] + list(m.parsed[row.id][1])
    if any(a.op[0] == "delete" for a in acts) or any(a.op == ("restart", "2MSL") for a in acts):
        return
    breach("timewait-timer", "a FIN arriving in TIME-WAIT does not restart the 2 MSL timer",
           z3.Not(z3.And(env["FIN"], env["ACK"], z3.Not(env["RST"]), z3.Not(env["SYN"]))))


def _signals(run: _Run, row, state, event, stage, to, env, params, pre, witness, breach, call_errors, profile) -> None:
    sigs = run.signals
    rst = env["RST"]
    for s in sigs:
        if s in (RESET, REFUSED):
            if event != SEGMENT:
                breach("signal-reset", f"signals {s!r} on {event}, not on an arriving RST")
            elif state in (S.CLOSED, S.LISTEN):
                breach("signal-reset", f"signals {s!r} in {state}, where there is no connection to reset "
                       "(RFC 9293 3.10.7.1-2: a RST is discarded)")
            elif not (run.deleted or to in (S.CLOSED, S.LISTEN)):
                breach("signal-reset", f"signals {s!r} but keeps the connection: the RST is not accepted")
            else:
                breach("signal-reset", f"signals {s!r} for a segment that is not a RST", rst)
        elif s == QUEUED_RESET and event != "ABORT" and not any(f & RST for _, f, *_ in run.sends):
            breach("signal-reset", "tells queued calls 'connection reset' without an ABORT or a sent RST")
    accepted = event == SEGMENT and (run.deleted or to in (S.CLOSED, S.LISTEN)) and state in RST_SIGNAL
    if accepted and witness(pre, rst) is not None and witness(pre, z3.Not(rst)) is None:
        want = RST_SIGNAL[state]
        if state is S.SYN_SENT and profile.has("econnrefused"):
            want = REFUSED              # the sockets API's name for it (Linux tcp_reset())
        if state is S.SYN_RECEIVED:
            passive = env["PASSIVE"]
            if REFUSED in sigs:
                breach("signal-reset", "a passively opened SYN-RECEIVED signals 'connection refused'",
                       z3.Not(passive))
            elif witness(pre, z3.Not(passive)) is not None:
                breach("signal-reset", f"an accepted RST in an active SYN-RECEIVED does not signal {REFUSED!r}")
        elif want is not None and want not in sigs:
            breach("signal-reset", f"an accepted RST in {state} does not signal {want!r}")
        elif want is None and (RESET in sigs or REFUSED in sigs):
            breach("signal-reset", f"an accepted RST in {state} signals an error RFC 9293 3.10.7.4 does not give")
    rcv_moved = run.live["RCV.NXT"] == env["RCV.NXT"] + 1
    if "eof" in sigs:
        if event != SEGMENT:
            breach("signal-eof", f"signals end of data on {event}")
        else:
            breach("signal-eof", "signals end of data without consuming a FIN",
                   z3.And(env["FIN"], rcv_moved) if not run.deleted else env["FIN"])
    elif event == SEGMENT and stage == "fin" and not run.deleted and witness(pre, env["FIN"], rcv_moved) is not None:
        breach("signal-eof", "consumes a FIN without signalling end of data")
    entering = to is S.ESTABLISHED and state is not S.ESTABLISHED and not run.deleted
    if entering != ("established" in sigs):
        breach("signal-established", "enters ESTABLISHED without signalling it" if entering
               else "signals established without entering ESTABLISHED")
    if event == "ABORT" and state in (S.LISTEN,) + _OPENED and QUEUED_RESET not in sigs:
        breach("abort-reset", f"ABORT in {state} does not tell queued calls 'connection reset'")
    errors = [s for s in sigs if s.startswith("error: ")]
    named = [(cond, err, sec) for call, states, cond, err, sec in call_errors if call == event and state in states]
    if event in {e[0] for e in CALL_ERRORS}:
        for err in errors:
            if err not in {e for _, e, _ in named}:
                breach("call-errors", f"returns {err!r}, which RFC 9293 3.10 does not name for {event} in {state}")
        for cond, err, sec in named:
            if err not in errors and witness(pre, z3_term(cond, env, params)) is not None:
                breach("call-errors", f"must return {err!r} (RFC 9293 {sec}) but does not")
