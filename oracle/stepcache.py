"""The monitor's step cache: a translation-invariant memo around the candidate step, which the
candidate engine (oracle/monitor.py) never sees into.

Why it is sound. What a candidate becomes on a segment depends on its TCB and the segment
only through sequence-number differences wherever the table's rows commute with shifting the
two sequence spaces (spec/frames.py decides which rows do, and `synack prove` checks it with
z3). `Machine.step_framed` says, per step, whether every guard and row it went through
commutes (FRAME_FREE), whether besides none read or set ISS or IRS (FRAME_BLIND: only the
distances to SND.UNA and RCV.NXT matter), or whether they commute with shifts of the peer's
space alone (FRAME_PEER). `Stepper` collects those bits over everything one computation
stepped; a result is stored only when they allow it, normalised relative to the TCB's own
origin, and shifted back on every reuse. Time enters a step only through comparisons with
fixed ages (2 MSL, each backoff interval, the deadlines, the keep-alive, FIN-WAIT-2 and user
timeouts less the tolerance), so the keys hold which of those ages the candidate's mark, its
deadline's start and the trace's floors have reached, and a stored mark is "the input's"
(KEEP) or "this event's time" (NOW).

Two levels:
- `Memo.advance`: one candidate and one segment (keyed relative to ISS/IRS, or to SND.UNA/
  RCV.NXT when the step was FRAME_BLIND); `Memo.silent`: a TCB's hidden silent steps.
- `Memo.record`/`Memo.after`: the whole candidate set, kept in a normal form (`Form`: both
  spaces starting at the first moved candidate's ISS and IRS, each distinct mark a slot) and
  advanced by one lookup per segment until something needs the TCBs themselves. The native
  judge (oracle/native.py, oracle/_judge.c) mirrors these whole-set steps (`Tables.listeners`).

`NoMemo` has the same interface and stores nothing (`Monitor(memo=False)`; tests compare the
two). What the engine sees: `Stepper.step` (= `step`), `advance`, `silent`, and an opaque
`Form` it may hold, save and restore.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Callable, NamedTuple

from synack.spec.frames import PEER_UNSET, UNMOVED, rebase, shift_endpoint, shift_received, shift_sent
from synack.spec.machine import FRAME_BLIND, FRAME_FREE, FRAME_PEER, Machine
from synack.spec.model import ACK, MASK, SYN, Endpoint, Event

from .candidate import Cand, inert

#: a Cand without the namedtuple's Python-level __new__ (every argument given; speed)
_new = tuple.__new__

#: Every `Machine.step_framed` bit: a step that took no step at all keeps them all.
FRAME_ALL = FRAME_FREE | FRAME_BLIND | FRAME_PEER
#: Memoized steps kept per machine (all tables are cleared together when they hold more).
MEMO_MAX = 200_000
#: How a memoized result's mark relates to the step's input: the candidate's own mark, or the
#: event's time (a period that began with this event).
KEEP, NOW = "keep", "now"


class Form(NamedTuple):
    """A candidate set in normal form: `nset` (interned: candidates with both spaces moved to
    the origin, marks as slot numbers), the origin (`dl`, `dp`) and the marks' times."""

    nset: tuple
    dl: int
    dp: int
    marks: tuple


class Stepper:
    """`step` for the monitor, remembering in `bits` what every step since `bits` was last
    reset commutes with (the FRAME_* bits of `Machine.step_framed`, AND-ed)."""

    __slots__ = ("m", "bits")

    def __init__(self, m: Machine):
        self.m = m
        self.bits = FRAME_ALL

    def step(self, ep: Endpoint, event: Event) -> list:
        trs, bits = self.m.step_framed(ep, event)
        self.bits &= bits
        return trs

    def framed(self, fn: Callable, *args):
        """(fn(*args), the bits of every step it took); `bits` is left as it was."""
        outer, self.bits = self.bits, FRAME_ALL
        try:
            return fn(*args), self.bits
        finally:
            self.bits = outer

    def shift_free(self, fn: Callable, *args) -> tuple:
        """(fn(*args), whether that result holds for every shift of the sequence spaces: every
        step it took commutes with them, FRAME_FREE)."""
        r, bits = self.framed(fn, *args)
        return r, bool(bits & FRAME_FREE)


