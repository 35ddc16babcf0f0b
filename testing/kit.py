"""The kit: every row of a profile's table, a run that reaches it, played against a stack.

`Kit(profile).run(driver)` is the whole conformance run; `Kit.run_row(driver, row)` one row.
Rows are the table's row ids (a row shared by several states counts once: reaching it in any
of them covers it). Each row's run comes from the checker's system (`Planner`): the cheapest
first use of the row by the IUT over the named scenarios, with the IUT on either side, and
at most one environment segment or one extra user call added.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import time
from dataclasses import dataclass, field

from synack.checker.scenarios import SINGLE
from synack.oracle.judge import learnable
from synack.oracle.monitor import LEARNABLE
from synack.spec.machine import machine
from synack.spec.profiles import Profile, get_profile, timer_seconds

from .driver import Driver, DriverError, ShimError
from .play import (CONFORMANT, DEVIATED, INCONCLUSIVE, NOT_DRIVABLE, NOT_REACHED, STATUSES, NotDrivable, RowResult,
                   RunPlayer)
from . import plan as _plan_module
from .plan import Hit, Planner

#: Planner bounds: states explored per (scenario, side). 8000 reach all but a few rows of
#: both profiles (the rest need a window or a SEND no run of the model makes).
MAX_STATES = 8000
#: The retry cap of the planners' model (checker.system.make_config `retries`): the runs to the
#: rows are found with every retry limit capped at 2; a stack that retransmits more is followed
#: by re-planning in a model capped higher (`RunPlayer._replan`), up to the checker's 15.
RETRIES = 2
#: Seconds a virtual clock is run on after each row's run (its connection aborted where the
#: driver can): what the row left armed fires during its own run, not a later row's (ns-3.37
#: crashes at its persist timeout, 6 s after a zero-window ACK). Free on a real clock's
#: skipped on a real clock (it would cost real seconds).
DRAIN = 10.0
#: How long the variations of one `Kit.run` may take in all (seconds): the count is bounded by
#: the caller, the time by this.
VARIATION_SECONDS = 300.0
#: Events of a crashed run quoted in its report (the last ones).
CRASH_EVENTS = 20


@dataclass
class Coverage:
    """Row coverage of one stack: one RowResult per row, in table order."""
    stack: str
    profile: str
    clock: str
    results: list[RowResult] = field(default_factory=list)
    seconds: float = 0.0
    tried: int = 0                                   # variations run
    variations: list[RowResult] = field(default_factory=list)   # those that deviated (new)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def reached(self) -> int:
        return sum(r.status in (CONFORMANT, DEVIATED, INCONCLUSIVE) for r in self.results)

    def learned(self) -> dict:
        """What the oracle learned over every run (rows and variations), per parameter: the
        values it took, the rows whose runs showed it, and the evidence of the first."""
        out: dict = {}
        for r in self.results + self.variations:
            for k, v in (r.learned or {}).items():
                e = out.setdefault(k, {"values": [], "rows": [], "why": v["why"]})
                if v["value"] not in e["values"]:
                    e["values"].append(v["value"])
                if r.row not in e["rows"]:
                    e["rows"].append(r.row)
        return out

    def summary(self) -> str:
        return (f"{self.stack} ({self.profile}, {self.clock} clock): {len(self.results)} rows, {self.reached} reached, "
                f"{self.count(CONFORMANT)} conformant, {self.count(DEVIATED)} deviating, "
                f"{self.count(INCONCLUSIVE)} inconclusive, {self.count(NOT_REACHED)} not reached, "
                f"{self.count(NOT_DRIVABLE)} not drivable"
                + (f"; {len(self.variations)} of {self.tried} variations deviate" if self.tried else "")
                + f", in {self.seconds:.1f} s")

    def to_json(self) -> dict:
        return {"stack": self.stack, "profile": self.profile, "clock": self.clock, "seconds": round(self.seconds, 2),
                "rows": len(self.results), "reached": self.reached,
                "counts": {s: self.count(s) for s in STATUSES}, "results": [r.to_json() for r in self.results],
                "variations_tried": self.tried, "variations": [r.to_json() for r in self.variations],
                "learned": self.learned()}


class Kit:
    """Row runs of one profile. `params` are the profile parameters the stack's configuration
    sets (a driver may declare them as `Driver.params`: retry limits lowered by a sysctl,
    timers shortened by a socket option); the monitor and the planner both use them."""

    def __init__(self, profile: "str | Profile" = "rfc9293", params: dict | None = None, *,
                 scenarios: tuple[str, ...] = SINGLE, max_states: int = MAX_STATES, max_real_wait: float = 5.0,
                 run_deadline: float = 60.0, drain: float = DRAIN):
        prof = get_profile(profile)
        self.profile = prof.with_params(**params) if params else prof
        # what the stack's configuration gives is a fact; every other parameter the oracle can
        # learn (oracle/monitor.py LEARNABLE) is learned within its legal range, per row's run:
        # a profile's default value is not a fact about a stack, its range is
        self.given = tuple(self.profile._key(k) for k in (params or {}))
        self.learn = learnable(self.profile, self.given)
        self.scenarios, self.max_states = tuple(scenarios), max_states
        self.max_real_wait, self.run_deadline, self.drain = max_real_wait, run_deadline, drain
        # id(driver) -> (the driver, why it could not be restarted); the driver is kept so that
        # its id is never reused by a new driver while this kit lives (a kit serves many)
        self._dead: dict[int, tuple[Driver, str]] = {}
        self.m = machine(self.profile)
        self._planners: dict[tuple[str, int], Planner] = {}
        self._hits: dict[str, Hit] | None = None
        self._n = 0

    def rows(self) -> list[str]:
        """Every row id of the profile's table, in table order."""
        return list(dict.fromkeys(r.id for r in self.m.rows))

    def rfc(self, row: str) -> str:
        return next((r.rfc for r in self.m.rows if r.id == row), "")

    def planner(self, scenario: str, iut: int, retries: int = RETRIES) -> Planner:
        """The planner of one scenario and side; `retries` caps the profile's retry limits in
        its model (RETRIES for the runs found ahead; a re-plan after the stack retransmitted
        past that cap asks for a wider one)."""
        k = (scenario, iut, retries)
        if k not in self._planners:
            self._planners[k] = Planner(self.profile, scenario, iut, max_states=self.max_states, retries=retries)
        return self._planners[k]

    def hits(self) -> dict[str, Hit]:
        """The cheapest run to each row over every scenario and side (computed once, and kept
        in a cache file keyed by the table, the profile, the bounds and the planner's code)."""
        if self._hits is None:
            self._hits = self._load() or self._search()
        return self._hits

    def _search(self) -> dict[str, Hit]:
        hits: dict[str, Hit] = {}
        for sc in self.scenarios:
            for iut in (0, 1):
                for row, h in self.planner(sc, iut).first_hits().items():
                    if row not in hits or h.cost < hits[row].cost:
                        hits[row] = h
        self._store(hits)
        return hits

    def _cache_path(self) -> str:
        h = hashlib.sha256()
        h.update(repr((self.profile.label(), sorted(self.profile.params.items()), sorted(self.profile.options),
                       self.scenarios, self.max_states)).encode())
        h.update(repr(self.m.rows).encode())
        import synack.checker.scenarios as sc_mod
        import synack.checker.system as sys_mod
        for mod in (_plan_module, sys_mod, sc_mod):
            with open(mod.__file__, "rb") as fh:
                h.update(fh.read())
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return os.path.join(base, "synack", f"kit-runs-{h.hexdigest()[:20]}.json")

    def _store(self, hits: dict[str, Hit]) -> None:
        data = {row: {"scenario": h.scenario, "iut": h.iut, "cost": h.cost, "moves": h.moves}
                for row, h in hits.items()}
        path = self._cache_path()
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}"
            with open(tmp, "w") as fh:
                json.dump(data, fh)
            os.replace(tmp, path)
        except OSError:
            pass                                   # no cache: the next run plans again

    def _load(self) -> "dict[str, Hit] | None":
        try:
            with open(self._cache_path()) as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return None
        try:
            return {row: Hit(row, d["scenario"], int(d["iut"]), None, int(d["cost"]),
                             tuple(tuple(m) for m in d["moves"])) for row, d in data.items()}
        except (KeyError, TypeError, ValueError):
            return None

    def path(self, hit: Hit) -> "list | None":
        """The hit's path as system moves (decoded from the cache when needed)."""
        if hit.path is not None:
            return list(hit.path)
        p = self.planner(hit.scenario, hit.iut).decode([list(m) for m in hit.moves])
        return p

    def run_row(self, driver: Driver, row: str, *, peer_shift: int = 0, probe: "tuple | None" = None,
                size: "int | None" = None, delay: float = 0.0) -> RowResult:
        """Drive the stack into `row` and judge it (see `_run_row`). On a real clock the run's
        own pace is not controlled (a slow machine lets the stack's timers fire mid-run), so a
        deviation is run once more: one that does not reproduce is reported as inconclusive,
        with the first report kept."""
        kw = dict(peer_shift=peer_shift, probe=probe, size=size, delay=delay)
        r = self._run_row(driver, row, **kw)
        if r.status == DEVIATED and driver.clock == "real":
            again = self._run_row(driver, row, **kw)
            if again.status != DEVIATED:
                again.reason = (f"deviated once, {again.status} on a rerun (on a real clock the run's pace is not "
                                "controlled); the first run's report is kept")
                again.status = INCONCLUSIVE
                again.report = r.report
                return again
        return r

    def _run_row(self, driver: Driver, row: str, *, peer_shift: int = 0, probe: "tuple | None" = None,
                 size: "int | None" = None, delay: float = 0.0) -> RowResult:
        """Drive the stack into `row` and judge it. The driver must be initialised.
        `peer_shift` moves the peer's sequence space; `probe` = (flags, SEQ offset from
        RCV.NXT, ACK offset from SND.NXT, bytes) is an environment segment sent once the
        stack has taken the row (its answer is judged too; more bytes than the MSS go as
        several segments); `size` replaces the byte count of the IUT user's SENDs; `delay`
        seconds pass before each segment the kit delivers."""
        t0 = time.monotonic()
        res = RowResult(row, NOT_DRIVABLE, rfc=self.rfc(row))
        if id(driver) in self._dead:
            res.reason = self._dead[id(driver)][1]
            return res
        hit = self.hits().get(row)
        if hit is None:
            res.reason = (f"the kit found no run to it: no scenario of the checker ({', '.join(self.scenarios)}), "
                          f"with one environment segment or one extra call, makes the IUT take it within "
                          f"{self.max_states} states with calls a sockets API can make (docs/test-kit.md)")
            return res
        res.scenario, res.iut = hit.scenario, "AB"[hit.iut]
        self._n += 1
        ports = (10000 + self._n % 20000, 40000 + self._n % 20000)
        player = RunPlayer(driver, self.planner(hit.scenario, hit.iut), self.profile, row, ports,
                           peer_shift=peer_shift, probe=probe, size=size, delay=delay,
                           max_real_wait=self.max_real_wait, deadline=self.run_deadline, learn=self.learn,
                           wider=lambda retries, h=hit: self.planner(h.scenario, h.iut, retries),
                           iut_ip=getattr(driver, "iut_ip", "10.0.0.2"), peer_ip=getattr(driver, "peer_ip", "10.0.0.1"))
        path = self.path(hit)
        if path is None:                           # a stale cache entry: plan this row afresh
            path = self.planner(hit.scenario, hit.iut).plan(self.planner(hit.scenario, hit.iut).system.initial(), row)
        if path is None:
            res.reason = f"the stored run to it no longer replays (scenario {hit.scenario}); clear ~/.cache/synack"
            return res
        crash: ShimError | None = None
        try:
            res.status = player.play(path)
            res.reason = player.why
        except NotDrivable as e:
            res.status, res.reason = NOT_DRIVABLE, str(e)
        except ShimError as e:
            crash = e
        if crash is None:
            try:
                _cleanup(driver, player, self.drain if driver.clock == "virtual" else 0.0)
            except ShimError as e:
                crash = e
        # what the oracle learned on this run (a parameter's value, or "+option": an option on)
        res.learned = {k: {"value": player.mon.profile.params.get(k, True), "why": why}
                       for k, why in player.mon.learned.items()}
        # and a retry limit the end of the run showed (the stack gave up before the default:
        # the final verdict's `learned`, Monitor._gave_up, worded "PARAM COUNT: ...")
        for why in getattr(player.final, "learned", ()) or ():
            name, _, rest = why.partition(" ")
            count = rest.split(":", 1)[0]
            if name in LEARNABLE and name not in res.learned and count.isdigit():
                res.learned[name] = {"value": int(count), "why": why}
        if crash is not None:
            res.status, res.reason, res.report = DEVIATED, "the stack crashed or hung", crash_report(crash, player)
            self._restart(driver, row, crash)
        elif res.status == DEVIATED:
            v = player.mon.done or player.final
            res.report = str(v)
            res.cited = [r.split(" ", 1)[0] for r in getattr(v, "rows", ())]
        res.replans = player.replans
        res.trace = [e.to_json() for e in player.events]
        res.seconds = time.monotonic() - t0
        return res

    def _restart(self, driver: Driver, row: str, crash: ShimError) -> None:
        """A fresh stack after a crash or hang; when none starts, the driver's later rows are
        not drivable (with the reason), and the run still ends with a report."""
        try:
            driver.restart()
        except (ShimError, DriverError) as e:
            self._dead[id(driver)] = (driver, f"the stack crashed at row {row} ({crash}) and could not be restarted: {e}")

    def run(self, driver: Driver, rows: "list[str] | None" = None, progress=None, n_variations: int = 0,
            seed: int = 0, variation_seconds: float = VARIATION_SECONDS) -> Coverage:
        """Every row (or `rows`) against the driver, which must be initialised; then
        `n_variations` variations (`variations`), within `variation_seconds` in all, of which
        those that deviate where the row's own run did not are kept in `Coverage.variations`."""
        t0 = time.monotonic()
        info = driver.info
        cov = Coverage(info.stack if info else type(driver).__name__, self.profile.label(), driver.clock)
        for row in rows or self.rows():
            r = self.run_row(driver, row)
            cov.results.append(r)
            if progress:
                progress(r)
        own = {r.row: r.status for r in cov.results}
        stop = time.monotonic() + variation_seconds
        for v in variations(self, n_variations, seed, rows):
            if time.monotonic() > stop:
                break
            r = self.run_row(driver, v.row, peer_shift=v.shift, probe=v.probe, size=v.size, delay=v.delay)
            cov.tried += 1
            if r.status == DEVIATED and own.get(v.row) != DEVIATED:
                r.reason = v.describe()
                cov.variations.append(r)
            if progress:
                progress(r)
        cov.seconds = time.monotonic() - t0
        return cov


