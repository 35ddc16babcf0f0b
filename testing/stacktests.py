"""`StackTests`: the kit as a pytest suite a stack's own tests inherit.

    import synack.testing

    class TestMyStack(synack.testing.StackTests):
        profile = "rfc9293"                 # or "linux", with `params` for its configuration
        def make_driver(self):
            return synack.testing.ShimDriver(["./my-shim"])

gives one test per row of the profile's table (`test_row[fin.est]`, ...): it fails with the
oracle's report when the stack deviates, is skipped (with the reason) when the row cannot be
driven or the stack never took it, and passes when the stack conformed. `test_variations`
replays rows with the peer's sequence numbers moved near the 2^32 wrap, and an environment
segment after the row (hypothesis, derandomized: CI sees the same cases every run). The
driver is made once per class. `known_deviations` maps rows to a reason (a stack's deviation
confirmed in its source): those fail as xfail, not as errors, and still print the report.
"""
from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .driver import Driver
from .kit import PROBE_FLAGS, PROBE_OFFSETS, Kit, Variation, delay_choices, size_choices
from .play import CONFORMANT, DEVIATED, INCONCLUSIVE, NOT_DRIVABLE, NOT_REACHED, RowResult


@lru_cache(maxsize=8)
def shared_kit(profile: str, params: tuple, max_real_wait: float) -> Kit:
    """One Kit per configuration per process: its runs are planned once."""
    return Kit(profile, dict(params), max_real_wait=max_real_wait)


def outcome(r: RowResult, known: "dict[str, str] | None" = None) -> None:
    """Turn a row's result into pytest's: pass, fail with the report, skip with the reason."""
    where = f"{r.row} [{r.rfc}] (scenario {r.scenario}, IUT as {r.iut})"
    if r.status == DEVIATED:
        if known and r.row in known:
            pytest.xfail(f"known deviation: {known[r.row]}\n{r.report}")
        pytest.fail(f"{where}: the stack deviates from the table\n{r.report}", pytrace=False)
    if r.status in (NOT_DRIVABLE, NOT_REACHED):
        pytest.skip(f"{where}: {r.status}: {r.reason}")
    if r.status == INCONCLUSIVE:
        pytest.skip(f"{where}: reached, inconclusive: {r.reason}" + (f"\n{r.report}" if r.report else ""))
    assert r.status == CONFORMANT, r.status


class StackTests:
    """Subclass it, set `profile` (and `params`), implement `make_driver`."""

    profile: str = "rfc9293"
    params: dict = {}
    #: The longest the kit waits for one of the stack's timers on a real clock.
    max_real_wait: float = 5.0
    #: Restrict the rows (None: every row of the profile's table).
    rows: "list[str] | None" = None
    known_deviations: dict = {}
    #: variations per class in `test_variations` (each is one row's run).
    variations: int = 10
    #: text of a variation's report (the oracle's, or a crash's) -> its confirmed cause: a
    #: deviation the stack shows on many rows' runs (every RST carrying ACK, a crash) is that
    #: cause again, not a new failure.
    variation_causes: dict = {}

    def make_driver(self) -> Driver:
        raise NotImplementedError("a StackTests subclass returns its stack's Driver from make_driver()")

    def kit(self) -> Kit:
        params = dict(self.params)
        return shared_kit(self.profile, tuple(sorted(params.items())), float(self.max_real_wait))

    def pytest_generate_tests(self, metafunc) -> None:
        if "row" in metafunc.fixturenames:
            rows = self.rows or self.kit().rows()
            metafunc.parametrize("row", rows, ids=rows)

    @pytest.fixture(scope="class")
    @classmethod
    def stack(cls):
        d = cls().make_driver()
        try:
            d.init()
            yield d
        finally:
            d.quit()

    def test_row(self, stack: Driver, row: str) -> None:
        outcome(self.kit().run_row(stack, row), self.known_deviations)

    def test_variations(self, stack: Driver) -> None:
        """Rows replayed with the peer's sequence space moved (near the 2^32 wrap, and at
        random), the IUT user's SENDs of 1 byte to more than two segments, a pause before each
        of the kit's segments within the profile's timer ranges, and, once the stack has taken
        the row, an environment segment (of up to more than two segments: a SYN, RST,
        ACK, FIN or data, in window, just outside it, far outside, acknowledging old, current
        or unsent data): sequence arithmetic must not depend on where the numbers lie, and
        every answer to any segment in any state is judged. A deviation seen here but not in
        the row's own run fails (the row's own deviation is test_row's to report)."""
        kit = self.kit()
        hits = kit.hits()
        # rows whose run waits for none of the stack's timers: quick on a real clock too
        rows = [r for r in (self.rows or kit.rows()) if r in hits and not hits[r].waits_for_iut_timer()]
        if not rows:
            pytest.skip("no row has a run")
        offsets = st.sampled_from(PROBE_OFFSETS)
        sizes = st.sampled_from(size_choices())
        probes = st.one_of(st.none(), st.tuples(st.sampled_from(PROBE_FLAGS), offsets, offsets,
                                                st.one_of(st.just(0), sizes)))
        own: dict[str, str] = {}

        @settings(max_examples=self.variations, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.builds(Variation, st.sampled_from(rows),
                         st.one_of(st.integers(-70000, 70000).map(lambda d: d & 0xFFFFFFFF),
                                   st.integers(0, 0xFFFFFFFF)),
                         probes, st.one_of(st.none(), sizes), st.sampled_from(delay_choices(kit.profile))))
        def check(v: Variation) -> None:
            r = kit.run_row(stack, v.row, peer_shift=v.shift, probe=v.probe, size=v.size, delay=v.delay)
            # a known deviation met on another row's run (the oracle's report cites its row) is
            # that deviation again, not a new one
            known = v.row in self.known_deviations or set(r.cited) & set(self.known_deviations) or any(
                sig in r.report or sig in v.describe() for sig in self.variation_causes)
            if r.status == DEVIATED and not known:
                if v.row not in own:
                    own[v.row] = kit.run_row(stack, v.row).status
                if own[v.row] != DEVIATED:
                    pytest.fail(f"{v.row} with {v.describe()}: the stack deviates\n{r.report}", pytrace=False)
        check()
