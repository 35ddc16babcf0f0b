"""synack.testing: a conformance test kit any TCP stack plugs into.

A stack's adapter implements `Driver` (or ships a shim program speaking
docs/driver-protocol.md, run with `ShimDriver(argv)`); the kit plays the peer and the
network from the spec's table and judges what the stack sends with the oracle:

    from synack.testing import Kit, ShimDriver
    with ShimDriver(["./my-shim"]) as d:
        d.init()
        print(Kit("rfc9293").run(d).summary())

or, in the stack's own pytest suite, one subclass of `StackTests` (see docs/test-kit.md).
"""
from .driver import (EVENT_KINDS, SOCKOPTS, Driver, DriverError, DriverEvent, ShimDriver, ShimError, StackInfo,
                     Unsupported)
from .kit import Coverage, Kit
from .play import CONFORMANT, DEVIATED, INCONCLUSIVE, NOT_DRIVABLE, NOT_REACHED, STATUSES, RowResult
from .stacktests import StackTests

__all__ = ["EVENT_KINDS", "SOCKOPTS", "Driver", "DriverError", "DriverEvent", "ShimDriver", "ShimError", "StackInfo",
           "Unsupported", "Coverage", "Kit", "RowResult", "StackTests", "CONFORMANT", "DEVIATED", "INCONCLUSIVE",
           "NOT_DRIVABLE", "NOT_REACHED", "STATUSES"]
