"""A lean HTTP/1.1 client for service-to-service calls: keep-alive connections pooled per
instance, responses parsed by httptools (the parser uvicorn uses). It does about half the work
per call of aiohttp's ClientSession, which was the largest single cost of the load balancer and
the gateway; ``client.ServiceClient`` uses it for its calls (aiohttp stays for the rest).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote, urlsplit

import httptools

__all__ = ["Dropped", "Pool", "Refused"]

#: Connections open at once per instance (as aiohttp's ``limit_per_host``); more requests wait.
_MAX_OPEN = 256
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
# a path of only these is what quote() would give back unchanged (a "%" may start an escape)
_PLAIN = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=._~-]*")


class Refused(ConnectionError):
    """No connection could be opened to the instance: the request never reached it."""


class Dropped(ConnectionError):
    """The connection closed (or sent garbage) before a whole response arrived."""


class _Conn(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes, str, bool]] | None = None
        self.chunks: list[bytes] = []
        self.ctype = b""
        self.closed = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(Dropped(f"malformed response: {exc}"))
            self.close()

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"content-type":
            self.ctype = value

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            ctype = self.ctype.split(b";", 1)[0].strip().decode("latin-1")
            body = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
            keep = self.parser.should_keep_alive()
            waiter.set_result((self.parser.get_status_code(), body, ctype, keep))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(Dropped("the server closed the connection"))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def send(self, raw: bytes) -> asyncio.Future[tuple[int, bytes, str, bool]]:
        self.chunks = []
        self.ctype = b""
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(raw)
        return self.waiter


class Pool:
    """Keep-alive connections by base URL (``http://host:port``)."""

    def __init__(self) -> None:
        self._idle: dict[str, list[_Conn]] = {}
        self._hosts: dict[str, tuple[str, int, str]] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}

    def _host(self, base: str) -> tuple[str, int, str]:
        entry = self._hosts.get(base)
        if entry is None:
            parts = urlsplit(base)
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError(f"the lean client speaks plain http only, not {base!r}")
            port = parts.port or 80
            entry = self._hosts[base] = (parts.hostname, port, parts.netloc)
        return entry

    async def request(
        self,
        base: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: float,
    ) -> tuple[int, bytes, str]:
        """Status, body and content type (no parameters) of one request to ``base + path``.
        Raises Refused (never connected), Dropped (connection lost mid-way), TimeoutError."""
        host, port, netloc = self._host(base)
        target, _, query = path.partition("?")
        if _PLAIN.fullmatch(target) is None:  # most paths need no quoting: skip quote()
            target = quote(target, safe=_SAFE_PATH)
        if query:
            target += "?" + query
        # the head as one string, encoded once (not a bytes object per header line)
        head = f"{method} {target} HTTP/1.1\r\nhost: {netloc}" + "".join(
            [f"\r\n{k}: {v}" for k, v in headers.items()]
        )
        if body or method in ("POST", "PUT", "PATCH"):
            head += f"\r\ncontent-length: {len(body or b'')}"
        raw = (head + "\r\n\r\n").encode("latin-1")
        if body:
            raw += body
        slots = self._slots.get(base)
        if slots is None:
            slots = self._slots[base] = asyncio.Semaphore(_MAX_OPEN)
        async with asyncio.timeout(timeout):
            async with slots:  # a connection per request in flight: at most _MAX_OPEN
                conn = self._take(base)
                if conn is None:
                    try:
                        _, conn = await asyncio.get_running_loop().create_connection(
                            _Conn, host, port
                        )
                    except OSError as exc:
                        raise Refused(f"{base}: {exc}") from None
                try:
                    status, content, ctype, keep = await conn.send(raw)
                except BaseException:
                    conn.close()  # a late or partial reply must not reach the next request
                    raise
                if keep and not conn.closed:
                    self._idle.setdefault(base, []).append(conn)
                else:
                    conn.close()
        return status, content, ctype or "application/octet-stream"

    def _take(self, base: str) -> _Conn | None:
        idle = self._idle.get(base)
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        return None

    def close(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
