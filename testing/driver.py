"""The driver: what a TCP stack's adapter implements so the kit can test it.

The kit plays the peer and the network; the stack under test (the IUT) is reached only
through this interface: socket calls on the IUT, `deliver` (one IPv4 datagram to it),
`collect` (what it sent, with times), `events` (what its user was told) and `advance`
(let time pass). A stack written in Python subclasses `Driver`; any other stack ships a
*shim* program speaking the JSON Lines protocol of docs/driver-protocol.md, and
`ShimDriver(argv)` is the Python side of it. Why an abstract class and not a Protocol:
the kit must tell "this driver lacks the op" (the rows that need it are not drivable)
from "the op failed" (an errno the IUT returned), so the defaults raise `Unsupported`.
"""
from __future__ import annotations

import abc
import json
import os
import selectors
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Sequence

#: The socket options the protocol names (docs/driver-protocol.md).
SOCKOPTS = ("keepalive", "keepidle", "keepintvl", "keepcnt", "nodelay", "maxseg", "linger2", "user_timeout")
#: How long a shim may take to answer `init` (seconds; at least its request timeout).
INIT_TIMEOUT = 30.0
#: The user-visible notifications a driver may report.
EVENT_KINDS = ("established", "accepted", "readable", "eof", "reset", "refused", "timeout", "closed")


class DriverError(Exception):
    """The IUT refused a call: `errno` is its name (EAGAIN, ECONNRESET, ...)."""

    def __init__(self, op: str, errno: str, detail: str = ""):
        super().__init__(f"{op}: {errno}" + (f" ({detail})" if detail else ""))
        self.op, self.errno = op, errno


class Unsupported(DriverError):
    """The driver cannot perform `op` at all: rows that need it are reported as not drivable."""

    def __init__(self, op: str, detail: str = ""):
        super().__init__(op, "unsupported", detail)


class ShimError(RuntimeError):
    """The shim died, hung or answered outside the protocol. The message names the shim."""


@dataclass(frozen=True)
class DriverEvent:
    """A notification the IUT's user received: `kind` is one of EVENT_KINDS; `t` seconds."""
    sock: int
    t: float
    kind: str


@dataclass(frozen=True)
class StackInfo:
    """What `init` learned: the stack's name and whether its clock is virtual or real."""
    stack: str
    clock: str  # "virtual": moves only on advance; "real": advance sleeps


class Driver(abc.ABC):
    """One stack under test, addressed as `iut` (default 10.0.0.2) by a peer at `peer`
    (10.0.0.1). Every call returns at once (non-blocking sockets); the kit polls `accept`,
    `recv` and `events` after `advance`. Ops a stack cannot perform keep the default, which
    raises `Unsupported`. Times are seconds on the driver's clock."""

    info: StackInfo | None = None

    # lifecycle -------------------------------------------------------------------------
    @abc.abstractmethod
    def init(self, iut: str = "10.0.0.2", peer: str = "10.0.0.1", mss: int = 1460) -> StackInfo:
        """Bring the stack up with address `iut`, its route to `peer`, and MSS `mss`."""

    def quit(self) -> None:
        """Tear the stack down and release everything (processes, devices, namespaces)."""

    def __enter__(self) -> "Driver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.quit()

    def restart(self) -> StackInfo:
        """Replace a stack that crashed or hung (the kit calls it after a `ShimError`) with a
        fresh one, initialised as before. Default: not possible (Unsupported)."""
        raise Unsupported("restart")

    @property
    def clock(self) -> str:
        """"virtual" or "real" (valid after init)."""
        return self.info.clock if self.info else "real"

    # the network side --------------------------------------------------------------------
    @abc.abstractmethod
    def deliver(self, ip_packet: bytes) -> None:
        """Hand one IPv4 datagram (no link header) to the stack."""

    @abc.abstractmethod
    def collect(self) -> list[tuple[float, bytes]]:
        """Every IPv4 datagram the stack sent since the last collect, as (t seconds, bytes)."""

    @abc.abstractmethod
    def advance(self, seconds: float) -> float:
        """Let `seconds` pass on the stack's clock (a real clock sleeps); returns now."""

    def events(self) -> list[DriverEvent]:
        """Notifications since the last call. Default: none reported (not Unsupported: the
        kit then learns only from segments and call results)."""
        return []

    # socket calls (the IUT's user) ----------------------------------------------------------
    def listen(self, port: int, backlog: int = 4) -> int:
        raise Unsupported("listen")

    def accept(self, sock: int) -> int | None:
        """A connected socket, or None while none is ready (EAGAIN)."""
        raise Unsupported("accept")

    def connect(self, dport: int, sport: int = 0) -> tuple[int, int]:
        """Start an active open to the peer; returns (sock, the local port used)."""
        raise Unsupported("connect")

    def send(self, sock: int, nbytes: int) -> int:
        """Queue `nbytes` of filler; returns how many the stack took."""
        raise Unsupported("send")

    def recv(self, sock: int, max: int = 65535) -> tuple[int, bool]:
        """Read up to `max` bytes; returns (n, eof). EAGAIN raises DriverError."""
        raise Unsupported("recv")

    def shutdown(self, sock: int) -> None:
        """SHUT_WR."""
        raise Unsupported("shutdown")

    def close(self, sock: int) -> None:
        raise Unsupported("close")

    def abort(self, sock: int) -> None:
        """SO_LINGER 0 then close, or the stack's own abort: the connection is reset."""
        raise Unsupported("abort")

    def setsockopt(self, sock: int, name: str, value: int) -> None:
        """`name` is one of SOCKOPTS; values as Linux's setsockopt takes them: keepidle,
        keepintvl and linger2 in seconds, user_timeout in milliseconds, the rest counts/flags."""
        raise Unsupported("setsockopt", name)


