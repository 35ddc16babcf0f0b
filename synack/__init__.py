"""synack: a model-checked specification of TCP connection management, and an oracle built from it."""
from synack.spec import Endpoint, Event, Segment, SpecError, State, arrive, call, get_profile, step, timeout

__all__ = ["Endpoint", "Event", "Segment", "SpecError", "State", "arrive", "call", "get_profile", "step", "timeout"]
__version__ = "0.1.0"
