"""Shared pieces of the kit's tests: ToyTCP's adapter (examples/toytcp) as the stack under
test, and small kits (one scenario, a few thousand planner states) that plan in seconds."""
import os
import sys

import pytest

TOY = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "toytcp")
if TOY not in sys.path:
    sys.path.insert(0, TOY)

from synack.testing import Kit  # noqa: E402

_KITS = {}


def _small_kit(profile="rfc9293", scenarios=("client-close",), **kw) -> Kit:
    key = (profile, scenarios, tuple(sorted(kw.items())))
    if key not in _KITS:
        _KITS[key] = Kit(profile, scenarios=scenarios, max_states=3000, **kw)
    return _KITS[key]


@pytest.fixture
def toy():
    from toydriver import ToyDriver
    d = ToyDriver()
    d.init()
    return d


@pytest.fixture
def small_kit():
    """A factory of small kits (shared within the session)."""
    return _small_kit
