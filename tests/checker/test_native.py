"""The native (C) explorer explores exactly what the Python explorer explores: the same states
in the same order, the same parents, transitions and depth, the same verdicts with the same
counterexamples; and it steps aside cleanly where it cannot run."""
from dataclasses import replace

import pytest

from synack.checker import native
from synack.checker.explore import PROPERTIES, SAFETY, Limits, explore
from synack.checker.system import System, make_config
from synack.spec import SpecError, State
from synack.spec.machine import Machine
from synack.spec.table import TABLE

pytestmark = pytest.mark.skipif(native.library() is None, reason="no C compiler to build the native explorer")


def both(cfg, spec=None, **kw):
    py = explore(System(cfg, spec), engine="python", **kw)
    c = explore(System(cfg, spec), engine="native", **kw)
    assert (py.engine, c.engine) == ("python", "native")
    return py, c


def assert_same(py, c):
    n = len(py.states)
    assert len(c.states) == n and c.transitions == py.transitions and c.depth == py.depth
    assert c.complete == py.complete and c.stopped == py.stopped
    assert list(c.states) == list(py.states)
    assert list(c.parent) == list(py.parent)
    assert list(c.found) == list(py.found)
    for p, f in py.found.items():
        g = c.found[p]
        assert (g.path, g.message, g.last, g.loop) == (f.path, f.message, f.last, f.loop), p


CONFIGS = [
    dict(scenario="handshake", capacity=2),
    dict(scenario="client-close", capacity=2),
    dict(scenario="simultaneous-open", capacity=1),
    dict(scenario="half-close", capacity=1, fifo=True),
    dict(scenario="data", capacity=1, profile="linux"),
    dict(scenario="any", capacity=1, budget=2),
    dict(scenario="reconnect", capacity=1, incarnations=2),                      # RFC 1337 assassination
    dict(scenario="reconnect", capacity=1, incarnations=2, variants=("free-isn",)),
    dict(scenario="handshake", capacity=1, variants=("two-way-handshake",)),
    dict(scenario="client-close", capacity=1, variants=("no-time-wait",)),
    dict(scenario="client-close", capacity=2, loss=False, dup=0),
]


@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(str(v) for v in kw.values()))
def test_native_and_python_explorers_agree(kw):
    kw = dict(kw)
    profile, variants = kw.pop("profile", "rfc9293"), kw.pop("variants", ())
    kw.setdefault("retries", 1)
    py, c = both(make_config(profile, variants, properties=PROPERTIES, **kw))
    assert_same(py, c)


def test_they_agree_on_failures_that_stop_a_state_or_need_the_graph():
    """A table with a hole (no-unspecified-reception stops that state's moves), a TIME-WAIT
    that resets (a safety violation on an edge), a timer that never counts (a cycle)."""
    holed = tuple(r for r in TABLE if r.id != "closed.ack")
    resets = tuple(replace(r, actions=("send <SEQ=SND.NXT><CTL=RST>", "delete TCB"), to=State.CLOSED)
                   if r.id == "seq.bad.tw" else r for r in TABLE)
    forever = tuple(replace(r, actions=tuple(a for a in r.actions if a != "RTX := RTX + 1"))
                    if r.id == "rto.fin" else r for r in TABLE)
    for table, prop in ((holed, "no-unspecified-reception"), (resets, "time-wait-absorbs-fin"),
                        (forever, "bounded-retransmission")):
        cfg = make_config("rfc9293", scenario="client-close", capacity=2, retries=1, properties=PROPERTIES)
        py, c = both(cfg, Machine(cfg.profile, table=table))
        assert prop in py.found
        assert_same(py, c)


def test_they_stop_at_the_same_state_limit():
    cfg = make_config("rfc9293", scenario="data", capacity=2)
    py, c = both(cfg, limits=Limits(max_states=5000))
    assert not c.complete and "max-states" in c.stopped
    assert_same(py, c)


