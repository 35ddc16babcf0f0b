"""Sequence frames: which rows give the same result wherever the two sequence spaces start.

Each endpoint's sequence numbers live in two spaces: its own (ISS, SND.UNA, SND.NXT, and the
ACK field of a segment it receives) and its peer's (IRS, RCV.NXT, and the SEQ field of a
segment it receives). Shifting every number of the local space by d and of the peer's space
by d' (modulo 2^32) moves a TCB to the "same" TCB of a connection that chose other ISNs. A
row *commutes with the shift* when, from the shifted TCB and the shifted event, its guard
decides the same and its actions give the shifted result. Then a result computed for one
connection serves every connection that differs only by its ISNs: the oracle memoizes on
that (`synack.oracle.monitor`).

This module decides it from the parsed table, conservatively (a row it cannot show
commutes is treated as one that does not): every sequence comparison and difference stays
within one space, no sequence constant appears, SEG.ACK is read only by rows whose guard
requires ACK (an ACK-less segment's ACK field is 0 and does not move), and ISN is the local
space. CLOSED and LISTEN hold no sequence numbers (their TCB is the deleted, zeroed one), and
SYN-SENT none of the peer's (it has heard nothing yet: IRS and RCV.NXT are still the zeroed
TCB's), so there those fields do not move (`fixed`): a row may not read them there, a row
that makes a field fixed (enters CLOSED or LISTEN from another state) must delete the TCB,
and one that leaves a state where a field is fixed for one where it is not must set it
(CONNECT sets ISS, SND.UNA and SND.NXT; the SYN,ACK sets IRS and RCV.NXT). `synack prove` checks the
analysis with z3 (`checker.proofs.prove_frames`): every row accepted here commutes with
every shift, over full 32-bit arithmetic.
"""
from __future__ import annotations

from .model import ACK, MASK, Endpoint, Segment, State
from .vocab import COUNT, SEQ, Expr

#: States whose TCB holds no sequence numbers: shifting leaves them as they are.
UNMOVED: frozenset[State] = frozenset({State.CLOSED, State.LISTEN})
#: States whose TCB holds no number of the peer's space yet (IRS, RCV.NXT): there the peer's
#: space does not move, and a step is keyed by the arriving segment's SEQ instead.
PEER_UNSET: frozenset[State] = UNMOVED | {State.SYN_SENT}
LOCAL = frozenset({"ISS", "SND.UNA", "SND.NXT", "SEG.ACK", "ISN"})
PEER = frozenset({"IRS", "RCV.NXT", "SEG.SEQ", "SEG.END"})
_TCB_SEQ = frozenset({"ISS", "SND.UNA", "SND.NXT", "IRS", "RCV.NXT"})
_TCB_PEER = frozenset({"IRS", "RCV.NXT"})


def fixed(state: State) -> frozenset[str]:
    """The TCB's sequence fields that hold no sequence number in `state`: shifting leaves them."""
    return _TCB_SEQ if state in UNMOVED else _TCB_PEER if state in PEER_UNSET else frozenset()
#: builds a TCB or segment tuple without the namedtuple's Python-level __new__ (speed: the memo
#: shifts hundreds of thousands of them per capture)
_new = tuple.__new__
# shift_endpoint indexes the TCB tuple directly (speed): pin the layout it assumes
assert Endpoint._fields[1:7] == ("iss", "irs", "snd_una", "snd_nxt", "snd_wnd", "rcv_nxt")


class _Breaks(Exception):
    """The expression or action does not commute with the shift (the reason is the message)."""


def _space(name: str) -> str | None:
    return "L" if name in LOCAL else "P" if name in PEER else None


def _conjuncts(e: Expr) -> list[Expr]:
    return [p for q in e.node[1] for p in _conjuncts(q)] if e.node[0] == "and" else [e]


class _Checker:
    def __init__(self, fixed_names: frozenset, ack_gated: bool, peer_only: bool = False):
        self.fixed = fixed_names          # TCB fields that hold no sequence number here (`fixed`)
        self.ack_gated = ack_gated        # the row's guard requires ACK
        self.moved: set[str] = set()      # TCB names this row has already assigned
        self.peer_only = peer_only        # the local space stays: its numbers and constants alike

    def space(self, e: Expr) -> str | None:
        """'L' or 'P' for a sequence-typed value, None for counts and booleans."""
        node = e.node
        kind = node[0]
        if kind == "const":
            if e.type == SEQ:
                if self.peer_only:
                    return "L"                            # stays, as the local space does
                raise _Breaks(f"sequence constant {node[1]}")
            return None
        if kind == "name":
            name = node[1]
            if name == "SEG.ACK" and not self.ack_gated and not self.peer_only:
                raise _Breaks("reads SEG.ACK without requiring ACK")
            if name in self.fixed and name not in self.moved and not (self.peer_only and name in LOCAL):
                raise _Breaks(f"reads {name} in a state where it holds no sequence number")
            return _space(name)
        if kind in ("and", "or"):
            for p in node[1]:
                self.space(p)
            return None
        if kind == "not":
            self.space(node[1])
            return None
        if kind == "if":
            self.space(node[1])
            a, b = self.space(node[2]), self.space(node[3])
            if a != b and not (self.peer_only and {a, b} <= {"L", None}):
                raise _Breaks("the branches of an 'if' lie in different spaces")
            return a
        if kind == "bin":
            a, b = self.space(node[2]), self.space(node[3])
            if a and b:
                if a != b:
                    raise _Breaks("a difference across the two sequence spaces")
                return None                               # seq - seq: a count
            return a or b
        if kind == "cmp":
            a, b = self.space(node[2]), self.space(node[3])
            if node[4] == SEQ and (a is None or b is None or a != b):
                raise _Breaks("a sequence comparison across spaces or with a constant")
            if node[4] == COUNT and (a or b):
                raise _Breaks("a sequence number compared as a count")
            return None
        raise _Breaks(f"unknown expression {kind}")


