"""Every path of the checker's system, projected onto either endpoint, is accepted; single
mutations of such traces are rejected at the mutated segment, citing the rule."""
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synack.checker.scenarios import NAMES
from synack.oracle import Monitor
from synack.oracle.generate import EXPECTED_ROWS, MUTATIONS, config, mutate, walk
from synack.oracle.strategies import trace_profile, traces

SCEN = [n for n in NAMES]


def _cfg(profile, scenario):
    return config(profile, scenario, **({"incarnations": 2} if scenario == "reconnect" else {}))


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
@pytest.mark.parametrize("scenario", SCEN)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choices=st.lists(st.integers(0, 255), min_size=1, max_size=90), side=st.integers(0, 1),
       calls=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_runs_are_accepted_and_mutants_rejected(profile, scenario, choices, side, calls, seed):
    cfg = _cfg(profile, scenario)
    run = walk(cfg, choices, 90)
    trace = run.trace(side, calls=calls)
    v = Monitor(cfg.profile).check(trace)
    assert v.status != "violation", str(v)
    if run.finished and calls:
        assert v.status == "conformant", str(v)
    rng = random.Random(seed)
    for kind in MUTATIONS:
        m = mutate(trace, kind, rng)
        if m is None:
            continue
        bad, i = m
        v2 = Monitor(cfg.profile).check(bad)
        assert v2.status == "violation" and v2.index == i + 1, f"{kind}:\n{v2}"
        if kind in EXPECTED_ROWS:
            assert any(r.split(" ")[0] in EXPECTED_ROWS[kind] for r in v2.rows), f"{kind}:\n{v2}"


@settings(max_examples=40, deadline=None)
@given(trace=traces("linux", conformant=True))
def test_traces_strategy_conformant(trace):
    assert Monitor(trace_profile("linux")).check(trace).status != "violation"


@settings(max_examples=40, deadline=None)
@given(trace=traces("rfc9293", conformant=False))
def test_traces_strategy_mutants(trace):
    assert Monitor(trace_profile("rfc9293")).check(trace).status == "violation"


def test_walk_covers_every_mutation_kind():
    """The mutation operators all find a place in generated traces (no dead operator)."""
    seen = set()
    rng = random.Random(7)
    for sc in ("client-close", "half-close", "data", "simultaneous-open", "server-close"):
        cfg = _cfg("rfc9293", sc)
        for k in range(40):
            tr = walk(cfg, random.Random(k), 80).trace(k % 2)
            seen |= {kind for kind in MUTATIONS if mutate(tr, kind, rng)}
    assert seen == set(MUTATIONS)