def test_without_a_compiler_auto_falls_back_and_native_says_why(monkeypatch):
    monkeypatch.setattr(native, "_lib", None)
    cfg = make_config("rfc9293", scenario="handshake", capacity=1)
    assert explore(System(cfg)).engine == "python"
    with pytest.raises(SpecError, match="no C compiler"):
        explore(System(cfg), engine="native")


def test_a_field_too_wide_for_16_bits_falls_back_rather_than_merging_states(monkeypatch):
    """The packed state holds 16-bit fields; a value past that must not be truncated (it
    would merge distinct states), so the run moves to the Python explorer."""
    cfg = make_config("rfc9293", scenario="client-close", capacity=1, retries=1, properties=PROPERTIES)
    reference = explore(System(cfg), engine="python")
    monkeypatch.setattr(native, "FIELD_MAX", 20)
    with pytest.raises(native.NativeUnavailable, match="16 bits"):
        explore(System(cfg), engine="native")
    ex = explore(System(cfg))
    assert ex.engine == "python" and len(ex.states) == len(reference.states)


def test_the_library_is_built_from_source_into_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(native, "_lib", False)
    assert native.library() is not None
    assert len(list((tmp_path / "synack").glob("bfs-*.so"))) == 1
    cfg = make_config("rfc9293", scenario="handshake", capacity=1)
    assert explore(System(cfg), engine="native").engine == "native"


def test_an_unknown_engine_is_named():
    with pytest.raises(SpecError, match="'gpu'"):
        explore(System(make_config()), engine="gpu")


@pytest.fixture
def small_chunks(monkeypatch):
    """Hand even a handful of frontier states to the threads, so small runs take that path."""
    monkeypatch.setattr(native, "PAR_MIN", 1)


THREADED = CONFIGS[:8] + [dict(scenario="reconnect", capacity=2, incarnations=2, dup=1, properties="safety")]


@pytest.mark.parametrize("kw", THREADED, ids=lambda kw: "-".join(str(v) for v in kw.values()))
def test_two_threads_explore_what_one_explores(kw, small_chunks):
    """The threaded search stores the same states with the same indices, parents, depth,
    transitions and counterexamples as the one-thread search (and so as the Python one)."""
    kw = dict(kw)
    profile, variants = kw.pop("profile", "rfc9293"), kw.pop("variants", ())
    props = SAFETY if kw.pop("properties", None) == "safety" else PROPERTIES
    kw.setdefault("retries", 1)
    cfg = make_config(profile, variants, properties=props, **kw)
    one = explore(System(cfg), engine="native", cores=1)
    two = explore(System(cfg), engine="native", cores=2)
    assert (one.cores, two.cores) == (1, 2)
    assert_same(one, two)
    work = two.native.cpu_seconds()
    assert work["workers"] > 0 and work["single"] == 0       # the threads did expand states


def test_threads_agree_on_failures_that_stop_a_state_or_need_the_graph(small_chunks):
    holed = tuple(r for r in TABLE if r.id != "closed.ack")
    forever = tuple(replace(r, actions=tuple(a for a in r.actions if a != "RTX := RTX + 1"))
                    if r.id == "rto.fin" else r for r in TABLE)
    for table, prop in ((holed, "no-unspecified-reception"), (forever, "bounded-retransmission")):
        cfg = make_config("rfc9293", scenario="client-close", capacity=2, retries=1, properties=PROPERTIES)
        one = explore(System(cfg, Machine(cfg.profile, table=table)), engine="native", cores=1)
        three = explore(System(cfg, Machine(cfg.profile, table=table)), engine="native", cores=3)
        assert prop in one.found
        assert_same(one, three)


def test_threads_stop_at_the_same_state_limit(small_chunks):
    cfg = make_config("rfc9293", scenario="data", capacity=2)
    one = explore(System(cfg), engine="native", cores=1, limits=Limits(max_states=5000))
    two = explore(System(cfg), engine="native", cores=2, limits=Limits(max_states=5000))
    assert not two.complete
    assert_same(one, two)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_a_core_count_that_is_not_a_positive_integer_is_named(bad):
    with pytest.raises(SpecError, match="cores"):
        explore(System(make_config()), cores=bad)
