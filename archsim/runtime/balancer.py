"""The load balancer: a reverse proxy that matches each request against the routes the model
derives (method + path template → target component) and spreads it over the target's
instances (registry lookups or static addresses), failing over when an instance is down.
It is an asyncio protocol with httptools' parser (the one uvicorn uses) rather than an aiohttp
web app: the front door does no work beyond parsing, picking and relaying, and aiohttp's
server machinery was most of its CPU per request.

``python -m archsim_runtime.balancer --port 8000 --manifest stack.json --component load_balancer``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
from collections.abc import Awaitable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import aiohttp
import httptools

from .client import CallError, CallPolicy, Discovery, ServiceClient
from .context import BUDGET_HEADER, new_traceparent, set_budget, set_context
from .heap import freeze_startup_heap
from .limits import MAX_BODY_BYTES, BodyRejected, too_large
from .registry import RegistryClient
from .settings import Settings

__all__ = ["Balancer", "Route", "compile_routes", "main", "serve"]

_PARAM = re.compile(r"\{[^}/]+\}")
_UNSEEN = object()
#: (method, path) pairs whose route is remembered (cleared when full).
_MAX_MATCHED = 4096
_PASS = ("authorization", "content-type", "x-request-id", "traceparent", "x-archsim-budget-ms")


class Route:
    """One forwarding rule: ``method`` + ``path`` template → ``target``, called with the
    ``policy`` the model derives for the hop (its timeout bounds the request's budget)."""

    __slots__ = ("method", "path", "pattern", "policy", "target")

    def __init__(self, method: str, path: str, target: str, policy: CallPolicy) -> None:
        self.method = method
        self.path = path
        self.target = target
        self.policy = policy
        parts = _PARAM.split(path)
        self.pattern = re.compile("^" + "[^/]+".join(re.escape(p) for p in parts) + "$")


def compile_routes(routes: list[dict[str, Any]]) -> list[Route]:
    """Routes in match order: literal paths before templated ones (``/users/login`` first).
    Each carries its ``policy`` (the model's, in the manifest): the balancer has no default."""
    built = [Route(r["method"], r["path"], r["target"], CallPolicy(**r["policy"])) for r in routes]
    return sorted(built, key=lambda r: ("{" in r.path, -len(r.path)))


class Balancer:
    """One balancer component: routes (from the manifest), discovery and the pooled client."""

    def __init__(self, spec: dict[str, Any], settings: Settings) -> None:
        self.spec = spec
        self.settings = settings
        self.routes = compile_routes(spec["routes"])
        self._matched: dict[tuple[str, str], Route | None] = {}  # (method, path) → route
        self.discovery = Discovery(settings, dict(spec.get("registered", {})))
        self.session: aiohttp.ClientSession | None = None
        self.client: ServiceClient | None = None
        self.tracer: Any = None
        if settings.env.get("ARCHSIM_TRACE", "0").lower() in ("1", "true", "yes", "on"):
            from . import tracing  # imported only when on: it brings FastAPI along

            self.tracer = tracing.from_settings(settings)

    async def start(self) -> None:
        """Open the client pool and attach registry lookups."""
        connector = aiohttp.TCPConnector(limit=1024, limit_per_host=256)
        self.session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        for registry in set(self.spec.get("registered", {}).values()):
            # lookups cached as long as the model's lifecycle says (the environment may override)
            ttl = self.settings.lookup_ttl_s or float(self.spec["lookup_ttl_s"])
            client = RegistryClient(self.session, self.settings.addresses(registry), ttl)
            self.discovery.attach(registry, client)
        if self.tracer is None:
            self.client = ServiceClient(self.session, self.discovery)
        else:
            from . import traced

            self.client = traced.client(self.tracer, self.session, self.discovery)
            await self.tracer.start()

    async def stop(self) -> None:
        """Close the pools."""
        if self.client is not None:
            self.client.close()
        if self.session is not None:
            await self.session.close()
        if self.tracer is not None:
            await self.tracer.close()

    async def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, str]:
        """Status, body and content type for one request at the front door (with a server
        span around it when tracing is on)."""
        if self.tracer is not None and path != "/_lb/health":
            route = self._match(method, path)
            template = route.path if route is not None else None
            return await self.tracer.balanced(
                self._route, method, path, query, headers, body, template
            )
        return await self._route(method, path, query, headers, body)

    def _match(self, method: str, path: str) -> Route | None:
        """The first route (in match order) for ``method`` and ``path`` (remembered: a read
        of the same resource does not try every pattern again)."""
        key = (method, path)
        route = self._matched.get(key, _UNSEEN)
        if route is _UNSEEN:
            route = next(
                (r for r in self.routes if r.method == method and r.pattern.match(path)), None
            )
            if len(path) <= 256:  # bounded: at most _MAX_MATCHED short paths
                if len(self._matched) >= _MAX_MATCHED:
                    self._matched.clear()
                self._matched[key] = route
        return route  # type: ignore[return-value]

    async def _route(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, str]:
        if path == "/_lb/health":
            return _json(200, {"status": "ok", "service": self.settings.service})
        route = self._match(method, path)
        if route is None:
            return _json(404, {"detail": f"no route for {method} {path}"})
        set_context(headers.get("x-request-id"), headers.get("traceparent") or new_traceparent())
        set_budget(headers.get(BUDGET_HEADER))  # a client's budget, else our timeout is it
        assert self.client is not None
        try:
            reply = await self.client.call(
                route.target,
                method,
                f"{path}?{query}" if query else path,
                data=body or None,
                headers=headers,
                policy=route.policy,
            )
        except CallError as exc:
            return _json(exc.status, {"detail": exc.detail})
        return reply.status, reply.body, reply.content_type