#: Flags of the environment segments variations send (RFC 9293 3.10.7's cases).
PROBE_FLAGS = (0x02, 0x12, 0x10, 0x04, 0x14, 0x11, 0x01)
#: SEQ and ACK offsets of those segments from RCV.NXT and SND.NXT: at, just around, a window
#: away, far out (2^30 either way).
PROBE_OFFSETS = (0, 1, -1, 2, 1 << 16, 1 << 30, -(1 << 30))


@dataclass(frozen=True)
class Variation:
    """One variation of a row's run: the peer's sequence space moved by `shift`; the IUT user's
    SENDs of `size` bytes (None: the run's own); `delay` seconds before each segment the kit
    delivers; then the environment segment `probe` (flags, SEQ - RCV.NXT, ACK - SND.NXT,
    bytes; None: none)."""
    row: str
    shift: int
    probe: "tuple | None" = None
    size: "int | None" = None
    delay: float = 0.0

    def describe(self) -> str:
        return (f"peer's sequence space moved by {self.shift}"
                + (f"; SENDs of {self.size} bytes" if self.size else "")
                + (f"; {self.delay:g} s before each of the kit's segments" if self.delay else "")
                + (f"; then the environment segment {self.probe} (flags, SEQ - RCV.NXT, ACK - SND.NXT, bytes)"
                   if self.probe else ""))


