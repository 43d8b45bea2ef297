"""The runtime's parts with spans (``archsim.runtime.tracing``): ``TracedFront`` (a server span
per request), ``TracedClient`` (HTTP client spans; the callee's server span is its child),
``TracedCache``, ``TracedBroker`` (publish; the event carries the span), SQL spans from
SQLAlchemy's events, and the factories the runtime builds its parts with (the plain part when
tracing is off).
"""

from __future__ import annotations

import time
from typing import Any

from .broker import Broker
from .cache import Cache, RawJSON
from .client import CallError, Reply, ServiceClient
from .context import child_traceparent, current_traceparent, reset_traceparent, use_traceparent
from .front import Front
from .tracing import _HOUSEKEEPING, _PROBES, ServerSpan, SpanKind, Tracer, _server

__all__ = [
    "TracedBroker",
    "TracedCache",
    "TracedClient",
    "TracedFront",
    "broker",
    "cache",
    "client",
    "mail_attributes",
    "watch_database",
]


class TracedFront(Front):
    """``Front`` with a server span per request (probes excepted): parent from the caller's
    ``traceparent``, named by the model's operation the handler ran."""

    def __init__(self, app: Any, runtime: Any, tracer: Tracer) -> None:
        super().__init__(app, runtime)
        self.tracer = tracer

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        tracer = self.tracer
        if scope["type"] != "http" or scope["path"] in _PROBES:
            await super().__call__(scope, receive, send)
            return
        parent = None
        for name, value in scope["headers"]:
            if name == b"traceparent":
                parent = value.decode("latin-1")
                break
        server = ServerSpan()
        token = _server.set(server)
        status = 500
        start = time.time_ns()

        async def _send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await super().__call__(scope, receive, _send)
        finally:
            _server.reset(token)
            traceparent = current_traceparent()  # enter_request made it: this span's id
            if traceparent is not None and traceparent != parent:
                method = scope["method"]
                attrs = {
                    "http.request.method": method,
                    "url.path": scope["path"],
                    "url.scheme": "http",
                    "http.response.status_code": status,
                    "archsim.operation": server.operation,
                }
                name = server.operation or f"{method} {scope['path']}"
                error = f"HTTP {status}" if status >= 500 else None
                tracer.record(name, SpanKind.SERVER, traceparent, parent, start, attrs, error)


