"""Which captures a command line names: files as given, every capture file of a directory,
and the files a quoted glob matches. The shell expands an unquoted glob itself; a quoted one
(`'caps/*.pcap'`) is expanded here, so that a pattern too long for the shell's argument list,
or one meant for a cluster's shared filesystem, still works."""
from __future__ import annotations

import glob
import os
from typing import Sequence

from .events import TraceError

#: The names a directory's captures end in (a directory may hold notes, keys, traces...).
SUFFIXES = (".pcap", ".pcapng", ".cap")
_MAGIC = "*?["


def is_many(arg: str) -> bool:
    """Whether `arg` names a set of captures (a directory, or a pattern that is not a file)."""
    return arg != "-" and (os.path.isdir(arg) or (not os.path.lexists(arg) and any(c in arg for c in _MAGIC)))


def expand(args: Sequence[str]) -> list[str]:
    """The captures `args` name, in order: a directory gives its files ending in SUFFIXES
    (sorted, not recursive); a pattern the files it matches (sorted; `**` recurses). A
    directory with no capture, or a pattern matching no file, is a TraceError naming it."""
    out: list[str] = []
    for arg in args:
        if arg != "-" and os.path.isdir(arg):
            try:
                names = sorted(n for n in os.listdir(arg) if n.lower().endswith(SUFFIXES)
                               and os.path.isfile(os.path.join(arg, n)))
            except OSError as exc:
                raise TraceError(f"cannot read {arg!r}: {exc.strerror}") from None
            if not names:
                raise TraceError(f"{arg}: a directory with no capture in it (no file ending in "
                                 f"{', '.join(SUFFIXES)})")
            out += [os.path.join(arg, n) for n in names]
        elif is_many(arg):
            hits = sorted(h for h in glob.glob(arg, recursive=True) if os.path.isfile(h))
            if not hits:
                raise TraceError(f"{arg}: no file matches this pattern")
            out += hits
        else:
            out.append(arg)
    return out
