"""gVisor's netstack (Debian golang-inet-netstack-dev, the inet.af/netstack fork of gVisor's
tcpip, 0.0~git20211120) as a stack under test: `GvisorDriver()` is a `ShimDriver` running
stacks/gvisor/shim.go, built by stacks/gvisor/setup.sh on first use.

The IUT is netstack's TCP on a channel link endpoint, sans-IO, on a virtual clock of the
shim's own (see the shim's header). Every request of the driver protocol is supported;
socket options map to netstack's (keepalive, keepidle, keepintvl, keepcnt, nodelay, maxseg,
linger2 = TCP_LINGER2, user_timeout).
"""
from __future__ import annotations

import pathlib

from synack.testing.shims import BuiltShimDriver

HERE = pathlib.Path(__file__).resolve().parent


class GvisorDriver(BuiltShimDriver):
    """The kit's driver for gVisor's netstack."""

    setup, shim_name = HERE / "setup.sh", "gvisor-shim"


shim_path = GvisorDriver.shim_path
