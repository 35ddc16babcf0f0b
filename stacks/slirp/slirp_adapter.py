"""libslirp 4.7 (Debian's libslirp) as a stack under test: `SlirpDriver()` is a `ShimDriver`
running stacks/slirp/shim.c, built by stacks/slirp/setup.sh on first use.

The IUT is slirp's own BSD-derived TCP facing its guest: the kit plays the guest, and the
socket calls act on the host side of slirp's relay (loopback sockets the shim owns; the
mapping is in the shim's header and docs/stack-slirp.md). No socket option reaches slirp's
TCP (all ENOPROTOOPT, reported Unsupported).

A segment can crash libslirp 4.7.0 (stacks/REPORT.md: tcp_reass() walks past the end of its
reassembly queue). The request that met the crash raises `ShimError` as usual; the kit
reports that row as a crash and restarts the shim (`ShimDriver.restart`) for the next one.
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
        raise RuntimeError(f"stacks/slirp/setup.sh failed (exit {r.returncode}): {r.stderr.strip()[-400:]}")
    return r.stdout.strip().splitlines()[-1]


class SlirpDriver(ShimDriver):
    """The kit's driver for libslirp."""

    def __init__(self, timeout: float = 10.0):
        super().__init__([shim_path()], timeout=timeout, name="slirp-shim")
