"""The kit against ToyTCP (examples/toytcp): rows reached and judged, the planted bug
reported with the oracle's report, the kit adapting when the stack does something else than
the plan, and rows that cannot be driven reported with the reason."""
import pytest

from synack.testing import CONFORMANT, DEVIATED, NOT_DRIVABLE, StackInfo, Unsupported
from synack.testing.play import _key



def test_rows_conform(toy, small_kit):
    kit = small_kit()
    for row in ("closed.connect", "synsent.synack", "est.close.plain", "fin.finwait2", "ack.fin.finwait1", "rto.syn"):
        r = kit.run_row(toy, row)
        assert r.status == CONFORMANT, (row, r.reason, r.report)
        assert any(e.get("call") for e in r.trace) and any(e.get("dir") == "out" for e in r.trace)


def test_planted_bug_is_reported_by_the_oracle(small_kit):
    from toydriver import ToyDriver
    d = ToyDriver(bug="fin-ack")
    d.init()
    r = small_kit().run_row(d, "fin.finwait2")
    assert r.status == DEVIATED, (r.status, r.reason, r.report)
    assert "VIOLATION" in r.report and "fin.finwait2" in r.report and "RFC 9293 3.10.7.4" in r.report


def test_sequence_numbers_near_the_wrap(toy, small_kit):
    kit = small_kit()
    for shift in (2**32 - 3, 2**31 - 1, 12345):
        r = kit.run_row(toy, "fin.finwait2", peer_shift=shift)
        assert r.status == CONFORMANT, (shift, r.reason, r.report)
        ins = [e for e in r.trace if e.get("dir") == "in"]
        assert ins[0]["seq"] == (2**32 - 2 + 2**24 + shift) % 2**32 or ins[0]["flags"] != "SYN,ACK"


class HoldsFirstPureAck:
    """A ToyTCP whose first pure ACK leaves the host late (three collects later), as a
    delayed ACK would (RFC 1122 4.2.3.2): the kit planned to see it at once and must re-plan
    from the state the monitor allows."""

    def __init__(self, inner):
        self.inner, self.held, self.done, self.wait = inner, None, False, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def collect(self):
        from synack.testing.packets import parse
        out = []
        if self.held is not None:
            self.wait += 1
            if self.wait > 3:                    # three collects later: the kit has looked and re-planned
                out.append(self.held)
                self.held = None
        for t, ip in self.inner.collect():
            p = parse(ip)
            if not self.done and p and p.seg.flags == 0x10 and not p.seg.data:
                self.held, self.done = (t, ip), True
                continue
            out.append((t, ip))
        return out


def test_the_kit_replans_when_the_stack_does_otherwise(toy, small_kit):
    d = HoldsFirstPureAck(toy)
    r = small_kit().run_row(d, "ack.fin.lastack")
    assert d.done and r.replans >= 1
    assert r.status == CONFORMANT, (r.reason, r.report)


class NoAbort:
    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def abort(self, sock):
        raise Unsupported("abort")


def test_missing_op_is_not_drivable(toy, small_kit):
    kit = small_kit(scenarios=("abort",))
    r = kit.run_row(NoAbort(toy), "abort.rst")
    assert r.status == NOT_DRIVABLE and "abort" in r.reason


def test_long_timer_on_a_real_clock_is_not_drivable(toy, small_kit):
    toy.info = StackInfo("ToyTCP", "real")
    r = small_kit(max_real_wait=1.0).run_row(toy, "2msl")
    assert r.status == NOT_DRIVABLE and "2MSL" in r.reason and "240" in r.reason


def test_row_without_a_run(toy, small_kit):
    r = small_kit().run_row(toy, "send-full")
    assert r.status == NOT_DRIVABLE and "found no run" in r.reason


def test_whole_table_coverage(toy, small_kit):
    cov = small_kit().run(toy)
    assert len(cov.results) == len(small_kit().rows())
    assert cov.reached >= 60 and cov.count(CONFORMANT) >= 55
    assert "rows," in cov.summary() and cov.to_json()["counts"][CONFORMANT] == cov.count(CONFORMANT)