def size_choices(mss: int = 1460) -> tuple[int, ...]:
    """Byte counts a variation gives the IUT user's SENDs and the environment segment: one byte,
    less than a segment, exactly the MSS, one more (two segments), and more than two segments."""
    return (1, 100, mss - 1, mss, mss + 1, 2 * mss + 100)


def delay_choices(profile: Profile) -> tuple[float, ...]:
    """Pauses before the kit's segments, within the profile's timer ranges: none; a tenth of the
    delayed-ACK bound; the bound itself (an ACK the stack delays comes due meanwhile: RFC 9293
    3.8.6.3); half the initial RTO (no retransmission is due yet: RFC 6298 2.1)."""
    dl = float(profile.params["delack_max"])
    return (0.0, dl / 10, dl, timer_seconds(profile, "RTO", 0) / 2)


def variations(kit: "Kit", n: int, seed: int = 0, rows: "list[str] | None" = None) -> list[Variation]:
    """`n` variations drawn with a seeded generator: the second layer of the kit (sequence
    numbers near the 2^32 wrap and at random; segment sizes from one byte to more than one
    segment; pauses within the profile's timer ranges; an environment segment of any kind
    after the row). Rows whose run waits for the stack's timers are left out."""
    hits = kit.hits()
    pool = [r for r in (rows or kit.rows()) if r in hits and not hits[r].waits_for_iut_timer()]
    rng = random.Random(seed)
    sizes, delays = size_choices(), delay_choices(kit.profile)
    out = []
    for _ in range(n if pool else 0):
        shift = rng.choice([rng.randrange(-70000, 70001) & 0xFFFFFFFF, rng.randrange(1 << 32)])
        probe = None if rng.random() < 0.2 else (rng.choice(PROBE_FLAGS), rng.choice(PROBE_OFFSETS),
                                                 rng.choice(PROBE_OFFSETS), rng.choice((0, 0) + sizes))
        size = None if rng.random() < 0.5 else rng.choice(sizes)
        out.append(Variation(rng.choice(pool), shift, probe, size, rng.choice(delays)))
    return out


