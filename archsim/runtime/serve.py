"""Serve an ASGI app the way every generated service is served: uvicorn, one worker, uvloop +
httptools, no access log (metrics and structured logs replace it), graceful shutdown. A
generated service (an app carrying ``state.runtime``) is served through ``Runtime.front()``,
by uvicorn's httptools protocol writing each response in one piece (``OneWriteProtocol``).

``python -m archsim_runtime.serve services.order_service.app:app --port 8001``
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import uvicorn
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .heap import freeze_startup_heap

__all__ = ["SERVER_SETTINGS", "OneWriteProtocol", "Server", "main"]

#: The server settings of every service (the benchmark serves its baseline with the same).
SERVER_SETTINGS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,
    "log_config": None,
    "lifespan": "on",
    "timeout_graceful_shutdown": 5,
    "backlog": 2048,
    "proxy_headers": False,  # nothing sits in front that we trust with X-Forwarded-*
    "server_header": False,
}


class _HeldHead:
    """A connection's transport that holds a response head until its body follows, so that
    both go out in one write (uvicorn writes them apart: two sends, two segments, the peer
    woken twice); a head alone goes out on the loop's next turn. Order is kept: what is held
    is always written first. Everything else is the transport's own."""

    __slots__ = ("_head", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + data)
        elif data[-4:] == b"\r\n\r\n" and data[:5] == b"HTTP/":  # a head: hold it
            self._head = data
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def _flush(self) -> None:
        head, self._head = self._head, None
        if head is not None and not self._transport.is_closing():
            self._transport.write(head)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, each response head written with its body (one send)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        held: Any = _HeldHead(transport, self.loop)
        super().connection_made(held)


class Server(uvicorn.Server):
    """uvicorn's server, the start-up heap frozen once the app has started (``heap``)."""

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        freeze_startup_heap()


def main(argv: list[str] | None = None) -> None:
    """Run ``APP`` (``module:attribute``) on ``--host``/``--port`` until SIGTERM."""
    parser = argparse.ArgumentParser(prog="archsim_runtime.serve")
    parser.add_argument("app", help="import string, module:attribute")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--one-write", action="store_true", help="write each response in one send, as a "
        "generated service always does (for a baseline served the same way)"
    )  # fmt: skip
    args = parser.parse_args(argv)
    app = import_from_string(args.app)
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    settings = SERVER_SETTINGS
    if runtime is not None:  # a generated service: serve its fast path in front of FastAPI
        app = runtime.front()
    if runtime is not None or args.one_write:
        settings = {**SERVER_SETTINGS, "http": OneWriteProtocol}
    Server(uvicorn.Config(app, host=args.host, port=args.port, **settings)).run()


if __name__ == "__main__":
    main()
