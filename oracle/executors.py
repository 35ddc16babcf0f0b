"""Where the shards of a judging run are judged: local processes (the default, `--jobs`) or a
Dask cluster (`--executor dask[=ADDRESS]`). Both are a `concurrent.futures.Executor`
(distributed's `Client.get_executor()` is one), so `judge._judge_all` has one loop for
"split, judge shards, merge lines in order" whichever runs the shards.

What differs is how a worker reaches a capture. A forked local process inherits the
parent's open descriptors, so a pipe or standard input (spooled to a temporary file) is
read there as it is in one process. A Dask worker is another process, perhaps on another
machine: it gets the capture's absolute path and opens it itself, and checks that the file
it sees has the size and first bytes the client saw (captures must be on a filesystem the
workers share, at the same path). Bytes are not shipped: a capture can be many gigabytes,
every shard reads all of it, and the scheduler would hold it in memory; a path costs
nothing and scales with the shared filesystem. So a pipe cannot be judged on a cluster.

`distributed` is an optional dependency (`pip install 'synack[cluster]'`); without it,
`--executor dask` is a one-line error naming the extra."""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Iterator

from .events import TraceError

#: Seconds to wait for a scheduler to answer, and then for it to have a worker (env
#: SYNACK_DASK_TIMEOUT overrides): an unreachable address is bad input, never a hang.
CONNECT_TIMEOUT = 10.0
EXECUTORS = ("processes", "dask")
MISSING = ("--executor dask needs the 'distributed' package, which is not installed: "
           "pip install 'synack[cluster]'")


@dataclass(frozen=True)
class ExecutorSpec:
    """`--executor`: `kind` ("processes" or "dask") and, for dask, the scheduler's address
    (None: dask's configured `scheduler-address`, e.g. DASK_SCHEDULER_ADDRESS, else a
    LocalCluster of `--jobs` worker processes on this machine for this run)."""

    kind: str = "processes"
    address: str | None = None

    @property
    def local(self) -> bool:
        return self.kind == "processes"


def parse_executor(spec: str | None) -> ExecutorSpec:
    """`processes`, `dask` or `dask=ADDRESS` (e.g. `dask=tcp://10.0.0.5:8786`); anything
    else is a TraceError naming it."""
    if spec is None or spec == "processes":
        return ExecutorSpec()
    kind, eq, address = spec.partition("=")
    if kind != "dask" or (eq and not address.strip()):
        raise TraceError(f"--executor {spec!r}: expected processes, dask or dask=ADDRESS "
                         "(a scheduler's address, e.g. dask=tcp://10.0.0.5:8786)")
    return ExecutorSpec("dask", address.strip() or None)


def _timeout() -> float:
    try:
        return float(os.environ.get("SYNACK_DASK_TIMEOUT", CONNECT_TIMEOUT))
    except ValueError:
        return CONNECT_TIMEOUT


@dataclass
class Pool:
    """An open executor: `submit(fn, *args)` gives a concurrent.futures.Future; `workers`:
    how many run shards at once; `label`: what the summary says ran them; `paths`: workers
    open captures by path (a cluster), not by an inherited descriptor (local processes)."""

    executor: object
    workers: int
    label: str
    paths: bool
    aborted: bool = False

    def submit(self, fn, *args):
        return self.executor.submit(fn, *args)

    def abort(self) -> None:
        """Ctrl-C: end the running shards, do not wait for them."""
        self.aborted = True
        procs = getattr(self.executor, "_processes", None) or {}
        for proc in list(procs.values()):       # local workers ignore SIGINT (no tracebacks from them)
            proc.terminate()
        self.executor.shutdown(wait=False)      # cancels what has not started


def _quiet_worker() -> None:
    """A local worker leaves Ctrl-C to its parent, which ends it."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def open_pool(spec: ExecutorSpec, jobs: int) -> Iterator[Pool]:
    """The executor `spec` names, closed on exit. Local: `jobs` forked processes (forked, so
    they inherit the open captures). Dask: a client of the scheduler at `spec.address` (or the
    configured one), or of a LocalCluster of `jobs` single-threaded worker processes; a
    scheduler that does not answer, or has no worker, within SYNACK_DASK_TIMEOUT seconds is a
    TraceError naming the address."""
    if spec.local:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_quiet_worker)
        p = Pool(pool, jobs, f"{jobs} processes", paths=False)
        try:
            yield p
        finally:
            if not p.aborted:
                pool.shutdown(wait=True, cancel_futures=True)
        return
    try:
        import distributed
    except ImportError:
        raise TraceError(MISSING) from None
    import dask
    import logging

    address = spec.address or dask.config.get("scheduler-address", None)
    wait = _timeout()
    with contextlib.ExitStack() as stack:
        if address is None:
            # the workers' own log lines (start, stop, a heartbeat that meets the scheduler already
            # closed at the end) would mix with the verdicts on stderr; the
            # scheduler serves HTTP (health, dashboard) whatever is asked: on loopback, any free
            # port (its default 8787 may be taken, and that is a warning on stderr)
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=jobs or (os.cpu_count() or 1), threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL))
            client = stack.enter_context(distributed.Client(cluster, timeout=wait))
            n = len(cluster.workers)
            label = f"dask LocalCluster of {n} worker process{'es' * (n != 1)}"
        else:
            try:
                client = stack.enter_context(distributed.Client(address, timeout=wait))
            except Exception as exc:        # OSError, TimeoutError, ValueError of a malformed address
                raise TraceError(f"--executor dask={address}: no Dask scheduler answered there within {wait:g} s "
                                 f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'})"
                                 ) from None
            try:
                client.wait_for_workers(1, timeout=wait)
            except Exception:
                raise TraceError(f"--executor dask={address}: the scheduler has no worker (waited {wait:g} s); "
                                 "start one with: dask worker " + address + " --nthreads 1") from None
            label = f"dask scheduler {address}"
        workers = sum(client.nthreads().values()) or 1
        ex = client.get_executor(pure=False)
        yield Pool(ex, workers, label, paths=True)
