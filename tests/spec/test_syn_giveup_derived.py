"""SYN.GIVEUP: how many SYN retransmissions SYN-SENT makes before it gives up (rows rto.syn and
rto.syn.giveup), derived from the profile (spec.profiles.syn_giveup)."""
import itertools

import pytest
from synack.spec import get_profile
from synack.spec.machine import machine
from synack.spec.model import Endpoint, State, timeout
from synack.spec.profiles import RANGES, syn_giveup


@pytest.mark.parametrize("retries", [0, 1, 2, 7, 255])
def test_rfc9293_counts_retransmissions(retries):
    prof = get_profile("rfc9293").with_params(**{"SYN.RETRIES": retries})
    assert prof.params["SYN.GIVEUP"] == retries


@pytest.mark.parametrize("retries, linear, expected", [
    (2, 4, 5),     # measured on 6.18: SYNs at 0, 1, 2, 3, 4, 5 s, given up at 7 s (1 + 2 + 4)
    (1, 4, 2),     # 0, 1, 2 s; the expiry at 3 s reaches 1 + 2 s
    (6, 4, 10),    # the defaults: 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s; 131 s is past 127 s
    (6, 0, 6),     # before tcp_syn_linear_timeouts (or set to 0): the model is the schedule
    (2, 0, 2),
])
def test_linux_gives_up_in_time(retries, linear, expected):
    prof = get_profile("linux").with_params(**{"SYN.RETRIES": retries, "SYN.LINEAR": linear})
    assert prof.params["SYN.GIVEUP"] == expected


def test_the_derived_count_stays_in_its_declared_range():
    """At least SYN.RETRIES (the linear timeouts only start slower) and at most SYN.LINEAR +
    SYN.RETRIES + 1 (past them the schedule is the model's), over the corners of the ranges."""
    rng, base = RANGES["linux"], dict(get_profile("linux").params)
    for r, lin, ini, mx in itertools.product((1, 2, 6, 127), (0, 1, 4, 127), (0.001, 0.3, 1.0, 120.0), (1.0, 120.0)):
        n = syn_giveup({**base, "SYN.RETRIES": r, "SYN.LINEAR": lin, "rto_initial": ini, "rto_max": mx})
        assert r <= n <= r + lin + 1 and n in rng["SYN.GIVEUP"], (r, lin, ini, mx, n)


def test_a_given_value_is_kept_and_an_unset_one_follows_its_inputs():
    lin = get_profile("linux")
    assert lin.with_params(**{"SYN.GIVEUP": 3}).with_params(rto_initial=0.5).params["SYN.GIVEUP"] == 3
    assert lin.with_params(**{"SYN.RETRIES": 2, "SYN.GIVEUP": 2}).params["SYN.GIVEUP"] == 2
    assert lin.with_params(**{"SYN.RETRIES": 2}).params["SYN.GIVEUP"] == 5
    with pytest.raises(Exception, match="SYN.GIVEUP = 0 is outside linux's range 1..255"):
        lin.with_params(**{"SYN.GIVEUP": 0})


def test_the_rows_read_it():
    """Under linux with tcp_syn_retries 2 the fifth retransmission is still due; the next
    expiry gives up. Just outside: rfc9293 with the same setting gives up after two."""
    for prof, n in ((get_profile("linux").with_params(**{"SYN.RETRIES": 2}), 5),
                    (get_profile("rfc9293").with_params(**{"SYN.RETRIES": 2}), 2)):
        m = machine(prof)
        ep = Endpoint(State.SYN_SENT, iss=100, snd_una=100, snd_nxt=101)
        for k in range(n + 1):
            rows = [r for tr in m.step(ep._replace(rtx=k), timeout("RTO")) for r in tr.rows]
            assert rows == (["rto.syn"] if k < n else ["rto.syn.giveup"]), (prof.name, k, rows)
