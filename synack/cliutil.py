"""Helpers the command modules share: one-line errors, profile lookup, rendering."""
from __future__ import annotations

import sys

import click

from synack.spec import SpecError, get_profile

#: What the running command has done so far ("done": "12,288 states"), for the line Ctrl-C prints.
PROGRESS: dict = {}


def _fail(msg: str, code: int = 2):
    click.echo(f"synack: error: {msg}", err=True)
    sys.exit(code)


def _profile(name: str, variants: tuple[str, ...]):
    try:
        return get_profile(name, tuple(variants))
    except SpecError as exc:
        _fail(str(exc))


def _format_of(path: str) -> tuple[str, str]:
    from synack.diagrams.render import FORMATS

    stem, dot, ext = path.rpartition(".")
    if not dot or ext.lower() not in FORMATS:
        _fail(f"cannot tell the format of {path!r}; end it in one of: {', '.join('.' + f for f in FORMATS)}")
    return stem, ext.lower()


def _draw(source: str, fmt: str, out: str, exit_on_missing: bool = True) -> bool:
    """Render to `out`; a missing `dot` writes the .dot, says how to install Graphviz and
    exits 1 (or returns False)."""
    from synack.diagrams.render import DotMissing, render

    try:
        render(source, fmt, out)
        return True
    except DotMissing as exc:
        click.echo(f"synack: error: {exc}", err=True)
        if exit_on_missing:
            sys.exit(1)
        return False
    except OSError as exc:
        _fail(f"cannot write {out!r}: {exc.strerror}")


def _out_dir(path: str) -> str:
    """A directory to write into, made when missing; one that cannot be (a file is in the
    way, no permission) is a one-line error, exit 2."""
    import os

    try:
        os.makedirs(path, exist_ok=True)
        if not os.access(path, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        _fail(f"cannot write to {path!r}: {exc.strerror}")
    return path
