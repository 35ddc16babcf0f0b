"""The search split by state hash over shards finds what the one-process search finds: the
same number of states and transitions, the same depth and the same failing safety
properties, on any number of shards, in this process or on a Dask LocalCluster."""
import pytest

from synack.checker import native
from synack.checker.explore import SAFETY, explore
from synack.checker.partition import explore_partitioned
from synack.checker.system import System, make_config
from synack.spec import SpecError

pytestmark = pytest.mark.skipif(native.library() is None, reason="no C compiler to build the native explorer")

SPECS = [
    dict(scenario="reconnect", capacity=1, retries=1, incarnations=2),
    dict(scenario="client-close", capacity=2, retries=1),
    dict(scenario="handshake", capacity=1, variants=("two-way-handshake",)),      # fails handshake-agreement
    dict(scenario="reconnect", capacity=1, incarnations=2, variants=("free-isn",)),   # fails no-ghost-acceptance
]


def reference(spec):
    ex = explore(System(make_config(**spec)), engine="native", cores=1)
    return len(ex.states), ex.transitions, ex.depth, sorted(ex.found)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(str(v) for v in s.values()))
@pytest.mark.parametrize("parts", [1, 3])
def test_shards_in_this_process_find_what_one_search_finds(spec, parts):
    spec = dict(spec, profile="rfc9293", properties=SAFETY)
    r = explore_partitioned(spec, parts)
    assert (r.states, r.transitions, r.depth, r.found) == reference(spec)
    assert sum(r.per_part) == r.states and len(r.per_part) == parts
    if parts > 1:
        assert all(r.per_part)                       # the hash spreads the states


def test_the_variants_do_fail_there():
    """The two broken variants above are refuted by the partitioned search too."""
    two = explore_partitioned(dict(SPECS[2], profile="rfc9293", properties=SAFETY), 2)
    free = explore_partitioned(dict(SPECS[3], profile="rfc9293", properties=SAFETY), 2)
    assert "handshake-agreement" in two.found and "no-ghost-acceptance" in free.found


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_a_shard_count_that_is_not_a_positive_integer_is_named(bad):
    with pytest.raises(SpecError, match="parts"):
        explore_partitioned(dict(profile="rfc9293", properties=SAFETY), bad)


def test_on_a_dask_local_cluster_of_two_workers():
    distributed = pytest.importorskip("distributed")
    spec = dict(SPECS[0], profile="rfc9293", properties=SAFETY)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        r = explore_partitioned(spec, 2, client)
    assert (r.states, r.transitions, r.depth, r.found) == reference(spec)
    assert all(r.per_part)
