"""Call errors by name: RFC 9293's names and the errno names a sockets API reports."""
import pytest

from synack.spec.errors import ERRNOS, error_names
from synack.spec.table import TABLE


@pytest.mark.parametrize("result,names", [
    ("error: connection reset", {"connection reset"}),
    ("error: ECONNRESET", {"connection reset"}),
    ("error: econnrefused", {"connection refused", "destination unreachable"}),   # an ICMP port unreachable too
    ("error: EHOSTUNREACH", {"destination unreachable"}),                        # an ICMP abort (3.9.2.2)
    ("error: ETIMEDOUT", {"connection timed out", "user timeout"}),
    ("error: EPIPE", {"connection closing"}),
])
def test_known_names(result, names):
    assert error_names(result) == names


@pytest.mark.parametrize("result", ["ok", "error", "error: [Errno 5] Input/output error", "error: gremlins"])
def test_unknown_or_missing_names_are_not_compared(result):
    assert error_names(result) is None


def test_every_error_the_table_gives_has_a_name_here():
    given = {a[len("signal error: "):] for r in TABLE for a in r.actions if a.startswith("signal error: ")}
    assert given <= set(ERRNOS), given - set(ERRNOS)


@pytest.mark.parametrize("call,result,name", [
    # inet_shutdown(): the user's socket is TCP_CLOSE once the connection is in TIME-WAIT
    ("SHUTDOWN", "error: ENOTCONN", "connection closing"),
    # tcp_sendmsg_locked() -> sk_stream_wait_connect()/sk_stream_error(): -EPIPE
    ("SEND", "error: EPIPE", "connection does not exist"),
    # tcp_recvmsg_locked() -> sock_error(): the reset pending on the socket, at the next read
    ("RECEIVE", "error: ECONNRESET", "connection does not exist"),
])
def test_a_calls_sockets_api_errno_names_the_rfc_error(call, result, name):
    assert name in error_names(result, call)
    assert name not in (error_names(result) or set())          # not without the call


@pytest.mark.parametrize("call,result,name", [
    # the widening is for that call only: recv() in CLOSE-WAIT returns 0, never ENOTCONN;
    # close() has no EPIPE
    ("RECEIVE", "error: ENOTCONN", "connection closing"),
    ("CLOSE", "error: EPIPE", "connection does not exist"),
    # and for that call, an errno the sockets API does not return for the error is not it
    ("SHUTDOWN", "error: ECONNRESET", "connection closing"),
    ("SEND", "error: ESHUTDOWN", "connection does not exist"),
    ("SEND", "error: ETIMEDOUT", "connection does not exist"),
    ("RECEIVE", "error: ECONNREFUSED", "connection does not exist"),
    ("CLOSE", "error: ECONNRESET", "connection does not exist"),
])
def test_just_outside_a_calls_errnos(call, result, name):
    assert name not in (error_names(result, call) or set())


def test_every_call_specific_entry_names_an_rfc_error_of_the_table():
    from synack.spec.errors import BY_CALL
    calls = {"LISTEN", "CONNECT", "SEND", "RECEIVE", "SHUTDOWN", "CLOSE", "ABORT"}
    for call, name in BY_CALL:
        assert call in calls and name in ERRNOS
