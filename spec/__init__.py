"""synack.spec: TCP connection management (RFC 9293) as data, and `step`, its one semantics."""
from .machine import Machine, Unspecified, machine, step
from .model import (ACK, CALLS, CHOICES, EVENT_KINDS, FIN, ICMP, OFFER, PSH, RST, SEGMENT, STATES, SYN, SYNCHRONIZED, TIMERS, Endpoint,
                    Event, Segment, SpecError, State, Transition, arrive, call, flags_str, icmp, offer, output, timeout)
from .profiles import OPTIONS, PROFILES, VARIANTS, Profile, get_profile
from .table import MACROS, STAGES, TABLE, Row

__all__ = ["ACK", "CALLS", "CHOICES", "EVENT_KINDS", "FIN", "ICMP", "OFFER", "PSH", "RST", "SEGMENT", "STATES", "SYN", "SYNCHRONIZED",
           "TIMERS", "Endpoint", "Event", "Segment", "SpecError", "State", "Transition", "arrive", "call",
           "flags_str", "icmp", "offer", "output", "timeout", "Machine", "Unspecified", "machine", "step", "OPTIONS", "PROFILES",
           "VARIANTS", "Profile", "get_profile", "MACROS", "STAGES", "TABLE", "Row"]