class TracedClient(ServiceClient):
    """``ServiceClient`` with a client span per logical call; the callee's server span is its
    child (the span's traceparent goes in the request)."""

    tracer: Tracer

    def __init__(self, session: Any, discovery: Any, tracer: Tracer) -> None:
        super().__init__(session, discovery)
        self.tracer = tracer

    async def call(
        self,
        target: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> Reply:
        parent = current_traceparent()
        traceparent = child_traceparent(parent)
        start = time.time_ns()
        sent = {**headers, "traceparent": traceparent} if headers else {"traceparent": traceparent}
        attrs: dict[str, Any] = {
            "http.request.method": method,
            "url.path": path.split("?", 1)[0],
            "server.address": target,
            "peer.service": target,
        }
        try:
            reply = await super().call(target, method, path, headers=sent, **kw)
        except CallError as exc:
            attrs["http.response.status_code"] = exc.status
            error = exc.detail
            self.tracer.record(method, SpanKind.CLIENT, traceparent, parent, start, attrs, error)
            raise
        attrs["http.response.status_code"] = reply.status
        self.tracer.record(method, SpanKind.CLIENT, traceparent, parent, start, attrs)
        return reply


class TracedCache(Cache):
    """``Cache`` with a client span per get, set and delete (``db.system`` redis)."""

    def __init__(self, url: str, namespace: str, component: str, tracer: Tracer) -> None:
        super().__init__(url, namespace)
        self.component = component
        self.tracer = tracer

    def _attrs(self, operation: str) -> dict[str, Any]:
        return {
            "db.system": "redis",
            "db.system.name": "redis",
            "db.operation.name": operation,
            "server.address": self.component,
            "peer.service": self.component,
        }

    async def get(self, key: str) -> RawJSON | None:
        attrs = self._attrs("GET")
        async with self.tracer.span("GET", SpanKind.CLIENT, attrs):
            value = await super().get(key)
            attrs["archsim.cache.hit"] = value is not None  # before the span ends
        return value

    async def set(self, key: str, value: Any, ttl_s: float) -> None:
        async with self.tracer.span("SET", SpanKind.CLIENT, self._attrs("SET")):
            await super().set(key, value, ttl_s)

    async def delete(self, *keys: str) -> None:
        if keys:
            async with self.tracer.span("DEL", SpanKind.CLIENT, self._attrs("DEL")):
                await super().delete(*keys)


class TracedBroker(Broker):
    """``Broker`` with a producer span per publish; the event carries the span's traceparent,
    so the consumer's span is its child."""

    def __init__(
        self, url: str, namespace: str, redeliver_s: float, component: str, tracer: Tracer
    ) -> None:
        super().__init__(url, namespace, redeliver_s)
        self.component = component
        self.tracer = tracer

    async def publish(
        self,
        event: str,
        data: dict[str, Any],
        *,
        event_id: str | None = None,
        traceparent: str | None = None,
    ) -> str:
        attrs: dict[str, Any] = {
            "messaging.system": "redis",
            "messaging.operation.type": "send",
            "messaging.destination.name": event,
            "server.address": self.component,
            "peer.service": self.component,
        }
        # An outbox row is sent after its write committed, by the relay: the producer span is
        # still the child of the operation that staged it (``traceparent``), and the event
        # carries the producer span's identity, so the consumer stays in the same trace.
        token = use_traceparent(traceparent) if traceparent is not None else None
        try:
            span = self.tracer.span(f"publish {event}", SpanKind.PRODUCER, attrs, enclose=True)
            async with span:
                published = await super().publish(event, data, event_id=event_id)
                attrs["messaging.message.id"] = published  # before the span ends
        finally:
            if token is not None:
                reset_traceparent(token)
        return published


def watch_database(tracer: Tracer, component: str, db: Any) -> None:
    """Client spans for every SQL statement on ``db`` (a ``db.Database``), from SQLAlchemy's
    cursor events: they run inside the awaiting task's context, so the parent is the span of
    the operation that runs the query."""
    from sqlalchemy import event

    system = "postgresql" if db.url.startswith("postgresql") else "sqlite"

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        # inside an operation only: a readiness probe's SELECT 1 has no span to hang from
        traced = _server.get() is not None
        context._archsim_span = (current_traceparent() if traced else None, time.time_ns())

    def after(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        _finish(context, statement, None)

    def failed(exception_context: Any) -> None:
        context = exception_context.execution_context
        if context is not None:
            _finish(
                context,
                exception_context.statement or "",
                str(exception_context.original_exception),
            )

    def _finish(context: Any, statement: str, error: str | None) -> None:
        opened = getattr(context, "_archsim_span", None)
        if opened is None:
            return
        context._archsim_span = None
        parent, start = opened
        if parent is None:  # schema creation and seeding at start-up: no request, no span
            return
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if verb in _HOUSEKEEPING:  # a new connection's pragmas, a statement timeout
            return
        attrs = {
            "db.system": system,
            "db.system.name": system,
            "db.namespace": component,
            "db.operation.name": verb,
            "db.query.text": statement,
            "server.address": component,
            "peer.service": component,
        }
        table = _table(statement, verb)
        if table:
            attrs["db.collection.name"] = table
        name = f"{verb} {table}" if table else verb
        tracer.record(name, SpanKind.CLIENT, child_traceparent(parent), parent, start, attrs, error)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "handle_error", failed)


def _table(statement: str, verb: str) -> str | None:
    """The table a simple statement works on (``SELECT … FROM t``, ``INSERT INTO t``…)."""
    words = statement.replace("\n", " ").replace('"', "").split()
    upper = [w.upper() for w in words]
    marker = {"SELECT": "FROM", "DELETE": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE"}.get(verb)
    if marker is None or marker not in upper:
        return None
    i = upper.index(marker) + 1
    return words[i].strip("(),;") if i < len(words) else None


def client(tracer: Tracer | None, session: Any, discovery: Any) -> ServiceClient:
    """The service client: traced when tracing is on."""
    if tracer is None:
        return ServiceClient(session, discovery)
    return TracedClient(session, discovery, tracer)


def cache(tracer: Tracer | None, component: str, url: str, namespace: str) -> Cache:
    """A cache client: traced when tracing is on."""
    if tracer is None:
        return Cache(url, namespace)
    return TracedCache(url, namespace, component, tracer)


def broker(
    tracer: Tracer | None, component: str, url: str, namespace: str, redeliver_s: float
) -> Broker:
    """A broker client: traced when tracing is on."""
    if tracer is None:
        return Broker(url, namespace, redeliver_s)
    return TracedBroker(url, namespace, redeliver_s, component, tracer)


def mail_attributes(target: str) -> dict[str, Any]:
    """Attributes of a sends-via (SMTP) client span."""
    return {"network.protocol.name": "smtp", "server.address": target, "peer.service": target}