async def _rejected(exc: BodyRejected) -> tuple[int, bytes, str]:
    return _json(exc.status, {"detail": exc.detail})


def _json(status: int, content: Any) -> tuple[int, bytes, str]:
    return status, json.dumps(content).encode(), "application/json"


class _Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1 parsed by httptools, keep-alive, answers in order."""

    def __init__(self, balancer: Balancer) -> None:
        self.balancer = balancer
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.size = 0  # bytes of the body so far: past the limit the request gets a 413
        self.last: asyncio.Future[None] | None = None  # the previous answer, for pipelining

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:  # also upgrades: this proxy speaks plain HTTP/1.1
            self._write(400, b'{"detail": "malformed request"}', "application/json", False)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = {}
        self.body = []
        self.size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        if key in _PASS:
            self.headers[key] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size <= MAX_BODY_BYTES:  # past the limit nothing more is kept
            self.body.append(body)

    def on_message_complete(self) -> None:
        url = httptools.parse_url(self.url)
        method = self.parser.get_method().decode("latin-1")
        keep = self.parser.should_keep_alive()
        path = (url.path or b"/").decode("latin-1")
        query = (url.query or b"").decode("latin-1")
        if self.size > MAX_BODY_BYTES:
            answer = _rejected(too_large(self.size))
        else:
            answer = self.balancer.handle(method, path, query, self.headers, b"".join(self.body))
        self.last = asyncio.ensure_future(self._answer(answer, self.last, method, keep))

    async def _answer(
        self,
        answer: Awaitable[tuple[int, bytes, str]],
        previous: asyncio.Future[None] | None,
        method: str,
        keep: bool,
    ) -> None:
        try:
            status, body, ctype = await answer
        except Exception as exc:  # a bug, not an upstream failure (those are CallErrors)
            status, body, ctype = _json(500, {"detail": f"balancer error: {exc}"})
        if previous is not None and not previous.done():
            await previous  # pipelined requests are answered in the order they came
        self._write(status, b"" if method == "HEAD" else body, ctype, keep, len(body))

    def _write(
        self, status: int, body: bytes, ctype: str, keep: bool, length: int | None = None
    ) -> None:
        if self.transport is None:
            return
        head = _STATUS.get(status) or _status_line(status)
        self.transport.write(
            b"".join(
                (
                    head,
                    b"content-type: ",
                    ctype.encode("latin-1"),
                    b"\r\ncontent-length: %d\r\n" % (len(body) if length is None else length),
                    b"" if keep else b"connection: close\r\n",
                    b"\r\n",
                    body,
                )
            )
        )
        if not keep:
            self.transport.close()
            self.transport = None


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


_STATUS = {code: _status_line(code) for code in (200, 201, 204, 400, 401, 404, 409, 422, 502)}


async def serve(spec: dict[str, Any], settings: Settings, host: str, port: int) -> None:
    """Serve the balancer until SIGTERM/SIGINT, then close the pools."""
    balancer = Balancer(spec, settings)
    await balancer.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await loop.create_server(
        lambda: _Connection(balancer), host, port, backlog=2048, reuse_address=True
    )
    freeze_startup_heap()
    try:
        await stop.wait()
    finally:
        server.close()
        await balancer.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve the balancer described in the manifest until SIGTERM."""
    parser = argparse.ArgumentParser(prog="archsim_runtime.balancer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--component", required=True)
    args = parser.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    spec = manifest["balancers"][args.component]
    settings = Settings.from_env(args.component)
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    asyncio.run(serve(spec, settings, args.host, args.port))


if __name__ == "__main__":
    main()
