"""The lean I/O of the stack's hot path: the RESP client behind cache reads and the service
transport that writes a response head with its body."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from archsim.runtime.resp import RespPool, _Conn, lean_url
from archsim.runtime.serve import _HeldHead


class _Sink:
    """A transport that records what is written."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"info:{name}"


async def _reply_of(*chunks: bytes) -> Any:
    conn = _Conn()
    conn.connection_made(_Sink())
    pending = asyncio.ensure_future(conn.execute(b"*1\r\n$4\r\nPING\r\n"))
    await asyncio.sleep(0)
    for chunk in chunks:
        conn.data_received(chunk)
    return await pending


def test_replies_parse_across_chunks() -> None:
    assert asyncio.run(_reply_of(b"$5\r\nhel", b"lo\r\n")) == b"hello"
    assert asyncio.run(_reply_of(b"$-1\r\n")) is None
    assert asyncio.run(_reply_of(b":4", b"2\r\n")) == 42
    assert asyncio.run(_reply_of(b"+OK\r\n")) == b"OK"
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        asyncio.run(_reply_of(b"-WRONGTYPE wrong kind\r\n"))
    with pytest.raises(RedisConnectionError, match="malformed"):
        asyncio.run(_reply_of(b"?what\r\n"))


def test_lean_url_only_plain_tcp() -> None:
    assert lean_url("redis://127.0.0.1:6379/0")
    assert not lean_url("rediss://127.0.0.1:6379/0")
    assert not lean_url("unix:///tmp/redis.sock")
    assert not lean_url("redis://127.0.0.1:6379/0?socket_timeout=1")


async def _serve_and_get(url_tail: str, key: str) -> tuple[bytes | None, list[bytes]]:
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            seen.append(data)
            if b"GET" in data:
                writer.write(b"$5\r\nvalue\r\n" if b"present" in data else b"$-1\r\n")
            else:  # AUTH, SELECT
                writer.write(b"+OK\r\n")
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = RespPool(f"redis://{url_tail.replace('PORT', str(port))}")
    try:
        value = await pool.get(key)
        again = await pool.get(key)  # the same pooled connection
        assert again == value
        return value, seen
    finally:
        pool.close()
        server.close()


def test_pool_gets_over_one_connection_with_auth_and_db() -> None:
    value, seen = asyncio.run(_serve_and_get("user:s%40cret@127.0.0.1:PORT/3", "present"))
    assert value == b"value"
    sent = b"".join(seen)
    assert sent.startswith(b"*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$6\r\ns@cret\r\n")
    assert b"$6\r\nSELECT\r\n$1\r\n3\r\n" in sent
    assert sent.count(b"$3\r\nGET\r\n$7\r\npresent\r\n") == 2
    missing, _ = asyncio.run(_serve_and_get("127.0.0.1:PORT/0", "absent"))
    assert missing is None


def test_refused_is_redis_connection_error() -> None:
    async def refused() -> None:
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        await RespPool(f"redis://127.0.0.1:{port}/0").get("k")

    with pytest.raises(RedisConnectionError):
        asyncio.run(refused())


def test_held_head_goes_out_with_its_body() -> None:
    async def run() -> list[list[bytes]]:
        sink = _Sink()
        held = _HeldHead(sink, asyncio.get_running_loop())  # type: ignore[arg-type]
        held.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        held.write(b"{}")
        one = list(sink.writes)
        held.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")  # body comes later
        alone = list(sink.writes)
        await asyncio.sleep(0)  # the loop's next turn sends it anyway
        flushed = list(sink.writes)
        held.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        held.close()  # closing sends what is held first
        assert sink.closed and held.get_extra_info("peername") == "info:peername"
        return [one, alone, flushed, sink.writes]

    one, alone, flushed, last = asyncio.run(run())
    assert one == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    assert alone == one
    assert flushed[-1] == b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    assert last[-1] == b"HTTP/1.1 204 No Content\r\n\r\n"


def test_a_stale_pooled_connection_is_replaced_once() -> None:
    async def run() -> tuple[bytes | None, int]:
        accepted: list[asyncio.StreamWriter] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(writer)
            while await reader.read(65536):
                writer.write(b"$2\r\nok\r\n")

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        pool = RespPool(f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0")
        try:
            assert await pool.get("k") == b"ok"
            accepted[0].transport.abort()  # the server drops the idle connection
            return await pool.get("k"), len(accepted)
        finally:
            pool.close()
            server.close()

    assert asyncio.run(run()) == (b"ok", 2)
