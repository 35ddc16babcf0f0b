"""Plans are runs of the checker's system: the last move is the IUT's step through the row,
every move is one the system offers, and re-planning works from any state."""
from synack.spec.model import RST
from synack.testing.plan import Planner

P = Planner("rfc9293", "client-close", 0, max_states=3000)


def test_every_hit_ends_in_the_iut_taking_the_row():
    hits = P.first_hits()
    assert {"closed.connect", "synsent.synack", "est.close.plain", "fin.finwait2", "rto.syn"} <= set(hits)
    for row, h in hits.items():
        s, lab, child = h.path[-1]
        assert row in lab[4].rows and lab[1] == 0, row
        for (s1, _, c1), (s2, _, _) in zip(h.path, h.path[1:]):
            assert c1 == s2                                   # a connected path of system states
        assert h.path[0][0] == P.system.initial()


def test_moves_are_the_systems_own():
    """Every move is a successor the checker's system offers, an injected environment
    segment, or an extra call (which leaves the user's script where it was)."""
    for h in P.first_hits().values():
        for s, lab, child in h.path:
            own = any(c == child for _, c, _, _ in P.system.successors(s))
            extra = lab[0] == "inject" or lab[0] == "call" and child[4] == s[4] and child[5] == s[5]
            assert own or extra, (h.row, lab[:3])


def test_injections_cover_rsts_in_and_out_of_window():
    h = P.first_hits()["est.close.plain"]
    est = h.path[-1][0]                                       # A in ESTABLISHED
    e = P.system.eps[est[0]]
    rsts = {seg.seq for seg, _, _ in P.injections(est) if seg.flags == RST}
    assert e.rcv_nxt in rsts and (e.rcv_nxt - 1) % 2**32 in rsts and len(rsts) == 3


def test_plan_and_settle_from_any_state():
    h = P.first_hits()["est.close.plain"]
    mid = h.path[2][0]
    p = P.plan(mid, "est.close.plain")
    assert p and "est.close.plain" in p[-1][1][4].rows
    end = h.path[-1][2]                                       # FIN in flight: not quiet
    assert not P.quiet(end)
    settle = P.settle(end)
    assert settle and P.quiet(settle[-1][2])


def test_no_extra_call_before_the_user_opened():
    init = P.system.initial()
    calls = {lab[2] for lab, _, _ in P._moves((init, 0, False)) if lab[0] == "call"}
    assert calls <= {"CONNECT", "LISTEN"}