class ShimDriver(Driver):
    """The Python side of docs/driver-protocol.md: runs `argv` and speaks JSON Lines to it.

    Every reply is awaited at most `timeout` seconds (plus the time an `advance` asks for on
    a real clock); a shim that dies, hangs, writes a non-JSON line or a reply without "ok"
    raises ShimError naming the shim and quoting the end of its stderr."""

    def __init__(self, argv: Sequence[str], timeout: float = 10.0, env: dict[str, str] | None = None,
                 name: str | None = None):
        self.argv = list(argv)
        self.name = name or os.path.basename(self.argv[0])
        self.timeout = timeout
        self.env = env
        self.restarts = 0
        self._init_args: tuple | None = None
        self._unsupported: set[str] = set()
        self._spawn()

    def _spawn(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=self._stderr, env=self.env, bufsize=0)
        except OSError as e:
            self._stderr.close()
            raise ShimError(f"shim {self.name}: cannot start {self.argv[0]!r}: {e.strerror or e}") from None
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._proc.stdout, selectors.EVENT_READ)
        self._broken = False

    # the wire ---------------------------------------------------------------------------------
    def _stderr_tail(self, n: int = 400) -> str:
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - n))
            tail = self._stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""
        return f"; its stderr ends: {tail!r}" if tail else ""

    def _fail(self, what: str) -> ShimError:
        self._broken = True  # out of step with the shim: quit kills instead of asking
        return ShimError(f"shim {self.name}: {what}{self._stderr_tail()}")

    def _readline(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sel.select(left):
                raise self._fail(f"no reply within {timeout:g} s")
            chunk = os.read(self._proc.stdout.fileno(), 65536)
            if not chunk:
                code = self._proc.wait(timeout=1)
                raise self._fail(f"exited (status {code}) before replying")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def request(self, op: str, timeout: float | None = None, **fields: Any) -> dict:
        """Send one request; return the reply (a dict with "ok"). An "ok": false reply raises
        DriverError (Unsupported for "unsupported")."""
        if op in self._unsupported:
            raise Unsupported(op, f"shim {self.name}")
        if self._proc.poll() is not None:
            raise self._fail(f"has exited (status {self._proc.returncode})")
        msg = json.dumps({"op": op, **fields}, separators=(",", ":")) + "\n"
        try:
            self._proc.stdin.write(msg.encode())
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            code = self._proc.wait(timeout=1)
            raise self._fail(f"exited (status {code}) before reading {op!r}") from None
        line = self._readline(self.timeout if timeout is None else timeout)
        try:
            reply = json.loads(line)
        except ValueError:
            raise self._fail(f"answered {op!r} with a line that is not JSON: {line[:120]!r}") from None
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            raise self._fail(f"answered {op!r} without a boolean \"ok\": {line[:120]!r}")
        if not reply["ok"]:
            err = str(reply.get("error", "")) or "?"
            if err == "unsupported":
                self._unsupported.add(op)
                raise Unsupported(op, f"shim {self.name}")
            raise DriverError(op, err, str(reply.get("detail", "")))
        return reply

    def _field(self, reply: dict, key: str, kind: type, op: str) -> Any:
        v = reply.get(key)
        if not isinstance(v, kind) or isinstance(v, bool):
            raise self._fail(f"answered {op!r} with a missing or mistyped {key!r}: {json.dumps(reply)[:120]}")
        return v

    # lifecycle ----------------------------------------------------------------------------------
    def init(self, iut: str = "10.0.0.2", peer: str = "10.0.0.1", mss: int = 1460) -> StackInfo:
        self._init_args = (iut, peer, mss)
        # bringing a stack up (a Go runtime, a simulator, a namespace) may take longer than a request
        r = self.request("init", timeout=max(self.timeout, INIT_TIMEOUT), iut=iut, peer=peer, mss=mss)
        clock = r.get("clock")
        if clock not in ("virtual", "real"):
            raise self._fail(f"answered 'init' with clock {clock!r} (want \"virtual\" or \"real\")")
        self.info = StackInfo(str(r.get("stack") or self.name), clock)
        return self.info

    def restart(self) -> StackInfo:
        """A fresh shim in place of this one (killed if it still runs), initialised as the
        last `init` was: after a crash or a hang the kit goes on with the next row."""
        self.quit()
        self._spawn()
        self.restarts += 1
        return self.init(*(self._init_args or ()))

    def quit(self) -> None:
        if self._proc.poll() is None and self._broken:
            self._proc.kill()
        if self._proc.poll() is None:
            try:
                self.request("quit", timeout=2)
            except (ShimError, DriverError):
                pass
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for f in (self._proc.stdin, self._proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self._sel.close()
        self._stderr.close()

    # the network side ---------------------------------------------------------------------------
    def deliver(self, ip_packet: bytes) -> None:
        self.request("deliver", ip=ip_packet.hex())

    def collect(self) -> list[tuple[float, bytes]]:
        r = self.request("collect")
        out = []
        for item in self._field(r, "out", list, "collect"):
            try:
                out.append((float(item["t_ms"]) / 1000.0, bytes.fromhex(item["ip"])))
            except (KeyError, TypeError, ValueError):
                raise self._fail(f"answered 'collect' with a bad item: {json.dumps(item)[:120]}") from None
        return out

    def advance(self, seconds: float) -> float:
        ms = max(0, round(seconds * 1000))
        extra = seconds if self.clock == "real" else 0.0
        r = self.request("advance", timeout=self.timeout + extra, ms=ms)
        return float(self._field(r, "now_ms", (int, float), "advance")) / 1000.0

    def events(self) -> list[DriverEvent]:
        try:
            r = self.request("events")
        except Unsupported:
            return []
        out = []
        for e in self._field(r, "events", list, "events"):
            try:
                kind = str(e["kind"])
                out.append(DriverEvent(int(e["sock"]), float(e.get("t_ms", 0)) / 1000.0, kind))
            except (KeyError, TypeError, ValueError):
                raise self._fail(f"answered 'events' with a bad item: {json.dumps(e)[:120]}") from None
            if kind not in EVENT_KINDS:
                raise self._fail(f"answered 'events' with unknown kind {kind!r}")
        return out

    # socket calls -------------------------------------------------------------------------------
    def listen(self, port: int, backlog: int = 4) -> int:
        return self._field(self.request("listen", port=port, backlog=backlog), "sock", int, "listen")

    def accept(self, sock: int) -> int | None:
        try:
            r = self.request("accept", sock=sock)
        except DriverError as e:
            if e.errno in ("EAGAIN", "EWOULDBLOCK"):
                return None
            raise
        return self._field(r, "sock", int, "accept")

    def connect(self, dport: int, sport: int = 0) -> tuple[int, int]:
        r = self.request("connect", dport=dport, sport=sport)
        return self._field(r, "sock", int, "connect"), self._field(r, "sport", int, "connect")

    def send(self, sock: int, nbytes: int) -> int:
        return self._field(self.request("send", sock=sock, bytes=nbytes), "n", int, "send")

    def recv(self, sock: int, max: int = 65535) -> tuple[int, bool]:
        r = self.request("recv", sock=sock, max=max)
        return self._field(r, "n", int, "recv"), bool(r.get("eof", False))

    def shutdown(self, sock: int) -> None:
        self.request("shutdown", sock=sock)

    def close(self, sock: int) -> None:
        self.request("close", sock=sock)

    def abort(self, sock: int) -> None:
        self.request("abort", sock=sock)

    def setsockopt(self, sock: int, name: str, value: int) -> None:
        if name not in SOCKOPTS:
            raise ValueError(f"unknown socket option {name!r} (one of {', '.join(SOCKOPTS)})")
        try:
            self.request("setsockopt", sock=sock, name=name, value=value)
        except DriverError as e:
            if e.errno == "ENOPROTOOPT":
                raise Unsupported("setsockopt", f"{name} on shim {self.name}") from None
            raise
