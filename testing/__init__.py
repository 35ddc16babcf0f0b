"""synack.testing: a conformance test kit any TCP stack plugs into.

A stack's adapter implements `Driver` (or ships a shim program speaking
docs/driver-protocol.md, run with `ShimDriver(argv)`); the kit plays the peer and the
network from the spec's table and judges what the stack sends with the oracle.
"""
from .driver import (EVENT_KINDS, SOCKOPTS, Driver, DriverError, DriverEvent, ShimDriver, ShimError, StackInfo,
                     Unsupported)

__all__ = ["EVENT_KINDS", "SOCKOPTS", "Driver", "DriverError", "DriverEvent", "ShimDriver", "ShimError", "StackInfo",
           "Unsupported"]
