"""The runtime of one generated service: app factory, lifespan, and the step primitives its
handlers call (compute, call, forward, authorize, cache, query, publish, send mail).

Generated ``app.py`` files build a ``Runtime`` from a SPEC dict the generator wrote (which
components this one talks to and how) and call these methods in the order of the model's steps.
The steps that reach other components live in ``call_steps``, those on caches, databases and
brokers in ``data_steps``; this module wires them to the app and its lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import MetaData

from . import traced, tracing
from .auth import TokenCache, hash_rounds, rounds_warning
from .broker import Broker
from .cache import Cache, RawJSON
from .call_steps import CallSteps
from .client import CallPolicy, Discovery, ServiceClient
from .context import TraceMiddleware, set_context
from .data_steps import DataSteps
from .db import Database, inbox_table
from .emulation import Emulator
from .error_answers import add_error_answers
from .front import Front
from .lifecycle import run_periodic, run_startup
from .logs import configure_logging
from .metrics import Metrics, OperationTimer, render
from .outbox import Relay, outbox_table
from .proxy import ForwardRoute, HopError
from .registry import RegistryClient
from .saga import Saga
from .settings import Settings
from .traced import TracedFront
from .tracing import Tracer

__all__ = ["HopError", "Runtime"]

Consumer = Callable[[dict[str, Any]], Awaitable[None]]


class Runtime(CallSteps, DataSteps):
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
        # how long validated tokens are trusted: the model's (SPEC), unless the env says
        cache_s = self.settings.token_cache_s
        self.tokens = TokenCache(float(spec["token_cache_s"]) if cache_s is None else cache_s)
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
        add_error_answers(app)
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
        await self._open_databases()
        self._open_caches_and_brokers()
        self._attach_registries(self._session)
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

    async def _open_databases(self) -> None:
        """Each database: its pool, its schema, and its seed rows when the SPEC asks."""
        for name, db in self.spec.get("databases", {}).items():
            url = self.settings.required_url(name, "database", f"sqlite:///{name}.sqlite3")
            self.databases[name] = Database(url, self.metadata, int(db["pool"]))  # the model's
            if self.tracer is not None:
                traced.watch_database(self.tracer, name, self.databases[name])
            await self.databases[name].create_schema()
            if self.spec.get("seed_rows"):
                await self.databases[name].seed(int(self.spec["seed_rows"]))

    def _open_caches_and_brokers(self) -> None:
        """Each cache and broker, its keys under this stack's namespace."""
        ns = f"{self.settings.stack}"
        for name in self.spec.get("caches", []):
            url = self.settings.required_url(name, "cache")
            self.caches[name] = traced.cache(self.tracer, name, url, f"{ns}:{name}")
        redeliver = self.settings.redeliver_s  # the environment's, else the model's
        for name in self.spec.get("brokers", []):
            url = self.settings.required_url(name, "broker")
            seconds = float(self.spec["redeliver_s"]) if redeliver is None else redeliver
            self.brokers[name] = traced.broker(self.tracer, name, url, f"{ns}:{name}", seconds)

    def _attach_registries(self, session: aiohttp.ClientSession) -> None:
        """A client for each registry this service registers with or looks callees up in."""
        for registry in {
            *self.spec.get("registers_with", []),
            *self.spec.get("registered", {}).values(),
        }:
            client = RegistryClient(
                session,
                self.settings.addresses(registry),
                self.settings.lookup_ttl_s or float(self.spec["lookup_ttl_s"]),
                component=registry,
                tracer=self.tracer,
            )
            self.registries[registry] = client
            self.discovery.attach(registry, client)

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
