"""The runtime of one generated service: app factory, lifespan and the step primitives its
handlers call (compute, call, forward, authorize, cache, query, publish, send mail).

Generated ``app.py`` files build a ``Runtime`` from a SPEC dict the generator wrote (which
components this one talks to and how) and call these methods in the order of the model's steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import MetaData
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from . import traced, tracing
from .auth import TokenCache, bearer_token, client_header, hash_rounds, rounds_warning
from .broker import Broker
from .cache import Cache, RawJSON
from .client import (
    DEFAULT_POLICY,
    CallError,
    CallPolicy,
    Discovery,
    Reply,
    ServiceClient,
    hop_detail,
)
from .context import (
    TraceMiddleware,
    current_traceparent,
    remaining,
    set_authorization,
    set_context,
)
from .db import SQLITE_BUSY_MS, Database, first_delivery, inbox_table
from .emulation import Emulator
from .front import Front
from .lifecycle import run_periodic, run_startup
from .logs import configure_logging
from .mail import send_mail
from .metrics import Metrics, OperationTimer, render
from .outbox import Relay, outbox_table, stage
from .proxy import ForwardRoute, HopError
from .registry import RegistryClient
from .saga import Saga
from .settings import Settings
from .traced import TracedFront, mail_attributes
from .tracing import Tracer

__all__ = ["HopError", "Runtime"]

Consumer = Callable[[dict[str, Any]], Awaitable[None]]


async def _hop_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HopError)
    return JSONResponse(
        {"detail": exc.detail, "hop": True}, status_code=exc.status_code, headers=exc.headers
    )


class Runtime:
    """Everything one service instance needs at run time, wired from ``spec`` and the env."""

    def __init__(self, spec: dict[str, Any], metadata: MetaData | None = None) -> None:
        self.spec = spec
        self.component: str = spec["component"]
        self.settings = Settings.from_env(self.component)
        # None unless ARCHSIM_TRACE is on: every tracing hook below is one `is None` test
        self.tracer: Tracer | None = tracing.from_settings(self.settings)
        self.log = configure_logging(
            self.component, self.settings.instance, self.settings.log_level
        )
        self.metadata = metadata or MetaData()
        # consumers that write keep an inbox in their database (exactly-once effects)
        self._inbox = inbox_table(self.metadata) if spec.get("consumes") else None
        # writers that publish stage their events in an outbox beside their rows
        publishes = spec.get("brokers") and spec.get("databases")
        self._outbox = outbox_table(self.metadata) if publishes else None
        self.relay: Relay | None = None
        self._staged: dict[int, list[str]] = {}  # id(conn) → events staged in its transaction
        self.metrics = Metrics(self.component)
        self.emulator = Emulator(
            self.settings.emulate, spec.get("service_time"), spec.get("operation_time")
        )
        self.discovery = Discovery(self.settings, dict(spec.get("registered", {})))
        self.config: dict[str, Any] = {}
        self.tokens = TokenCache(self.settings.token_cache_s)
        self.databases: dict[str, Database] = {}
        self.caches: dict[str, Cache] = {}
        self.brokers: dict[str, Broker] = {}
        self.registries: dict[str, RegistryClient] = {}
        self.client: ServiceClient | None = None
        self.forward_routes: list[ForwardRoute] = []
        self._consumers: list[tuple[str, str, str, Consumer]] = []
        self._session: aiohttp.ClientSession | None = None
        self.app: FastAPI | None = None

    # -- app and lifespan ----------------------------------------------------------------

    def create_app(self, title: str, description: str = "", version: str = "0.1.0") -> FastAPI:
        """A FastAPI app with lifespan, tracing middleware, /health, /ready and /metrics."""
        app = FastAPI(title=title, description=description, version=version, lifespan=self._life)
        app.add_middleware(TraceMiddleware)
        app.add_exception_handler(IntegrityError, _conflict)
        app.add_exception_handler(OverflowError, _out_of_range)
        app.add_exception_handler(DataError, _out_of_range)
        app.add_exception_handler(HopError, _hop_error)
        app.add_exception_handler(OperationalError, _unavailable)
        app.add_api_route("/health", self._health, methods=["GET"], tags=["ops"])
        app.add_api_route("/ready", self._ready, methods=["GET"], tags=["ops"])
        app.add_api_route("/metrics", self._metrics, methods=["GET"], tags=["ops"])
        app.state.runtime = self
        self.app = app
        return app

    @contextlib.asynccontextmanager
    async def _life(self, app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    def _url(self, component: str, kind: str, default: str | None = None) -> str:
        url = self.settings.resource_url(component, kind) or default
        if not url:
            raise RuntimeError(
                f"no URL for {kind} {component!r}: set ARCHSIM_URL_{component.upper()}"
            )
        return url

    async def start(self) -> None:
        """Connect to everything, run start-up steps, register, start consumers."""
        set_context(f"startup-{self.settings.instance}", None)
        warning = rounds_warning(hash_rounds()) if self.spec.get("passwords") else None
        if warning:
            self.log.warning(warning)
        connector = aiohttp.TCPConnector(limit=512, limit_per_host=128, keepalive_timeout=30)
        self._session = aiohttp.ClientSession(connector=connector)
        self.client = traced.client(self.tracer, self._session, self.discovery)
        if self.tracer is not None:
            await self.tracer.start()
        ns = f"{self.settings.stack}"
        for name, db in self.spec.get("databases", {}).items():
            default = f"sqlite:///{name}.sqlite3"
            url = self._url(name, "database", default)
            self.databases[name] = Database(url, self.metadata, int(db.get("pool", 5)))
            if self.tracer is not None:
                traced.watch_database(self.tracer, name, self.databases[name])
            await self.databases[name].create_schema()
            if self.spec.get("seed_rows"):
                await self.databases[name].seed(int(self.spec["seed_rows"]))
        for name in self.spec.get("caches", []):
            self.caches[name] = traced.cache(
                self.tracer, name, self._url(name, "cache"), f"{ns}:{name}"
            )
        for name in self.spec.get("brokers", []):
            url = self._url(name, "broker")
            self.brokers[name] = traced.broker(
                self.tracer, name, url, f"{ns}:{name}", self.settings.redeliver_s
            )
        for registry in {
            *self.spec.get("registers_with", []),
            *self.spec.get("registered", {}).values(),
        }:
            client = RegistryClient(
                self._session,
                self.settings.addresses(registry),
                component=registry,
                tracer=self.tracer,
            )
            self.registries[registry] = client
            self.discovery.attach(registry, client)
        # the model's lifecycle: start-up calls in order, then its background work
        lifecycle = self.spec.get("lifecycle", {})
        await run_startup(self, lifecycle.get("startup", []))
        periodic = lifecycle.get("periodic", [])
        run_periodic(self, periodic, {"heartbeat": self.settings.heartbeat_s,
                                      "discovery": self.settings.lookup_ttl_s})  # fmt: skip
        if self._outbox is not None:
            self.relay = Relay(self._outbox, self.databases, self.brokers)
            self.relay.start()
        for broker, event, group, handler in self._consumers:
            self.brokers[broker].subscribe(event, group, self.settings.instance, handler)
        self.log.info("started", extra={"fields": {"url": self.settings.self_url}})

    async def fetch_config(self, target: str) -> None:
        """A start-up ``get_config`` step: this service's settings from ``target``."""
        path = f"/config/{self.component}"
        for attempt in range(20):  # the launcher starts config first; tolerate a slow start
            try:
                reply = await self.call(target, "GET", path, policy=CallPolicy(timeout=2.0))
                if reply.ok:
                    self.config.update(reply.json() or {})
                    return
            except HTTPException:
                pass
            await asyncio.sleep(min(0.1 * 2**attempt, 1.0))
        raise RuntimeError(f"could not fetch configuration from {target}")

    async def register(self, registry: str) -> None:
        """A start-up ``register`` step: this instance joins ``registry``."""
        client = self.registries[registry]
        await client.register(self.component, self.settings.instance, self.settings.self_url)

    def start_heartbeats(self, registry: str, interval_s: float) -> None:
        """A periodic ``heartbeat`` step: refresh the registration every ``interval_s``."""
        self.registries[registry].start_heartbeats(interval_s)

    def cache_lookups(self, registry: str, ttl_s: float) -> None:
        """A periodic ``lookup`` step: look instances up again once ``ttl_s`` has passed."""
        self.registries[registry].lookup_ttl_s = ttl_s

    async def stop(self) -> None:
        """Leave the registry first (no new traffic), then stop consumers and close pools."""
        for client in self.registries.values():
            await client.deregister()
        if self.relay is not None:
            await self.relay.stop()
        resources: list[Broker | Cache | Database] = [
            *self.brokers.values(),
            *self.caches.values(),
            *self.databases.values(),
        ]
        for resource in resources:
            with contextlib.suppress(Exception):
                await resource.close()
        if self.client is not None:
            self.client.close()
        if self._session is not None:
            await self._session.close()
        if self.tracer is not None:
            await self.tracer.close()
        self.log.info("stopped")

    async def _health(self) -> dict[str, str]:
        return {"status": "ok", "service": self.component, "instance": self.settings.instance}

    async def _ready(self) -> JSONResponse:
        checks: dict[str, bool] = {}
        for kind, items in (
            ("db", self.databases),
            ("cache", self.caches),
            ("broker", self.brokers),
        ):
            for name, item in items.items():
                try:
                    checks[f"{kind}:{name}"] = bool(await asyncio.wait_for(item.ping(), 2.0))
                except Exception:
                    checks[f"{kind}:{name}"] = False
                if isinstance(item, Broker) and not item.healthy:
                    checks[f"{kind}:{name}"] = False  # answers, but our consumers cannot read
        for name in self.spec.get("registers_with", []):
            checks[f"registry:{name}"] = self.registries[name].registered
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    async def _metrics(self) -> Response:
        body, content_type = render()
        return Response(body, media_type=content_type)

    # -- step primitives -------------------------------------------------------------------

    def operation(self, name: str, ok: int = 200) -> OperationTimer:
        """``async with rt.operation("get_product"):`` — counts and times one request
        (labelled with ``ok`` as its status when it succeeds)."""
        if self.tracer is not None:
            self.tracer.name_operation(name)
        return self.metrics.operation(name, ok)

    def compute(self, operation: str | None = None) -> None:
        """The compute step: spend the modelled service time (the operation's own when the
        model gives it one) with emulation on, or nothing."""
        self.emulator.compute(operation)

    def chance(self, p: float) -> bool:
        """Does a step with probability ``p`` happen this time?"""
        return self.emulator.chance(p)

    async def call(
        self,
        target: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        policy: CallPolicy = DEFAULT_POLICY,
    ) -> Reply:
        """A call step: the reply (2xx-4xx), or HTTPException 502/503/504 when it failed."""
        assert self.client is not None, "runtime not started"
        try:
            reply = await self.client.call(
                target, method, path, json_body=json, data=data, headers=headers, policy=policy
            )
        except CallError as exc:
            self.metrics.call(target, "failed")
            self.call_failed(target, method, path, exc.status, exc.detail)
            raise HopError(exc.status, exc.detail) from None
        self.metrics.call(target, "ok" if reply.ok else "client_error")
        return reply

    def call_failed(self, target: str, method: str, path: str, status: int, cause: str) -> None:
        """One JSON log line per failed outbound call (the trace id comes with the context)."""
        fields: dict[str, object] = {
            "event": "call_failed",
            "target": target,
            "method": method,
            "path": path,
        }
        fields |= {"status": status, "cause": cause}
        self.log.warning(f"call to {target} failed: {cause}", extra={"fields": fields})

    async def call_json(self, target: str, method: str, path: str, **kw: Any) -> Any:
        """A call whose reply must be 2xx: its JSON. A 404 means the request named something
        that does not exist (422 upstream); other 4xx are our bug (502)."""
        reply = await self.call(target, method, path, **kw)
        if reply.ok:
            return reply.json()
        cause = hop_detail(target, reply.status, reply.body)
        self.call_failed(target, method, path, reply.status, cause)
        if reply.status == 404:
            raise HTTPException(422, f"{target}: {path} not found")
        raise HopError(502, f"{cause} (to {method} {path})")

    async def forward(
        self, request: Request, target: str, path: str, policy: CallPolicy = DEFAULT_POLICY
    ) -> Response:
        """A proxy step: send the request on to ``target`` unchanged; answer what it answers."""
        body = await request.body()
        headers = {"content-type": request.headers.get("content-type", "application/json")}
        authorization = request.headers.get("authorization")
        if authorization:
            headers["authorization"] = authorization
        if request.url.query:
            path = f"{path}?{request.url.query}"
        reply = await self.call(
            target, request.method, path, data=body or None, headers=headers, policy=policy
        )
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)

    async def authorize(
        self, request: Request, auth: str, policy: CallPolicy = DEFAULT_POLICY
    ) -> dict[str, Any]:
        """A validate-token step: the caller's claims, checked by ``auth`` (cached until the
        token expires); 401 without a valid bearer token."""
        return await self.authorize_header(request.headers.get("authorization"), auth, policy)

    async def authorize_header(
        self, authorization: str | None, auth: str, policy: CallPolicy = DEFAULT_POLICY
    ) -> dict[str, Any]:
        """``authorize`` given the raw ``Authorization`` header."""
        token = bearer_token(authorization)
        if token is None:
            raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
        claims = self.tokens.get(token)
        if claims is not None:
            return claims
        reply = await self.call(
            auth, "POST", "/tokens/validate", json={"token": token}, policy=policy
        )
        if not reply.ok:
            raise HTTPException(401, "invalid or expired token", {"WWW-Authenticate": "Bearer"})
        claims = reply.json()["claims"]
        self.tokens.put(token, claims)
        return claims

    async def service_token(self, auth: str, policy: CallPolicy = DEFAULT_POLICY) -> Any:
        """A call-issue_token step of an event handler (rule consume.token): a token for this
        service itself (subject ``service:<id>``), minted with its client credential; the
        handler's later calls carry it."""
        reply = await self.call_json(
            auth, "POST", "/tokens",
            json={"subject": f"service:{self.component}", "claims": {"service": self.component}},
            headers=self.client_headers(), policy=policy,
        )  # fmt: skip
        set_authorization(f"Bearer {reply['access_token']}")
        return reply

    def client_headers(self) -> dict[str, str]:
        """Headers that prove this service to the auth service when it mints a token (its
        client credential, ``ARCHSIM_CLIENT_SECRET``, given by the launcher)."""
        secret = self.settings.env.get("ARCHSIM_CLIENT_SECRET")
        return {"authorization": client_header(self.component, secret)} if secret else {}

    def fast_forward(self, routes: list[ForwardRoute]) -> None:
        """Serve these proxy operations from the ASGI fast path (``front()``) ahead of
        FastAPI's router (same steps as the generated endpoints, kept for OpenAPI and tests)."""
        self.forward_routes = sorted(
            [*self.forward_routes, *routes], key=lambda r: ("{" in r.path, -len(r.path))
        )

    def front(self) -> Front:
        """The ASGI callable to serve: the fast path, then the FastAPI app (``serve`` uses it)."""
        assert self.app is not None, "create_app first"
        if self.tracer is not None:
            return TracedFront(self.app, self, self.tracer)
        return Front(self.app, self)

    async def cache_get(self, cache: str, key: str) -> Any | None:
        """A cache-get step: the cached value or None (a miss)."""
        value = await self.within(f"cache {cache}", self.caches[cache].get(key))
        self.metrics.cache(cache, value is not None)
        return value

    async def cache_set(self, cache: str, key: str, value: Any, ttl_s: float) -> None:
        """A cache-set step (fill after a miss)."""
        await self.within(f"cache {cache}", self.caches[cache].set(key, value, ttl_s))

    async def cache_delete(self, cache: str, *keys: str) -> None:
        """A cache-delete step (invalidate after a write)."""
        await self.within(f"cache {cache}", self.caches[cache].delete(*keys))

    def db(self, name: str) -> Database:
        """The database component ``name``."""
        return self.databases[name]

    async def within(self, what: str, work: Coroutine[Any, Any, Any]) -> Any:
        """Await ``work`` no longer than this request's budget: a wait for a resource never
        outlasts the call that waits for it (504 naming ``what`` when the budget runs out)."""
        left = remaining()
        if left is None:
            return await work
        if left <= 0:
            work.close()
            raise HopError(504, f"deadline passed before {what}")
        try:
            return await asyncio.wait_for(work, left)
        except TimeoutError:
            raise HopError(504, f"deadline passed waiting for {what}") from None

    @contextlib.asynccontextmanager
    async def transaction(self, name: str) -> AsyncIterator[AsyncConnection]:
        """A write step's transaction on database ``name``, inside this request's budget: the
        pool wait and SQLite's busy wait end with the budget, and work whose deadline passed
        is rolled back, not committed (the caller has stopped waiting for it)."""
        async with self._connection(name) as conn:
            staged: list[str] = []
            self._staged[id(conn)] = staged
            try:
                async with conn.begin():
                    left = remaining()
                    if left is not None and conn.dialect.name == "postgresql":
                        ms = max(1, int(left * 1000))  # LOCAL: ends with this transaction
                        await conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
                    yield conn
                    left = remaining()
                    if left is not None and left <= 0:
                        raise HopError(
                            504, f"deadline passed before the commit to {name}: rolled back"
                        )
            finally:
                self._staged.pop(id(conn), None)
        if staged and self.relay is not None:  # committed: hand the events to the broker now
            await self.relay.send(name, staged)

    @contextlib.asynccontextmanager
    async def reading(self, name: str) -> AsyncIterator[AsyncConnection]:
        """A read step's connection on database ``name`` (its waits inside the budget)."""
        async with self._connection(name) as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def _connection(self, name: str) -> AsyncIterator[AsyncConnection]:
        conn = self.databases[name].engine.connect()
        await self.within(f"a connection to {name}", conn.start())
        bounded = False
        try:
            left = remaining()
            if left is not None and conn.dialect.name == "sqlite":
                bounded = True
                # a locked file is waited for only as long as our caller waits for us
                await conn.exec_driver_sql(f"PRAGMA busy_timeout = {max(1, int(left * 1000))}")
                await conn.commit()  # ends the autobegun transaction: the step begins its own
            yield conn
        finally:
            if bounded:  # the pooled connection's next user gets the usual wait again
                with contextlib.suppress(Exception):
                    await conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            await conn.close()

    @contextlib.asynccontextmanager
    async def saga(self) -> AsyncIterator[Saga]:
        """An operation with compensable steps (the model's ``compensation``): when it fails
        after one of them succeeded, their undos run before the error is answered."""
        saga = Saga(self.call_json, self.log, self.metrics)
        try:
            yield saga
        except BaseException as exc:
            await saga.compensate(exc)
            raise

    async def publish(
        self, broker: str, event: str, data: dict[str, Any], conn: AsyncConnection | None = None
    ) -> str:
        """A publish step: returns the event id once the broker has the event. Inside a
        write's transaction (``conn``) the event is staged in the outbox instead and sent
        once that transaction commits: no event without its row, no row without its event."""
        if conn is not None and self._outbox is not None and id(conn) in self._staged:
            staged = await stage(conn, self._outbox, broker, event, data, current_traceparent())
            self._staged[id(conn)].append(staged)
            self.metrics.event(event, "published")
            return staged
        event_id = await self.within(f"broker {broker}", self.brokers[broker].publish(event, data))
        self.metrics.event(event, "published")
        return event_id

    async def first_delivery(self, conn: Any, event: dict[str, Any]) -> bool:
        """A consume step's write: record the event in this service's inbox, in the write's
        own transaction; False for a redelivery whose write was already committed."""
        assert self._inbox is not None, "no consumer here"
        return await first_delivery(conn, self._inbox, self.component, str(event["event_id"]))

    def consumer(self, broker: str, event: str, operation: str) -> Callable[[Consumer], Consumer]:
        """Register an event handler (a consume operation); one consumer group per service."""

        def decorate(handler: Consumer) -> Consumer:
            async def run(payload: dict[str, Any]) -> None:
                if self.tracer is None:
                    async with self.operation(operation):
                        await handler(payload)
                else:
                    group = self.component
                    async with (
                        self.tracer.consuming(broker, event, group, operation, payload),
                        self.operation(operation),
                    ):
                        await handler(payload)
                self.metrics.event(event, "consumed")

            self._consumers.append((broker, event, self.component, run))
            return handler

        return decorate

    async def before(
        self, handlers: Any, name: str, payload: dict[str, Any], request: Request
    ) -> dict[str, Any]:
        """The payload the steps use: the request's, passed through the user's hook
        ``handlers.before_<name>`` when there is one. The hook runs before any step, so an
        ``HTTPException`` it raises (a 422 for a body a business rule refuses) stops the
        request before anything is called or written; returning None keeps the payload."""
        hook = getattr(handlers, f"before_{name}", None)
        if hook is None:
            return payload
        changed = await hook(payload, request)
        return payload if changed is None else changed

    async def finish(
        self, handlers: Any, name: str, result: Any, payload: dict[str, Any], status: int = 200
    ) -> Response:
        """The response: the result passed through the user's hook ``handlers.<name>`` when
        there is one, serialized once (a cache hit's bytes go out as they are)."""
        hook = getattr(handlers, name, None)
        if hook is not None:
            if isinstance(result, RawJSON):
                result = json.loads(result)
            result = await hook(result, payload)
        if isinstance(result, Response):
            return result
        body = result if isinstance(result, RawJSON) else json.dumps(result, default=str).encode()
        return Response(body, status_code=status, media_type="application/json")

    async def send_mail(
        self, target: str, subject: str, body: str, to: str | None = None, key: str | None = None
    ) -> None:
        """A sends-via step: one message over SMTP to ``target`` (the stack's sink locally).
        ``key`` (a consumer's event id) makes the Message-ID, so sending it again after a
        redelivery is the same message, which the receiver keeps once."""
        url = self._url(target, "smtp")
        sender = f"{self.component}@{self.settings.stack}.local"
        headers = {"Message-ID": f"<{key}.{self.component}@{self.settings.stack}.local>"}
        span: Any = contextlib.nullcontext()
        if self.tracer is not None:
            span = self.tracer.span("SMTP send", 3, mail_attributes(target))
        try:
            async with span:
                await send_mail(
                    url,
                    sender=sender,
                    to=to or f"customer@{self.settings.stack}.local",
                    subject=subject,
                    body=body,
                    headers=headers if key else None,
                )
        except OSError as exc:
            self.metrics.call(target, "failed")
            self.call_failed(target, "SMTP", "MAIL", 502, f"{target}: {exc}")
            raise HopError(502, f"{target} did not take the mail: {exc}") from None
        self.metrics.call(target, "ok")


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    """A number the database cannot hold (a path id past 64 bits): the client's input (422)."""
    return JSONResponse(
        {"detail": "a number in the request is out of range (integers must fit in 64 bits)"},
        status_code=422,
    )


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database could not do the work in time (locked, busy, timed out): nothing of it was
    committed, and trying again later may succeed (503)."""
    cause = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
    return JSONResponse({"detail": f"database unavailable: {cause}"}, status_code=503)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    """A unique or foreign-key constraint said no: the client's data conflicts (409)."""
    return JSONResponse({"detail": "conflicts with existing data"}, status_code=409)
