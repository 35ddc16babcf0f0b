"""A shim that crashes or hangs costs its row, not the run: the row is reported as deviating
(a crash of the stack, with the shim's stderr and the events before it), the kit starts a
fresh shim, and the next rows run on it (tests/testing/fakeshim.py's `toy-die K`)."""
import os
import sys

from synack.testing import CONFORMANT, DEVIATED, NOT_DRIVABLE, ShimDriver

FAKE = os.path.join(os.path.dirname(__file__), "fakeshim.py")
ROWS = ["closed.connect", "synsent.synack", "est.close.plain"]


def toy_shim(mode: str, k: int, timeout: float = 5.0) -> ShimDriver:
    d = ShimDriver([sys.executable, FAKE, mode, str(k)], timeout=timeout, name=f"fake-{mode}")
    d.init()
    return d


def test_crash_is_the_rows_result_and_the_run_goes_on(small_kit):
    d = toy_shim("toy-die", 2)
    try:
        cov = small_kit().run(d, ROWS)
    finally:
        d.quit()
    assert [r.status for r in cov.results] == [CONFORMANT, DEVIATED, CONFORMANT]
    crash = cov.results[1]
    assert d.restarts == 1
    assert crash.report.startswith("CRASH of the stack under rfc9293")
    assert "exited (status 3)" in crash.report and "segfault in tcp_input() on connection 2" in crash.report
    # the events before it: the connect call and the SYN the toy sent, each as the oracle saw it
    assert "user calls CONNECT" in crash.report and "IUT sends <SYN" in crash.report
    assert crash.trace and crash.trace[0].get("call") == "connect"


def test_a_hang_is_a_rows_result_too(small_kit):
    d = toy_shim("toy-hang", 2, timeout=0.5)
    try:
        cov = small_kit().run(d, ROWS)
    finally:
        d.quit()
    assert [r.status for r in cov.results] == [CONFORMANT, DEVIATED, CONFORMANT]
    assert "no reply within 0.5 s" in cov.results[1].report


def test_a_stack_that_does_not_start_again_ends_the_rows_not_the_report(small_kit):
    d = toy_shim("toy-die", 1)
    d.argv = [os.path.join(os.path.dirname(FAKE), "no-such-shim")]
    try:
        cov = small_kit().run(d, ROWS)
    finally:
        d.quit()
    assert [r.status for r in cov.results] == [DEVIATED, NOT_DRIVABLE, NOT_DRIVABLE]
    assert "could not be restarted" in cov.results[1].reason and "cannot start" in cov.results[1].reason


def test_a_new_driver_is_never_taken_for_a_dead_one(small_kit):
    """The kit remembers a driver that could not be restarted; a driver made after that one is
    dropped (CPython often gives it the same address, hence the same id) runs its rows."""
    import gc
    import weakref
    kit = small_kit()
    d = toy_shim("toy-die", 1)
    d.argv = [os.path.join(os.path.dirname(FAKE), "no-such-shim")]
    try:
        cov = kit.run(d, ROWS[:2])
    finally:
        d.quit()
    assert [r.status for r in cov.results] == [DEVIATED, NOT_DRIVABLE]
    gone = weakref.ref(d)
    del d, cov
    gc.collect()
    assert gone() is not None          # kept by the kit: no new driver can have its id
    for _ in range(3):
        fresh = toy_shim("toy-die", 99)
        try:
            assert kit.run_row(fresh, ROWS[0]).status == CONFORMANT
        finally:
            fresh.quit()


def test_without_a_crash_nothing_restarts(small_kit):
    d = toy_shim("toy-die", 99)
    try:
        cov = small_kit().run(d, ROWS)
    finally:
        d.quit()
    assert [r.status for r in cov.results] == [CONFORMANT] * 3 and d.restarts == 0
