"""This machine's Linux kernel under the conformance kit: stacks/linux/shim.py moves itself
into a network namespace of its own and exposes the kernel's TCP through a TUN device.
Needs root and /dev/net/tun (CI runs as root); skipped otherwise."""
import json
import os
import sys

import pytest

import synack.testing

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "stacks", "linux")
CFG = json.load(open(os.path.join(HERE, "stack.json")))


def _why_not() -> str:
    if os.geteuid() != 0:
        return "needs root (a network namespace and a TUN device)"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    return ""


pytestmark = pytest.mark.skipif(bool(_why_not()), reason=_why_not() or "-")


class TestLinux(synack.testing.StackTests):
    profile = CFG["profile"]
    params = CFG["params"]
    max_real_wait = CFG["max_real_wait"]
    known_deviations = {row: f"{c['kind']}: {c['source']}" for row, c in CFG.get("causes", {}).items()}
    variation_causes = {k: f"{c['kind']}: {c['source']}" for k, c in CFG.get("variation_causes", {}).items()}

    def make_driver(self):
        return synack.testing.ShimDriver([sys.executable, os.path.join(HERE, "shim.py")], name="linux")
