"""The errors RFC 9293 3.10 names for user calls, and the errno names a sockets API reports
for each, so that a trace logged by a harness ("error: ECONNRESET", "error: connection reset")
can be compared with what the table says, by name and not only as error versus ok.

Several RFC errors map to one errno where the sockets API does not distinguish them
(a SEND after close() and a RECEIVE after the peer's FIN both surface as EPIPE or a 0-byte
read); such an errno names the set, and a result matches when the table's error is in it.
An error text that is neither an RFC name nor a listed errno is not compared (only error
versus ok), since harnesses print errors in their own words.
"""
from __future__ import annotations

#: RFC 9293 3.10 error name -> the errno names that report it (Linux's, POSIX's).
ERRNOS: dict[str, tuple[str, ...]] = {
    "connection reset": ("ECONNRESET",),
    "connection refused": ("ECONNREFUSED",),
    "connection closing": ("EPIPE", "ESHUTDOWN"),
    "connection does not exist": ("ENOTCONN",),
    "connection already exists": ("EISCONN", "EALREADY", "EADDRINUSE"),
    "connection timed out": ("ETIMEDOUT",),
    "user timeout": ("ETIMEDOUT",),
    "foreign socket unspecified": ("EDESTADDRREQ", "ENOTCONN"),
    "insufficient resources": ("ENOBUFS", "ENOMEM", "EAGAIN", "EWOULDBLOCK"),
}
_BY_ERRNO: dict[str, frozenset[str]] = {}
for _name, _errnos in ERRNOS.items():
    for _e in _errnos:
        _BY_ERRNO[_e] = _BY_ERRNO.get(_e, frozenset()) | {_name}


def error_names(result: str) -> "frozenset[str] | None":
    """The RFC error names a call result ("error: connection reset", "error: ECONNRESET")
    may stand for; None when the result carries no name this module knows (not compared)."""
    if not result.startswith("error"):
        return None
    text = result[len("error"):].lstrip(": ").strip()
    if text in ERRNOS:
        return frozenset({text})
    return _BY_ERRNO.get(text.upper()) if text else None
