"""Remake the sample captures of this folder: real Linux traffic on loopback, in a network
namespace of its own (root), recorded by synack's AF_PACKET recorder (synack.oracle.sniff)
through the live tests' own scenarios (tests/live/scenarios.py).

    sudo .venv/bin/python examples/captures/make_captures.py

Each capture holds one scenario; the kernel's ISNs, ports and timing differ from run to run,
so a remade capture differs in its numbers, never in its verdicts."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "live"))
from netns import can_unshare, run_in_netns  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

#: capture file -> live scenario
CAPTURES = {
    "client-close.pcap": "client_close",          # a normal close, client first: conformant under linux
    "half-close.pcap": "half_close",              # shutdown(SHUT_WR), the server still sends
    "linger-zero-abort.pcap": "linger_zero_abort",  # SO_LINGER 0: Linux's RST carries an ACK
}


def main() -> int:
    why = can_unshare()
    if why:
        print(f"make_captures: {why}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        for name, scenario in CAPTURES.items():
            path = os.path.join(tmp, name)
            run_in_netns(SCENARIOS[scenario], path, timeout=60)
            shutil.copy(path, os.path.join(HERE, name))
            print(f"{name}: {os.path.getsize(path)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