class Tables:
    """The memo tables every monitor of one machine (and one way of reading time) shares."""

    def __init__(self) -> None:
        self.cand: dict = {}          # one candidate's step, in its own frame
        self.blind: dict = {}         # one candidate's step that never involved ISS or IRS
        self.trans: dict = {}         # (id(normal-form set), dir, segment, window, time key, mark ages)
        #                               -> (next set, origin shift, each next mark: an input slot or -1 = now)
        self.sets: dict = {}          # interned normal-form candidate sets
        self.silent: dict = {}        # hidden silent steps of a TCB, relative to SND.UNA and RCV.NXT
        self.plain: dict = {}         # id(interned normal-form set) -> `plain_of`
        self.per_set: dict = {}       # (id(interned normal-form set), what) -> a property of the set
        # told of every whole-set step memoized (`added`) and of every clearing (`cleared`):
        # the native judge (oracle/native.py) keeps a copy of `trans` in C
        self.listeners: list = []

    def room(self) -> None:
        if len(self.cand) + len(self.blind) + len(self.trans) + len(self.sets) + len(self.silent) >= MEMO_MAX:
            for d in (self.silent, self.cand, self.blind, self.trans, self.sets, self.plain, self.per_set):
                d.clear()
            for listener in self.listeners:
                listener.cleared()

    def interned(self, nset: tuple) -> bool:
        return self.sets.get(nset) is nset


def plain_of(nset: tuple) -> tuple[bool, bool, bool]:
    """For a normal-form set: it holds no number of the local space (CLOSED and LISTEN only,
    owing nothing); none of the peer's (SYN-SENT at most, owing no ACK); its only local
    numbers are fresh candidates' placeholders (kept absolute: origin 0)."""
    return (all(c.ep[0] in UNMOVED and not c.owed for c, _ in nset),
            all(c.ep[0] in PEER_UNSET and not any(w.flags & ACK for w, _ in c.owed) for c, _ in nset),
            any(c.fresh for c, _ in nset) and all(c.fresh or inert(c) for c, _ in nset))


def shift_owed(owed: tuple, dl: int, dp: int) -> tuple:
    """Owed segments (the IUT's own) with the sequence spaces moved."""
    return tuple((shift_sent(w, dl, dp), r) for w, r in owed) if owed else owed


def _mark_rel(mark: float | None, before: float | None):
    """A result's mark as memoized: None, the input's own (KEEP) or the event's time (NOW)."""
    if mark is None:
        return None
    return KEEP if mark == before else NOW


def _unmark(code, before: float | None, t: float | None) -> float | None:
    return None if code is None else before if code is KEEP else t


class NoMemo:
    """The step cache turned off: every step computed (`Monitor(memo=False)`). A TCB's silent
    steps are still kept per monitor (a pure function of the TCB: no shift involved)."""

    memoized = False

    def __init__(self, stepper: Stepper):
        self.stepper = stepper
        self.own: dict = {}

    def advance(self, c: Cand, ev, wnd, slow: Callable, tk: tuple | None = None) -> list:
        return slow(c, ev, wnd)

    def advance_all(self, cands, ev, wnd, slow: Callable) -> dict:
        out: dict = {}
        for c in cands:
            for nc, rows in slow(c, ev, wnd):
                out.setdefault(nc, rows)
        return out

    def silent(self, ep: Endpoint, compute: Callable) -> tuple:
        r = self.own.get(ep)
        if r is None:
            r = self.stepper.framed(compute, ep)
            if len(self.own) > 50000:
                self.own.clear()
            self.own[ep] = r
        self.stepper.bits &= r[1]
        return r[0]

    def form(self, cands: dict, before=None, ev=None, wnd=None) -> None:
        return None

    record = form

    def expand(self, form: Form) -> dict:          # never called: no form is ever made
        raise AssertionError("no normal form without the memo")


