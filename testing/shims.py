"""Shims built by a stack's own setup step: one helper for every adapter under stacks/.

A stack folder's `setup.sh` installs what the shim needs (Debian packages, as root) and
builds it into a cache keyed by its sources (stacks/wire/build.sh); the last line it prints
is the shim's path, and it exits non-zero (2, one line on stderr) when it cannot.
"""
from __future__ import annotations

import functools
import os
import subprocess

from .driver import ShimDriver


@functools.cache
def built_shim(setup: "str | os.PathLike[str]") -> str:
    """Run `setup` (a stack's setup.sh) once per process and return the shim's path; a setup
    that fails raises RuntimeError naming the script and quoting its stderr's end."""
    r = subprocess.run(["bash", os.fspath(setup)], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        where = os.path.join(*os.path.normpath(os.fspath(setup)).split(os.sep)[-3:])
        raise RuntimeError(f"{where} failed (exit {r.returncode}): {r.stderr.strip()[-400:]}")
    return r.stdout.strip().splitlines()[-1]


class BuiltShimDriver(ShimDriver):
    """A `ShimDriver` whose shim is built by a stack folder's setup step: an adapter sets
    `setup` (its setup.sh) and `shim_name` (how errors name it), and nothing else."""

    setup: "str | os.PathLike[str]" = ""
    shim_name: str = ""

    def __init__(self, timeout: float = 10.0):
        super().__init__([self.shim_path()], timeout=timeout, name=self.shim_name or None)

    @classmethod
    def shim_path(cls) -> str:
        """Install what is missing and build the shim (cached by source hash); its path."""
        return built_shim(cls.setup)
