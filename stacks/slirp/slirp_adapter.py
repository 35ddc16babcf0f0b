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

import pathlib

from synack.testing.shims import BuiltShimDriver

HERE = pathlib.Path(__file__).resolve().parent


class SlirpDriver(BuiltShimDriver):
    """The kit's driver for libslirp."""

    setup, shim_name = HERE / "setup.sh", "slirp-shim"


shim_path = SlirpDriver.shim_path
