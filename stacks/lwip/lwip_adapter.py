"""lwIP 2.1.3 (Debian's liblwip) as a stack under test: `LwipDriver()` is a `ShimDriver`
running stacks/lwip/shim.c, built by stacks/lwip/setup.sh on first use.

The IUT is lwIP's raw TCP API on one link-less netif, sans-IO, on a virtual clock (see the
shim's header). Every socket call of the driver protocol is supported except the options
lwIP has no knob for (maxseg, linger2, user_timeout: ENOPROTOOPT, reported Unsupported).
"""
from __future__ import annotations

import pathlib

from synack.testing.shims import BuiltShimDriver

HERE = pathlib.Path(__file__).resolve().parent


class LwipDriver(BuiltShimDriver):
    """The kit's driver for lwIP."""

    setup, shim_name = HERE / "setup.sh", "lwip-shim"


shim_path = LwipDriver.shim_path
