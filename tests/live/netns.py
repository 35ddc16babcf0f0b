"""Run a function in a fresh network namespace of its own (a forked child that unshares
CLONE_NEWNET), so live tests see only their own traffic and leave nothing behind: the
namespace dies with the child."""
from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import subprocess
import traceback

CLONE_NEWNET = 0x40000000


def can_unshare() -> str:
    """'' when namespaces work here, else the reason they do not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and AF_PACKET)"
    if not os.path.exists("/proc/self/ns/net"):
        return "no network namespaces on this kernel"
    return ""


def _child(conn, fn, args, sysctls):
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) failed")
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
        for k, v in (sysctls or {}).items():
            with open("/proc/sys/" + k.replace(".", "/"), "w") as fh:
                fh.write(str(v))
        conn.send(("ok", fn(*args)))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def run_in_netns(fn, *args, sysctls=None, timeout: float = 60.0):
    """fn(*args) in a new network namespace (loopback up, `sysctls` applied); its return value."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child, fn, args, sysctls))
    p.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise TimeoutError(f"live scenario {getattr(fn, '__name__', fn)} did not finish in {timeout} s")
        status, value = parent.recv()
    finally:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
            p.join()
    if status != "ok":
        raise RuntimeError(value)
    return value
