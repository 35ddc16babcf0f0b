"""Build and load the project's C helpers (checker/_bfs.c, oracle/_judge.c) with the system C
compiler, on first use, into `$XDG_CACHE_HOME/synack` (default ~/.cache/synack), keyed by
the source's hash. It lives in `checker` so that both engines may import it (the oracle may
use the checker; nothing imports `synack/`). Callers fall back to their Python code when
this returns None: a build that cannot happen (no compiler, a compile error, a missing
source, no writable cache) says so in one line on stderr, once per helper and process, and
is never a traceback."""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Why a helper could not be built, by stem (what the one stderr line said).
FAILED: dict[str, str] = {}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "synack"


def _give_up(stem: str, why: str) -> None:
    """Say once, in one line, that the Python engine takes over and why."""
    if stem not in FAILED:
        FAILED[stem] = why
        print(f"synack: native {stem} engine unavailable ({why}); using the Python engine", file=sys.stderr)


def _compile(cc: str, source: Path, so: Path, stem: str) -> "str | None":
    """Compile `source` into `so` atomically; None when done, else why not (one line)."""
    so.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=so.parent)
    os.close(fd)
    try:
        r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-pthread", "-o", tmp, str(source)], capture_output=True,
                           text=True, errors="replace", timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        os.unlink(tmp)
        return f"cannot run the C compiler {cc!r}: {exc}"
    if r.returncode != 0:
        os.unlink(tmp)
        first = next((ln for ln in r.stderr.splitlines() if "error" in ln), r.stderr.strip().splitlines()[:1])
        first = first if isinstance(first, str) else (first[0] if first else f"exit status {r.returncode}")
        return f"{cc} failed on {source.name}: {first.strip()[:200]}"
    os.replace(tmp, so)          # atomic: a concurrent build never loads half a file
    for old in so.parent.glob(f"{stem}-*.so"):
        if old != so:
            old.unlink(missing_ok=True)
    return None


def build(source: Path, stem: str, sigs: dict) -> "ctypes.CDLL | None":
    """The compiled `source` as `<stem>-<hash>.so` with its functions typed by `sigs`
    (name -> (result type, argument types)), or None (after one line on stderr) without a
    working C compiler (`$CC`, `cc` or `gcc`), the source file, or a writable cache. Builds of
    earlier sources are removed."""
    try:
        src = source.read_bytes()
    except OSError as exc:
        _give_up(stem, f"cannot read {source.name}: {exc.strerror}")
        return None
    so = cache_dir() / f"{stem}-{hashlib.sha256(src).hexdigest()[:16]}.so"
    try:
        if not so.exists():
            cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
            if not cc:
                _give_up(stem, "no C compiler: set $CC or install cc/gcc")
                return None
            why = _compile(cc, source, so, stem)
            if why:
                _give_up(stem, why)
                return None
        lib = ctypes.CDLL(str(so))
        for name, (res, args) in sigs.items():
            f = getattr(lib, name)
            f.restype, f.argtypes = res, args
    except OSError as exc:               # no writable cache, or a library that does not load
        _give_up(stem, f"cannot build or load {so}: {exc.strerror or exc}")
        return None
    except AttributeError as exc:        # a library without a function this module declares
        _give_up(stem, f"{so.name}: {exc}")
        return None
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
