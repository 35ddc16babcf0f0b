"""Input opened once: a path, `-` (standard input), a pipe, a FIFO or a process substitution.

Why one module: telling a capture from a JSON Lines trace needs its first bytes, and a pipe
gives them only once; opening the path again (to sniff, then to read) judges an empty
rest. Everything that reads input takes a `Source`: the file descriptor opened once, its
first four bytes, and what they say the input is.

A regular file is read with `os.pread` (every reader keeps its own offset, so processes
forked by `--jobs` share the descriptor safely, and the native judge reads the same
descriptor in C). A pipe is read as it comes; `spooled()` copies it into an anonymous
temporary file for readers that need a regular file (the native judge, `--jobs`). A FIFO
that no writer opens within `FIFO_WAIT` seconds is an error, not a hang.
"""
from __future__ import annotations

import os
import select
import stat
import tempfile

from .events import TraceError

#: Seconds to wait for a writer to open a FIFO (env SYNACK_FIFO_WAIT overrides).
FIFO_WAIT = 10.0
PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
CHUNK = 1 << 20


class Source:
    """An input, opened once: `name` for messages, `fd`, its first bytes `head` and `kind`
    ("pcap", "pcapng" or "jsonl"); `regular` when `fd` is a regular file of `size` bytes."""

    def __init__(self, name: str, fd: int, keep=None):
        self.name, self.fd, self._keep = name, fd, keep
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            os.close(fd)
            raise TraceError(f"cannot read {name!r}: it is a directory")
        self.regular = stat.S_ISREG(st.st_mode)
        self.size = st.st_size if self.regular else -1
        self._taken = False
        if self.regular:
            self.head = os.pread(fd, 4, 0)
        else:
            head = b""
            while len(head) < 4:
                got = _read(fd, 4 - len(head), name)
                if not got:
                    break
                head += got
            self.head = head
        self.kind = ("pcap" if self.head in PCAP_MAGICS else "pcapng" if self.head == PCAPNG_MAGIC else "jsonl")

    def stream(self) -> "Stream":
        """The bytes from the start. A pipe gives them once."""
        if not self.regular:
            if self._taken:
                raise TraceError(f"{self.name}: a pipe can be read once")
            self._taken = True
        return Stream(self)

    def spooled(self) -> "Source":
        """Make this source a regular file: a pipe is copied into an anonymous temporary file
        (for the readers that need one: the native judge, `--jobs`)."""
        if self.regular:
            return self
        if self._taken:
            raise TraceError(f"{self.name}: a pipe can be read once")
        self._taken = True
        tmp = tempfile.TemporaryFile(prefix="synack-")
        data = self.head
        while data:
            tmp.write(data)
            data = _read(self.fd, CHUNK, self.name)
        tmp.flush()
        os.close(self.fd)
        self.fd, self._keep, self.regular, self.size = tmp.fileno(), tmp, True, tmp.tell()
        self._taken = False
        return self

    def close(self) -> None:
        if self._keep is not None:            # a spool: the file object owns the descriptor
            self._keep.close()
            self._keep = None
        elif self.fd >= 0:
            os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _read(fd: int, n: int, name: str) -> bytes:
    try:
        return os.read(fd, n)
    except OSError as exc:
        raise TraceError(f"cannot read {name!r}: {exc.strerror}") from None


class Stream:
    """A source's bytes read in order, `offset` counting what was returned."""

    def __init__(self, src: Source):
        self.src, self.fd, self.regular = src, src.fd, src.regular
        self.offset = 0
        self._at = 0                          # file offset of the byte after `buf` (regular files)
        self.buf, self.pos = (b"", 0) if src.regular else (src.head, 0)

    def _fill(self) -> bool:
        if self.regular:
            data = os.pread(self.fd, CHUNK, self._at)
            self._at += len(data)
        else:
            data = _read(self.fd, CHUNK, self.src.name)
        if not data:
            return False
        self.buf = self.buf[self.pos:] + data
        self.pos = 0
        return True

    def read(self, n: int) -> bytes:
        """`n` bytes, or fewer at the end of the input."""
        while len(self.buf) - self.pos < n and self._fill():
            pass
        out = self.buf[self.pos:self.pos + n]
        self.pos += len(out)
        self.offset += len(out)
        return out

    def readline(self, limit: int) -> bytes:
        """The next line with its newline (without one at the end of the input), at most
        `limit` bytes: a longer line returns `limit + 1` bytes."""
        scanned = self.pos
        while True:
            nl = self.buf.find(b"\n", scanned, self.pos + limit + 1)
            if nl >= 0:
                end = nl + 1
                break
            if len(self.buf) - self.pos > limit:
                end = self.pos + limit + 1
                break
            seen = len(self.buf) - self.pos
            if not self._fill():
                end = len(self.buf)
                break
            scanned = seen                   # _fill moved the unread bytes to the front
        out = self.buf[self.pos:end]
        self.pos = end
        self.offset += len(out)
        return out


def open_source(path: str) -> Source:
    """Open `path` once (`-`: standard input). A FIFO nobody writes to within FIFO_WAIT
    seconds, a directory or an unreadable path raises TraceError with one line."""
    if path == "-":
        return Source("<stdin>", os.dup(0))
    try:
        st = os.stat(path)
        if stat.S_ISFIFO(st.st_mode):
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            wait = float(os.environ.get("SYNACK_FIFO_WAIT", FIFO_WAIT))
            p = select.poll()
            p.register(fd, select.POLLIN | select.POLLHUP)
            if not p.poll(wait * 1000):
                os.close(fd)
                raise TraceError(f"cannot read {path!r}: it is a FIFO and no writer opened it within {wait:g} s")
            os.set_blocking(fd, True)
        else:
            fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise TraceError(f"cannot read {path!r}: {exc.strerror}") from None
    return Source(path, fd)
