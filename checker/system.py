"""The system the checker explores: two endpoints, two channels, two users, ghost data.

Every endpoint move is a call of the spec's `step`; the system adds only what is not TCP:
the network (bounded multiset channels that deliver in any order, lose, duplicate), the
users (scenarios), which timer may fire when (the time abstractions below), and ghost data
that endpoints never see and properties read.

A system state is a flat tuple of small integers (endpoints, segments and channels are
interned), laid out as::

    (A, B, chan A->B, chan B->A, user A, user B, dups left, epoch, inc A, inc B, ghost bits)

Time abstractions, each standing for a real-time fact:

* 2MSL, FIN-WAIT-2 and keep-alive (a minute to hours) expire only when the network holds
  no segment and neither endpoint has a short timer pending (retransmission, delayed ACK,
  window probe: seconds). For 2MSL this is the MSL fact: no segment of the connection
  outlives it, and the peer's last retransmission of its FIN comes before it.
  ``short-time-wait`` drops both conditions for 2MSL.
* A give-up (a timer that reports an error: RFC 1122's R2, minutes) on a network that
  still holds segments, or while the peer's short timers are pending, is an unfair run.
* The ISN generator (RFC 9293 3.4.1) is a clock: every ISN chosen advances an epoch, and
  an ISN chosen in epoch k lies 2^24 beyond one chosen in epoch k-1, beyond every sequence
  number an incarnation of this model can use. The first epoch's ISNs sit just below 2^32
  so that sequence numbers wrap. ``free-isn`` takes every ISN from the first epoch's set
  (the stress variant that shows why the clock exists).
* Retransmission and give-up come from the table with retry limits capped at `retries`.
* Sending queued data (the table's OUTPUT) is a move of the sending endpoint at any time,
  with every payload size from 0 (a queued FIN) to the bytes queued; the scenarios queue a
  few bytes at most (`OUTPUT_MAX` bounds it), the window is the profile's constant WINDOW
  and segments carry no MSS option, so the send MSS is MSS.DEFAULT (docs/checker-bounds.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from synack.spec import (ACK, FIN, RST, Endpoint, Profile, Segment, SpecError, arrive, call, get_profile, output,
                         timeout)
from synack.spec.machine import Machine, machine

from .scenarios import CALL_MENU, Scenario, get_scenario

MOD = 1 << 32
#: Epoch spacing of the ISN clock, and the first epoch's base (wraps past 2^32 at once).
ISN_GAP = 1 << 24
ISN_START = MOD - 2

#: Ghost bits.
LOSSY = (1, 2)       # a segment was lost since this endpoint's last retransmission
EXCUSED = 4          # some endpoint gave up after a loss: the network was not fair
DONE = (8, 16)       # this endpoint completed its close (TIME-WAIT, or LAST-ACK acknowledged)
STALE = (32, 64)     # this endpoint's incarnation began from a SYN its sender had abandoned
CLOSE_CALLED = (128, 256)  # this user asked to close (CLOSE or SHUTDOWN) in this incarnation
LISTENED = (512, 1024)     # this user's last OPEN was passive (LISTEN, not CONNECT)
#: User signals that report a reset by the peer (not the ones an own ABORT gives queued calls).
USER_RESET = ("error: connection reset", "error: connection refused")
#: Synchronized state names (the receiver's RCV.NXT is meaningful).
SYNCED = ("SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT")
#: Timers whose expiry sends a segment soon (seconds): a give-up (R2, minutes) outlasts them.
PENDING = ("RTO", "DELACK", "PERSIST")
#: Timers of a minute or more (2 MSL, tcp_fin_timeout, keep-alive): they expire only when
#: nothing is in flight and no short timer is pending at either endpoint.
LONG = ("2MSL", "FIN-WAIT-2", "KEEPALIVE")
#: Calls a user retries while the table rejects them (binding a port that is still in use).
RETRIED = ("CONNECT", "LISTEN")
DIR = ("A->B", "B->A")
SIDE = "AB"
ROUND = 64           # user pc = round * ROUND + step index

#: Timers the checker fires (USER-TIMEOUT is an application option, RFC 5482, off by default).
TIMERS = ("RTO", "2MSL", "FIN-WAIT-2", "KEEPALIVE", "DELACK", "PERSIST")

#: The largest OUTPUT payload the checker tries (the scenarios' SENDs queue fewer bytes).
OUTPUT_MAX = 8

#: Edge classes for the liveness analysis.
FAIR, LOSS, SPURIOUS, FUTILE = 0, 1, 2, 3


class Violation(NamedTuple):
    prop: str
    message: str


@dataclass(frozen=True)
class Config:
    """What to explore. `retries` caps every retry limit of the profile."""

    profile: Profile
    scenario: Scenario
    capacity: int = 1
    loss: bool = True
    dup: int = 1
    fifo: bool = False
    retries: int = 2
    incarnations: int = 1
    isn_choices: int = 1
    properties: tuple[str, ...] = ()

    def describe(self) -> str:
        return (f"profile {self.profile.label()}, scenario {self.scenario.name}, capacity {self.capacity}, "
                f"{'loss' if self.loss else 'no loss'}, dup {self.dup}, {'fifo' if self.fifo else 'reordering'}, "
                f"retries {self.retries}, incarnations {self.incarnations}, ISN choices {self.isn_choices}")


def make_config(profile: "str | Profile" = "rfc9293", variants=(), scenario: str = "client-close",
                capacity: int = 1, loss: bool = True, dup: int = 1, fifo: bool = False, retries: int = 2,
                incarnations: int = 1, isn_choices: int = 1, budget: int = 3, properties=()) -> Config:
    """Validate bounds and build a Config; bad values raise SpecError naming the value."""
    for name, v, lo, hi in (("capacity", capacity, 1, 8), ("dup", dup, 0, 15), ("retries", retries, 0, 15),
                            ("incarnations", incarnations, 1, 8), ("isn_choices", isn_choices, 1, 4),
                            ("budget", budget, 1, 8)):
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise SpecError(f"{name} must be an integer in {lo}..{hi}, got {v!r}")
    prof = get_profile(profile, variants)
    lim = {k: min(prof.params[k], retries) for k in ("SYN.RETRIES", "SYN.GIVEUP", "SYNACK.RETRIES", "DATA.RETRIES", "KA.PROBES")}
    prof = prof.bounded(**lim)
    sc = get_scenario(scenario, incarnations, budget)
    return Config(prof, sc, capacity, loss, dup, fifo, retries, incarnations, isn_choices, tuple(properties))


class Result(NamedTuple):
    """One cached outcome of `step` for an interned endpoint and event."""

    ep: int
    sends: tuple[int, ...]      # interned segment values
    signals: tuple[str, ...]
    rows: tuple[str, ...]
    starts: bool                # the rows chose a new ISS: a new incarnation begins
    accepts: bool               # the rows advanced RCV.NXT or set IRS: SYN, FIN or data accepted
    error: bool                 # the user is told of an error
    deletes: bool               # the rows delete the TCB
    sets_irs: bool              # a SYN was accepted (checked at establishment, not here)
    withholds: bool = False     # a rate-limited row withheld an answer (to the peer: its loss)


class System:
    """Successor generation over interned states. One instance per Config."""

    def __init__(self, config: Config, spec: "Machine | None" = None):
        """`spec` defaults to the profile's compiled table; tests pass a broken one to show
        that a property can fail."""
        self.cfg = config
        self.m: Machine = spec or machine(config.profile)
        self.eps: list[Endpoint] = []
        self.st: list[str] = []                  # state name per interned endpoint
        self.ep_id: dict[Endpoint, int] = {}
        self.segs: list[Segment] = []            # segment values
        self.seg_id: dict[Segment, int] = {}
        self.tsegs: list[tuple[int, int]] = []   # (segment value id, ghost tag)
        self.tseg_id: dict[tuple[int, int], int] = {}
        self._step: dict[tuple, tuple[Result, ...]] = {}
        self._armed: dict[tuple[int, str], bool] = {}
        self._timers_of: dict[int, tuple[str, ...]] = {}
        self._pending: dict[int, bool] = {}
        self._outputs: dict[int, tuple] = {}
        self._moves: dict[tuple, tuple] = {}      # (side, pc, peer pc) -> user_moves
        self._advanced: dict[tuple, int] = {}     # (side, pc, signals) -> advance
        self.free_isn = config.profile.has("free-isn")
        self.select(config.properties)
        self.short_tw = config.profile.has("short-time-wait")
        self.timers = tuple(t for t in TIMERS if any(k[1] == t for k in self.m.table))
        rows = {r.id: r for r in self.m.rows}
        self.row_rfc = {rid: r.rfc for rid, r in rows.items()}
        self._limited = {rid for rid, r in rows.items() if r.rate_limited}
        self._starts, self._accepts, self._deletes, self._irs = set(), set(), set(), set()
        for rid, (_, actions) in self.m.parsed.items():
            if any(a.op[0] == "delete" for a in actions):
                self._deletes.add(rid)
            assigned = {a.op[1] for a in actions if a.op[0] == "set"}
            if "ISS" in assigned:
                self._starts.add(rid)
            if assigned & {"IRS", "RCV.NXT"}:
                self._accepts.add(rid)
            if "IRS" in assigned:
                self._irs.add(rid)
        # timers that send a retransmission or probe and also have a give-up row: each must stop
        # after its retry limit when every copy is lost (`bounded-retransmission`)
        gives = self._deletes | {rid for rid, (_, acts) in self.m.parsed.items()
                                 if any(a.op[0] == "signal" and a.op[1].startswith("error") for a in acts)}
        sends = {rid for rid, (_, acts) in self.m.parsed.items() if any(a.op[0] == "send" for a in acts)}
        self.bounded = tuple(k for k in self.timers if any(r.id in sends for r in self.m.rows if r.event == k)
                             and any(r.id in gives for r in self.m.rows if r.event == k))
        self.closed_id = self.intern_ep(Endpoint())

    def select(self, properties) -> None:
        """Which safety checks run on every edge (the explorer sets this from the properties
        it reports, so a property is never reported as checked without being evaluated)."""
        self.p_ghost = "no-ghost-acceptance" in properties
        self.p_twfin = "time-wait-absorbs-fin" in properties
        self.p_agree = "handshake-agreement" in properties
        self.p_listen = "no-unrequested-listen" in properties
        self.p_signals = "user-signals" in properties
        self.p_order = "in-order-delivery" in properties

    # ------------------------------------------------------------------ interning
    def intern_ep(self, e: Endpoint) -> int:
        i = self.ep_id.get(e)
        if i is None:
            i = self.ep_id[e] = len(self.eps)
            self.eps.append(e)
            self.st.append(e.state.value)
        return i

    def intern_seg(self, s: Segment) -> int:
        i = self.seg_id.get(s)
        if i is None:
            i = self.seg_id[s] = len(self.segs)
            self.segs.append(s)
        return i

    def intern_tseg(self, seg: int, tag: int) -> int:
        k = (seg, tag)
        i = self.tseg_id.get(k)
        if i is None:
            i = self.tseg_id[k] = len(self.tsegs)
            self.tsegs.append(k)
        return i

    def initial(self) -> tuple:
        c = self.closed_id
        return (c, c, (), (), 0, 0, self.cfg.dup, 0, 0, 0, 0)

    # ------------------------------------------------------------------ the spec
    def isns(self, epoch: int) -> tuple[int, ...]:
        base = ISN_START + ISN_GAP * epoch
        return tuple((base + i) % MOD for i in range(self.cfg.isn_choices))

    def results(self, e: int, kind: str, arg, epoch: int) -> tuple[Result, ...]:
        """`step` for every ISN the clock allows, deduplicated and cached. `arg` is a segment
        value id for arrivals, (call, n) for calls, None for timers."""
        key = (e, kind, arg, epoch if kind in ("SEGMENT", "CONNECT") else 0)
        r = self._step.get(key)
        if r is not None:
            return r
        ep = self.eps[e]
        out, seen = [], set()
        isns = self.isns(epoch) if kind in ("SEGMENT", "CONNECT") else (0,)
        for isn in isns:
            if kind == "SEGMENT":
                ev = arrive(self.segs[arg], isn=isn)
            elif kind == "TIMER":
                ev = timeout(arg)
            elif kind == "OUTPUT":
                ev = output(arg)
            else:
                ev = call(arg[0], isn=isn, n=arg[1])
            for t in self.m.step(ep, ev):
                res = Result(self.intern_ep(t.endpoint), tuple(self.intern_seg(s) for s in t.sends), t.signals,
                             t.rows, any(x in self._starts for x in t.rows),
                             any(x in self._accepts for x in t.rows),
                             any(sg.startswith("error") for sg in t.signals),
                             any(x in self._deletes for x in t.rows),
                             any(x in self._irs for x in t.rows),
                             any(x in self._limited for x in t.rows))
                k = res[:4]
                if k not in seen:
                    seen.add(k)
                    out.append(res)
        r = self._step[key] = tuple(out)
        return r

    def armed(self, e: int, timer: str) -> bool:
        k = (e, timer)
        v = self._armed.get(k)
        if v is None:
            v = self._armed[k] = bool(self.m.step(self.eps[e], timeout(timer)))
        return v

    def armed_timers(self, e: int) -> tuple[str, ...]:
        """The timers armed at an interned endpoint (cached)."""
        t = self._timers_of.get(e)
        if t is None:
            t = self._timers_of[e] = tuple(k for k in self.timers if self.armed(e, k))
        return t

    def pending(self, e: int) -> bool:
        """A short timer (retransmission, delayed ACK, window probe) is armed, or queued data
        or a queued FIN waits to be sent (cached)."""
        v = self._pending.get(e)
        if v is None:
            v = self._pending[e] = any(self.armed(e, t) for t in PENDING) or bool(self.outputs(e))
        return v

    def outputs(self, e: int) -> tuple[Result, ...]:
        """The table's OUTPUT results at an interned endpoint, for every payload from 0 to
        what is queued (at most OUTPUT_MAX), in that order (cached)."""
        r = self._outputs.get(e)
        if r is None:
            q = min(self.eps[e].snd_q, OUTPUT_MAX)
            r = self._outputs[e] = tuple(x for n in range(q + 1) for x in self.results(e, "OUTPUT", n, 0))
        return r

    # ------------------------------------------------------------------ channels
    def _add(self, chan: tuple, x: int) -> "tuple | None":
        """Insert x; None when the channel is full (the segment is lost)."""
        if len(chan) >= self.cfg.capacity:
            return None
        if self.cfg.fifo:
            return chan + (x,)
        return tuple(sorted(chan + (x,)))

    @staticmethod
    def _remove(chan: tuple, i: int) -> tuple:
        return chan[:i] + chan[i + 1:]

    # ------------------------------------------------------------------ users
    # A user pc packs (round, step, notifications seen this round): pc = (round * ROUND +
    # step) * 4 + seen, seen bit 1 = established, 2 = eof. An await is passed as soon as its
    # notification has been seen, even if it came before the user got to the await.
    SEEN = {"established": 1, "eof": 2}

    def user_moves(self, side: int, pc: int, peer_pc: int):
        """(call, n, next pc) the user may make now (cached)."""
        k = (side, pc, peer_pc)
        r = self._moves.get(k)
        if r is None:
            r = self._moves[k] = self._user_moves(side, pc, peer_pc)
        return r

    def _user_moves(self, side: int, pc: int, peer_pc: int):
        sc = self.cfg.scenario
        if sc.budget:                # ``any``: the pc counts the calls made
            if pc >= sc.budget:
                return ()
            return tuple((c, n, pc + 1) for c, n in CALL_MENU)
        rounds = sc.rounds(side)
        pos, seen = divmod(pc, 4)
        r, i = divmod(pos, ROUND)
        if r >= len(rounds):
            return ()
        st = rounds[r][i]
        if st[0] != "call" or (st[3] >= 0 and peer_pc // 4 < r * ROUND + st[3]):
            return ()
        return ((st[1], st[2], self._settle(rounds, r, i + 1, seen)),)

    @classmethod
    def _settle(cls, rounds, r, i, seen) -> int:
        """The pc at (round r, step i), past every await already satisfied."""
        while r < len(rounds):
            if i >= len(rounds[r]):
                r, i, seen = r + 1, 0, 0
                continue
            st = rounds[r][i]
            if st[0] == "await" and seen & cls.SEEN[st[1]]:
                i += 1
                continue
            break
        return (r * ROUND + i) * 4 + seen

    def advance(self, side: int, pc: int, signals: tuple[str, ...]) -> int:
        """The user pc after its endpoint gave these notifications (cached)."""
        if not signals:
            return pc
        k = (side, pc, signals)
        r = self._advanced.get(k)
        if r is None:
            r = self._advanced[k] = self._advance(side, pc, signals)
        return r

    def _advance(self, side: int, pc: int, signals: tuple[str, ...]) -> int:
        sc = self.cfg.scenario
        if sc.budget or not signals:
            return pc
        rounds = sc.rounds(side)
        for sg in signals:
            pos, seen = divmod(pc, 4)
            r, i = divmod(pos, ROUND)
            if r >= len(rounds):
                return pc
            if sg.startswith("error"):
                pc = self._settle(rounds, r + 1, 0, 0)
            elif sg in self.SEEN:
                pc = self._settle(rounds, r, i, seen | self.SEEN[sg])
        return pc

    def user_done(self, side: int, pc: int) -> bool:
        sc = self.cfg.scenario
        if sc.budget:
            return True
        return pc // 4 >= len(sc.rounds(side)) * ROUND

    # ------------------------------------------------------------------ successors
    def successors(self, s: tuple):
        """Yield (label, child, edge class, violations) for every move from state s.

        The label names the move for traces: ("deliver", side, index, i, result),
        ("lose", side, index), ("dup", side, index), ("call", side, name, i, result),
        ("timer", side, kind, i, result); `side` is the receiving endpoint for network moves,
        `index` the position in the channel, `i` the choice among the spec's results.
        """
        cfg = self.cfg
        quiet = not s[2] and not s[3]
        fifo, results, apply_, tsegs, segs = cfg.fifo, self.results, self._apply, self.tsegs, self.segs
        lossy = LOSSY[0] | LOSSY[1]
        for side in (0, 1):
            ci = 3 - side
            chan = s[ci]                            # segments travelling to this side
            head, tail = s[:ci], s[ci + 1:]
            # equal segments give equal successors: each value once (sorted channels hold equal
            # values side by side; a FIFO channel delivers only its head)
            prev = None
            for idx, x in enumerate(chan):
                if fifo and idx > 0:
                    break
                if x == prev:
                    continue
                prev = x
                segv, tag = tsegs[x]
                rest = chan[:idx] + chan[idx + 1:]
                for ri, res in enumerate(results(s[side], "SEGMENT", segv, s[7])):
                    yield apply_(s, side, ("deliver", side, idx, ri, res), res, rest, tag, segs[segv])
            seen = set()
            for idx, x in enumerate(chan):
                if x in seen:
                    continue
                seen.add(x)
                if cfg.loss:
                    lost = head + (chan[:idx] + chan[idx + 1:],) + tail
                    yield ("lose", side, idx), lost[:10] + (lost[10] | lossy,), LOSS, ()
                if s[6] > 0:
                    grown = self._add(chan, x)
                    if grown is not None:
                        child = head + (grown,) + tail
                        yield ("dup", side, idx), child[:6] + (child[6] - 1,) + child[7:], FAIR, ()
            yield from self.local_moves(s, side, quiet)

    def local_moves(self, s: tuple, side: int, quiet: bool, sink: "list | None" = None):
        """The user's calls, then the armed timers, of one side (see `_apply` for `sink`)."""
        for name, n, pc2 in self.user_moves(side, s[4 + side], s[5 - side]):
            for ri, res in enumerate(self.results(s[side], name, (name, n), s[7])):
                if res.ep == s[side] and not res.sends and (name in RETRIED or not res.error):
                    continue          # a blocking call, or a bind the user retries later
                yield self._apply(s, side, ("call", side, name, ri, res), res, None, None, None, pc2=pc2,
                                  sink=sink)
        e = s[side]
        for kind in self.armed_timers(e):
            if kind in LONG and not (kind == "2MSL" and self.short_tw) and (
                    not quiet or self.pending(s[0]) or self.pending(s[1])):
                continue
            for ri, res in enumerate(self.results(e, "TIMER", kind, 0)):
                yield self._apply(s, side, ("timer", side, kind, ri, res), res, None, None, None, quiet=quiet,
                                  sink=sink)
        for ri, res in enumerate(self.outputs(e)):
            yield self._apply(s, side, ("timer", side, "OUTPUT", ri, res), res, None, None, None, quiet=quiet,
                              sink=sink)

    def _apply(self, s, side, label, res: Result, rest, tag, seg, pc2=None, quiet=False, sink=None):
        """The child state of one endpoint result, with ghost updates and safety checks.
        For a delivery, `rest` is the channel without the segment, `tag` its incarnation and
        `seg` its value. With a `sink` list, the sent segments (tagged ids) are appended to it
        instead of entering the channel (the native explorer adds them itself)."""
        child = list(s)
        viol: tuple = ()
        child[side] = res.ep
        bits = s[10]
        peer = 1 - side
        if rest is not None:
            child[3 - side] = rest
        kind = label[0]
        # incarnations (ghost)
        inc = s[8 + side]
        if kind == "call" and label[2] == "CONNECT":
            # a new incarnation, or the peer's live one (a simultaneous open joins it)
            live = self.st[s[peer]] not in ("CLOSED", "LISTEN")
            inc = s[8 + peer] if live and s[8 + peer] else max(s[8], s[9]) + 1
            bits &= ~STALE[side]
        elif kind == "deliver" and res.starts:
            inc = tag
            if s[8 + peer] != tag or self.st[s[peer]] in ("CLOSED", "LISTEN"):
                bits |= STALE[side]
            else:
                bits &= ~STALE[side]
        elif (kind == "deliver" and res.accepts and tag != inc and not res.sets_irs
              and self.p_ghost):
            viol += (Violation("no-ghost-acceptance",
                               f"{SIDE[side]} (incarnation {inc}) accepted a segment of incarnation {tag}"),)
        child[8 + side] = inc
        if res.starts and not self.free_isn:
            child[7] = s[7] + 1          # the ISN clock ticks past the ISN just chosen
        if kind == "timer" and label[2] == "RTO" and res.sends:
            bits &= ~LOSSY[side]      # a retransmission: fairness says this copy may get through
        # sends
        if sink is not None:
            sink.append(tuple(self.intern_tseg(sv, inc) for sv in res.sends))
        elif res.sends:
            out = child[2 + side]
            lost = False
            for sv in res.sends:
                grown = self._add(out, self.intern_tseg(sv, inc))
                if grown is None:
                    lost = True
                else:
                    out = grown
            child[2 + side] = out
            if lost:
                bits |= LOSSY[0] | LOSSY[1]
        # users
        pc = s[4 + side] if pc2 is None else pc2
        child[4 + side] = self.advance(side, pc, res.signals)
        # fairness ghosts
        edge = FAIR
        if res.withholds:
            # a rate limit withheld an answer: to the peer the loss of that segment, so the same
            # edge class and ghost bits as a loss (a real limit passes one answer per interval,
            # and the retransmissions that need one come further apart; the clock is not modelled)
            edge = LOSS
            bits |= LOSSY[0] | LOSSY[1]
        # a give-up: a short timer that deletes the TCB or reports an error (RFC 1122 R2)
        if kind == "timer" and label[2] not in ("2MSL", "FIN-WAIT-2") and (res.error or res.deletes):
            if not quiet:
                edge = SPURIOUS   # the give-up timer outlasts delivery: an unfair run
                bits |= EXCUSED
            elif s[10] & (LOSSY[side] | EXCUSED):
                bits |= EXCUSED   # a loss since the last retransmission: unfair network
            elif self.pending(s[1 - side]):
                edge = SPURIOUS   # the peer still retransmits, and R2 outlasts its RTO
                bits |= EXCUSED
            else:
                edge = FUTILE     # everything was delivered, and nothing moved
        # a completed close (graceful-close's definition, in the RFC's state names): entering
        # TIME-WAIT, or CLOSED from LAST-ACK, CLOSING or FIN-WAIT-1/2 (the last two only in the
        # no-time-wait variant) on a segment that is not a RST and reports no error.
        st_b, st_a = self.st[s[side]], self.st[res.ep]
        if st_a == "TIME-WAIT" and st_b != "TIME-WAIT":
            bits |= DONE[side]
        elif (st_a == "CLOSED" and st_b in ("LAST-ACK", "CLOSING", "FIN-WAIT-1", "FIN-WAIT-2") and kind == "deliver"
              and not seg.flags & RST and not res.error):
            bits |= DONE[side]
        if kind == "call":
            if label[2] in ("CONNECT", "LISTEN"):
                bits &= ~(DONE[side] | CLOSE_CALLED[side] | LISTENED[side])
                if label[2] == "LISTEN":
                    bits |= LISTENED[side]
            elif label[2] in ("CLOSE", "SHUTDOWN"):
                bits |= CLOSE_CALLED[side]
        child[10] = bits
        if self.p_listen and st_a == "LISTEN" and st_b != "LISTEN" and not bits & LISTENED[side]:
            viol += (Violation("no-unrequested-listen",
                               f"{SIDE[side]} went from {st_b} to LISTEN though its user's last OPEN was active: it "
                               f"would now accept connections nobody asked for (RFC 9293 3.10.7.3: a connection "
                               f"returns to LISTEN only if it came from a passive OPEN)"),)
        if self.p_twfin or self.p_agree:
            if kind == "deliver":
                if self.p_twfin and st_b == "TIME-WAIT" and seg.flags & FIN \
                        and not seg.flags & RST:
                    sent = [self.segs[x] for x in res.sends]
                    if not (st_a == "TIME-WAIT" and len(sent) == 1 and sent[0].flags == ACK
                            and "restart 2MSL" in res.signals):
                        viol += (Violation("time-wait-absorbs-fin",
                                           f"{SIDE[side]} in TIME-WAIT answered {seg} with "
                                           f"{', '.join(map(str, sent)) or 'nothing'} and went to {st_a}"),)
            if self.p_agree:
                if "established" in res.signals and bits & STALE[side]:
                    viol += (Violation("handshake-agreement",
                                       f"{SIDE[side]} reported a connection established whose opening SYN "
                                       f"its peer had abandoned (an old duplicate, RFC 9293 3.5 Figure 8)"),)
                if (self.st[child[0]] == "ESTABLISHED" and self.st[child[1]] == "ESTABLISHED"
                        and child[8] == child[9]):
                    ea, eb = self.eps[child[0]], self.eps[child[1]]
                    if ea.irs != eb.iss or eb.irs != ea.iss:
                        viol += (Violation("handshake-agreement",
                                           f"both ESTABLISHED in incarnation {child[8]} but A.IRS={ea.irs}, "
                                           f"B.ISS={eb.iss}, B.IRS={eb.irs}, A.ISS={ea.iss}"),)
        if (self.p_signals or self.p_order) and kind == "deliver":
            viol += self._user_view(s, child, side, seg, tag, res)
        elif self.p_signals and kind == "call":
            bad = [g for g in res.signals if g in USER_RESET]
            if bad:
                viol += (Violation("user-signals", f"{SIDE[side]}'s user was told {bad[0]!r} on its own "
                                   f"{label[2]}, though no RST arrived (RFC 9293 3.10.7.4)"),)
        return label, tuple(child), edge, viol

    def _user_view(self, s, child, side, seg, tag, res) -> tuple:
        """What the user is told on a delivery agrees with what the peer did: a reset only for
        an arriving RST (RFC 9293 3.10.7.3-4), end of data only after the peer's user closed
        in this incarnation (3.10.4, 3.10.7.4 eighth), and data accepted in order: RCV.NXT never
        goes back (data delivered twice) and moves only on a segment that starts at or before it
        (no gap skipped; 3.10.7.4 seventh)."""
        peer = 1 - side
        out: tuple = ()
        same = s[8 + side] == tag == s[8 + peer]
        if self.p_signals:
            bad = [g for g in res.signals if g in USER_RESET]
            if bad and not seg.flags & RST:
                out += (Violation("user-signals", f"{SIDE[side]}'s user was told {bad[0]!r} on {seg}, which is "
                                  f"not a RST (RFC 9293 3.10.7.3, 3.10.7.4)"),)
            sender = self.eps[s[peer]]
            if ("eof" in res.signals and same and not s[10] & CLOSE_CALLED[peer]
                    and sender.state.value in SYNCED and (seg.seq - sender.iss) % MOD < (sender.snd_nxt - sender.iss) % MOD):
                # a FIN inside the peer's current sequence space that its user never asked for (a FIN
                # left in flight by an earlier TCB of the same incarnation lies outside it)
                out += (Violation("user-signals", f"{SIDE[side]}'s user was told end of data on {seg}, though "
                                  f"{SIDE[peer]}'s user never closed (RFC 9293 3.10.4)"),)
        if self.p_order and same:
            before, after = self.eps[s[side]], self.eps[child[side]]
            if before.state.value in SYNCED and after.state.value in SYNCED:
                moved = (after.rcv_nxt - before.rcv_nxt) % MOD
                if moved >= MOD // 2:
                    out += (Violation("in-order-delivery", f"{SIDE[side]}'s RCV.NXT went back from "
                                      f"{before.rcv_nxt} to {after.rcv_nxt} on {seg}: data would be delivered "
                                      f"twice (RFC 9293 3.10.7.4)"),)
                elif moved and (before.rcv_nxt - seg.seq) % MOD >= MOD // 2:
                    out += (Violation("in-order-delivery", f"{SIDE[side]}'s RCV.NXT moved from {before.rcv_nxt} "
                                      f"to {after.rcv_nxt} on {seg}, which starts beyond it: the gap would be "
                                      f"skipped (RFC 9293 3.10.7.4 seventh)"),)
        return out

    # ------------------------------------------------------------------ predicates
    def at_rest(self, s: tuple) -> bool:
        """Nothing in flight, nothing unacknowledged, each user finished or a server waiting
        in LISTEN for a client."""
        return (not s[2] and not s[3] and not self.armed(s[0], "RTO") and not self.armed(s[1], "RTO")
                and not self.outputs(s[0]) and not self.outputs(s[1])
                and all(self.user_done(x, s[4 + x]) or self.st[s[x]] == "LISTEN" for x in (0, 1)))

    def close_goal(self, s: tuple) -> bool:
        """At rest, and if both users asked to close, both completed the close handshake.
        Runs where a user never asked to close (a refused connection) promise nothing."""
        b = s[10]
        asked = b & CLOSE_CALLED[0] and b & CLOSE_CALLED[1]
        return self.at_rest(s) and (not asked or bool(b & DONE[0] and b & DONE[1]))

    def terminal(self, s: tuple) -> bool:
        """A legitimate end of a run: both CLOSED or LISTEN and nothing in flight. Users may
        still be waiting: a server in LISTEN waits for clients that may never come."""
        return (not s[2] and not s[3] and self.st[s[0]] in ("CLOSED", "LISTEN")
                and self.st[s[1]] in ("CLOSED", "LISTEN"))
