"""The conformance monitor: which TCB values could the implementation under test (IUT) have,
given everything observed so far? Every answer comes from `step`; the monitor only decides
which events are hidden and how an observed segment relates to a segment the table sends.

A candidate is (endpoint, owed, fresh, mark, due):
- `owed` lists the segments the table made the IUT send that have not been observed yet, each
  with the row that sent it. A pure ACK is *soft*: RFC 1122 4.2.3.2 lets acknowledgments be
  delayed and cumulative, so an owed pure ACK is satisfied by any later segment that
  acknowledges as much, within the delayed-ACK deadline (a rate-limited challenge ACK is a
  row of its own that sends nothing). Owed SYN, FIN, RST and data segments go out in order.
- `due` is when the oldest obligation still open began (an owed segment, or ACK.OWED).
- `fresh` marks an ISS the table chose for a SYN that arrived in LISTEN before the IUT's
  SYN,ACK showed it; the SYN,ACK fixes it (the monitor learns the IUT's ISN).
- `mark` is the time the running TIME-WAIT (or SYN backoff) period began, for timing checks;
  it is dropped on entering a state where neither runs.

Hidden steps. Between two observed events the IUT may have: taken user calls the trace does
not log, had timers expire, and made the table's nondeterministic choices. Steps that send
nothing are closed over before every event ("silent closure"); steps that send are tried only
when an observed outgoing segment needs explaining ("loud" steps): CONNECT with the SYN's
sequence number as ISN, SEND of the segment's payload, SHUTDOWN, CLOSE, ABORT, RECEIVE and
every timer. A segment carrying data and FIN may be one SEND and one CLOSE merged.

What the capture may show differently from what the IUT did is declared in one place, the
observation model (oracle/observation.py: PSH and windows not compared, delayed and merged
pure ACKs within delack_max, repacketized retransmissions, the processing lag at a near
capture point bounded in count and time, losses at a far one); the monitor grants nothing
else. Every segment the spec owes has a deadline there (`_overdue`): with timestamps, a
candidate past it is gone, and a capture that went on past it without the segment ends in a
violation naming what was owed, since when, and the bound.

Timing, checked when events carry times, each as a lower bound with the profile's `tolerance`:
- SYN and SYN,ACK backoff: at least rto_initial * 2^(k-1) before retransmission k;
- TIME-WAIT lasts `time_wait` before it may end;
- keep-alive (RFC 9293 3.8.4, MUST-26): the k-th probe of an idle period, and the give-up after
  the last, come no sooner than ka_idle + (k-1) * ka_interval after the last segment that
  reset the probe count (every candidate accepted it: a lower bound on each one's reset time);
- an orphaned FIN-WAIT-2 (Linux's tcp_fin_timeout) lasts `fin_timeout`, counted from the first
  segment after which the IUT could be in FIN-WAIT-2;
- the user timeout (RFC 9293 3.9.1, 3.10.8) fires no sooner than `user_timeout` after the
  trace's first event.
Per-socket options (TCP_KEEPIDLE, TCP_LINGER2) change these numbers: judge with the profile's
parameters set to match (`Profile.with_params`, `synack oracle --param`).
Not checked: data RTO intervals (Linux's tail loss probe, RFC 8985, fires before the RTO), and
how late any timer fires.
"""
from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, replace
from typing import Iterable

from synack.spec.errors import error_names
from synack.spec.frames import shift_endpoint
from synack.spec.machine import Machine, machine
from synack.spec.midstream import midstream_tcbs
from synack.spec.model import (ACK, FIN, HALF, MASK, MAXWIN, OUTPUT, PSH, RST, SYN, SYNCHRONIZED, Endpoint,
                               Event, Segment, SpecError, State, TIMERS, arrive, call, icmp, offer, timeout)
from synack.spec.profiles import OPTIONS, Profile, get_profile, timer_seconds

from .events import CallEvent, IcmpEvent, SegmentEvent, StateEvent, TraceEvent, as_events, seg_text
from .candidate import Cand, soft as _soft
from .observation import (AUTO, FAR, GSO_MAX, MAX_CROSSED, MAX_REORDERED, NEAR, SOFT_KEEP, looks_far,
                          observation_param)
from .stepcache import Memo, NoMemo, Stepper, Tables

#: a Cand (or TCB) without the namedtuple's Python-level __new__ (every field given; speed)
_new = tuple.__new__
assert Cand._fields == ("ep", "owed", "fresh", "mark", "due")

SILENT_CALLS = ("LISTEN", "RECEIVE", "SHUTDOWN", "CLOSE", "ABORT")
LOUD_CALLS = ("SHUTDOWN", "CLOSE", "ABORT", "RECEIVE")
CONFORMANT, VIOLATION, INCONCLUSIVE = "conformant", "violation", "inconclusive"
#: A connection the capture cannot show whole (a frame of it malformed, or dropped by the
#: capture): nothing after that is judged, and the IUT is not blamed (oracle/judge.py).
UNJUDGEABLE = "unjudgeable"
#: An end that never sent a segment: not judged (there is nothing of its own to judge).
SILENT = "silent"
#: Exit codes of `synack oracle` per verdict.
EXIT = {CONFORMANT: 0, VIOLATION: 1, INCONCLUSIVE: 3, UNJUDGEABLE: 3, SILENT: 0}
#: Parameters a sysctl or socket option changes that the monitor refits when a trace contradicts
#: the profile's default (`Monitor._refit`), with the evidence it prints: timer durations are
#: judged at the low end of their legal range from then on (every check on them is a lower
#: bound), counts at the count the stack gave up at.
LEARNABLE = {"ka_idle": "TCP_KEEPIDLE / net.ipv4.tcp_keepalive_time",
             "ka_interval": "TCP_KEEPINTVL / net.ipv4.tcp_keepalive_intvl",
             "fin_timeout": "TCP_LINGER2 / net.ipv4.tcp_fin_timeout",
             "KA.PROBES": "TCP_KEEPCNT / net.ipv4.tcp_keepalive_probes",
             "SYN.GIVEUP": "TCP_SYNCNT / net.ipv4.tcp_syn_retries (with tcp_syn_linear_timeouts)",
             "SYNACK.RETRIES": "net.ipv4.tcp_synack_retries",
             "DATA.RETRIES": "net.ipv4.tcp_retries2",
             "rto_max": "TCP_RTO_MAX_MS / net.ipv4.tcp_rto_max_ms",
             "rto_initial": "BPF_SOCK_OPS_TIMEOUT_INIT / a route's initial RTO",
             "user_timeout": "TCP_USER_TIMEOUT (RFC 5482)"}
#: Options of the table that a sysctl turns on, in the profiles where it is a host setting: when
#: the monitor learns (no parameter given), a trace no candidate explains without the option is
#: judged with it from the events still pending on (`Monitor._refit`), and that is printed.
LEARNABLE_OPTIONS = {"rfc1337": ("net.ipv4.tcp_rfc1337 = 1", ("linux",)), "defer-accept": ("setsockopt(TCP_DEFER_ACCEPT) on the listener", ("linux",)), "listen-overflow": ("a full accept queue (listen() backlog, net.core.somaxconn)", ("linux",)), "abort-on-overflow": ("net.ipv4.tcp_abort_on_overflow = 1", ("linux",))}
#: Violations reported per end before judging stops (`Monitor(max_violations=...)`).
MAX_VIOLATIONS = 10
def _distance(seg: Segment | None, obs: Segment) -> tuple[int, int]:
    """How far an allowed segment is from the observed one: flags differ (less PSH), then
    how many of SEQ, ACK and length differ."""
    if seg is None:
        return (2, 3)
    return (int((seg.flags & ~PSH) != (obs.flags & ~PSH)),
            (seg.seq != obs.seq) + (seg.ack != obs.ack) + (seg.data != obs.data))


def _geq(a: int, b: int) -> bool:
    """a >= b in sequence space (RFC 9293 3.4)."""
    return (a - b) & MASK < HALF


def _end(seg: Segment) -> int:
    return (seg.seq + seg.length) & MASK


def _pending(entries: tuple | None, entry: tuple) -> tuple | None:
    """`Monitor._crossed` after one more event: at most MAX_CROSSED incoming segments and
    2 * MAX_CROSSED entries, never beginning with one of the IUT's (nothing is left for it to
    move before). An IUT segment that acknowledges an incoming segment's whole sequence range
    shows that the stack processed it, and everything before it: those leave the list."""
    if entries is None:
        return (entry,) if entry[1].dir == "in" else None
    seg = entry[1].seg
    if entry[1].dir == "out" and seg.flags & ACK:
        for i in range(len(entries) - 1, -1, -1):
            s = entries[i][1].seg
            if entries[i][1].dir == "in" and s.length and _geq(seg.ack, _end(s)):
                entries = entries[i + 1:]
                break
    out = entries + (entry,)
    if len(out) <= MAX_CROSSED and out[0][1].dir == "in":      # within both bounds
        return out
    while sum(e.dir == "in" for _, e, _ in out) > MAX_CROSSED or len(out) > 2 * MAX_CROSSED:
        out = out[1:]
    while out and out[0][1].dir == "out":
        out = out[1:]
    return out or None


def _props_of(sh: "_Shared", items) -> tuple[bool, bool]:
    """For (candidate, rows) pairs: every candidate reset its keep-alive probe count (or is
    where no keep-alive runs); any is in FIN-WAIT-2 (see `Monitor._floors`)."""
    reset = all(c.ep[0] not in sh.ka_states or not sh.idle_starts.isdisjoint(rows.split(","))
                for c, rows in items)
    return reset, any(c.ep[0] in sh.f2_states for c, _ in items)


@dataclass(frozen=True)
class Verdict:
    """The monitor's judgement of a trace. `str()` is a report; `to_json()` is for machines."""

    status: str
    profile: str
    events: int
    message: str = ""
    index: int | None = None          # 1-based index of the first event no candidate explains
    event: str = ""
    states: tuple[str, ...] = ()      # what the IUT could have been in before that event
    allowed: tuple[str, ...] = ()     # what the spec allowed instead
    rows: tuple[str, ...] = ()        # table rows (with RFC sections) involved
    max_candidates: int = 0
    role: str = ""
    headline: str = ""                # the rule that should have applied, in words, with its row and RFC section
    vantage: str = ""                 # where the capture was taken for this end, and why (observation.py)
    more: tuple["Verdict", ...] = ()  # the later violations, each after a resynchronisation
    learned: tuple[str, ...] = ()     # parameter values the trace showed (or bounded)
    ignored: str = ""                 # options its segments carried that no rule reads (events.IgnoredOptions)

    @property
    def ok(self) -> bool:
        return self.status in (CONFORMANT, SILENT)

    @property
    def violations(self) -> int:
        return (self.status == VIOLATION) + len(self.more)

    @property
    def exit_code(self) -> int:
        return EXIT[self.status]

    def __str__(self) -> str:
        head = f"{self.status.upper()} under {self.profile}"
        if self.role:
            head += f" ({self.role})"
        head += f": {self.events} events, at most {self.max_candidates} candidate TCBs"
        if self.status == SILENT:
            head += " (not judged: sent nothing)"
        if self.more:
            head += f"; {self.violations} violations"
        lines = [head]
        if self.vantage:
            lines.append(f"  vantage: {self.vantage}")
        if self.learned:
            lines.append("  learned: " + "; ".join(self.learned))
        if self.ignored:
            lines.append(f"  {self.ignored}")
        lines += self._body()
        for k, v in enumerate(self.more, 2):
            lines.append(f"  violation {k} (judging resumed mid-connection after the previous one):")
            lines += ["  " + ln for ln in v._body()]
        return "\n".join(lines)

    def _body(self) -> list[str]:
        lines = []
        if self.index is not None:
            lines.append(f"  at event {self.index}: {self.event}")
        if self.headline:
            lines.append(f"  {self.headline}")
        if self.message:
            lines.append(f"  {self.message}")
        if self.states:
            lines.append("  the IUT could have been in:")
            lines += [f"    {s}" for s in self.states]
        if self.allowed:
            lines.append("  the spec allowed instead:")
            lines += [f"    {a}" for a in self.allowed]
        if self.rows:
            lines.append("  rows: " + "; ".join(self.rows))
        return lines

    def to_json(self) -> dict:
        return {**self._json(), "vantage": self.vantage, "learned": list(self.learned), "ignored": self.ignored,
                "violations": self.violations, "more": [v._json() for v in self.more]}

    def _json(self) -> dict:
        return {"status": self.status, "profile": self.profile, "role": self.role, "events": self.events,
                "headline": self.headline, "message": self.message, "index": self.index, "event": self.event,
                "states": list(self.states), "allowed": list(self.allowed), "rows": list(self.rows),
                "max_candidates": self.max_candidates}

    def dumps(self) -> str:
        return json.dumps(self.to_json())


