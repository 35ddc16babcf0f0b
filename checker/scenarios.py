"""Users as named scenarios: what each application does with its socket.

A script is a list of rounds; a round is a list of steps. A step is a user call (made at
any moment the table accepts it, so every interleaving with the network is explored) or
an ``await`` of a notification the endpoint gives its user (``established``, ``eof``).
A notification starting with ``error`` ends the current round: the application sees
the failure and moves on to its next round (a new connection), or is done. A call that
the table rejects without changing the endpoint (``error: connection already exists``
from CONNECT during TIME-WAIT, RECEIVE with nothing to read) is retried later, so it is
not a move. The scenarios name no TCP state: the table decides what each call does.
"""
from __future__ import annotations

from dataclasses import dataclass

from synack.spec import SpecError

#: A step: ("call", name, n, after) or ("await", signal). `after` is the index of a step
#: in the peer's script (same round) that must be done first: a client connects once the
#: server listens, as a test harness would arrange it.
Step = tuple


def _c(name: str, n: int = 0, after: int = -1) -> Step:
    return ("call", name, n, after)


def _w(signal: str) -> Step:
    return ("await", signal)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    a: tuple[tuple[Step, ...], ...]
    b: tuple[tuple[Step, ...], ...]
    #: Both users close (neither aborts): `graceful-close` applies.
    closes: bool = True
    #: ``any``: instead of a script, each user may make up to `budget` calls of any kind.
    budget: int = 0

    def rounds(self, side: int) -> tuple[tuple[Step, ...], ...]:
        return self.a if side == 0 else self.b


def _one(a, b, name, description, closes=True, k=1) -> Scenario:
    return Scenario(name, description, (tuple(a),) * k, (tuple(b),) * k, closes)


EST, EOF = _w("established"), _w("eof")
CONNECT = _c("CONNECT", after=1)   # after the peer's LISTEN
CLIENT_CLOSE_A = (CONNECT, EST, _c("CLOSE"))
CLIENT_CLOSE_B = (_c("LISTEN"), EST, EOF, _c("CLOSE"))

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    _one([CONNECT, EST], [_c("LISTEN"), EST], "handshake",
         "A connects to listening B; both wait for the connection", closes=False),
    _one(CLIENT_CLOSE_A, CLIENT_CLOSE_B, "client-close",
         "A connects and closes first; B closes after reading EOF"),
    _one([CONNECT, EST, EOF, _c("CLOSE")], [_c("LISTEN"), EST, _c("CLOSE")], "server-close",
         "B accepts and closes first; A closes after reading EOF"),
    _one([_c("CONNECT"), EST, _c("CLOSE")], [_c("CONNECT"), EST, _c("CLOSE")], "simultaneous-open",
         "both connect actively (RFC 9293 Figure 7), then both close"),
    _one([CONNECT, EST, _c("CLOSE")], [_c("LISTEN"), EST, _c("CLOSE")], "simultaneous-close",
         "both close as soon as the connection is up, in any order or at once (Figure 13)"),
    _one([CONNECT, EST, _c("SHUTDOWN"), _c("RECEIVE"), EOF, _c("CLOSE")],
         [_c("LISTEN"), EST, EOF, _c("SEND", 1), _c("CLOSE")], "half-close",
         "A shuts down its sending side, B still sends a byte, then closes"),
    _one([CONNECT, EST, _c("ABORT")], [_c("LISTEN"), EST, EOF, _c("CLOSE")], "abort",
         "A aborts the connection (RST); B learns of it", closes=False),
    _one([CONNECT, EST, _c("SEND", 1), _c("RECEIVE"), _c("CLOSE")],
         [_c("LISTEN"), EST, _c("SEND", 1), _c("RECEIVE"), EOF, _c("CLOSE")], "data",
         "a byte each way, then A closes and B closes after EOF"),
)}
#: Scenarios whose users act on one connection only (the default set of `synack check`).
SINGLE = tuple(SCENARIOS)
#: Every scenario name `get_scenario` accepts.
NAMES = SINGLE + ("reconnect", "any")

CALL_MENU = (("LISTEN", 0), ("CONNECT", 0), ("SEND", 1), ("RECEIVE", 0), ("SHUTDOWN", 0), ("CLOSE", 0),
             ("ABORT", 0))


def get_scenario(name: str, incarnations: int = 1, budget: int = 3) -> Scenario:
    """A scenario by name. ``reconnect`` repeats client-close on the same 4-tuple
    `incarnations` times; ``any`` lets each user make up to `budget` calls of any kind."""
    if name == "reconnect":
        return _one(CLIENT_CLOSE_A, CLIENT_CLOSE_B, "reconnect",
                    f"client-close repeated on the same 4-tuple, {incarnations} incarnations", k=incarnations)
    if name == "any":
        return Scenario("any", f"each user makes up to {budget} calls of any kind, in any order", (), (),
                        closes=False, budget=budget)
    if name not in SCENARIOS:
        raise SpecError(f"unknown scenario {name!r}; expected one of: {', '.join(NAMES)}")
    return SCENARIOS[name]
