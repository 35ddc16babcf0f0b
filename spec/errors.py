"""The errors RFC 9293 3.10 names for user calls, and the errno names a sockets API reports
for each, so that a trace logged by a harness ("error: ECONNRESET", "error: connection reset")
can be compared with what the table says, by name and not only as error versus ok.

Several RFC errors map to one errno where the sockets API does not distinguish them
(a SEND after close() and a RECEIVE after the peer's FIN both surface as EPIPE or a 0-byte
read); such an errno names the set, and a result matches when the table's error is in it.
An error text that is neither an RFC name nor a listed errno is not compared (only error
versus ok), since harnesses print errors in their own words.

Some calls report an RFC error under another errno than the one the name usually has: the
sockets API answers by the socket's state, not by the connection's (`BY_CALL`, each with
the kernel function or man page that says so). `error_names(result, call)` adds those for
that call only; every other call keeps the general mapping, so an errno no sockets API
returns for that call and error still does not match.
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
    # not an RFC 9293 3.10 name: a connection aborted on an ICMP error (3.9.2.2, SHLD-26); the errnos
    # are Linux's icmp_err_convert[] (net/ipv4/icmp.c) and EPROTO for a parameter problem (tcp_v4_err())
    "destination unreachable": ("ENETUNREACH", "EHOSTUNREACH", "ENOPROTOOPT", "ECONNREFUSED", "EMSGSIZE",
                                "EOPNOTSUPP", "EHOSTDOWN", "ENONET", "EACCES", "EPROTO"),
}
#: (user call, RFC 9293 3.10 error name) -> errnos the sockets API reports for that call and
#: error besides ERRNOS[name]; why, per entry:
BY_CALL: dict[tuple[str, str], tuple[str, ...]] = {
    # SHUTDOWN in TIME-WAIT (RFC 9293 3.10.4: "connection closing"): Linux hands the
    # connection to a timewait sock (tcp_time_wait() -> tcp_done()), the user's socket is
    # TCP_CLOSE, and inet_shutdown() (net/ipv4/af_inet.c) answers -ENOTCONN for TCP_CLOSE;
    # shutdown(2): "ENOTCONN The specified socket is not connected". gVisor and lwIP's
    # sockets layer (err_to_errno(ERR_CONN)) answer the same.
    ("SHUTDOWN", "connection closing"): ("ENOTCONN",),
    # SEND once the connection is gone (RFC 9293 3.10.2, CLOSED: "connection does not
    # exist"): tcp_sendmsg_locked() (net/ipv4/tcp.c) gets -EPIPE from
    # sk_stream_wait_connect() for a socket in neither SYN-SENT nor SYN-RECEIVED (or from
    # its SEND_SHUTDOWN test), through sk_stream_error() (net/core/stream.c); POSIX send():
    # "EPIPE ... the socket is connection-mode and is no longer connected".
    ("SEND", "connection does not exist"): ("EPIPE",),
    # RECEIVE once a reset has ended the connection (RFC 9293 3.10.3, CLOSED: "connection does
    # not exist"): the reset is signalled to the user at the next call, not when it arrives.
    # tcp_reset() sets sk_err = ECONNRESET and tcp_recvmsg_locked() (net/ipv4/tcp.c) returns
    # sock_error(sk) before looking at the state; gVisor's endpoint.startRead() returns the
    # pending hard error; POSIX recv(): "ECONNRESET A connection was forcibly closed by a peer".
    # Found by the test kit (closed.receive on gVisor and ns-3, and Linux).
    ("RECEIVE", "connection does not exist"): ("ECONNRESET",),
}
_BY_ERRNO: dict[str, frozenset[str]] = {}
for _name, _errnos in ERRNOS.items():
    for _e in _errnos:
        _BY_ERRNO[_e] = _BY_ERRNO.get(_e, frozenset()) | {_name}


_BY_CALL_ERRNO: dict[tuple[str, str], frozenset[str]] = {}
for (_call, _name), _errnos in BY_CALL.items():
    for _e in _errnos:
        _BY_CALL_ERRNO[_call, _e] = _BY_CALL_ERRNO.get((_call, _e), frozenset()) | {_name}


def error_names(result: str, call: "str | None" = None) -> "frozenset[str] | None":
    """The RFC error names a call result ("error: connection reset", "error: ECONNRESET")
    may stand for, for user call `call` (SEND, SHUTDOWN, ...; None: any call, the general
    mapping only); None when the result carries no name this module knows (not compared)."""
    if not result.startswith("error"):
        return None
    text = result[len("error"):].lstrip(": ").strip()
    if text in ERRNOS:
        return frozenset({text})
    if not text:
        return None
    errno = text.upper()
    names = _BY_ERRNO.get(errno, frozenset()) | (_BY_CALL_ERRNO.get((call.upper(), errno), frozenset())
                                                 if call else frozenset())
    return names or None