@dataclass
class _Stats:
    max_candidates: int = 1
    reordered: int = 0              # far segments taken as delayed before the capture point


class _Shared:
    """What every monitor of one machine (and one `calls_logged`) reads from the table,
    computed once, and the memo tables those monitors share."""

    def __init__(self, m: Machine, calls_logged: bool):
        self.timers = tuple(k for k in TIMERS if any(key[1] == k for key in m.table))
        self.rfc = {r.id: r.rfc for r in m.rows}
        self.row_by_id = {r.id: r for r in m.rows}
        self.rto_rows = {r.id for r in m.rows if r.event == "RTO"}
        # rows that answer a segment with a SYN in states whose RTO resends one (a simultaneous open's
        # SYN,ACK): the retransmission timer already runs and is not restarted (RFC 6298 5.1)
        syn_rto = {s for s in State if any(a.op[0] == "send" and a.op[1] & SYN for c in m.rows_for(s, "RTO")
                                           for a in m.parsed[c.row.id][1])}
        self.timer_kept = frozenset(r.id for r in m.rows if r.event == "SEGMENT" and syn_rto.issuperset(r.states)
                                    and any(a.op[0] == "send" and a.op[1] & SYN for a in m.parsed[r.id][1]))
        # rows that handle an arriving segment: what they owe is a reply, due within the lag
        self.reply_rows = frozenset(r.id for r in m.rows if r.event == "SEGMENT")
        # per event kind, the flags (less PSH) its rows can send, read from the table: an observed
        # segment is only tried against hidden events that can send its kind of segment. Only a
        # retransmission may show without the FIN it resends (`_match`: a repacketized part of
        # its range), so only RTO rows also offer their flags less FIN; any other row's segment
        # matches only with its own FIN bit, so trying it on a segment it cannot match would be
        # a step whose result `_explain` always drops
        self.can_send: dict[str, set[int]] = {}
        for r in m.rows:
            for a in m.parsed[r.id][1]:
                if a.op[0] == "send":
                    f = a.op[1] & ~PSH
                    self.can_send.setdefault(r.event, set()).update({f, f & ~FIN} if r.id in self.rto_rows else {f})
        # with calls_logged the trace records every user call: hidden steps are timers only
        hidden = () if calls_logged else SILENT_CALLS
        self.silent_ev = [call(k) for k in hidden] + [timeout(k) for k in self.timers]
        # per state, the hidden events that may step silently there: some row of theirs sends
        # nothing. Where every row sends, no step of that event can be silent whatever its
        # guards say, so `_silent_of` does not take it (nor collect its frame bits: its result
        # never depends on it)
        def quiet(st: State, kind: str) -> bool:
            return any(c.next is not None or not any(a.op[0] == "send" for a in m.parsed[c.row.id][1])
                       for c in m.rows_for(st, kind))
        self.silent_by_state = {st: tuple(e for e in self.silent_ev if quiet(st, e.kind)) for st in State}
        self.loud_ev = [call(k) for k in (() if calls_logged else LOUD_CALLS)] + [timeout(k) for k in self.timers]
        self.starts = {rid for rid, (_, acts) in m.parsed.items()
                       if any(a.op[0] == "set" and a.op[1] == "ISS" and "ISN" in a.text for a in acts)}
        # states whose timing the monitor checks: a 2MSL period runs, or the RTO resends a SYN
        self.timed = frozenset(s for s in State if (s, "2MSL", "") in m.table or any(
            a.op[0] == "send" and a.op[1] & SYN for c in m.rows_for(s, "RTO") for a in m.parsed[c.row.id][1]))
        # timers timed against trace-level floors (see `Monitor._floors`): the states they run in,
        # and the rows after which a keep-alive idle period begins: they reset the probe count,
        # or enter a state where keep-alive runs from one where it does not
        self.ka_states = frozenset(s for s in State if (s, "KEEPALIVE", "") in m.table)
        self.f2_states = frozenset(s for s in State if (s, "FIN-WAIT-2", "") in m.table)
        self.idle_starts = frozenset(rid for rid, (_, acts) in m.parsed.items() if any(
            a.op[0] == "set" and a.op[1] == "PROBES" and a.text.endswith(":= 0") for a in acts)) | frozenset(
            r.id for r in m.rows if r.to in self.ka_states and self.ka_states.isdisjoint(r.states))
        self.floored = tuple(k for k in ("KEEPALIVE", "FIN-WAIT-2", "USER-TIMEOUT") if k in self.timers)
        self.floors_move = bool(self.ka_states or self.f2_states)
        # the step cache's tables (oracle/stepcache.py), shared by these monitors
        self.memo = Tables()


#: `Monitor._timing` per (profile, spec, lag, rto_max learnable), each kept with its profile and
#: spec (compared by identity: an id may be reused once they are gone).
_TIMING: dict[tuple, tuple] = {}
_SHARED: "weakref.WeakKeyDictionary[Machine, dict[tuple, _Shared]]" = weakref.WeakKeyDictionary()


def _shared(m: Machine, calls_logged: bool, timing: tuple) -> _Shared:
    """Memo tables are shared by monitors that read time the same way (`timing`: the ages
    their keys are measured against)."""
    per = _SHARED.setdefault(m, {})
    key = (calls_logged, timing)
    if key not in per:
        per[key] = _Shared(m, calls_logged)
    return per[key]


_PERSIST = timeout("PERSIST")


