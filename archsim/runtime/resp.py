"""A lean Redis-protocol (RESP2) client for the cache's hot read: ``GET`` over pooled
keep-alive connections, one command in flight per connection. redis-py's asyncio client
spends most of a cache hit's CPU in its pool, retry and parser layers; ``cache.Cache`` reads
through this one and keeps redis-py for everything else. Failures raise redis-py's own
exceptions (``ConnectionError``, ``ResponseError``), so callers see one error family.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

__all__ = ["RespPool", "lean_url"]

_NO_VALUE = object()  # the parser's "a whole reply has not arrived yet"


def lean_url(url: str) -> bool:
    """Whether this client speaks to ``url``: plain ``redis://`` over TCP (TLS, unix sockets
    and URL options stay with redis-py)."""
    parts = urlsplit(url)
    return parts.scheme == "redis" and bool(parts.hostname) and not parts.query


def _command(*args: bytes) -> bytes:
    """One command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class _Conn(asyncio.Protocol):
    """One connection; its replies parsed from a buffer as they arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Any] | None = None
        self.closed = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            self.close()  # a reply nobody asked for: the connection is out of step
            return
        try:
            value = self._reply()
        except ValueError as exc:  # not RESP: the connection cannot be trusted any more
            self.waiter = None
            waiter.set_exception(RedisConnectionError(f"malformed reply: {exc}"))
            self.close()
            return
        if value is not _NO_VALUE:
            self.waiter = None
            waiter.set_result(value)

    def _reply(self) -> Any:
        """The first whole reply in the buffer (removed from it), or _NO_VALUE."""
        buf = self.buffer
        end = buf.find(b"\r\n")
        if end < 0:
            return _NO_VALUE
        kind, line = buf[:1], bytes(buf[1:end])
        if kind == b"$":
            size = int(line)
            if size < 0:
                del buf[: end + 2]
                return None
            if len(buf) < end + 2 + size + 2:
                return _NO_VALUE
            value = bytes(buf[end + 2 : end + 2 + size])
            del buf[: end + 2 + size + 2]
            return value
        del buf[: end + 2]
        if kind == b"+":
            return line
        if kind == b":":
            return int(line)
        if kind == b"-":
            return ResponseError(line.decode("utf-8", "replace"))
        raise ValueError(f"unexpected reply type {bytes(kind)!r}")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(RedisConnectionError("the server closed the connection"))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def execute(self, raw: bytes) -> Any:
        """Send one command; its reply (a ResponseError for an error reply, raised)."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        value = await self.waiter
        if isinstance(value, ResponseError):
            raise value
        return value


class RespPool:
    """Idle connections to one server (``redis://[user:password@]host:port[/db]``)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        db = parts.path.strip("/")
        self.setup: list[bytes] = []  # sent once on every new connection
        if parts.password is not None:
            secret = unquote(parts.password).encode()
            user = [unquote(parts.username).encode()] if parts.username else []
            self.setup.append(_command(b"AUTH", *user, secret))
        if db and db != "0":
            self.setup.append(_command(b"SELECT", db.encode()))
        self._idle: list[_Conn] = []

    async def get(self, key: str) -> bytes | None:
        """The value at ``key`` (None when there is none)."""
        value: bytes | None = await self._execute(_command(b"GET", key.encode()))
        return value

    async def _execute(self, raw: bytes) -> Any:
        """One command's reply; sent once more on a fresh connection when a pooled one turns
        out closed (the server restarted): only idempotent reads come this way."""
        pooled = self._take()
        conn = pooled or await self._connect()
        try:
            value = await conn.execute(raw)
        except ResponseError:
            self._idle.append(conn)  # an error reply leaves the connection in step
            raise
        except RedisConnectionError:
            conn.close()
            if pooled is None:
                raise
            conn = await self._connect()
            try:
                value = await conn.execute(raw)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            conn.close()  # cancelled or dropped mid-reply: a late reply must not be read
            raise
        self._idle.append(conn)
        return value

    def _take(self) -> _Conn | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
        return None

    async def _connect(self) -> _Conn:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(_Conn, self.host, self.port)
        except OSError as exc:
            raise RedisConnectionError(f"{self.host}:{self.port}: {exc}") from None
        try:
            for raw in self.setup:
                await conn.execute(raw)
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        """Close every idle connection."""
        for conn in self._idle:
            conn.close()
        self._idle.clear()