class Memo(NoMemo):
    """The step cache of one monitor: its own configuration (the ages and floors its keys are
    measured against) over the shared `Tables`."""

    memoized = True

    def __init__(self, stepper: Stepper, tables: Tables, ages: tuple, floored: tuple, floors: Callable):
        super().__init__(stepper)
        self.tables = tables
        self.ages = ages
        self._n_ages = len(ages)
        # for each floored timer (keep-alive, FIN-WAIT-2, user timeout): the ages it must reach
        self.floored = floored              # ((index into floors(), needs), ...)
        self.floors = floors                # -> the monitor's floors now (each a time or None)
        self._tk_in: tuple | None = None
        self._tk: tuple = (True,)
        self._bits = FRAME_ALL              # what the last `advance_all` shares

    # ------------------------------------------------------------------ time, as keys see it
    def time_key(self, t: float | None) -> tuple:
        """All a step can learn from the event's time besides the candidate's own mark: whether
        it is known, and which ages each floored timer has reached (cached per time and floors)."""
        if t is None:
            return (True,)
        floors = self.floors()
        if self._tk_in is not None and self._tk_in[0] == t and self._tk_in[1] == floors:
            return self._tk
        key = [False]
        for i, needs in self.floored:
            f = floors[i]
            key.append(None if f is None else bisect_right(needs, t - f))
        self._tk_in, self._tk = (t, floors), tuple(key)
        return self._tk

    def _mark_ages(self, marks: tuple, t: float | None) -> tuple | None:
        """Which of the ages each mark has reached at t: all a step can learn from the marks.
        None when a mark equals t: a memoized mark could then be the input's or the event's,
        and the step is computed afresh."""
        if not marks:
            return ()
        if t is None:
            return (self._n_ages,) * len(marks)
        if t in marks:
            return None
        return tuple(bisect_right(self.ages, t - m) for m in marks)

    # ------------------------------------------------------------------ one candidate
    def advance(self, c: Cand, ev, wnd, slow: Callable, tk: tuple | None = None) -> list:
        """[(candidate after, rows)] for one candidate and one segment: `slow(c, ev, wnd)`,
        memoized when that is sound: keyed by the distances to SND.UNA and RCV.NXT when the
        step never involved ISS or IRS (FRAME_BLIND), else by the distances to ISS and IRS.
        The step's bits are left in `stepper.bits`; `tk`: the event's `time_key`."""
        st = self.stepper
        ep = c.ep
        t = ev.t
        if c.fresh or (c.mark is not None and c.mark == t) or (c.due is not None and c.due == t):
            st.bits = FRAME_ALL                     # (a mark equal to the event's time: KEEP or NOW?)
            return slow(c, ev, wnd)
        tables = self.tables
        seg = ev.seg
        n = self._n_ages
        tk = (self.time_key(t) if tk is None else tk,
              None if c.mark is None else n if t is None else bisect_right(self.ages, t - c.mark),
              None if c.due is None else n if t is None else bisect_right(self.ages, t - c.due))
        s0 = ep[0]
        moved = s0 not in UNMOVED
        incoming = ev.dir == "in"
        # a space the TCB holds no number of (frames.fixed) is measured from the segment's own
        sdl, sdp = (seg.ack, seg.seq) if incoming else (seg.seq, seg.ack)
        if moved:
            peer = s0 not in PEER_UNSET
            dl, dp = ep[1], ep[2] if peer else sdp           # the frame's origin: ISS and IRS
            bl, bp = ep[3], ep[6] if peer else sdp           # or SND.UNA and RCV.NXT, ISNs left out
            bseg = shift_received(seg, -bl, -bp) if incoming else shift_sent(seg, -bl, -bp)
            bkey = (ev.dir, bseg, wnd, tk, rebase(ep, -bl, -bp, 0, 0), shift_owed(c.owed, -bl, -bp))
            hit = tables.blind.get(bkey)
            if hit is not None:
                iss, irs = ep[1], ep[2]
                st.bits = FRAME_ALL
                return [(_new(Cand, (rebase(e, bl, bp, iss, irs), shift_owed(o, bl, bp), False,
                              _unmark(mk, c.mark, t), _unmark(dk, c.due, t))), rows)
                        for e, o, mk, dk, rows in hit]
        else:
            dl, dp = sdl, sdp
        seg = shift_received(seg, -dl, -dp) if incoming else shift_sent(seg, -dl, -dp)
        key = (ev.dir, seg, wnd, tk, shift_endpoint(ep, -dl, -dp), shift_owed(c.owed, -dl, -dp))
        hit = tables.cand.get(key)
        if hit is not None:
            st.bits = FRAME_FREE | FRAME_PEER
            return [(_new(Cand, (shift_endpoint(e, dl, dp), shift_owed(o, dl, dp), False, _unmark(mk, c.mark, t),
                          _unmark(dk, c.due, t))), rows)
                    for e, o, mk, dk, rows in hit]
        st.bits = FRAME_ALL
        res = slow(c, ev, wnd)
        bits = st.bits
        if bits & FRAME_FREE and not any(nc.fresh for nc, _ in res):
            tables.room()
            if moved and bits & FRAME_BLIND:
                tables.blind[bkey] = tuple((shift_endpoint(nc.ep, -bl, -bp), shift_owed(nc.owed, -bl, -bp),
                                            _mark_rel(nc.mark, c.mark), _mark_rel(nc.due, c.due), rows)
                                           for nc, rows in res)
            else:
                tables.cand[key] = tuple((shift_endpoint(nc.ep, -dl, -dp), shift_owed(nc.owed, -dl, -dp),
                                          _mark_rel(nc.mark, c.mark), _mark_rel(nc.due, c.due), rows)
                                         for nc, rows in res)
        return res

    def advance_all(self, cands, ev, wnd, slow: Callable) -> dict:
        """Every candidate's `advance`, merged in order (the first rows kept); what all the
        steps share is remembered for `record`."""
        out: dict = {}
        free = FRAME_FREE | FRAME_PEER
        st = self.stepper
        tk = self.time_key(ev.t)
        for c in cands:
            res = self.advance(c, ev, wnd, slow, tk)
            free &= st.bits
            for nc, rows in res:
                out.setdefault(nc, rows)
        self._bits = free
        return out

    def silent(self, ep: Endpoint, compute: Callable) -> tuple:
        """`compute(ep)`: (kind, endpoint after, rows) for each hidden step from `ep` that sends
        nothing. Cached per monitor by TCB, and across monitors relative to SND.UNA and RCV.NXT
        when the steps never involved ISS or IRS (FRAME_BLIND)."""
        r = self.own.get(ep)
        if r is None:
            tables, nk = self.tables, None
            if ep[0] not in UNMOVED:
                bl, bp = ep[3], ep[6]                 # SND.UNA, RCV.NXT
                nk = rebase(ep, -bl, -bp, 0, 0)
                hit = tables.silent.get(nk)
                if hit is not None:
                    r = (tuple((k, rebase(e2, bl, bp, ep[1], ep[2]), rows) for k, e2, rows in hit), FRAME_ALL)
            if r is None:
                r = self.stepper.framed(compute, ep)
                if nk is not None and r[1] & (FRAME_FREE | FRAME_BLIND) == FRAME_FREE | FRAME_BLIND:
                    tables.room()
                    tables.silent[nk] = tuple((k, rebase(e2, -bl, -bp, 0, 0), rows) for k, e2, rows in r[0])
            if len(self.own) > 50000:
                self.own.clear()
            self.own[ep] = r
        self.stepper.bits &= r[1]
        return r[0]

    # ------------------------------------------------------------------ the whole set
    def expand(self, form: Form) -> dict:
        """The candidates a normal form stands for."""
        nset, dl, dp, marks = form
        return {_new(Cand, (shift_endpoint(c.ep, dl, dp), shift_owed(c.owed, dl, dp), c.fresh,
                     None if c.mark is None else marks[c.mark],
                     None if c.due is None else marks[c.due])): r for c, r in nset}

    def plain(self, nset: tuple) -> tuple[bool, bool, bool]:
        """`plain_of`, cached by identity while the set is interned."""
        tables = self.tables
        got = tables.plain.get(id(nset))
        if got is None:
            got = plain_of(nset)
            if tables.interned(nset):
                tables.plain[id(nset)] = got
        return got

    def of_set(self, form: Form, what: str, fn: Callable):
        """`fn(nset)`, a property of the candidates that does not depend on the origin or the
        marks, cached by identity while the set is interned."""
        nset = form[0]
        k = (id(nset), what)
        got = self.tables.per_set.get(k)
        if got is None:
            got = fn(nset)
            if self.tables.interned(nset):
                self.tables.per_set[k] = got
        return got

    def _anchor(self, form: Form, ev) -> Form:
        """A normal-form set that holds no number of one sequence space (its TCBs in CLOSED and
        LISTEN, or SYN-SENT for the peer's space, frames.fixed, and no owed segment carrying
        one) has no origin of its own there: take the segment's, so that its steps are keyed
        the same for every connection."""
        nset, dl, dp, marks = form
        local, peer, fresh = self.plain(nset)
        seg = ev.seg
        # fresh candidates' ISS is a placeholder, and the IUT's SYN replaces it whatever it was
        local = local or (fresh and ev.dir == "out" and bool(seg.flags & SYN))
        if local or peer:
            sdl, sdp = (seg.ack, seg.seq) if ev.dir == "in" else (seg.seq, seg.ack)
            return Form(nset, sdl if local else dl, sdp if peer else dp, marks)
        return form

    def after(self, form: Form, ev, wnd) -> tuple:
        """The set after a segment by one memoized whole-set step: (the next form, None); on a
        miss (None, the form to key the step `record` will store by: the candidates must be
        taken from `form` before it)."""
        nset, dl, dp, marks = anchored = self._anchor(form, ev)
        ages = self._mark_ages(marks, ev.t)
        seg = shift_received(ev.seg, -dl, -dp) if ev.dir == "in" else shift_sent(ev.seg, -dl, -dp)
        hit = None if ages is None else self.tables.trans.get((id(nset), ev.dir, seg, wnd, self.time_key(ev.t), ages))
        if hit is None:
            return None, anchored
        nxt, ddl, ddp, mmap = hit
        t = ev.t
        return Form(nxt, (dl + ddl) & MASK, (dp + ddp) & MASK, tuple(t if i < 0 else marks[i] for i in mmap)), None

    def form(self, cands: dict, before: Form | None = None, ev=None, wnd=None) -> Form | None:
        """The candidates in normal form (both spaces starting at the first moved candidate's
        ISS and IRS); None when they have none (fresh placeholders beside moved TCBs).
        `record`: besides, remember the step from `before` on `ev` when it was sound."""
        fresh = any(c.fresh for c in cands)
        if fresh and not all(c.fresh or inert(c) for c in cands):
            return None
        # the origin: the first candidate's ISS and IRS that hold numbers, else as before; a set
        # whose local numbers are all placeholders (fresh) keeps them absolute
        dl = 0 if fresh else next((c.ep[1] for c in cands if c.ep[0] not in UNMOVED), None)
        dp = next((c.ep[2] for c in cands if c.ep[0] not in PEER_UNSET), None)
        if dl is None:
            dl = before[1] if before is not None else 0
        if dp is None:
            dp = before[2] if before is not None else 0
        tables = self.tables
        slots: dict[float, int] = {}               # each distinct mark, by first appearance
        for c in cands:
            if c.mark is not None:
                slots.setdefault(c.mark, len(slots))
            if c.due is not None:
                slots.setdefault(c.due, len(slots))
        nset = tuple((_new(Cand, (shift_endpoint(c.ep, -dl, -dp), shift_owed(c.owed, -dl, -dp), c.fresh,
                           None if c.mark is None else slots[c.mark], None if c.due is None else slots[c.due])), r)
                     for c, r in cands.items())
        marks = tuple(slots)
        tables.room()
        nset = tables.sets.setdefault(nset, nset)
        if ev is not None and before is not None:
            self._store(before, ev, wnd, fresh, nset, dl, dp, marks)
        return Form(nset, dl, dp, marks)

    def record(self, cands: dict, before: Form | None, ev, wnd) -> Form | None:
        """`form`, remembering the whole-set step from `before` when it was sound (what the
        steps of the last `advance_all` share allows it)."""
        return self.form(cands, before, ev, wnd)

    def _store(self, before: Form, ev, wnd, fresh: bool, nset: tuple, dl: int, dp: int, marks: tuple) -> None:
        free = self._bits
        tables = self.tables
        if fresh:
            # placeholders stay at origin 0 only if the key fixes the input's local origin: a set
            # of placeholders not re-anchored by a SYN, or one with no local numbers anchored on
            # an incoming segment's ACK field, which (without the ACK flag) the key holds as is
            plain = self.plain(before[0])
            if not ((plain[2] and not (ev.dir == "out" and ev.seg.flags & SYN))
                    or (plain[0] and ev.dir == "in" and not ev.seg.flags & ACK)):
                return
        if not free & FRAME_FREE and free & FRAME_PEER:
            # commutes only with shifts of the peer's space: enough when the key fixes the local
            # origin (a set with no local numbers, anchored on an ACK-less incoming segment's
            # ACK field, which the key holds as is): RFC 9293 3.10.7.1's <SEQ=0> reset from CLOSED
            if not (self.plain(before[0])[0] and ev.dir == "in" and not ev.seg.flags & ACK):
                return
        if free and tables.interned(before[0]):
            # keyed by identity: safe because both sets stay interned until the tables are cleared
            pset, pdl, pdp, pmarks = before
            t = ev.t
            ages = self._mark_ages(pmarks, t)
            # each mark after the step is an input mark or the event's time (NOW, -1)
            mmap = [-1 if m == t else pmarks.index(m) if m in pmarks else None for m in marks]
            if ages is not None and None not in mmap:
                seg = shift_received(ev.seg, -pdl, -pdp) if ev.dir == "in" else shift_sent(ev.seg, -pdl, -pdp)
                tk = self.time_key(t)
                step = tables.trans[(id(pset), ev.dir, seg, wnd, tk, ages)] = (
                    nset, (dl - pdl) & MASK, (dp - pdp) & MASK, tuple(mmap))
                for listener in tables.listeners:
                    listener.added(pset, ev.dir, seg, wnd, tk, ages, step)