class Monitor:
    """Judge one IUT's trace against a profile. Feed events one at a time with `feed`, then
    call `verdict()`; or call `check(trace)` for a whole trace.

    `role` is informational ("client", "server", an address); `start` is "closed" (the
    trace starts before the connection: the IUT is CLOSED or LISTEN) or "any" (the trace may
    start mid-connection: the monitor starts from every state consistent with the first
    segments). `max_candidates` bounds the candidate set (exceeding it is inconclusive).
    `calls_logged=True` says the trace records every user call the IUT was given (a test
    harness that logs its own calls): hidden steps are then timer expiries only, which makes
    verdicts sharper (a SYN can no longer be explained by an unlogged connect).

    Speed: every step goes through the step cache (oracle/stepcache.py), a translation-
    invariant memo around the candidate step that reuses a step computed for one connection,
    shifted back, for every connection that differs only by its ISNs (sound where the table's
    rows commute with shifting the sequence spaces: spec/frames.py, proved by `synack
    prove`), per candidate and for the whole candidate set. The engine here sees none of its
    keys, shifts or rebases: it calls `self._step`, `self._memo.advance_all` and
    `self._memo.silent`, and holds the set either as a dict or as the cache's opaque `Form`.
    `memo=False` turns this off (the result is the same; tests compare the two).
    """

    #: oracle/judge.py feeds ICMP errors (events.IcmpEvent) to a monitor that takes them
    takes_icmp = True

    def __init__(self, profile: "Profile | str" = "rfc9293", *, role: str = "", start: str = "closed",
                 max_candidates: int = 4096, spec: Machine | None = None, calls_logged: bool = False,
                 memo: bool = True, vantage: str = NEAR, observation: "dict | None" = None,
                 max_violations: int = 1, vantage_note: str = "", learn: Iterable[str] = ()):
        self.profile = get_profile(profile) if not isinstance(profile, Profile) else profile
        self._spec = spec
        if start not in ("closed", "any"):
            raise SpecError(f"unknown start {start!r}; expected 'closed' or 'any'")
        if not isinstance(max_candidates, int) or max_candidates < 1:
            raise SpecError(f"max_candidates must be a positive integer, got {max_candidates!r}")
        self.role, self.start, self.limit = role, start, max_candidates
        self.tol = float(self.profile.params["tolerance"])
        self.calls_logged = bool(calls_logged)
        if vantage not in (NEAR, FAR, AUTO):
            raise SpecError(f"unknown vantage {vantage!r}; expected {NEAR!r}, {FAR!r} or {AUTO!r}")
        self.auto = vantage == AUTO
        vantage = NEAR if self.auto else vantage
        self.vantage = vantage
        # the quickest reply of this end and of its peer so far (set by the capture judge)
        self.replies = (float("inf"), float("inf"))
        self.vantage_note = vantage_note or f"{vantage} (as given)"
        if isinstance(max_violations, bool) or not isinstance(max_violations, int) or max_violations < 1:
            raise SpecError(f"max_violations must be a positive integer, got {max_violations!r}")
        self.max_violations = max_violations
        # the observation model's bounds (oracle/observation.py): how late the near end's stack
        # may process what the capture saw, and the deadlines of what the spec owes
        self.lag = observation_param("lag", observation)
        # a capture of the sender's own frames before segmentation offload (observation.py:
        # segmentation-offload); off for traces a stack or the test kit writes
        self.offload = bool(observation_param("offload", observation))
        self.reorder = observation_param("reorder", observation)
        self._use_memo = memo
        # parameters nobody gave: a value the trace contradicts is refitted within the legal
        # range where the evidence shows it (`_refit`), and printed with the verdict
        self.learnable = frozenset(learn) & frozenset(LEARNABLE) & frozenset(self.profile.ranges)
        # options a sysctl sets (LEARNABLE_OPTIONS), learned alongside the parameters, as "+option":
        # those `learn` names when it names any (judge.learnable: every one the user did not give),
        # else all of them
        named = frozenset(x for x in learn if x.startswith("+"))
        self.learnable |= frozenset("+" + o for o, (_, bases) in LEARNABLE_OPTIONS.items()
                                    if self.learnable and (self.profile.base or self.profile.name) in bases
                                    and o not in self.profile.options and (not named or "+" + o in named))
        self.learned: dict[str, str] = {}
        self._given = (self.profile, self.vantage, self.vantage_note)   # what `reset` returns to
        self._configure()
        self.reset()

    def _configure(self) -> None:
        """Everything read from the profile's parameters (again after a refit)."""
        # what follows depends only on the profile, the lag and whether rto_max is learnable: a
        # capture judge makes two monitors per connection with the same three, so it is computed
        # once (`_TIMING`, checked by identity)
        key = (id(self.profile), id(self._spec), self.lag, "rto_max" in self.learnable)
        got = _TIMING.get(key)
        if got is None or got[0] is not self.profile or got[1] is not self._spec:
            if len(_TIMING) > 64:
                _TIMING.clear()
            got = _TIMING[key] = (self.profile, self._spec, self._timing())
        (self.m, self._dl_reply, self._dl_ack, self._rto_max, self._rto_gap, self._ages, self._ka_needs,
         self._f2_needs, self._ut_needs) = got[2]
        sh = _shared(self.m, self.calls_logged, (self._ages, self._ka_needs, self._f2_needs, self._ut_needs,
                                                 self.vantage, self._dl_reply, self._dl_ack, self.offload))
        self.timers, self.rfc, self.rto_rows, self.can_send = sh.timers, sh.rfc, sh.rto_rows, sh.can_send
        self._silent_ev, self._loud_ev, self.starts, self.timed = sh.silent_ev, sh.loud_ev, sh.starts, sh.timed
        self._sh = sh
        # `step`, and the cache around it (oracle/stepcache.py): the candidate engine below calls
        # `self._step`, `self._memo.advance`/`advance_all` and `self._memo.silent`, and holds the
        # candidates either as a dict or as the cache's opaque `Form`
        self._stepper = Stepper(self.m)
        self._step = self._stepper.step
        old = getattr(self, "_memo", None)
        if self._use_memo:
            needs = {"KEEPALIVE": (0, self._ka_needs), "FIN-WAIT-2": (1, self._f2_needs),
                     "USER-TIMEOUT": (2, self._ut_needs)}
            self._memo = Memo(self._stepper, sh.memo, self._ages, tuple(needs[k] for k in sh.floored),
                              self._floors_now)
        else:
            self._memo = NoMemo(self._stepper)
        if old is not None and old.stepper.m is self.m:
            self._memo.own = old.own              # a TCB's silent steps: the same machine, the same steps

    def _timing(self) -> tuple:
        """The machine and every duration `_configure` reads from the profile's parameters."""
        p, tol, lag = self.profile, self.tol, self.lag
        dl_reply = lag
        dl_ack = float(p.params["delack_max"]) + lag
        # a required retransmission's deadline (observation.py: retransmission-deadline): every
        # RTO is at most rto_max (RFC 6298 5.5; Linux tcp_retransmit_timer() caps the backoff at
        # tcp_rto_max()); unless given, the largest legal rto_max (rfc9293: none, so no deadline)
        rto_max = float(p.params["rto_max"])
        if "rto_max" in self.learnable and "rto_max" in p.ranges:
            rto_max = float(p.ranges["rto_max"].high)
        rto_gap = rto_max * (1 + tol) + lag
        # every age a mark is compared with (`_aged`): 2 MSL and each backoff interval, less the
        # tolerance. Which of them a mark has reached is all a step can learn of time from it.
        retries = max(int(p.params[k]) for k in ("SYN.RETRIES", "SYNACK.RETRIES", "DATA.RETRIES"))
        ages = tuple(sorted({d * (1 - tol) for d in [timer_seconds(p, "2MSL")] + [
            timer_seconds(p, kind, k) for k in range(retries + 1) for kind in ("RTO", "RTO-SYN")]
            + [timer_seconds(p, "PERSIST", 0)]}
            | {dl_reply, dl_ack}))
        ka, intvl = timer_seconds(p, "KEEPALIVE"), timer_seconds(p, "KEEPALIVE", 1)
        keep = 1 - tol
        ka_needs = tuple((ka + k * intvl) * keep for k in range(int(p.params["KA.PROBES"]) + 1))
        f2_needs = (timer_seconds(p, "FIN-WAIT-2") * keep,)
        ut_needs = (timer_seconds(p, "USER-TIMEOUT") * keep,)
        return (self._spec or machine(p), dl_reply, dl_ack, rto_max, rto_gap, ages, ka_needs, f2_needs, ut_needs)

    def _floors_now(self) -> tuple:
        """The trace-level floors the floored timers are counted from (`_floor_of`)."""
        return (self._ka_floor, self._f2_floor, self._t0)

    # ------------------------------------------------------------------ public API
    @property
    def cands(self) -> dict[Cand, str]:
        """The candidate TCBs (with the rows that last explained each)."""
        if self._cands is None:
            self._cands = self._memo.expand(self._form)
        return self._cands

    @cands.setter
    def cands(self, value: dict[Cand, str]) -> None:
        self._cands, self._form = value, None

    def reset(self) -> None:
        if (self.profile, self.vantage, self.vantage_note) != self._given:    # a refit, or turned far
            self.profile, self.vantage, self.vantage_note = self._given
            self._configure()
        self.learned = {}
        self.cands = {Cand(Endpoint()): ""}
        self._form = self._memo.form(self._cands)
        self.n = 0
        self.done: Verdict | None = None
        self.found: list[Verdict] = []      # violations before the last resynchronisation
        self.sent = 0                       # segments the IUT sent (and calls and states it reported)
        self.stats = _Stats()
        self.wscale: int | None = None
        self.peer_wscale = False
        # whether the window scale is known: a trace that starts mid-connection never saw the
        # SYNs that negotiated it (RFC 7323 2.2), so its advertised windows say nothing
        self._scaled = self.start == "closed"
        # ((candidates before, the event, its window), ...) since the oldest incoming segment the
        # IUT's stack may not have processed yet (`_cross`, `_pending`)
        self._crossed: tuple | None = None
        # (time, candidates before) of each of the last MAX_REORDERED segments since the end is
        # judged far: where a segment the network held back was sent from (`_delayed_before_capture`)
        self._recent: tuple = ()
        self._mss_seen: dict[str, int] = {}     # the MSS option of each direction's SYN
        self._ts_newest: int | None = None      # the newest TSval the peer sent (SegmentEvent.old_ts)
        self._memo.own = {}                 # a TCB's silent steps (the step cache's, per monitor)
        self._started = self.start == "closed"
        # trace-level lower bounds on when the keep-alive idle period and an orphaned FIN-WAIT-2
        # began, for every candidate; None: unknown (no check). Mid-connection starts may be in
        # FIN-WAIT-2 since before the trace, so that bound is never set then.
        self._ka_floor: float | None = None
        self._f2_floor: float | None = None
        self._f2_known = self.start == "closed"
        self._t0: float | None = None       # the first event's time (start="closed"): nothing was sent before
        self._last_t: float | None = None   # the last event's time: no timer restarted since, as far as shown

    def check(self, trace: Iterable) -> Verdict:
        """Judge a whole trace (events or JSON-shaped dicts) from the initial state."""
        self.reset()
        for ev in as_events(trace):
            if self.feed(ev) is not None:
                break
        return self.verdict()

    def _paws_mark(self, ev: SegmentEvent) -> SegmentEvent:
        """An incoming segment with a TSval older than the peer's newest so far (RFC 7323 5.3; a
        capture judge computes `old_ts` per connection, both engines alike; a trace given as events
        leaves it to this) carries Segment.ots = 1, which the `paws` rows read (SEG.OLD_TS)."""
        if ev.dir != "in":
            return ev
        old = ev.old_ts
        if ev.ts is not None:
            tsval = ev.ts[0] & 0xFFFFFFFF
            if old is None:
                old = self._ts_newest is not None and (tsval - self._ts_newest) & 0xFFFFFFFF >= 0x80000000
            if self._ts_newest is None or (tsval - self._ts_newest) & 0xFFFFFFFF < 0x80000000:
                self._ts_newest = tsval
        return replace(ev, seg=ev.seg._replace(ots=1)) if old and not ev.seg.ots else ev

    def feed(self, ev: TraceEvent) -> Verdict | None:
        """Consume one event; returns the final verdict as soon as the trace is decided (a
        violation), else None."""
        if self.done is not None:
            return self.done
        self.n += 1
        if self.n == 1 and self.start == "closed":
            self._t0 = getattr(ev, "t", None)
        t = getattr(ev, "t", None)
        late = self._retransmission_late(t, ev) if t is not None and self._last_t is not None and \
            t - self._last_t > self._rto_gap else None
        if t is not None:
            self._last_t = t
        if late is not None:
            self.done = late
        elif isinstance(ev, SegmentEvent):
            ev = self._paws_mark(ev)
            if ev.seg.flags & SYN and ev.mss:
                self._mss_seen[ev.dir] = ev.mss
            for piece in self._as_received(ev):
                if self.done is None:
                    self._feed_segment(piece)
        elif isinstance(ev, CallEvent):
            self.sent += 1                  # the IUT's own doing: judged like its segments
            self._closure(ev.t)
            self._call(ev)
        elif isinstance(ev, StateEvent):
            self.sent += 1
            self._closure(ev.t)
            self._observe(ev)
        elif isinstance(ev, IcmpEvent):
            self._closure(ev.t)
            self._icmp(ev)
        else:
            raise SpecError(f"not a trace event: {ev!r}")
        k = len(self._cands) if self._cands is not None else len(self._form.nset)
        self.stats.max_candidates = max(self.stats.max_candidates, k)
        if self.done is None and k > self.limit:
            self.done = self._verdict(INCONCLUSIVE, f"more than {self.limit} candidate TCBs; raise max_candidates",
                                      ev)
        if self.done is not None and self.done.status == VIOLATION and isinstance(ev, SegmentEvent) \
                and len(self.found) + 1 < self.max_violations:
            self._resync()
        return self.done

    def _as_received(self, ev: SegmentEvent) -> tuple:
        """The segments `ev` stands for as the IUT met them: itself, except at a far capture
        point taken on the sending host (`offload`), where a segment to the IUT larger than the
        connection's MSS was cut after the capture point by the sender's TSO/GSO (or its NIC)
        into segments of that MSS, and reaches the IUT as those (observation.py:
        far-segmentation). The MSS is the smaller of the two SYNs' MSS options (tcp_sync_mss()
        with the user's TCP_MAXSEG announced in the SYN) less the timestamp option the
        segment carries (TCPOLEN_TSTAMP_ALIGNED, 12 bytes)."""
        seg = ev.seg
        if ev.dir != "in" or self.vantage != FAR or not self.offload or len(self._mss_seen) < 2 or seg.flags & SYN:
            return (ev,)
        size = min(self._mss_seen.values()) - (12 if ev.ts is not None else 0)
        if not 0 < size < seg.data <= GSO_MAX:
            return (ev,)
        pieces = []
        for off in range(0, seg.data, size):
            n = min(size, seg.data - off)
            last = off + n == seg.data
            flags = seg.flags if last else seg.flags & ~(PSH | FIN)
            pieces.append(replace(ev, seg=seg._replace(seq=(seg.seq + off) & MASK, data=n, flags=flags)))
        return tuple(pieces)

    def _feed_segment(self, ev: SegmentEvent) -> None:
        """`feed` for one segment."""
        self.sent += ev.dir == "out"
        given = not self._started and self._start_from(ev)
        wnd = self._window(ev)
        before = (self._cands, self._form)
        if given:
            learnt = ((self._learn(c, ev, wnd, r), r) for c, r in self.cands.items())
            self.cands = {c: r for c, r in learnt if c is not None}
        elif self._form is None or not self._fast(ev, wnd):
            self._segment(ev, wnd)
        pending = None
        if self.done is not None and ev.dir == "out" and self._crossed is not None:
            pending = self._cross(ev, wnd)
        if self.done is not None and ev.dir == "out" and self.vantage == FAR:
            self._far_before_capture(ev, wnd)
        if self.done is not None and self.done.status == VIOLATION and self.auto and self.vantage == NEAR \
                and looks_far(*self.replies):
            self._go_far(ev, wnd, before)
        if self.done is not None and self.done.status == VIOLATION and self.learnable - set(self.learned):
            if self._refit(ev, wnd, before):
                self._crossed = None
        if self.done is not None:
            self._crossed = None
        else:
            self._crossed = pending if pending is not None else _pending(self._crossed, (before, ev, wnd))
        if ev.dir == "in" and ev.t is not None and self.done is None and self._sh.floors_move:
            self._floors(ev.t)
        if self.vantage == FAR:
            self._recent = (self._recent + ((ev.t, before, ev, wnd),))[-MAX_REORDERED:]

    def _resync(self) -> None:
        """After a violation, judge on: the next segment starts the IUT afresh, mid-connection
        (every state consistent with it, spec/midstream.py), as a capture that began there."""
        self.found.append(self.done)
        self.done = None
        self.cands = {Cand(Endpoint()): ""}
        self._form = self._memo.form(self._cands)
        self._started = False
        self._crossed = None
        self._ka_floor = self._f2_floor = None
        self._f2_known = False
        self._t0 = None
        self._last_t = None

    def verdict(self, end: float | None = None) -> Verdict:
        """The verdict for what has been fed so far, as if the trace ended here; `end`: the
        time the capture went on to (its last frame, or a trace header's "end"). A candidate
        whose deadline passed before `end` is gone (nothing came in time); when none is left,
        that is a violation naming what was owed, since when, and the bound. Otherwise the
        trace is inconclusive only while every candidate still owes a transmission."""
        v = self._final(end)
        if self.found:
            first, rest = self.found[0], self.found[1:] + ([v] if v.status == VIOLATION else [])
            return replace(first, more=tuple(rest), events=self.n, max_candidates=self.stats.max_candidates)
        return v

    def _final(self, end: float | None) -> Verdict:
        if self.done is not None:
            return self.done
        if self.n and not self.sent and not self.found:
            return self._verdict(SILENT, "not judged: it sent nothing")
        if end is not None and self._last_t is not None and end - self._last_t > self._rto_gap:
            late = self._retransmission_late(end, None)
            if late is not None:
                return late
        cands = self.cands
        live = [c for c in cands if not self._overdue(c, end)] if end is not None else list(cands)
        if not live and self.auto and self.vantage == NEAR and looks_far(*self.replies):
            # a deadline missed at the trace's end is a violation like one a segment shows: an
            # end whose replies show a network before it is far from here on, where what it
            # sent in time may have been lost before the capture point (observation.py: far-loss)
            self._turn_far("its first missed deadline")
            live = list(cands)
        if not live:
            return self._verdict(VIOLATION, f"the capture went on to t={end:.6f} and nothing came: "
                                 + self._overdue_text(cands), allowed=self._overdue_list(cands),
                                 rows=[r for c in cands for _, r in c.owed[:1] if r != BEFORE_TRACE],
                                 headline=self._headline_overdue(cands))
        owing = []
        for c in live:
            o = self._owes(c)
            if not o:
                return self._verdict(CONFORMANT, "")
            owing.append(o)
        for c in live:
            why = self._gave_up(c, end)
            if why:
                return replace(self._verdict(CONFORMANT, ""), learned=tuple(self.learned.values()) + (why,))
        return self._verdict(INCONCLUSIVE, "the trace ends while the spec still owes a transmission (unless "
                             "an unlogged user call ended the connection): " + min(owing, key=len))

    def settled(self, nset: tuple) -> bool | None:
        """Whether `verdict()` is CONFORMANT for every monitor holding the normal-form set
        `nset` (wherever its spaces start): True or False when that holds whatever the origin,
        None when it may not (an RTO step that does not commute with the shift decided it).
        The native judge asks this once per set instead of loading each monitor."""
        for c, _ in nset:
            owes, free = self._stepper.shift_free(self._owes, c)
            if not free:
                return None
            if not owes:
                # conformant whatever the trace's end, unless a deadline may decide it
                return True if not (c.owed or c.ep.ack_owed) else None
        return False

    # ------------------------------------------------------------------ events
    def _cross(self, ev: SegmentEvent, wnd: int | None) -> tuple | None:
        """A capture sees segments arrive before the IUT's stack has processed them, and the
        stack may send several segments before it does (RFC 9293 Figure 13's FINs captured at
        one end; on loopback, data and window updates sent while 64 KB segments were still on
        their way up the stack). So the IUT's segments keep their order, and each incoming one
        may be processed after any of the IUT's later segments. When no candidate explains
        `ev`: take the last incoming segment the stack may not have processed yet, then the
        last two, and so on (at most MAX_CROSSED); from the state before them, the IUT's
        segments captured since, then `ev`, then those incoming ones, in order. The first that
        explains everything wins, and those incoming segments stay unprocessed for the next
        of the IUT's segments (returned, for `_crossed`); None keeps the violation."""
        failed, n, entries, now = self.done, self.n, self._crossed, (self._cands, self._form)
        ins = [i for i, (_, e, _) in enumerate(entries) if e.dir == "in"]
        if self.vantage == NEAR and ev.t is not None:
            # the processing lag is bounded in time too: an incoming segment captured longer than
            # `lag` before this one has reached the stack (observation.py: processing-lag)
            ins = [i for i in ins if entries[i][1].t is None or ev.t - entries[i][1].t <= self.lag]
        tries = [(k, False) for k in range(1, len(ins) + 1)]
        if self.vantage == FAR:
            # at a far capture point a pending incoming segment may never have reached the IUT
            # (observation.py: far-loss); every explanation is kept (their candidates' union)
            tries += [(k, True) for k in range(1, len(ins) + 1)]
        wins: list = []
        for k, lost in tries:
            j = ins[-k]
            (cands, form), _, _ = entries[j]
            self.done, self._cands, self._form = None, cands, form
            tail = entries[j + 1:] if lost else entries[j:]
            for _, e, w in [*((b, e, w) for b, e, w in tail if e.dir == "out"), (None, ev, wnd)]:
                if self.done is None:
                    self._segment(e, w)
            pending = []
            for _, e, w in tail:
                if e.dir == "in" and self.done is None:
                    pending.append(((self._cands, self._form), e, w))
                    self._segment(e, w)
            if self.done is None:
                if self.vantage != FAR:
                    return tuple(pending)
                wins.append((dict(self.cands), tuple(pending)))
        if wins:
            merged: dict[Cand, str] = {}
            for cands, _ in wins:
                for c, r in cands.items():
                    merged.setdefault(c, r)
            self.done, self.cands = None, merged
            return wins[0][1]
        self.done, self.n, (self._cands, self._form) = failed, n, now
        return None

    def _turn_far(self, since: str) -> None:
        """Judge this end far from here on (`observation.looks_far` holds): say why."""
        own, peer = self.replies
        self.vantage = FAR
        self.vantage_note = (f"{FAR} (no --vantage; its quickest reply took {own * 1e3:.3f} ms, its peer's "
                             f"{peer * 1e3:.3f} ms: a network lies between it and the capture point, so from "
                             f"{since} on, losses are not its violations)")
        self._configure()

    def _go_far(self, ev: SegmentEvent, wnd: int | None, before: tuple) -> None:
        """No --vantage, and the end's replies show a network between it and the capture point
        (`observation.looks_far`): judge it far from here on, the events since the oldest
        pending incoming segment again (observation.py: far-loss)."""
        failed = self.done
        self._turn_far("its first violation")
        entries = list(self._crossed or ()) + [(before, ev, wnd)]
        self._replay(entries)
        if self.done is not None and self._crossed is not None:
            self._crossed = tuple(entries[:-1]) or None
            pending = self._cross(ev, wnd)
            if pending is not None:
                self._crossed = pending or None
        if self.done is not None:
            self._far_before_capture(ev, wnd)
        if self.done is not None:
            self.done = replace(failed, vantage=self.vantage_note)

    def _replay(self, entries: list) -> bool:
        """From the state before the first of `entries`, take them all again, in order."""
        (cands, form), _, _ = entries[0]
        self.done, self._cands, self._form = None, cands, form
        for _, e, w in entries:
            for piece in self._as_received(e):       # judged far now: what it received cut (far-segmentation)
                if self.done is None:
                    self._segment(piece, w)
            if e.dir == "in" and e.t is not None and self.done is None and self._sh.floors_move:
                self._floors(e.t)
        return self.done is None

    def _refit(self, ev: SegmentEvent, wnd: int | None, before: tuple) -> bool:
        """Configuration learned, not assumed: when no candidate explains `ev` under the
        profile's default for a parameter nobody gave (LEARNABLE), and a value in the
        parameter's legal range (spec/profiles.py RANGES) explains the events since the oldest
        incoming segment still pending, that value is taken from then on and what showed it is
        printed with the verdict. True when one did."""
        entries = list(self._crossed or ()) + [(before, ev, wnd)]
        for param, value, why in self._refit_options(ev):
            saved = (self.profile, self.done, self._cands, self._form, self._ka_floor, self._f2_floor)
            if param.startswith("+"):
                self.profile = replace(self.profile, options=self.profile.options | {param[1:]})
            else:
                self.profile = self.profile.with_params(**{param: value})
            self._configure()
            if self._replay(entries):
                self.learned[param] = why
                return True
            (self.profile, self.done, self._cands, self._form, self._ka_floor, self._f2_floor) = saved
            self._configure()
        return False

    def _refit_options(self, ev: SegmentEvent):
        """(parameter, value to judge with, what the trace showed) worth trying for `ev`."""
        p, rng, t = self.profile.params, self.profile.ranges, ev.t
        todo = self.learnable - set(self.learned)
        if ev.dir != "out":
            return
        # an option a sysctl sets (LEARNABLE_OPTIONS): the IUT's segment is explained with it
        for o, (setting, _) in LEARNABLE_OPTIONS.items():
            if "+" + o in todo:
                yield ("+" + o, None, f"option {o}: no candidate explains {seg_text(ev.seg)} without it, one does with "
                                      f"it (consistent with {setting}; {OPTIONS[o]})")
        # a retransmission past the default retry limit: the limit is configurable (RFC 1122
        # 4.2.3.5 bounds R2 from below only; tcp_retries2, tcp_syn(ack)_retries), so any value in
        # the range above the count seen so far explains it (the stack may give up later)
        for param, states in (("SYN.GIVEUP", (State.SYN_SENT,)), ("SYNACK.RETRIES", (State.SYN_RECEIVED,)),
                              ("DATA.RETRIES", None)):
            if param not in todo:
                continue
            rtx = max((c.ep.rtx for c in self.cands if (c.ep.state in states if states else
                                                        c.ep.state in SYNCHRONIZED and c.ep.state is not State.SYN_RECEIVED)),
                      default=-1)
            if rtx >= p[param] and rtx + 1 <= rng[param].high:
                yield (param, rng[param].high,
                       f"{param} at least {rtx + 1}: the stack retransmitted {rtx + 1} times (the default {p[param]} "
                       f"does not fit; legal {rng[param].text()}; RFC 1122 4.2.3.5 bounds the give-up from below)")
        if t is None or ev.seg.data:
            return
        # a SYN or SYN,ACK retransmitted sooner than the default backoff allows: the initial RTO
        # (and its cap) are configurable (Linux: a BPF_SOCK_OPS_TIMEOUT_INIT program, a route's
        # rto_min/initrwnd, tcp_rto_max_ms; RFC 6298 2.1, 2.4, 2.5 bound them only from below)
        if ev.seg.flags & SYN:
            for c in self.cands:
                if c.ep.state not in (State.SYN_SENT, State.SYN_RECEIVED) or c.mark is None:
                    continue
                el, kind, k = t - c.mark, _rto_kind(c.ep), c.ep.rtx
                need = timer_seconds(self.profile, kind, k)
                if el >= need * (1 - self.tol):
                    continue
                for param in ("rto_initial", "rto_max"):
                    if param in todo and rng[param].low < p[param]:
                        yield (param, rng[param].low,
                               f"{param} below the default: retransmission {k + 1} of the "
                               f"{'SYN' if kind == 'RTO-SYN' else 'SYN,ACK'} came {el:.3f} s after the previous one, "
                               f"where the default {p[param]:g} s backs off {need:g} s (consistent with "
                               f"{LEARNABLE[param]}; legal {rng[param].text()}; RFC 6298 5.5)")
                break
        states = {c.ep.state for c in self.cands}
        # the connection ended silently before the default user timeout (RFC 9293 3.8.3, RFC 5482):
        # the IUT now answers as a closed connection
        # (a user timeout of 0 is none, TCP_USER_TIMEOUT's default: the row's guard USER.TIMEOUT.ON;
        # then any legal value that times out fits, from the least, 1 ms, TCP_USER_TIMEOUT's unit)
        ut = p["user_timeout"]
        if "user_timeout" in todo and self._t0 is not None and (ut == 0 or t - self._t0 < ut) and any(
                (st, "USER-TIMEOUT", "") in self.m.table for st in states):
            el = t - self._t0
            yield ("user_timeout", max(rng["user_timeout"].low, 0.001),
                   f"user_timeout at most {el:.1f} s: the connection had ended silently by {el:.3f} s after the "
                   f"trace began, data unacknowledged (the default {p['user_timeout']:g} s{' (none)' if ut == 0 else ''} does not fit; consistent "
                   f"with {LEARNABLE['user_timeout']}; legal {rng['user_timeout'].text()})")
        if self._ka_floor is not None and states & self._sh.ka_states:
            el = t - self._ka_floor
            if "ka_idle" in todo and el < p["ka_idle"]:
                self._ka_first = el
                yield ("ka_idle", rng["ka_idle"].low,
                       f"ka_idle {el:.1f} s: a keep-alive probe came {el:.3f} s after the idle period began, "
                       f"consistent with {LEARNABLE['ka_idle'].split(' / ')[0]}={max(1, round(el))} (the default "
                       f"{p['ka_idle']:g} s does not fit; legal {rng['ka_idle'].text()})")
            if "ka_interval" in todo:
                first = getattr(self, "_ka_first", None)
                gap = f"{el - first:.3f} s after the first" if first is not None else f"{el:.3f} s into the idle period"
                yield ("ka_interval", rng["ka_interval"].low,
                       f"ka_interval: a later probe came {gap} (the default {p['ka_interval']:g} s does not fit; "
                       f"legal {rng['ka_interval'].text()})")
            probes = max((c.ep.probes for c in self.cands if c.ep.state in self._sh.ka_states), default=0)
            if "KA.PROBES" in todo and ev.seg.flags & RST and probes in rng["KA.PROBES"] and probes < p["KA.PROBES"]:
                yield ("KA.PROBES", probes,
                       f"KA.PROBES {probes}: the stack gave up after {probes} unanswered probes, consistent with "
                       f"{LEARNABLE['KA.PROBES'].split(' / ')[0]}={probes}")
        if "fin_timeout" in todo and self._f2_floor is not None:
            el = t - self._f2_floor
            yield ("fin_timeout", rng["fin_timeout"].low,
                   f"fin_timeout at most {el:.1f} s: the orphaned FIN-WAIT-2 had ended {el:.3f} s after it began "
                   f"(the default {p['fin_timeout']:g} s does not fit; consistent with net.ipv4.tcp_fin_timeout <= "
                   f"{max(1, int(el))}; legal {rng['fin_timeout'].text()})")

    def _retransmission_late(self, t: float, ev: TraceEvent | None) -> Verdict | None:
        """A near end that owed a retransmission and sent nothing for longer than any RTO may
        last (`_rto_gap`: rto_max with the tolerance, plus the lag) while nothing arrived either
        (so no ACK restarted its timer, RFC 6298 5.3): a violation naming what was owed, since
        when and the bound (observation.py: retransmission-deadline). Only when every
        candidate, closed over silent hidden steps, owes one that no legal retry limit lets it
        skip; never at a far end (what it sent may have been lost before the capture point)."""
        if self.vantage != NEAR or not self.sent or (self.auto and looks_far(*self.replies)):
            return None
        owed = []
        for c, rows in self.cands.items():
            for m in self._closure_of(c, rows, t):
                what = self._rto_owed(m)
                if not what:
                    return None
                owed.append(what)
        if not owed:
            return None
        since = self._last_t
        bound = (f"rto_max {self._rto_max:g} s (RFC 6298 5.5; Linux tcp_retransmit_timer(), tcp_rto_max()) "
                 f"x (1 + tolerance {self.tol:g}) + lag {self.lag:g} s = {self._rto_gap:g} s")
        first = min(owed, key=lambda w: (len(w[0]), w[0]))
        msg = (f"the capture went on to t={t:.6f} and nothing came since t={since:.6f} (nothing acknowledged, "
               f"nothing retransmitted): the spec owed {first[0]} by t={since + self._rto_gap:.6f} ({bound})")
        rows = sorted({r for _, r in owed})
        headline = (f"a required retransmission was due within {self._rto_gap:g} s of t={since:.6f} "
                    f"({first[0]}; {self._brief(first[1])}, {self.rfc.get(self._brief(first[1]).split(',')[0], '')})")
        return self._verdict(VIOLATION, msg, ev, sorted({w for w, _ in owed}), rows, headline)

    def _rto_owed(self, c: Cand) -> tuple[str, str] | None:
        """(the retransmission `c`'s RTO expiry sends, its rows), or None when it owes none: its
        timer is not armed, it gives up, it owes a required segment first (which has its own
        deadline), or a legal value of a retry limit nobody gave lets it stop here."""
        if any(not _soft(w) for w, _ in c.owed):
            return None
        for tr in self.m.step(c.ep, timeout("RTO")):
            if tr.sends:
                break
        else:
            return None
        state = c.ep.state
        param = {State.SYN_SENT: "SYN.GIVEUP", State.SYN_RECEIVED: "SYNACK.RETRIES"}.get(state, "DATA.RETRIES")
        p = self.profile
        if param in self.learnable and c.ep.rtx in p.ranges[param] and c.ep.rtx < p.params[param]:
            if not any(x.sends for x in machine(p.with_params(**{param: c.ep.rtx})).step(c.ep, timeout("RTO"))):
                return None                  # the stack may be configured to stop here
        rows = ",".join(tr.rows)
        return f"retransmission {seg_text(tr.sends[0])} ({state}, {self._brief(rows)})", rows

    def _next_rto_by(self, rtx: int) -> float | None:
        """The latest time the retransmission timeout running after the last segment would have
        expired, for a candidate that retransmitted `rtx` >= 1 times. The RTO doubles on each
        expiry (RFC 6298 5.5; Linux tcp_retransmit_timer(): icsk_rto = min(icsk_rto << 1,
        rto_max), which TCP_USER_TIMEOUT only shortens, tcp_clamp_rto_to_user_timeout()): after
        k expiries of a first RTO R at least R (2^k - 1) has passed since the segment was first
        sent, so since the trace began (its first event, `_t0`), and the next RTO, R 2^k, is at
        most twice that. Timed from the last segment (`_last_t`, no earlier than the last
        retransmission), capped at rto_max, with the tolerance and the lag. None when the trace
        did not begin with the connection or nothing was retransmitted."""
        if rtx < 1 or self._t0 is None or self._last_t is None:
            return None
        last = self._last_t
        return last + min(2 * (last - self._t0), self._rto_max) * (1 + self.tol) + self.lag

    def _gave_up(self, c: Cand, end: float | None) -> str:
        """At the end of a trace, a handshake candidate that owes only a retransmission may
        instead have given up, if its retry count so far is a legal value of the limit nobody
        gave and the capture went on past the timeout that would have ended it (timed from the
        last SYN, the candidate's mark): what that shows ('' when it may not)."""
        param = {State.SYN_SENT: "SYN.GIVEUP", State.SYN_RECEIVED: "SYNACK.RETRIES"}.get(c.ep.state)
        if param is None and c.ep.state in SYNCHRONIZED:
            param = "DATA.RETRIES"
        if param not in self.learnable or any(not _soft(w) for w, _ in c.owed):
            return ""
        rtx, p = c.ep.rtx, self.profile
        if rtx not in p.ranges[param] or rtx >= p.params[param] or end is None:
            return ""
        if param == "DATA.RETRIES":
            # the data RTO follows the measured round trip (RFC 6298 2), not rto_initial: the
            # retransmissions seen bound the next one
            due = self._next_rto_by(rtx)
            if due is None or end < due:
                return ""
        elif c.mark is None or not self._aged(c.mark, end, timer_seconds(p, _rto_kind(c.ep), rtx)):
            return ""
        trs = machine(p.with_params(**{param: rtx})).step(c.ep, timeout("RTO"))
        if not trs or any(tr.sends for tr in trs):
            return ""
        what = LEARNABLE[param] + (" or TCP_USER_TIMEOUT (RFC 5482)" if param == "DATA.RETRIES" else "")
        return (f"{param} {rtx}: the stack stopped after {rtx} retransmission{'s' * (rtx != 1)} in {c.ep.state} and "
                f"the capture went on past the next timeout; consistent with a limit set by {what} (Linux times "
                f"the limit, retransmits_timed_out(), so the setting may count fewer); the default "
                f"{p.params[param]} does not fit; legal {p.ranges[param].text()}")

    def _far_before_capture(self, ev: SegmentEvent, wnd: int | None) -> None:
        """What a far end's segment that no candidate explains may have met before the capture
        point: data before it was lost there (far-loss), or it was delayed there past segments
        captured before it (far-reorder)."""
        self._lost_before_capture(ev, wnd)
        if self.done is not None:
            self._delayed_before_capture(ev, wnd)
        if self.done is not None:
            self._arrived_again(ev, wnd)

    def _arrived_again(self, ev: SegmentEvent, wnd: int | None) -> None:
        """At a far capture point the network between the capture point and the IUT may have
        duplicated a segment to it, or held a copy back (RFC 9293 3.3.2: segments may be
        duplicated and arrive out of order): one captured within `reorder` seconds before `ev`
        (at most MAX_REORDERED segments back) reaches the IUT again now, and `ev` answers it.
        The IUT's state after that copy is kept (observation.py: far-reorder)."""
        failed, now = self.done, (self._cands, self._form)
        for t, _, e, w in reversed(self._recent):
            if ev.t is not None and t is not None and ev.t - t > self.reorder:
                break
            if e.dir != "in":
                continue
            self.done, (self._cands, self._form) = None, now
            self._segment(e, w)
            if self.done is None:
                self._segment(ev, wnd)
            if self.done is None:
                self.stats.reordered += 1
                return
        self.done, (self._cands, self._form) = failed, now

    def _delayed_before_capture(self, ev: SegmentEvent, wnd: int | None) -> None:
        """At a far capture point the network between the IUT and the capture point may have
        held one of its segments back past later ones (RFC 9293 3.3.2, 3.10.7.4: segments may
        arrive out of order): it was sent from the state before one of the segments captured
        within `reorder` seconds before it (at most MAX_REORDERED), and what the IUT did since
        is already judged. So when a candidate of one of those earlier states explains `ev`, it
        is taken and the candidates stay as they are (observation.py: far-reorder)."""
        failed, now = self.done, (self._cands, self._form)
        # an end judged far only from its first violation on (no --vantage) has no history of
        # its own yet: the states before the events still pending (`_crossed`) are the earlier
        # ones known (the same in both engines: the native judge keeps those, not more)
        earlier = self._recent or tuple((e.t, b, e, w) for b, e, w in self._crossed or ())
        for t, (cands, form), _, _ in reversed(earlier):
            if ev.t is not None and t is not None and ev.t - t > self.reorder:
                break
            self.done, self._cands, self._form = None, cands, form
            self._segment(ev, wnd)
            if self.done is None:
                self.stats.reordered += 1
                break
        else:
            self.done = failed
        self._cands, self._form = now

    def _lost_before_capture(self, ev: SegmentEvent, wnd: int | None) -> None:
        """At a far capture point, data the IUT sent may have been lost before the capture point:
        a segment beginning beyond SND.NXT is explained by a hidden SEND of the missing bytes
        (what it sent was lost), then this segment (observation.py: far-loss)."""
        failed, before = self.done, (self._cands, self._form)
        out: dict[Cand, str] = {}
        todo = [(c, "", 0) for c in self.cands if c.ep.state in SYNCHRONIZED]
        while todo:
            c, rows, k = todo.pop()
            gap = (ev.seg.seq - c.ep.snd_nxt) & MASK
            if not 0 < gap < HALF:
                continue
            # the missing bytes in segments of at most the send MSS, at most MAX_CROSSED of them
            n = min(gap, c.ep.snd_mss) if c.ep.snd_mss else gap
            for tr in self.m.step(c.ep, Event("SEND", None, 0, n)):
                moved = (tr.endpoint.snd_nxt - c.ep.snd_nxt) & MASK
                if moved != n:
                    continue
                nc, why = c._replace(ep=tr.endpoint), (rows + "," if rows else "") + ",".join(tr.rows)
                if tr.endpoint.snd_nxt == ev.seg.seq:
                    out.setdefault(nc, why)
                elif k + 1 < MAX_CROSSED:
                    todo.append((nc, why, k + 1))
        if not out:
            return
        self.done, self.cands = None, out
        self._segment(ev, wnd)
        if self.done is not None:
            self.done, (self._cands, self._form) = failed, before

    def _window(self, ev: SegmentEvent) -> int | None:
        """Note window scaling from a SYN; the receive window the IUT's own segment advertises."""
        seg = ev.seg
        if seg.flags & SYN:
            self._scaled = True
            if ev.wscale is not None:
                if ev.dir == "in":
                    self.peer_wscale = True
                else:
                    self.wscale = ev.wscale
        if ev.dir == "out" and ev.win is not None and not seg.flags & RST and self._scaled:
            scale = self.wscale if (self.wscale is not None and self.peer_wscale and not seg.flags & SYN) else 0
            return min(ev.win << scale, MAXWIN)
        return None

    def _fast(self, ev: SegmentEvent, wnd: int | None) -> bool:
        """Advance the candidate set by one step the cache already holds for the whole set; on a
        miss the candidates are held as a dict again, and the step `_segment` computes is
        recorded under the cache's form of the set before it."""
        nxt, anchored = self._memo.after(self._form, ev, wnd)
        if nxt is None:
            self.cands                  # noqa: B018 (taken from the form before it is re-anchored)
            self._form = anchored
            return False
        self._form, self._cands = nxt, None
        return True

    def _floors(self, t: float) -> None:
        """After a received segment: if every candidate reset its keep-alive probe count (or is
        where no keep-alive runs), the idle period began now for all; the first time any
        candidate is in FIN-WAIT-2 bounds from below when each one entered it."""
        sh = self._sh
        if self._cands is None:
            props = self._memo.of_set(self._form, "props", lambda nset: _props_of(sh, nset))
        else:
            props = _props_of(sh, self._cands.items())
        if props[0]:
            self._ka_floor = t
        if props[1] and self._f2_floor is None and self._f2_known:
            self._f2_floor = t

    def _timer_ok(self, kind: str, ep: Endpoint, t: float | None) -> bool:
        """May a floored timer (keep-alive, FIN-WAIT-2, user timeout) expire at time t?"""
        if t is None:
            return True
        floor, needs = self._floor_of(kind)
        return floor is None or t - floor >= needs[ep.probes if kind == "KEEPALIVE" else 0]

    def _floor_of(self, kind: str) -> tuple[float | None, tuple[float, ...]]:
        """The instant a floored timer is counted from, and the ages it must reach (keep-alive:
        one per probe already sent), less the tolerance."""
        if kind == "KEEPALIVE":
            return self._ka_floor, self._ka_needs
        if kind == "FIN-WAIT-2":
            return self._f2_floor, self._f2_needs
        return self._t0, self._ut_needs    # nothing was sent before the trace began

    def _timer_due(self, kind: str, ep: Endpoint) -> float | None:
        """The earliest time a floored timer may expire for `ep`, or None if unknown (reports)."""
        floor, needs = self._floor_of(kind)
        return None if floor is None else floor + needs[ep.probes if kind == "KEEPALIVE" else 0]

    def _segment(self, ev: SegmentEvent, wnd: int | None) -> None:
        """Each candidate, closed over silent hidden steps, then given the segment: received
        by the table, or explained as sent (`_explain`); through the step cache."""
        before = self._form
        out = self._memo.advance_all(self.cands, ev, wnd, self._advance)
        if not out:
            self._closure(ev.t)
            self.done = self._violation(ev, wnd)
            return
        self.cands = _merge_soft(out) if len(out) > 1 else out
        self._form = self._memo.record(self._cands, before, ev, wnd)

    def _advance(self, c: Cand, ev: SegmentEvent, wnd: int | None) -> list:
        """[(candidate after, rows)] for one candidate and one segment."""
        out: dict[Cand, str] = {}
        t = ev.t
        # a candidate past a deadline is gone: what it owed would have been captured by now
        members = [m for m in self._closure_of(c, "", t) if not self._overdue(m, t, ev.dir)]
        if ev.dir == "in":
            event = arrive(ev.seg)
            for m in members:
                for tr in self._step(m.ep, event):
                    rows = ",".join(tr.rows)
                    if "restart 2MSL" in tr.signals:
                        mark = t
                    elif tr.endpoint.state in self.timed:
                        mark = m.mark
                    elif self._persist_armed(tr.endpoint):
                        # the zero window's start (kept while it stays shut): the first probe's clock
                        mark = m.mark if m.mark is not None and self._persist_armed(m.ep) else t
                    else:
                        mark = None
                    owed = _cap(m.owed + tuple((s, rows) for s in tr.sends))
                    # a row chose ISS := ISN with a placeholder ISN; the IUT's SYN or SYN,ACK shows the real one
                    fresh = m.fresh or not self.starts.isdisjoint(tr.rows)
                    due = (m.due if m.due is not None else t) if owed or tr.endpoint.ack_owed else None
                    out.setdefault(_new(Cand, (tr.endpoint, owed, fresh, mark, due)), rows)
        else:
            for m in members:
                for nc, why in self._explain_captured(m, ev.seg, t):
                    nc = self._learn(nc, ev, wnd, why)
                    if nc is None:
                        continue                # no OFFER row takes the window it offers
                    out.setdefault(_new(Cand, nc[:4] + (_due_after_sending(m, nc, t),)), why)
        return list(out.items())

    def _overdue(self, c: Cand, t: float | None, direction: str = "out") -> bool:
        """Has `c` owed something longer than its deadline allows at time t? A reply (a
        segment a row handling an arriving segment owes) is due within the lag; an owed pure
        ACK or a delayed one within the profile's delack_max plus the lag (observation.py:
        processing-lag, delayed-ack). No deadline at a far capture point, where what the IUT
        sent in time may have been lost before it."""
        if c.due is None or t is None or self.vantage == FAR:
            return False
        if c.fresh and direction == "in":
            # the IUT has not shown its ISN: it may never have answered at all (an end that sent
            # nothing is not judged); its first segment, or the trace's end, decides
            return False
        return t - c.due >= self._deadline(c)

    def _deadline(self, c: Cand) -> float:
        """How long `c`'s oldest obligation may stay open (infinite: none applies)."""
        if c.owed:
            w, rows = c.owed[0]
            if rows == BEFORE_TRACE:
                return float("inf")
            if _soft(w):
                return self._dl_ack
            if rows and any(r in self._sh.reply_rows for r in rows.split(",")):
                return self._dl_reply
            return float("inf")
        return self._dl_ack if c.ep.ack_owed else float("inf")

    def _call(self, ev: CallEvent) -> None:
        out: dict[Cand, str] = {}
        event = call(ev.call, n=ev.n) if ev.call != "SEND" else Event("SEND", None, 0, ev.n)
        for c in self.cands:
            for tr in self.m.step(c.ep, event):
                err = [s[len("error: "):] for s in tr.signals if s.startswith("error")]
                if ev.result is not None and bool(err) != ev.result.startswith("error"):
                    continue
                if err and ev.result is not None and not (error_names(ev.result, ev.call) or set(err)) & set(err):
                    continue            # a named error other than the one the table gives (spec/errors.py)
                rows = ",".join(tr.rows)
                # CONNECT picks a placeholder ISN; the SYN shows the real one
                fresh = c.fresh or not self.starts.isdisjoint(tr.rows)
                owed = c.owed + tuple((s, rows) for s in tr.sends)
                due = (c.due if c.due is not None else ev.t) if owed or tr.endpoint.ack_owed else None
                # a SEND that leaves more queued than a small window takes arms the persist timer
                armed = ev.t is not None and self._persist_armed(tr.endpoint) and not self._persist_armed(c.ep)
                out.setdefault(Cand(tr.endpoint, owed, fresh, ev.t if armed else c.mark, due), rows)
        if not out:
            self.done = self._verdict(VIOLATION, f"no state the IUT could be in gives {ev.call} the result "
                                      f"{ev.result!r}", ev, self._results_of(event))
            return
        self.cands = out

    def _icmp(self, ev: IcmpEvent) -> None:
        """An ICMP error about a segment the IUT sent (RFC 9293 3.9.2.2): every candidate takes the
        table's ICMP rows (each state has a row for every error, so the set is never empty)."""
        event = icmp(ev.type, ev.code, ev.seq)
        out: dict[Cand, str] = {}
        for c in self.cands:
            for tr in self.m.step(c.ep, event):
                mark = c.mark if tr.endpoint.state is c.ep.state else None
                due = (c.due if c.due is not None else ev.t) if c.owed or tr.endpoint.ack_owed else None
                out.setdefault(Cand(tr.endpoint, c.owed, c.fresh, mark, due), ",".join(tr.rows))
        self.cands = out

    def _observe(self, ev: StateEvent) -> None:
        out = {c: r for c, r in self.cands.items() if c.ep.state is ev.state}
        if not out:
            self.done = self._verdict(VIOLATION, f"the IUT reports {ev.state}, which no explanation of the trace "
                                      "so far reaches", ev)
            return
        self.cands = out

    # ------------------------------------------------------------------ hidden steps
    def _silent_steps(self, ep: Endpoint) -> tuple:
        """(kind, endpoint after, rows) for each hidden step from `ep` that sends nothing
        (through the step cache)."""
        return self._memo.silent(ep, self._silent_of)

    def _silent_of(self, ep: Endpoint) -> tuple:
        res = []
        for ev in self._silent_events(ep.state):
            for tr in self._step(ep, ev):
                if not tr.sends and tr.endpoint != ep:
                    res.append((ev.kind, tr.endpoint, ",".join(tr.rows)))
        return tuple(res)

    def _silent_events(self, state: State):
        return self._sh.silent_by_state[state]

    def _closure(self, t: float | None) -> None:
        """Add every candidate reachable by hidden steps that send nothing."""
        out: dict[Cand, str] = {}
        for c, rows in self.cands.items():
            for nc, r in self._closure_of(c, rows, t).items():
                out.setdefault(nc, r)
        self.cands = out

    def _closure_of(self, c: Cand, rows: str, t: float | None) -> dict[Cand, str]:
        """`c` and every candidate it reaches by hidden steps that send nothing."""
        out = {c: rows}
        work = [c]
        while work:
            c = work.pop()
            for kind, ep2, rows in self._silent_steps(c.ep):
                if kind == "2MSL" and not self._aged(c.mark, t, timer_seconds(self.profile, "2MSL")):
                    continue
                if kind in self._sh.floored and not self._timer_ok(kind, c.ep, t):
                    continue
                nc = _new(Cand, (ep2, c.owed, c.fresh and ep2.iss == c.ep.iss,
                          c.mark if ep2.state is c.ep.state else None, c.due))
                if nc not in out:
                    out[nc] = rows
                    work.append(nc)
        return out

    def _persist_armed(self, ep: Endpoint) -> bool:
        """The persist timer runs: some PERSIST row's guard holds (a zero window to probe, or a
        window too small to send into, RFC 9293 3.8.6.1, 3.8.6.2.1); its first expiry is timed
        from when it was armed."""
        return (ep.state, "PERSIST", "") in self.m.table and bool(self._step(ep, _PERSIST))

    def _aged(self, mark: float | None, t: float | None, duration: float) -> bool:
        return mark is None or t is None or t - mark >= duration * (1 - self.tol)

    def _loud_events(self, c: Cand, obs: Segment, any_flags: bool = False) -> list[Event]:
        """The hidden calls and timers that could have sent `obs` from `c` (with `any_flags`:
        that could have sent anything, for a report's alternatives)."""
        evs: list[Event] = []
        if obs.flags & SYN and not obs.flags & ACK and not self.calls_logged:
            evs.append(call("CONNECT", isn=obs.seq))
            if obs.data:
                # a TFO client's hidden CONNECT carried the data its SYN shows, no more (RFC 7413
                # 3; Linux sendto(MSG_FASTOPEN) / TCP_FASTOPEN_CONNECT: tcp_sendmsg_fastopen() ->
                # tcp_send_syn_data()); only rows whose guard takes N > 0 can use it
                evs.append(call("CONNECT", isn=obs.seq, n=obs.data))
        if obs.data and not self.calls_logged:
            evs.append(Event("SEND", None, 0, obs.data))
        if obs.data:
            evs.append(Event(OUTPUT, None, 0, obs.data))     # queued data sent: the stack chose this size
        evs += self._loud_ev
        f = obs.flags & ~PSH
        tab = self.m.table
        st = c.ep.state
        return [e for e in evs if (any_flags or f in self.can_send.get(e.kind, ())) and (st, e.kind, "") in tab]

    def _explain(self, c: Cand, obs: Segment, t: float | None):
        """Yield (candidate after, rows) for each way `c` could have sent `obs`."""
        # 1. a segment the spec already owes (earlier owed pure ACKs it covers are settled)
        for i, (w, rows) in enumerate(c.owed):
            if rows == BEFORE_TRACE:
                # any pure ACK up to it (sent now, or before the IUT's later data); kept until
                # one reaches it
                if ((obs.flags & ~PSH) == ACK and not obs.data and obs.seq in (w.seq, c.ep.snd_nxt)
                        and _geq(w.ack, obs.ack)):
                    keep = () if obs.ack == w.ack else ((w, rows),)
                    yield Cand(c.ep, _cap(self._settle(c.owed[:i], obs) + keep + c.owed[i + 1:]), c.fresh,
                               c.mark), rows
                continue
            m = self._match(obs, w, c, retransmit=False)
            if m is not None:
                ep, shift = m
                rest = self._settle(c.owed[:i], obs) + self._shift(c.owed[i + 1:], shift)
                yield Cand(ep if ep is not None else c.ep, _cap(rest), False if shift is not None else c.fresh,
                           c.mark), rows
            if not _soft(w):
                break                       # owed SYN, FIN, RST and data go out in order
        # 2. a hidden step that sends it first; not while a required segment is owed: that one
        #    was sent when the step that owes it ran, so it goes out before anything later
        if any(not _soft(w) for w, _ in c.owed):
            return
        kept = self._settle(c.owed, obs)
        for ev in self._loud_events(c, obs):
            for tr in self._step(c.ep, ev):
                if not tr.sends:
                    continue
                rtx = not self.rto_rows.isdisjoint(tr.rows)
                m = self._match(obs, tr.sends[0], c, retransmit=rtx)
                if m is None:
                    continue
                # a keep-alive probe (or give-up) only after the idle period
                if ev.kind in self._sh.floored and not self._timer_ok(ev.kind, c.ep, t):
                    continue
                # a zero-window probe only once the window has been shut for the first probe
                # interval (RFC 9293 3.8.6.1: an RTO; Linux tcp_probe0_base(): max(icsk_rto,
                # TCP_RTO_MIN), so at least rto_min); later probes back off, so the first interval
                # from the previous probe is a lower bound
                if ev.kind == "PERSIST" and not self._aged(c.mark, t, timer_seconds(self.profile, "PERSIST", 0)):
                    continue
                # a retransmitted SYN or SYN,ACK must respect the backoff (RFC 6298 5.5)
                if rtx and tr.sends[0].flags & SYN and c.mark is not None and t is not None:
                    if not self._aged(c.mark, t, timer_seconds(self.profile, _rto_kind(tr.endpoint),
                                                               tr.endpoint.rtx - 1)):
                        continue
                ep, shift = m
                ep2 = tr.endpoint
                if shift is not None:
                    ep2 = shift_endpoint(ep2, shift, 0)
                rows = ",".join(tr.rows)
                sends = self._shift(tuple((s, rows) for s in tr.sends[1:]), shift)
                yield Cand(ep2, _cap(kept + sends), c.fresh and shift is None,
                           t if ev.kind == "PERSIST" and t is not None else c.mark), rows
        # 3. SEND then SHUTDOWN/CLOSE: data and FIN merged into one segment, or data queued
        #    before the connection was established and sent with the FIN (RFC 9293 3.10.4)
        if obs.data and obs.flags & FIN:
            for tr in self._step(c.ep, Event("SEND", None, 0, obs.data)):
                if len(tr.sends) > 1 or tr.endpoint == c.ep:
                    continue
                for k in ("SHUTDOWN", "CLOSE"):
                    for tr2 in self._step(tr.endpoint, call(k)):
                        if not tr2.sends:
                            continue
                        f = tr2.sends[0]
                        if tr.sends:
                            d = tr.sends[0]
                            if f.seq != _end(d):
                                continue
                            f = Segment(f.flags, d.seq, f.ack, d.data + f.data, f.wnd)
                        if self._match(obs, f, c, retransmit=False) == (None, None):
                            rows = ",".join(tr.rows + tr2.rows)
                            yield Cand(tr2.endpoint, _cap(kept + tuple((x, rows) for x in tr2.sends[1:])),
                                       c.fresh, c.mark), rows

    def _explain_captured(self, c: Cand, obs: Segment, t: float | None):
        """`_explain`, and where the observation model lets a captured segment be several the
        stack sent (observation.py: segmentation-offload): a near end whose capture shows its
        frames before TSO/GSO split them, a segment above the send MSS and at most GSO_MAX
        bytes is taken as consecutive pieces of at most the MSS, each explained in turn by the
        table (so each stays within the window and the queued data), the FIN only on the last."""
        yield from self._explain(c, obs, t)
        mss = c.ep.snd_mss
        if not self.offload or self.vantage != NEAR or obs.flags & SYN or not mss or not mss < obs.data <= GSO_MAX:
            return
        states = {c: ""}
        off = 0
        while off < obs.data and states:
            n = min(mss, obs.data - off)
            last = off + n == obs.data
            piece = obs._replace(flags=obs.flags if last else obs.flags & ~(FIN | PSH), seq=(obs.seq + off) & MASK,
                                 data=n)
            nxt: dict[Cand, str] = {}
            for st, rows in states.items():
                for nc, why in self._explain(st, piece, t):
                    nxt.setdefault(nc, f"{rows},{why}" if rows else why)
            states, off = nxt, off + n
        yield from states.items()

    def _match(self, obs: Segment, w: Segment, c: Cand, retransmit: bool):
        """None if `obs` is not `w`; else (rebased endpoint or None, ISN shift or None)."""
        if retransmit and c.ep.snd_mss and obs.data > c.ep.snd_mss:
            # RFC 9293 3.7.1 (MUST-15 bounds every segment by the effective send MSS), also when the
            # table resends the whole outstanding range: one retransmitted segment is at most the
            # MSS (Linux tcp_retransmit_skb() fragments a larger skb, tcp_fragment()); a capture
            # before segmentation offload is the observation model's (segmentation-offload)
            return None
        if (obs.flags & ~(PSH | FIN)) != (w.flags & ~(PSH | FIN)):
            return None
        if w.flags & ACK and obs.ack != w.ack:
            return None
        shift = None
        if w.flags & SYN and c.fresh:
            shift = (obs.seq - w.seq) & MASK      # the IUT's ISN, learnt (even where it equals the placeholder)
            w = w._replace(seq=obs.seq)
        if obs.seq == w.seq and obs.data == w.data and (obs.flags & FIN) == (w.flags & FIN):
            return (shift_endpoint(c.ep, shift, 0) if shift is not None else None), shift
        if not retransmit or w.flags & SYN:
            return None
        # a repacketized retransmission: part of w's range; FIN only where w's FIN is
        lo = (obs.seq - w.seq) & MASK
        if lo >= HALF or lo + obs.data > w.data:
            return None
        if obs.flags & FIN and not (w.flags & FIN and lo + obs.data == w.data):
            return None
        if not obs.flags & FIN and not obs.data:
            return None
        return None, None

    @staticmethod
    def _settle(owed, obs: Segment):
        """Drop owed pure ACKs that `obs` acknowledges at least as far."""
        if not owed or not obs.flags & ACK:
            return owed
        return tuple((w, r) for w, r in owed if not (_soft(w) and _geq(obs.ack, w.ack)))

    @staticmethod
    def _shift(owed, shift):
        if not shift:
            return owed
        return tuple((w._replace(seq=(w.seq + shift) & MASK) if w.flags & (SYN | FIN) or w.data else w, r)
                     for w, r in owed)

    def _learn(self, c: Cand, ev: SegmentEvent, wnd: int | None, rows: str = "") -> Cand | None:
        """Facts the IUT's own segment reveals: the receive window `wnd` it offers, which the
        table's OFFER rows take or refuse (RFC 9293 3.8.6.2.2: None when none takes it), and when
        a backoff or TIME-WAIT period began. A SYN starts the backoff unless the rows that sent it
        re-send a SYN while its retransmission timer runs (RFC 6298 5.1: a running timer is not
        restarted)."""
        ep = c.ep
        if ev.seg.flags & SYN and not (c.mark is not None and not self._sh.timer_kept.isdisjoint(rows.split(","))):
            mark = ev.t
        else:
            # the mark survives while the state is timed (a 2MSL period, a SYN's backoff) or the
            # peer's window stays shut (the zero-window probe's clock)
            mark = c.mark if ep.state in self.timed or self._persist_armed(ep) else None
        if wnd is not None and ep.state in SYNCHRONIZED:
            taken = self._step(ep, _offer_of(ev.seg.wnd, wnd))
            if not taken:
                return None
            ep = taken[0].endpoint
        if ep is not c.ep or mark != c.mark:
            return _new(Cand, (ep, c.owed, c.fresh, mark, c.due))
        return c

    def _refused_offer(self, ev: SegmentEvent, wnd: int | None) -> tuple[str, str] | None:
        """When a state explains the IUT's segment but no OFFER row takes its window: the rule
        broken, in words, and the rows it did not meet (else None)."""
        if wnd is None:
            return None
        event = _offer_of(ev.seg.wnd, wnd)
        # sending does not change what an OFFER reads (RCV.ADV, MAX.RCV.WND, SND.MSS): where no
        # candidate refuses the window before the segment, none refuses it after (and the search for
        # an explanation, costly on the auto vantage's trial verdicts, is skipped)
        if not any(c.ep.state in SYNCHRONIZED and not self._step(c.ep, event) for c in self.cands):
            return None
        for c in self.cands:
            for nc, _ in self._explain_captured(c, ev.seg, ev.t):
                ep = nc.ep
                if ep.state not in SYNCHRONIZED or self._step(ep, event):
                    continue
                least = self._least_offer(ep, wnd, event.n)
                row = self._row("offer.open")
                return (f"in {ep.state} the IUT offers a window of {wnd}, which moves the right edge it last offered "
                        f"(RCV.NXT + {ep.rcv_adv}) forward by {wnd - ep.rcv_adv}, yet the least window the table "
                        f"takes there is {least} ({row.note if row is not None else 'offer.open'}; the largest window "
                        f"offered was {ep.max_rcv_wnd}): the receiver's silly-window-syndrome avoidance (offer.open, "
                        f"{self.rfc.get('offer.open')})"
                        + self._unagreed_scale(ev.seg.wnd), "offer.open")
        return None

    def _least_offer(self, ep: Endpoint, refused: int, shift: int) -> int:
        """The smallest window above `refused` that an OFFER row takes at `ep`, found through `step`
        (so the report states the table's bound, not a copy of it): every larger window moves the
        edge too, and the offer.open guard only grows easier with the window."""
        lo, hi = refused, MAXWIN                   # lo refused, hi taken (a window of MAXWIN fills any bound)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._step(ep, offer(mid, shift)):
                hi = mid
            else:
                lo = mid
        return hi

    # ------------------------------------------------------------------ start mid-connection
    def _start_from(self, ev: SegmentEvent) -> bool:
        """`start="any"`: candidates in every synchronized state, their sequence variables
        anchored on the first segment and completed by the state invariants (spec/midstream.py).
        True when the segment is the IUT's own and so was taken as given (it may answer a
        segment sent before the trace began): the candidates are then TCBs after sending it.
        When the first segment is received, each start may still owe pure ACKs for what it
        received before the trace began, up to RCV.NXT (soft: RFC 1122 4.2.3.2 lets them come
        late; a live bulk transfer cut there showed two, behind three more data segments). One
        owed ACK marked BEFORE_TRACE stands for all of them (`_explain`)."""
        self._started = True
        if ev.seg.flags & SYN:
            return False                    # a handshake: the normal start explains it
        cands: dict[Cand, str] = {Cand(Endpoint()): ""}
        for ep in midstream_tcbs(self.m, ev.dir, ev.seg):
            late = ((Segment(ACK, ep.snd_nxt, ep.rcv_nxt, 0, 0), BEFORE_TRACE),) if ev.dir == "in" else ()
            cands[Cand(ep, late)] = ""        # optional: they may have gone out before the trace
        self.cands = cands
        return ev.dir == "out"

    # ------------------------------------------------------------------ verdicts
    def _owes(self, c: Cand) -> str:
        """What the spec still owes from `c` ('' for nothing)."""
        hard = [w for w, _ in c.owed if not _soft(w)]
        if hard:
            return seg_text(hard[0])
        for tr in self._step(c.ep, timeout("RTO")):
            if tr.sends:
                return f"retransmission {seg_text(tr.sends[0])} ({c.ep.state}, {tr.rows[0]})"
        return ""

    def _overdue_list(self, cands) -> list[str]:
        """What each overdue candidate owed: the segment, since when, and its bound."""
        out = []
        for c in cands:
            if c.due is None:
                continue
            what = (seg_text(c.owed[0][0]) + f" ({self._brief(c.owed[0][1])})" if c.owed
                    else "a delayed ACK (ACK.OWED)")
            bound = self._deadline(c)
            kind = "the processing lag" if bound == self._dl_reply else "delack_max + lag"
            out.append(f"{what} in {c.ep.state}, owed since t={c.due:.6f}, due by t={c.due + bound:.6f} "
                       f"({kind}: {bound:g} s)")
        return sorted(set(out))

    def _headline_overdue(self, cands) -> str:
        """The rule behind the oldest obligation: in which state, what it required, its row
        and RFC section."""
        for c in sorted((c for c in cands if c.due is not None), key=lambda c: c.due):
            if c.owed and c.owed[0][1] != BEFORE_TRACE:
                w, rows = c.owed[0]
                return self._rule(c, w, rows, f"within {self._deadline(c):g} s of t={c.due:.6f}")
            if c.ep.ack_owed:
                return (f"in {c.ep.state} a delayed ACK was due within {self._deadline(c):g} s of t={c.due:.6f} "
                        f"(delack, {self.rfc.get('delack', '')})")
        return ""

    def _overdue_text(self, cands) -> str:
        got = self._overdue_list(cands)
        return ("the spec owed " + got[0] + (f" (and {len(got) - 1} more)" if len(got) > 1 else "")) if got else ""

    def _brief(self, group: str) -> str:
        ids = [r for r in group.split(",") if r]
        return ",".join([r for r in ids if r in self.m.deciding] or ids[-1:])

    def _cite(self, rows: Iterable[str]) -> tuple[str, ...]:
        """Row ids with their RFC sections; of each group of rows one step went through, the
        deciding ones (`Machine.deciding`), else its last row."""
        seen: dict[str, None] = {}
        for group in rows:
            ids = [r for r in group.split(",") if r]
            for r in [r for r in ids if r in self.m.deciding] or ids[-1:]:
                seen.setdefault(f"{r} [{self.rfc.get(r, '')}]", None)
        return tuple(seen)

    def _verdict(self, status: str, message: str, ev: TraceEvent | None = None, allowed=(), rows=(),
                 headline: str = "") -> Verdict:
        states = () if status in (CONFORMANT, SILENT) else tuple(sorted(
            {str(c.ep) + (" (ISS not yet seen)" if c.fresh else "") for c in self.cands})[:64])
        return Verdict(status, self.profile.label(), self.n, message, self.n if ev is not None else None,
                       str(ev) if ev is not None else "", states, tuple(allowed),
                       self._cite(rows), self.stats.max_candidates, self.role, headline, self.vantage_note,
                       learned=tuple(self.learned.values()))

    def _results_of(self, event: Event) -> list[str]:
        out = []
        for c in self.cands:
            for tr in self.m.step(c.ep, event):
                out.append(f"{c.ep.state}: " + ("; ".join(tr.signals) or "ok") + f" ({','.join(tr.rows)})")
        return sorted(set(out))

    def _unagreed_scale(self, field: int) -> str:
        """A note for a window read unscaled although the IUT announced a window scale its peer's SYN
        did not answer: a stack that shifts its window anyway offers a window its peer reads far
        smaller (RFC 7323 2.2: neither side scales unless both SYNs carry the option)."""
        if self.wscale is None or self.peer_wscale or not self.wscale or not field:
            return ""
        return (f"; the IUT announced a window scale ({self.wscale}) that its peer's SYN did not answer, so its "
                f"window field is not scaled (RFC 7323 2.2): {field} read with its own shift would be "
                f"{field << self.wscale}, which points at a stack that scales without agreement")

    def _violation(self, ev: SegmentEvent, wnd: int | None = None) -> Verdict:
        """What the spec allowed instead, nearest to the observed segment first (same flags,
        then fewest differing fields), and the rows behind the nearest ones cited first; or, when
        a state explains the segment but not the window it offers, that rule."""
        refused = self._refused_offer(ev, wnd)
        if refused is not None:
            headline, rows = refused
            return self._verdict(VIOLATION, "the window this segment offers breaks the receiver's silly-window-"
                                 "syndrome avoidance", ev, (), [rows], headline)
        obs = ev.seg
        found: dict[str, tuple] = {}           # text -> (distance, rows or "")

        def offer(text: str, seg: Segment | None, rows: str, cite: bool) -> None:
            d = _distance(seg, obs)
            if text not in found or d < found[text][0]:
                found[text] = (d, rows if cite else "")
        late = [c for c in self.cands if self._overdue(c, ev.t)]
        for c in self.cands:
            if c in late:
                continue                       # gone: what it owed is named below
            for w, r in c.owed:
                if r == BEFORE_TRACE:
                    offer(f"a pure ACK up to ack={w.ack}, for data received before the trace began "
                          f"({c.ep.state})", w, "", False)
                    continue
                offer(f"{seg_text(w)}, owed since an earlier event ({c.ep.state}; {self._brief(r)})", w, r, True)
            for e in self._loud_events(c, obs, any_flags=True):
                for tr in self.m.step(c.ep, e):
                    r = ",".join(tr.rows)
                    what = seg_text(tr.sends[0]) if tr.sends else "nothing"
                    due = self._timer_due(e.kind, c.ep) if e.kind in self._sh.floored else None
                    if due is not None and ev.t is not None and ev.t < due:
                        what += f", but not before t={due:.6f} (the profile's {e.kind} timing)"
                    label = str(e) if e.kind != "CONNECT" else "CONNECT"
                    if tr.sends or e.kind in ("SEND", "SHUTDOWN", "CLOSE", "ABORT") and self._relevant(e, obs):
                        offer(f"{label} in {c.ep.state} sends {what} ({r})", tr.sends[0] if tr.sends else None, r,
                              self._relevant(e, obs))
        # never offer the observed segment itself as what was allowed (unless a timing note says when)
        found = {a: v for a, v in found.items() if v[0] != (0, 0) or "not before" in a}
        ranked = sorted(found, key=lambda a: (found[a][0], a))
        message = "no state the IUT could be in explains this segment (by a row, or a hidden call or timer)"
        if late:
            message += f"; at t={ev.t:.6f} it was past a deadline: " + self._overdue_text(late)
        if ranked and found[ranked[0]][0][0] == 0:
            message += f"; nearest allowed: {ranked[0]}"
        rows = [found[a][1] for a in ranked if found[a][1]]
        headline, first = self._headline(ev, late)
        if first:
            rows.insert(0, first)
        if not rows:
            # cite the rows that explained the candidates last: what the IUT was doing
            rows = sorted({r for r in self.cands.values() if r and r != BEFORE_TRACE})
        return self._verdict(VIOLATION, message, ev, ranked[:24], rows, headline)

    def _headline(self, ev: SegmentEvent, late: list) -> tuple[str, str]:
        """The rule that should have applied, in words, and its rows: a required segment the
        spec owed next (the rows that handled the event that called for it, in the state the
        IUT could have been in); else one overdue; else the rows that last explained each
        candidate, with what they allow next."""
        best = None
        for c in self.cands:
            if c in late:
                continue
            for w, rows in c.owed:
                if rows == BEFORE_TRACE:
                    continue
                key = (_distance(w, ev.seg), _soft(w))
                if best is None or key < best[0]:
                    best = (key, c, w, rows)
                if not _soft(w):
                    break                      # required segments go out in order: this one was next
        if best is not None:
            _, c, w, rows = best
            need = "next, before anything else" if not _soft(w) else f"within {self._dl_ack:g} s"
            return self._rule(c, w, rows, need), rows
        if late:
            return self._headline_overdue(late), ",".join(r for c in late for _, r in c.owed[:1] if r != BEFORE_TRACE)
        groups = sorted({r for r in self.cands.values() if r and r != BEFORE_TRACE})
        if groups:
            r = self._brief(groups[0]).split(",")[0]
            row = self._row(r)
            states = sorted({c.ep.state.value for c in self.cands})
            what = f": {row.note}" if row is not None and row.note else ""
            return (f"after {r}{what} ({self.rfc.get(r, '')}), in {', '.join(states[:4])} no row of the table "
                    f"sends {seg_text(ev.seg)}"), ""
        return "", ""

    def _rule(self, c: Cand, w: Segment, rows: str, need: str) -> str:
        """'in STATE the spec required SEGMENT NEED (what the row does) (row, RFC section)': the
        row that owed `w`, in the state it handled the event in."""
        r = self._brief(rows).split(",")[0]
        row = self._row(r)
        was = "/".join(s.value for s in row.states[:3]) if row is not None else c.ep.state.value
        why = f" ({row.note})" if row is not None and row.note else ""
        return f"in {was} the spec required {seg_text(w)} {need}{why} ({r}, {self.rfc.get(r, '') or 'RFC 9293'})"

    def _row(self, rid: str):
        return self._sh.row_by_id.get(rid)

    @staticmethod
    def _relevant(e: Event, obs: Segment) -> bool:
        if e.kind == "SEND":
            return obs.data > 0
        if e.kind in ("SHUTDOWN", "CLOSE"):
            return bool(obs.flags & FIN)
        if e.kind == "ABORT":
            return bool(obs.flags & RST)
        if e.kind == "CONNECT":
            return bool(obs.flags & SYN)
        return True