def test_segment_key_ignores_psh_and_window():
    from synack.spec.model import Segment
    assert _key(Segment(0x18, 1, 2, 3, 100)) == _key(Segment(0x10, 1, 2, 3, 9))
    assert _key(Segment(0x10, 1, 2, 3)) != _key(Segment(0x10, 1, 3, 3))


@pytest.mark.parametrize("row", ["fin.est", "text.data", "seq.bad"])
def test_each_row_runs_in_a_fresh_connection(toy, row, small_kit):
    kit = small_kit()
    a, b = kit.run_row(toy, row), kit.run_row(toy, row)
    assert a.status == b.status


def test_environment_segment_after_the_row_is_judged(toy, small_kit):
    kit = small_kit()
    # an in-window RST after the connection is established resets ToyTCP: conformant
    r = kit.run_row(toy, "synsent.synack", probe=(0x04, 0, 0, 0))
    assert r.status == CONFORMANT, (r.reason, r.report)
    assert any(e.get("dir") == "in" and e["flags"] == "RST" for e in r.trace)
    # with the planted bug, a FIN after the row meets the bug
    from toydriver import ToyDriver
    bad = ToyDriver(bug="fin-ack")
    bad.init()
    r = kit.run_row(bad, "synsent.synack", probe=(0x11, 0, 0, 0))
    assert r.status == DEVIATED and "fin.est" in r.report


class SilentInTimeWait:
    """A ToyTCP that sends nothing once a connection is in TIME-WAIT (as ns-3.37 does): the
    ACK RFC 9293 3.10.7.4 owes a FIN there never comes."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def collect(self):
        from synack.testing.packets import parse
        tw = {s.lport for s in self.inner.socks.values() if s.toy.state == "TIME-WAIT"}
        return [(t, ip) for t, ip in self.inner.collect() if (p := parse(ip)) is None or p.addr.sport not in tw]


def test_an_owed_ack_that_never_comes_is_a_deviation(toy, small_kit):
    """The kit is the IUT's network, so it judges the IUT as a near end: an owed ACK has a
    deadline (delack_max + lag), and the run goes on past it before the verdict. A stack
    that never acknowledges a FIN in TIME-WAIT deviates (without the deadline the run ended
    with nothing contradicting the spec)."""
    kit = small_kit()
    assert kit.run_row(toy, "seq.bad.tw").status == CONFORMANT
    r = kit.run_row(SilentInTimeWait(toy), "seq.bad.tw")
    assert r.status == DEVIATED, (r.status, r.reason)
    assert "vantage: near (the test kit is the IUT's network" in r.report
    assert "nothing came: the spec owed <ACK" in r.report and "(delack_max + lag: 0.75 s)" in r.report


class _Closes:
    """A driver that only records which sockets the kit closes."""

    def __init__(self):
        self.closed = []

    def close(self, sock):
        self.closed.append(sock)


@pytest.mark.parametrize("state, closes", [("CLOSED", True), ("LISTEN", False), ("ESTABLISHED", False)])
def test_a_listener_the_model_no_longer_has_is_closed_before_a_segment(state, closes):
    """The table's passive connection ends in CLOSED, while the application's listening socket
    outlives it and would answer a SYN (Linux: SYN,ACK where the model's CLOSED answers RST, the
    closed.noack false alarm). Before any segment reaches the port with the model's IUT CLOSED,
    the kit closes the listener; in LISTEN (or with the connection alive) it stays."""
    from types import SimpleNamespace

    from synack.testing.play import RunPlayer
    d = _Closes()
    run = SimpleNamespace(lsock=7, sock=None, d=d, x=1, sys=SimpleNamespace(st={"iut": state}))
    RunPlayer._close_listener_if_closed(run, (None, "iut"))
    assert (d.closed == [7] and run.lsock is None) if closes else (d.closed == [] and run.lsock == 7)