def crash_report(crash: ShimError, player: RunPlayer) -> str:
    """A crash or hang as a row's deviation: what the shim said (its stderr's tail), and the
    events of the run before it, which are what made the stack crash."""
    evs = player.events
    lines = [f"CRASH of the stack under {player.prof.label()} ({player.mon.role}): {crash}",
             f"the events before it ({'the last ' + str(CRASH_EVENTS) + ' of ' if len(evs) > CRASH_EVENTS else ''}"
             f"{len(evs)}), each judged by the oracle:" if evs else "before any event of the run"]
    lines += [f"  {ev}" + (f" (window {ev.win})" if getattr(ev, "win", None) is not None else "")
              for ev in evs[-CRASH_EVENTS:]]
    if evs:
        v = player.mon.done or player.mon.verdict()
        lines.append(f"the oracle on those events: {str(v).splitlines()[0]}")
    return "\n".join(lines)


def _cleanup(driver: Driver, player: RunPlayer, drain: float = 0.0) -> None:
    """Abort what the run left open and drop what the stack sends about it (not judged); on a
    virtual clock, run it on `drain` seconds (DRAIN) so that what the run armed fires now.
    A shim's crash or hang (ShimError) propagates: it is the row's result."""
    for sock, op in ((player.sock, driver.abort), (player.lsock, driver.close)):
        if sock is not None:
            try:
                op(sock)
            except DriverError:
                pass
    try:
        driver.advance(drain)
        driver.collect()
    except DriverError:
        pass
