"""lwIP 2.1.3 (Debian's liblwip) as a stack under test: `LwipDriver()` is a `ShimDriver`
running stacks/lwip/shim.c, built by stacks/lwip/setup.sh on first use.

The IUT is lwIP's raw TCP API on one link-less netif, sans-IO, on a virtual clock (see the
shim's header). Every socket call of the driver protocol is supported except the options
lwIP has no knob for (maxseg, linger2, user_timeout: ENOPROTOOPT, reported Unsupported).
"""
from __future__ import annotations

import functools
import pathlib
import subprocess

from synack.testing import ShimDriver

HERE = pathlib.Path(__file__).resolve().parent


@functools.cache
def shim_path() -> str:
    """Install what is missing and build the shim (cached by source hash); its path."""
    r = subprocess.run(["bash", str(HERE / "setup.sh")], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        raise RuntimeError(f"stacks/lwip/setup.sh failed (exit {r.returncode}): {r.stderr.strip()[-400:]}")
    return r.stdout.strip().splitlines()[-1]


class LwipDriver(ShimDriver):
    """The kit's driver for lwIP."""

    def __init__(self, timeout: float = 10.0):
        super().__init__([shim_path()], timeout=timeout, name="lwip-shim")
