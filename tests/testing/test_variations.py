"""Variations: segment sizes from one byte to more than one segment, pauses within the
profile's timer ranges, bounded in count and time; each reaches the stack as it says."""
import time

from synack.spec.profiles import get_profile
from synack.testing import CONFORMANT, DEVIATED
from synack.testing.kit import Variation, delay_choices, size_choices, variations


def test_sizes_span_one_byte_to_more_than_two_segments():
    sizes = size_choices(1460)
    assert min(sizes) == 1 and 1460 in sizes and 1461 in sizes and max(sizes) > 2 * 1460


def test_delays_lie_within_the_profiles_timer_ranges():
    for name in ("rfc9293", "linux"):
        prof = get_profile(name)
        ds = delay_choices(prof)
        assert ds[0] == 0 and float(prof.params["delack_max"]) in ds
        assert max(ds) < 1.0          # below every profile's initial RTO (RFC 6298 2.1: 1 s): nothing retransmits


def test_variations_are_seeded_and_bounded(small_kit):
    kit = small_kit()
    a, b = variations(kit, 40, seed=3), variations(kit, 40, seed=3)
    assert a == b and len(a) == 40 and all(isinstance(v, Variation) for v in a)
    assert {v.size for v in a} - {None} <= set(size_choices()) and {v.delay for v in a} <= set(
        delay_choices(kit.profile))
    assert any(v.size and v.size > 1460 for v in a) and any(v.delay for v in a)
    assert any(v.probe and v.probe[3] > 1460 for v in a)


def test_a_send_of_more_than_the_mss_shows_toytcp_segmenting(toy, small_kit):
    """SEND sizes reach the stack: ToyTCP cuts 3020 bytes into segments of at most the peer's
    MSS (1460, RFC 9293 3.7.1); the oracle judges each."""
    kit = small_kit(scenarios=("data",))
    for size in (1, 1460):
        assert kit.run_row(toy, "send.now", size=size).status == CONFORMANT
    r = kit.run_row(toy, "send.now", size=3020)
    assert r.status != DEVIATED, r.report
    out = [e["len"] for e in r.trace if e.get("dir") == "out" and e.get("len")]
    assert out[:3] == [1460, 1460, 100]


def test_an_oversized_segment_is_a_deviation(toy, small_kit, monkeypatch):
    """A variant of ToyTCP that ignores the peer's MSS (sends 3020 bytes in one segment):
    the size variation finds it (RFC 9293 3.7.1, MUST-15)."""
    from toytcp import ToyTCP
    kit = small_kit(scenarios=("data",))
    cut = ToyTCP._data

    def whole(self, n):
        self.mss = 1 << 20
        cut(self, n)
    monkeypatch.setattr(ToyTCP, "_data", whole)
    r = kit.run_row(toy, "send.now", size=3020)
    assert r.status == DEVIATED and "len=3020" in r.report, (r.status, r.reason)


def test_an_environment_segment_larger_than_the_mss_goes_as_several(toy, small_kit):
    kit = small_kit(scenarios=("data",))
    r = kit.run_row(toy, "send.now", probe=(0x10, 0, 0, 3020))
    assert r.status == CONFORMANT, r.report
    ins = [(e["seq"], e.get("len", 0)) for e in r.trace if e.get("dir") == "in" and e.get("len")]
    assert [n for _, n in ins] == [1460, 1460, 100]
    assert all((s2 - s1) % 2**32 == n for (s1, n), (s2, _) in zip(ins, ins[1:]))   # each follows the last


def test_a_pause_reaches_the_stack_before_each_of_the_kits_segments(toy, small_kit):
    kit = small_kit(scenarios=("data",))
    r = kit.run_row(toy, "send.now", delay=0.5)
    assert r.status == CONFORMANT, r.report
    t_out = [e["t"] for e in r.trace if e.get("dir") == "out"]
    t_in = [e["t"] for e in r.trace if e.get("dir") == "in"]
    assert t_in and all(any(abs(ti - to - 0.5) < 1e-6 for to in t_out) for ti in t_in)


def test_the_variations_of_a_run_stop_at_their_time_budget(toy, small_kit):
    kit = small_kit()
    t0 = time.monotonic()
    cov = kit.run(toy, rows=["closed.connect"], n_variations=1000, variation_seconds=0.5)
    assert 0 < cov.tried < 1000 and time.monotonic() - t0 < 30
