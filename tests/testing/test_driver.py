"""ShimDriver against a fake shim: the protocol round trip, and a clear error naming the shim
for every way a shim can fail (dies, hangs, non-JSON, no "ok", unsupported op, bad argv)."""
import os
import sys

import pytest

from synack.testing import DriverError, DriverEvent, ShimDriver, ShimError, Unsupported

FAKE = os.path.join(os.path.dirname(__file__), "fakeshim.py")


def shim(mode="good", timeout=5.0):
    return ShimDriver([sys.executable, FAKE, mode], timeout=timeout, name=f"fake-{mode}")


def test_round_trip():
    with shim() as d:
        info = d.init()
        assert (info.stack, info.clock, d.clock) == ("fake 1.0", "virtual", "virtual")
        assert d.listen(80) == 1
        assert d.accept(1) is None            # EAGAIN is "nothing yet", not an error
        d.deliver(b"\x45\x00abc")
        assert d.advance(0.25) == 0.25
        d.deliver(b"\x45\x01")
        assert d.collect() == [(0.0, b"\x45\x00abc"), (0.25, b"\x45\x01")]
        assert d.collect() == []
        assert d.events() == [DriverEvent(1, 0.25, "accepted")]


def test_unsupported_and_errno():
    with shim() as d:
        d.init()
        with pytest.raises(Unsupported, match="connect"):
            d.connect(80)
        with pytest.raises(Unsupported):      # remembered: not asked again
            d.connect(80)
        with pytest.raises(Unsupported, match="keepidle"):
            d.setsockopt(1, "keepidle", 5)
        with pytest.raises(ValueError):
            d.setsockopt(1, "nonsense", 5)
        assert isinstance(Unsupported("x"), DriverError)


@pytest.mark.parametrize("mode,message", [
    ("die", r"shim fake-die: exited \(status 3\).*crashing on purpose"),
    ("hang", r"shim fake-hang: no reply within 0.5 s"),
    ("garbage", r"shim fake-garbage: answered 'listen' with a line that is not JSON"),
    ("nook", r"shim fake-nook: answered 'listen' without a boolean \"ok\""),
])
def test_bad_shim_named(mode, message):
    d = shim(mode, timeout=0.5)
    try:
        d.init()
        with pytest.raises(ShimError, match=message):
            d.listen(80)
    finally:
        d.quit()


def test_missing_program():
    with pytest.raises(ShimError, match="shim nope: cannot start"):
        ShimDriver(["/nonexistent/nope"])
