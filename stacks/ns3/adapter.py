"""ns-3.37's TCP (Debian libns3-dev) as a stack under test: `Ns3Driver()` is a `ShimDriver`
running stacks/ns3/shim.cc, built by stacks/ns3/setup.sh on first use.

The IUT is ns-3's TcpSocketBase on one node whose only device hands IPv4 datagrams to the
shim, step by step in ns-3's virtual time (see the shim's header). ns-3's socket API has no
abort (no SO_LINGER), no keep-alive, no FIN-WAIT-2 and no user timeout: `abort` and those
options are Unsupported, and the kit reports the rows that need them as not drivable.
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
        raise RuntimeError(f"stacks/ns3/setup.sh failed (exit {r.returncode}): {r.stderr.strip()[-400:]}")
    return r.stdout.strip().splitlines()[-1]


class Ns3Driver(ShimDriver):
    """The kit's driver for ns-3. ns-3.37 crashes (SIGSEGV) on some inputs (see
    stacks/ns3/shim.cc's header): the request that meets the crash raises ShimError as usual,
    the kit reports the row as a crash and restarts the shim (`ShimDriver.restart`)."""

    def __init__(self, timeout: float = 10.0):
        super().__init__([shim_path()], timeout=timeout, name="ns3-shim")
