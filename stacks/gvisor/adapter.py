"""gVisor's netstack (Debian golang-inet-netstack-dev, the inet.af/netstack fork of gVisor's
tcpip, 0.0~git20211120) as a stack under test: `GvisorDriver()` is a `ShimDriver` running
stacks/gvisor/shim.go, built by stacks/gvisor/setup.sh on first use.

The IUT is netstack's TCP on a channel link endpoint, sans-IO, on a virtual clock of the
shim's own (see the shim's header). Every request of the driver protocol is supported;
socket options map to netstack's (keepalive, keepidle, keepintvl, keepcnt, nodelay, maxseg,
linger2 = TCP_LINGER2, user_timeout).
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
        raise RuntimeError(f"stacks/gvisor/setup.sh failed (exit {r.returncode}): {r.stderr.strip()[-400:]}")
    return r.stdout.strip().splitlines()[-1]


class GvisorDriver(ShimDriver):
    """The kit's driver for gVisor's netstack."""

    def __init__(self, timeout: float = 10.0):
        super().__init__([shim_path()], timeout=timeout, name="gvisor-shim")