def row_commutes(parsed: tuple, state: State, to: State | None, peer_only: bool = False) -> str:
    """'' when the row (its parsed guard and actions), applied in `state`, commutes with the
    shift; else the reason it may not.

    `peer_only`: with the local space held still, a shift of the peer's space alone. Then the
    local numbers do not move, like sequence constants, and may mix with them: RFC 9293
    3.10.7.1's <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> from CLOSED commutes with it. The
    oracle uses this where its memo key fixes the local origin (a TCB with no local numbers
    receiving an ACK-less segment, `Monitor._normalize`)."""
    guard, actions = parsed
    ack_gated = any(c.node == ("name", "ACK") for c in _conjuncts(guard))
    chk = _Checker(fixed(state), ack_gated, peer_only)
    target = to or state
    before, after = fixed(state), fixed(target)
    if peer_only:                                 # only the peer's fields move
        before, after = before & _TCB_PEER, after & _TCB_PEER
    try:
        chk.space(guard)
        deleted = False
        for a in actions:
            op = a.op
            if op[0] == "set":
                name, value = op[1], op[2]
                sp = chk.space(value)
                if name in _TCB_SEQ:
                    if name in after:
                        raise _Breaks(f"assigns {name}, which holds no sequence number in {target.value}")
                    if sp != _space(name) and not (peer_only and sp is None and _space(name) == "L"):
                        raise _Breaks(f"assigns {name} a value from the other space or a constant")
                    chk.moved.add(name)
            elif op[0] == "send":
                _, _flags, seq, ack, ln = op
                sp = chk.space(seq)
                if sp != "L" and not (peer_only and sp is None):
                    raise _Breaks("sends a SEQ outside the local space")
                if ack is not None and chk.space(ack) != "P":
                    raise _Breaks("sends an ACK outside the peer's space")
                if ln is not None:
                    chk.space(ln)
            elif op[0] == "delete":
                deleted = True
                chk.fixed = frozenset()
                chk.moved |= _TCB_SEQ          # zeroed: reading them now gives zero in every frame
        if after - before and not deleted:
            raise _Breaks(f"enters {target} without deleting the TCB")
        if (before - after) - chk.moved:
            raise _Breaks(f"enters {target} leaving {', '.join(sorted((before - after) - chk.moved))} unset")
    except _Breaks as why:
        return str(why)
    return ""


def _names(e: Expr, out: set) -> set:
    node = e.node
    if node[0] == "name":
        out.add(node[1])
    for part in node[1:]:
        if isinstance(part, Expr):
            _names(part, out)
        elif isinstance(part, tuple):
            for q in part:
                if isinstance(q, Expr):
                    _names(q, out)
    return out


def ignores_isns(guard: Expr | None, actions: tuple = (), to: State | None = None) -> bool:
    """True when a guard and actions neither read nor set ISS or IRS (deleting the TCB on the
    way to CLOSED or LISTEN is allowed: that TCB holds no ISNs). A step made only of such rows
    and guards gives the same result whatever the ISNs were, so its results can be keyed by
    SND.UNA and RCV.NXT alone."""
    used: set = set()
    if guard is not None:
        _names(guard, used)
    for a in actions:
        op = a.op
        if op[0] == "delete":
            if to not in UNMOVED:
                return False
            continue
        if op[0] == "set":
            used.add(op[1])
            _names(op[2], used)
        elif op[0] == "send":
            for part in op[2:]:
                if part is not None:
                    _names(part, used)
    return not used & {"ISS", "IRS"}


def shift_endpoint(ep: Endpoint, dl: int, dp: int) -> Endpoint:
    """The TCB with its local space moved by dl and its peer's by dp (CLOSED, LISTEN: as is;
    SYN-SENT: the peer's space stays, see `fixed`)."""
    st = ep[0]
    if st in PEER_UNSET:
        if st in UNMOVED:
            return ep
        dp = 0
    return _new(Endpoint, (ep[0], (ep[1] + dl) & MASK, (ep[2] + dp) & MASK, (ep[3] + dl) & MASK,
                           (ep[4] + dl) & MASK, ep[5], (ep[6] + dp) & MASK) + ep[7:])


def rebase(ep: Endpoint, dl: int, dp: int, iss: int, irs: int) -> Endpoint:
    """`shift_endpoint(ep, dl, dp)` with ISS and IRS replaced (CLOSED, LISTEN: as is): one
    tuple built instead of two, on the oracle's memo path (SND.UNA/RCV.NXT frames)."""
    st = ep[0]
    if st in PEER_UNSET:
        if st in UNMOVED:
            return ep
        dp = 0
    return _new(Endpoint, (ep[0], iss, irs, (ep[3] + dl) & MASK, (ep[4] + dl) & MASK, ep[5], (ep[6] + dp) & MASK)
                + ep[7:])


def shift_sent(seg: Segment, dl: int, dp: int) -> Segment:
    """A segment the endpoint sends: SEQ in its space, ACK (when the flag is set) in the peer's."""
    return _new(Segment, (seg[0], (seg[1] + dl) & MASK, (seg[2] + dp) & MASK if seg[0] & ACK else seg[2]) + seg[3:])


def shift_received(seg: Segment, dl: int, dp: int) -> Segment:
    """A segment the endpoint receives: SEQ in the peer's space, ACK (when set) in its own."""
    return _new(Segment, (seg[0], (seg[1] + dp) & MASK, (seg[2] + dl) & MASK if seg[0] & ACK else seg[2]) + seg[3:])
