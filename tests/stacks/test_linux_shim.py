"""The Linux shim's datagram times (docs/driver-protocol.md, t_ms): each datagram carries the
time the kernel sent it, not the time the shim read it from TUN. Needs root and /dev/net/tun."""
import os
import sys
import time

import pytest

from synack.spec.model import SYN
from synack.testing import ShimDriver
from synack.testing.packets import parse

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "stacks", "linux")

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="needs root and /dev/net/tun")


def test_two_syns_read_together_keep_their_send_times():
    # the first SYN retransmission leaves one RTO (rto_initial 1 s, TCP_TIMEOUT_INIT) after the
    # SYN; read together in one collect after both were sent, they still carry times that far
    # apart (read times would be the same instant) and no later than the collect
    with ShimDriver([sys.executable, os.path.join(HERE, "shim.py")], name="linux") as d:
        d.init()
        d.connect(80, 12345)
        syns = []
        deadline = time.monotonic() + 5
        while len(syns) < 2 and time.monotonic() < deadline:
            time.sleep(1.3)                        # collect seldom: both SYNs wait in TUN
            now = d.advance(0)
            syns += [t for t, ip in d.collect() if (p := parse(ip)) and p.addr.sport == 12345 and p.seg.flags & SYN]
        assert len(syns) >= 2, syns
        assert syns[1] - syns[0] >= 1.0 * 0.75, syns   # the RTO, less the profile's tolerance
        assert all(t <= now for t in syns), (syns, now)
