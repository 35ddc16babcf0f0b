"""Call errors by name: RFC 9293's names and the errno names a sockets API reports."""
import pytest

from synack.spec.errors import ERRNOS, error_names
from synack.spec.table import TABLE


@pytest.mark.parametrize("result,names", [
    ("error: connection reset", {"connection reset"}),
    ("error: ECONNRESET", {"connection reset"}),
    ("error: econnrefused", {"connection refused"}),
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
