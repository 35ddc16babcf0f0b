"""ns-3.37's TCP (Debian libns3-dev) as a stack under test: `Ns3Driver()` is a `ShimDriver`
running stacks/ns3/shim.cc, built by stacks/ns3/setup.sh on first use.

The IUT is ns-3's TcpSocketBase on one node whose only device hands IPv4 datagrams to the
shim, step by step in ns-3's virtual time (see the shim's header). ns-3's socket API has no
abort (no SO_LINGER), no keep-alive, no FIN-WAIT-2 and no user timeout: `abort` and those
options are Unsupported, and the kit reports the rows that need them as not drivable.
"""
from __future__ import annotations

import pathlib

from synack.testing.shims import BuiltShimDriver

HERE = pathlib.Path(__file__).resolve().parent


class Ns3Driver(BuiltShimDriver):
    """The kit's driver for ns-3. ns-3.37 crashes (SIGSEGV) on some inputs (see
    stacks/ns3/shim.cc's header): the request that meets the crash raises ShimError as usual,
    the kit reports the row as a crash and restarts the shim (`ShimDriver.restart`)."""

    setup, shim_name = HERE / "setup.sh", "ns3-shim"


shim_path = Ns3Driver.shim_path
