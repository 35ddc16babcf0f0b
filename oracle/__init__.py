"""synack.oracle: judge a TCP implementation's trace against the spec.

    from synack.oracle import Monitor, check
    verdict = check(events, profile="linux")     # conformant | violation | inconclusive
"""
from .events import CallEvent, SegmentEvent, StateEvent, TraceError, read_jsonl, write_jsonl
from .monitor import Monitor, Verdict, check
from .reference import ReferenceEndpoint

__all__ = ["CallEvent", "SegmentEvent", "StateEvent", "TraceError", "read_jsonl", "write_jsonl", "Monitor",
           "Verdict", "check", "ReferenceEndpoint"]