def _offer_of(field: int, wnd: int) -> Event:
    """The OFFER event for a segment whose window field `field` reads as `wnd` once scaled (the
    shift, RFC 7323 2.3, follows from the two: the memo keys on both)."""
    return offer(wnd, (wnd // field).bit_length() - 1 if field and wnd else 0)


#: The rows of the owed ACK that stands for every ACK a mid-connection start may still send for
#: data received before the trace began (`Monitor._start_from`).
BEFORE_TRACE = "before the trace"


def _cap(owed: tuple) -> tuple:
    if len(owed) <= SOFT_KEEP:
        return owed
    soft = sum(1 for w, _ in owed if _soft(w))
    if soft <= SOFT_KEEP:
        return owed
    out, drop = [], soft - SOFT_KEEP
    for item in owed:
        if drop and _soft(item[0]):
            drop -= 1
            continue
        out.append(item)
    return tuple(out)


def _merge_soft(cands: dict[Cand, str]) -> dict[Cand, str]:
    """Candidates that owe only pure ACKs (soft) and agree on everything else are merged into
    one that owes the union of their ACKs (each as many times as one of them owes it), the
    SOFT_KEEP most recent kept. The table offers an
    immediate or a delayed ACK for each data segment independently (`text.data`,
    `text.data.delayed`), so any subset of those ACK points is some path's: which ones a
    candidate still owes is all that tells such candidates apart, and the union is exactly
    the ACKs one of them may send next, in increasing order (sending one settles those below
    it). Without this a bulk transfer multiplied the set by two per segment (thousands of
    candidates on a live capture of a slow reader)."""
    groups: dict = {}
    for c in cands:
        if c.owed and all(_soft(w) for w, _ in c.owed):
            groups.setdefault((c.ep, c.fresh, c.mark), []).append(c)
    if all(len(m) < 2 for m in groups.values()):
        return cands
    out: dict[Cand, str] = {}
    merged: dict[Cand, Cand] = {}
    for (ep, fresh, mark), members in groups.items():
        if len(members) < 2:
            continue
        # each ACK as often as some member owes it: two events that each call for the same ACK (a FIN
        # and its retransmission) may each get one
        union: dict[Segment, list[str]] = {}
        for c in members:
            mine: dict[Segment, list[str]] = {}
            for w, r in c.owed:
                mine.setdefault(w, []).append(r)
            for w, rs in mine.items():
                kept = union.setdefault(w, [])
                if BEFORE_TRACE in rs:
                    kept[:] = [BEFORE_TRACE]    # it stands for every ACK up to it: it covers the plain ones
                elif kept != [BEFORE_TRACE]:
                    kept.extend(rs[len(kept):])
        # oldest first: farthest behind RCV.NXT
        ordered = sorted(((w, r) for w, rs in union.items() for r in rs),
                         key=lambda item: -((ep.rcv_nxt - item[0].ack) & MASK))
        # the latest deadline of the paths merged: each member is one path's obligations
        dues = [c.due for c in members if c.due is not None]
        one = Cand(ep, tuple(ordered[-SOFT_KEEP:]), fresh, mark, max(dues) if dues else None)
        for c in members:
            merged[c] = one
    for c, r in cands.items():
        out.setdefault(merged.get(c, c), r)
    return out


def _due_after_sending(c: Cand, nc: Cand, t: float | None) -> float | None:
    """When `nc`'s oldest obligation began, after `c` sent a segment at t: as before while
    that obligation is still open, else t (a later one's start is not kept: leniently, now)."""
    if not (nc.owed or nc.ep.ack_owed) or t is None:
        return None
    if c.due is None:
        return t
    if c.owed:
        return c.due if nc.owed[:1] == c.owed[:1] else t
    return c.due if c.ep.ack_owed and nc.ep.ack_owed and not nc.owed else t


def _rto_kind(ep: Endpoint) -> str:
    """The timer whose duration a SYN retransmission from `ep` waits: an active open's SYN
    backs off by `RTO-SYN` (Linux tcp_syn_linear_timeouts), a SYN,ACK by the RTO."""
    return "RTO-SYN" if ep.state is State.SYN_SENT else "RTO"


def check(trace: Iterable, profile: "Profile | str" = "rfc9293", **kw) -> Verdict:
    """Judge a whole trace: a convenience for ``Monitor(profile, **kw).check(trace)``."""
    return Monitor(profile, **kw).check(trace)
