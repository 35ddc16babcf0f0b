"""TCBs for a trace that starts mid-connection: which states and sequence variables are
consistent with the first segment seen, derived from the table's state invariants.

A monitor that never saw the handshake must still start somewhere. The first segment fixes
two numbers. One the endpoint receives (and accepts in order) starts at RCV.NXT and
acknowledges at most what it has sent (SEG.SEQ = RCV.NXT, SEG.ACK <= SND.NXT; RFC 9293 3.4,
3.10.7.4): the starts are TCBs *before* it. One the endpoint sends may answer something the
trace did not show (an ACK for a segment that arrived just before the capture began), so it
cannot be judged; it is taken as given, and the starts are TCBs *after* sending it: it lies
in the send window (SEG.SEQ >= SND.UNA), it acknowledges what was received (SEG.ACK = RCV.NXT),
SND.NXT is at least its end, and a FIN in it means FIN.SENT. The rest (how much is
outstanding, whether a FIN was sent, where the ISS lies, whether the user has closed) is left
to `INVARIANTS`: for each synchronized state, the first TCB of a small, fixed grid that the
state's invariant accepts, nearest the anchors. Nothing here names a state, so a table whose
invariants change moves these starts with it. Where the retransmission timer is armed, every
retry count the trace could have begun in is a start of its own (`_retries`).

The send MSS, window scale and send window of a mid-connection start are the largest
possible (the SYNs that set them were not seen); the window is learnt from the first ACK.

Not covered: a trace that begins during keep-alive probing (the starts' probe count is 0, so a
give-up sooner than KA.PROBES probes after the start is reported), and outstanding data beyond
one sequence number before the first segment.
"""
from __future__ import annotations

from itertools import product
from weakref import WeakKeyDictionary

from .machine import Machine
from .model import FIN, MASK, MAX_WSCALE, MAXDATA, MAXWIN, SYNCHRONIZED, Endpoint, Segment, State, timeout
from .table import INVARIANTS
from .vocab import compile_guard, parse_expr

#: (FIN.SENT, SND.NXT - SND.UNA, SND.UNA - ISS), in order of preference: nothing outstanding
#: and no FIN first, then one sequence number outstanding (a SYN or FIN), then a FIN sent.
GRID = tuple(product((False, True), (0, 1), (1, 0)))
#: What the user did before the trace, (ORPHAN, UNREAD): closed or not, and data delivered but
#: not read or not. Each pair the invariant allows is kept, since rules read them (Linux times
#: out an orphaned FIN-WAIT-2, and answers a close with unread data, or data to an orphan, by RST).
USER = tuple(product((False, True), (False, True)))

#: each machine's compiled invariants (weakly held: a test's altered machine goes with it)
_CHECKS: "WeakKeyDictionary[Machine, dict[State, object]]" = WeakKeyDictionary()


def _invariants(m: Machine) -> dict[State, object]:
    got = _CHECKS.get(m)
    if got is None:
        params = dict(m.profile.params)
        got = _CHECKS[m] = {s: compile_guard(parse_expr(INVARIANTS[s], m.macros), params) for s in State}
    return got


def midstream_tcbs(m: Machine, direction: str, seg: Segment) -> list[Endpoint]:
    """Every synchronized state's nearest TCB consistent with `seg` and with the state's
    invariant, for each thing the user may have done before (USER); each once as an active and once as a passive opener.
    `direction` "in": TCBs about to receive `seg`; "out": TCBs that have just sent it. States
    whose invariant no grid point meets are left out."""
    wnd = m.profile.params["WINDOW"]
    out: list[Endpoint] = []
    check = _invariants(m)
    for st, (orphan, unread) in product(sorted(SYNCHRONIZED, key=list(State).index), USER):
        for fin, d, e in GRID:
            if direction == "out":
                if seg.flags & FIN and not fin:
                    continue
                una, rcv = seg.seq, seg.ack
                nxt = (una + seg.length + d) & MASK
            else:
                nxt, rcv = seg.ack, seg.seq
                una = (nxt - d) & MASK
            # the SYNs that set the send MSS and the window scale were not seen: the largest of
            # each, so that no segment the IUT may send is judged too large or beyond the window
            ep = Endpoint(st, iss=(una - e) & MASK, irs=(rcv - 1) & MASK, snd_una=una, snd_nxt=nxt,
                          snd_wnd=MAXWIN, rcv_nxt=rcv, rcv_wnd=wnd, fin_sent=fin, orphan=orphan, unread=unread,
                          snd_mss=MAXDATA, snd_ws=MAX_WSCALE)
            if check[st](ep, None, None):
                for r in _retries(m, ep):
                    out += [r, r._replace(passive=True)]
                break
    return out


def _retries(m: Machine, ep: Endpoint) -> list[Endpoint]:
    """`ep` with every retransmission count (RTX) that changes what its retransmission timer
    may do: a trace may begin during a run of retransmissions, so the give-up may come sooner
    than the profile's full retry limit. Counts run from 0 to the first whose RTO rows differ
    from those at 0 (the give-up); none when the timer is not armed."""
    first = tuple(t.rows for t in m.step(ep, _RTO))
    if not first:
        return [ep]
    out = [ep]
    for n in range(1, _MAX_RETRIES + 1):
        r = ep._replace(rtx=n)
        out.append(r)
        if tuple(t.rows for t in m.step(r, _RTO)) != first:
            break
    return out


_RTO = timeout("RTO")
_MAX_RETRIES = 255
