"""Loopback ports for a stack's processes, chosen where the kernel will not also hand them out.

The launcher gives every instance its port before any of them starts, because each process
learns its peers' addresses from the environment. A port asked of the kernel with ``bind(0)``
lies in the ephemeral range, the same range the kernel draws the local port of every
*outgoing* connection from — so while the first stage of a stack is busy connecting (registry,
Redis, heartbeats), one of those connections can take a port a later stage was promised, and
that process dies with "address already in use". Ports below the ephemeral range are never
used for outgoing connections, so a port that binds there now stays free until its owner comes.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

__all__ = ["ephemeral_range", "free_port"]

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_DEFAULT_EPHEMERAL = (32768, 60999)  # Linux's default, used where /proc is not readable
_LOWEST = 10000  # stay clear of the well-known and commonly configured server ports
_given: set[int] = set()  # ports this process handed out: never twice, even once closed
_lock = threading.Lock()


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports, inclusive."""
    try:
        low, high = (int(part) for part in _RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return _DEFAULT_EPHEMERAL
    return low, high


def _binds(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(attempts: int = 200) -> int:
    """A loopback TCP port that binds now and lies outside the ephemeral range.

    Random within the range, so stacks started side by side rarely try the same port; falls
    back to a kernel-chosen port when the range below the ephemeral one is too small or full.
    """
    low, _ = ephemeral_range()
    with _lock:
        if low - _LOWEST >= 1000:
            for _ in range(attempts):
                port = random.randint(_LOWEST, low - 1)
                if port not in _given and _binds(port):
                    _given.add(port)
                    return port
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        _given.add(port)
        return port
