"""The z3 proofs pass on the real table and catch a broken one with a concrete counterexample."""
from dataclasses import replace

import pytest

from synack.checker.proofs import prove
from synack.spec import TABLE, get_profile
from synack.spec.machine import Machine
from synack.spec.table import MACROS


@pytest.mark.parametrize("name", ["rfc9293", "linux", "rfc9293+two-way-handshake", "rfc9293+no-time-wait",
                                  "linux+rfc1337"])
def test_profiles_prove(name):
    report = prove(name)
    assert report.ok, "\n".join(map(str, report.findings))
    assert report.groups > 100 and report.pairs > 200 and report.frames > 200


def _broken(table=None, macros=None, profile="rfc9293"):
    p = get_profile(profile)
    return prove(p, Machine(p, table=table, macros=macros))


def test_removed_row_is_a_gap_with_a_concrete_segment():
    table = tuple(r for r in TABLE if r.id != "ack.dup")
    report = _broken(table)
    gaps = [f for f in report.findings if f.kind == "gap"]
    assert gaps and all(f.stage == "ack" for f in gaps)
    ex = gaps[0].example
    assert ex["ACK"] and ex["SEG.ACK"] == ex["SND.UNA"]            # exactly the case the removed row covered
    assert "SEG.ACK" in str(gaps[0]) or "segment" in str(gaps[0])


def test_widened_guard_is_an_overlap():
    table = tuple(replace(r, guard="ACK and SEG.ACK <= SND.UNA") if r.id == "ack.dup" else r for r in TABLE)
    report = _broken(table)
    over = [f for f in report.findings if f.kind == "overlap"]
    assert any(set(f.rows) == {"ack.dup", "ack.old"} for f in over)
    f = next(f for f in over if set(f.rows) == {"ack.dup", "ack.old"})
    assert f.example["SEG.ACK"] != f.example["SND.UNA"]


def test_naive_ack_guard_misses_the_distance_2_31_case():
    macros = dict(MACROS, ACK_UNSENT="SND.NXT < SEG.ACK")
    report = _broken(macros=macros)
    gaps = [f for f in report.findings if f.kind == "gap"]
    assert gaps
    ex = gaps[0].example
    d = [(ex["SEG.ACK"] - ex[k]) % 2**32 for k in ("SND.UNA", "SND.NXT")]
    assert 2**31 in d                                              # sequence comparison undefined there


def test_invariant_breaking_row_is_caught():
    table = tuple(replace(r, actions=r.actions + ("SND.UNA := SND.NXT + 1",)) if r.id == "ack.new" else r
                  for r in TABLE)
    report = _broken(table)
    assert any(f.kind == "invariant" and f.rows == ("ack.new",) for f in report.findings)


def test_frame_proof_catches_an_analysis_that_accepts_everything():
    """If spec/frames.py called every row frame-free, z3 finds the rows that are not: the
    RFC's <SEQ=0> reset from CLOSED moves nowhere when the sequence spaces shift."""
    p = get_profile("rfc9293")
    m = Machine(p)
    m.frame_free = {key: (True, frozenset(c.row.id for c in rows)) for key, rows in m.table.items()}
    report = prove(p, m)
    frames = [f for f in report.findings if f.kind == "frame"]
    assert {f.kind for f in report.findings} == {"frame"}
    assert any(f.rows == ("closed.noack",) and "RST" in f.detail for f in frames), "\n".join(map(str, frames))
    assert "shift" in frames[0].example and "FRAME: row" in str(frames[0])


def test_peer_frame_proof_catches_an_analysis_that_accepts_everything():
    """The peer's-space-alone analysis (`Machine.frame_peer`) is proved too: a CLOSED reset
    that acknowledges a constant does not move with the peer's space, and if the analysis
    accepted it, z3 finds the shift that shows it."""
    p = get_profile("rfc9293")
    table = tuple(replace(r, actions=("send <SEQ=0><ACK=0><CTL=RST,ACK>",)) if r.id == "closed.noack" else r
                  for r in TABLE)
    m = Machine(p, table=table)
    key = next(k for k, rows in m.table.items() if any(c.row.id == "closed.noack" for c in rows))
    assert "closed.noack" not in m.frame_peer[key][1]
    m.frame_peer = {k: (True, frozenset(c.row.id for c in rows)) for k, rows in m.table.items()}
    report = prove(p, m)
    frames = [f for f in report.findings if f.kind == "frame"]
    assert frames and all(f.rows == ("closed.noack",) for f in frames), "\n".join(map(str, frames))
    assert "peer's space alone" in frames[0].detail and frames[0].example["shift"][0] == 0


def test_a_row_into_closed_that_keeps_a_retry_count_breaks_the_invariant():
    """CLOSED and LISTEN hold a deleted TCB's counters (RTX = PROBES = 0): a give-up row that
    counts once more after deleting the TCB leaves RTX = 1 in CLOSED."""
    table = tuple(replace(r, actions=r.actions + ("RTX := RTX + 1",)) if r.id == "rto.giveup" else r
                  for r in TABLE)
    report = _broken(table)
    assert any(f.kind == "invariant" and f.rows == ("rto.giveup",) for f in report.findings)


def test_prove_takes_a_subset_of_groups():
    table = tuple(r for r in TABLE if r.id != "ack.dup")
    p = get_profile("rfc9293")
    m = Machine(p, table=table)
    from synack.spec import State
    only = prove(p, m, groups=[(State.ESTABLISHED, "SEGMENT", "ack")])
    assert only.groups == 1 and any(f.kind == "gap" for f in only.findings)
    other = prove(p, m, groups=[(State.ESTABLISHED, "SEGMENT", "seq")])
    assert other.groups == 1 and other.ok
