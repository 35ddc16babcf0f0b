"""Profile parameter ranges: each parameter of each profile has a legal range with its source,
and `with_params` (so `--param` and a trace header) refuses a value outside it."""
import math

import pytest

from synack.spec import SpecError, get_profile
from synack.spec.profiles import PARAMS, PROFILES, RANGES, Range


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_parameter_has_a_range_with_a_source_holding_the_default(name):
    prof = get_profile(name)
    assert set(RANGES[name]) == set(PARAMS) and dict(prof.ranges) == RANGES[name]
    for key, r in RANGES[name].items():
        assert isinstance(r, Range) and r.low <= r.high and r.source and r.unit
        assert prof.params[key] in r, key
        assert not math.isnan(r.low) and r.low >= 0


@pytest.mark.parametrize("profile, changes, said", [
    ("linux", {"SYN.RETRIES": 70000}, "SYN.RETRIES = 70000 is outside linux's range 1..127 count"),
    ("linux", {"SYN.RETRIES": 0}, "MAX_TCP_SYNCNT"),
    ("linux", {"KA.PROBES": 1e9}, "KA.PROBES = 1000000000 is outside linux's range 0..255"),
    ("rfc9293", {"KA.PROBES": 256}, "outside rfc9293's range 0..255"),
    ("linux", {"ka_idle": 0.5}, "TCP_KEEPIDLE"),
    ("rfc9293", {"rto_max": 59}, "RFC 6298 2.5"),
    ("linux", {"time_wait": 30.0}, "TCP_TIMEWAIT_LEN"),
    ("linux", {"SYN.RETRIES": 10 ** 5000}, "a 5001-digit number"),
])
def test_a_value_outside_its_range_is_refused_naming_value_range_and_source(profile, changes, said):
    with pytest.raises(SpecError) as err:
        get_profile(profile).with_params(**changes)
    assert said in str(err.value) and "\n" not in str(err.value)


def test_the_ends_of_a_range_are_legal():
    assert get_profile("linux").with_params(**{"SYN.RETRIES": 127, "KA.PROBES": 0}).params["SYN.RETRIES"] == 127
    assert get_profile("rfc9293").with_params(rto_max=60.0).params["rto_max"] == 60.0
    # a variant keeps its base's ranges
    assert get_profile("rfc9293+no-time-wait").with_params(**{"KA.PROBES": 255}).params["KA.PROBES"] == 255
    with pytest.raises(SpecError):
        get_profile("rfc9293+no-time-wait").with_params(**{"KA.PROBES": 256})


def test_the_checkers_caps_may_fall_below_a_range_but_never_raise_a_value():
    prof = get_profile("linux").bounded(**{"SYN.RETRIES": 0, "DATA.RETRIES": 99})
    assert prof.params["SYN.RETRIES"] == 0 and prof.params["DATA.RETRIES"] == 15
