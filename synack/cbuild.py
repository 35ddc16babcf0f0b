"""Build and load the project's C helpers (checker/_bfs.c, oracle/_judge.c) with the system C
compiler, on first use, into `$XDG_CACHE_HOME/synack` (default ~/.cache/synack), keyed by
the source's hash. Callers fall back to their Python code when this returns None."""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "synack"


def build(source: Path, stem: str, sigs: dict) -> "ctypes.CDLL | None":
    """The compiled `source` as `<stem>-<hash>.so` with its functions typed by `sigs`
    (name -> (result type, argument types)), or None without a working C compiler (`$CC`,
    `cc` or `gcc`) or a writable cache. Builds of earlier sources are removed."""
    src = source.read_bytes()
    so = cache_dir() / f"{stem}-{hashlib.sha256(src).hexdigest()[:16]}.so"
    try:
        if not so.exists():
            cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
            if not cc:
                return None
            so.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(suffix=".so", dir=so.parent)
            os.close(fd)
            r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", tmp, str(source)], capture_output=True)
            if r.returncode != 0:
                os.unlink(tmp)
                return None
            os.replace(tmp, so)          # atomic: a concurrent build never loads half a file
            for old in so.parent.glob(f"{stem}-*.so"):
                if old != so:
                    old.unlink(missing_ok=True)
        lib = ctypes.CDLL(str(so))
    except OSError:                      # no writable cache, or a library that does not load
        return None
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


class deferred_interrupt:
    """Ctrl-C while C code runs: ctypes prints and ignores an exception raised inside a
    callback, and the interpreter raises KeyboardInterrupt at whatever bytecode runs next (a
    callback's included), so the native explorer and judge would run on. Inside this block
    SIGINT only sets `hit`; the callbacks and the loops between C calls ask `pending()` and
    stop, and leaving the block raises KeyboardInterrupt in ordinary Python code.
    Outside the main thread (signal handlers cannot be set there), or where SIGINT is not
    Python's (ignored, or handled by the caller), it does nothing."""

    hit = False
    depth = 0

    def __enter__(self) -> "deferred_interrupt":
        import signal
        import threading

        self._old = None
        if (threading.current_thread() is threading.main_thread() and deferred_interrupt.depth == 0
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):   # not where SIGINT is ignored
            deferred_interrupt.hit = False
            self._old = signal.signal(signal.SIGINT, self._note)
        deferred_interrupt.depth += 1
        return self

    @staticmethod
    def _note(signum, frame) -> None:
        deferred_interrupt.hit = True

    @staticmethod
    def pending() -> bool:
        return deferred_interrupt.hit

    def __exit__(self, typ, exc, tb) -> None:
        import signal

        deferred_interrupt.depth -= 1
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            hit, deferred_interrupt.hit = deferred_interrupt.hit, False
            if hit and (typ is None or not issubclass(typ, KeyboardInterrupt)):
                raise KeyboardInterrupt
