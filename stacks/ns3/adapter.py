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
from typing import Any

from synack.testing import ShimDriver, StackInfo

HERE = pathlib.Path(__file__).resolve().parent


@functools.cache
def shim_path() -> str:
    """Install what is missing and build the shim (cached by source hash); its path."""
    r = subprocess.run(["bash", str(HERE / "setup.sh")], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        raise RuntimeError(f"stacks/ns3/setup.sh failed (exit {r.returncode}): {r.stderr.strip()[-400:]}")
    return r.stdout.strip().splitlines()[-1]


class Ns3Driver(ShimDriver):
    """The kit's driver for ns-3.

    ns-3.37 crashes (SIGSEGV) on some inputs (see stacks/ns3/shim.cc's header): the request
    that meets the crash raises ShimError as usual, and the next request starts a fresh
    shim with the same `init`, so one crash costs one row, not every row after it on the
    same driver. `restarts` counts them."""

    def __init__(self, timeout: float = 10.0):
        super().__init__([shim_path()], timeout=timeout, name="ns3-shim")
        self._init_args: tuple | None = None
        self.restarts = 0

    def init(self, iut: str = "10.0.0.2", peer: str = "10.0.0.1", mss: int = 1460) -> StackInfo:
        self._init_args = (iut, peer, mss)
        return super().init(iut, peer, mss)

    def request(self, op: str, timeout: float | None = None, **fields: Any) -> dict:
        if op not in ("init", "quit") and self._init_args and self._proc.poll() is not None:
            self._restart()
        return super().request(op, timeout, **fields)

    def _restart(self) -> None:
        ShimDriver.quit(self)                       # reaps the dead process, closes its pipes
        ShimDriver.__init__(self, self.argv, self.timeout, name=self.name)
        super().init(*self._init_args)
        self.restarts += 1
