"""ToyTCP under synack's conformance kit: the whole suite is one subclass.

    pytest examples/toytcp/test_toytcp_kit.py                     # one test per row of rfc9293's table
    TOYTCP_BUG=fin-ack pytest examples/toytcp/test_toytcp_kit.py  # the planted bug: failures with the oracle's report

`ToyDriver` (toydriver.py) is the adapter: ToyTCP's calls, datagrams in and out, a virtual
clock. The kit plays the peer and the network from the table, drives ToyTCP into every row
it can, and judges what ToyTCP sends with the oracle.
"""
import synack.testing
from toydriver import ToyDriver


class TestToyTCP(synack.testing.StackTests):
    profile = "rfc9293"
    # ToyTCP's own readings of RFC 9293, found by the kit; each was checked against the RFC's text
    known_deviations = {
        "finwait.close.plain": "close() after shutdown() answers 'error: connection closing' (RFC 9293 3.10.4 "
                               "calls that the strict answer; the table's CLOSE is the sockets close(), always ok)",
        "late.close": "close() after shutdown() in CLOSING answers 'error: connection closing' (RFC 9293 3.10.4)",
        "fin.timewait": "a FIN beyond the first one in TIME-WAIT is ACKed without advancing RCV.NXT over it "
                        "(RFC 9293 3.10.7.4, eighth step, advances RCV.NXT over any FIN)",
        "send": "ToyTCP keeps no send window: a SEND after the peer announced a zero window goes out at once "
                "(RFC 9293 3.8.6, 3.10.2: the data waits in the queue, the window is probed)",
        "closewait.close.queued.plain": "the same: data written into a zero window went out at once, so close() "
                                        "finds nothing queued to put its FIN behind (RFC 9293 3.10.4)",
        "persist.data": "the same: the byte written into a zero window goes out at once, not as a probe after the "
                        "zero window has lasted an RTO (RFC 9293 3.8.6.1)",
    }

    def make_driver(self):
        return ToyDriver()          # reads TOYTCP_BUG
