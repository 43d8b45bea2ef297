"""OpenTelemetry traces of a generated service: spans in OTLP, W3C ``traceparent`` across calls.

Off unless ``ARCHSIM_TRACE=1`` (``archsim up --trace``): then ``from_settings`` gives a
``Tracer`` and the runtime builds traced twins of its parts (``TracedFront`` for server spans,
``TracedClient`` for HTTP client spans, ``TracedCache``, ``TracedBroker`` for publish, SQLAlchemy
events for SQL); the consumer, SMTP and operation hooks live in ``service.Runtime``. With it off
nothing here runs, so the default fast path pays one ``is None`` test per step.

Span identity rides on the runtime's own context (``context``): the current ``traceparent`` *is*
the current span, a child traceparent is a new span, and the sampled flag of the root decides for
the whole trace (parent-based sampling). Spans follow OpenTelemetry's semantic conventions
(``http.request.method``, ``db.system``, ``messaging.destination.name``, ``peer.service``…) and
are exported, in batches once a second, as OTLP/JSON ``ExportTraceServiceRequest`` messages:
POSTed to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (``/v1/traces``, OTLP/HTTP with the JSON encoding)
when it is set, else appended one per line to ``ARCHSIM_TRACE_DIR/<instance>.otlp.jsonl`` (the
collector's file-exporter format). The encoder is written here rather than taken from the
OpenTelemetry SDK: the SDK's span objects, processors and protobuf encoding cost several times
more per span, and the runtime's hot path is what the benchmark measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from .broker import Broker
from .cache import Cache, RawJSON
from .client import CallError, Reply, ServiceClient
from .context import (
    child_traceparent,
    current_traceparent,
    reset_traceparent,
    set_sample_ratio,
    use_traceparent,
)
from .front import Front
from .settings import Settings

__all__ = [
    "SpanKind",
    "TracedBroker",
    "TracedCache",
    "TracedClient",
    "TracedFront",
    "Tracer",
    "TracingError",
    "from_settings",
    "sample_ratio",
    "watch_database",
]

log = logging.getLogger("archsim.tracing")


class SpanKind:
    """OTLP's span kinds (``Span.SpanKind`` in trace.proto)."""

    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5


class TracingError(ValueError):
    """A tracing setting that cannot be used (the service refuses to start, saying which)."""


_PROBES = frozenset({"/health", "/ready", "/metrics", "/_lb/health"})
_FLUSH_S = 1.0
_MAX_BUFFER = 4096  # spans kept between flushes; past it a flush runs at once
_SCOPE = {"name": "archsim.runtime", "version": "0.1.0"}
_ON = ("1", "true", "yes", "on")
_CACHE_SYSTEMS = "redis"
# statements that set a connection up rather than query: no span
_HOUSEKEEPING = frozenset({"PRAGMA", "SET", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})


class ServerSpan:
    """The server (or consumer) span being served: hooks inside name its operation."""

    __slots__ = ("attributes", "operation")

    def __init__(self) -> None:
        self.operation: str | None = None
        self.attributes: dict[str, Any] = {}


_server: ContextVar[ServerSpan | None] = ContextVar("archsim_server_span", default=None)


def sampled(traceparent: str | None) -> bool:
    """Is the trace of ``traceparent`` recorded (the low bit of its flags)?"""
    return traceparent is not None and len(traceparent) == 55 and traceparent[-1] in "13579bdf"


def sample_ratio(env: dict[str, str]) -> float:
    """The share of new traces to record: ``ARCHSIM_TRACE_SAMPLE`` (0…1), else OpenTelemetry's
    ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``; 1 by default. Children always follow
    their root's decision, so every sampler here is parent-based."""
    raw = env.get("ARCHSIM_TRACE_SAMPLE")
    if raw:
        return _ratio(raw, "ARCHSIM_TRACE_SAMPLE")
    sampler = env.get("OTEL_TRACES_SAMPLER", "parentbased_always_on").strip().lower()
    fixed = {
        "always_on": 1.0,
        "parentbased_always_on": 1.0,
        "always_off": 0.0,
        "parentbased_always_off": 0.0,
    }
    if sampler in fixed:
        return fixed[sampler]
    if sampler in ("traceidratio", "parentbased_traceidratio"):
        return _ratio(env.get("OTEL_TRACES_SAMPLER_ARG", "1.0"), "OTEL_TRACES_SAMPLER_ARG")
    raise TracingError(
        f"OTEL_TRACES_SAMPLER={sampler!r} is not a sampler archsim knows: use always_on, "
        "always_off, traceidratio or their parentbased_ forms"
    )


def _ratio(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise TracingError(f"{name}={raw!r} is not a number between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise TracingError(f"{name}={raw!r} is not between 0 and 1")
    return value


def from_settings(settings: Settings) -> Tracer | None:
    """The service's tracer when ``ARCHSIM_TRACE`` is on (and ``OTEL_SDK_DISABLED`` is not),
    else None."""
    env = settings.env
    if env.get("ARCHSIM_TRACE", "0").lower() not in _ON:
        return None
    if env.get("OTEL_SDK_DISABLED", "false").lower() in _ON:
        return None
    ratio = sample_ratio(env)
    set_sample_ratio(ratio)
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not endpoint and env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        endpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
    folder = Path(env.get("ARCHSIM_TRACE_DIR") or "traces")
    service = env.get("OTEL_SERVICE_NAME") or settings.service
    return Tracer(
        service,
        settings.instance,
        settings.stack,
        endpoint=endpoint,
        path=None if endpoint else folder / f"{settings.instance}.otlp.jsonl",
        headers=_headers(env.get("OTEL_EXPORTER_OTLP_HEADERS", "")),
    )


def _headers(raw: str) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS``: ``key=value,key2=value2``."""
    out: dict[str, str] = {}
    for item in raw.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def _value(value: Any) -> dict[str, Any]:
    """An OTLP ``AnyValue`` in its JSON form (int64 as a string, as protobuf's JSON writes it)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _attributes(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in attrs.items() if v is not None]


_dumps = json.dumps


def _json_attributes(attrs: dict[str, Any]) -> str:
    """``_attributes`` written straight to JSON text (the hot path: no objects for the GC)."""
    out = []
    for key, value in attrs.items():
        if value is None:
            continue
        if value is True or value is False:
            text = '{"boolValue":true}' if value else '{"boolValue":false}'
        elif isinstance(value, int):
            text = f'{{"intValue":"{value}"}}'
        elif isinstance(value, float):
            text = f'{{"doubleValue":{value!r}}}'
        else:
            text = f'{{"stringValue":{_dumps(str(value))}}}'
        out.append(f'{{"key":"{key}","value":{text}}}')
    return ",".join(out)


class Tracer:
    """Records finished spans of one service instance and exports them in batches."""

    def __init__(
        self,
        service: str,
        instance: str,
        stack: str,
        *,
        endpoint: str | None = None,
        path: Path | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.service = service
        self.instance = instance
        self.endpoint = endpoint
        self.path = path
        self.headers = {"content-type": "application/json", **(headers or {})}
        self.resource = {
            "attributes": _attributes(
                {
                    "service.name": service,
                    "service.instance.id": instance,
                    "service.namespace": stack,
                    "telemetry.sdk.name": "archsim",
                    "telemetry.sdk.language": "python",
                }
            )
        }
        self._spans: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._session: Any = None
        self.exported = 0
        self.failed_exports = 0

    # -- recording -------------------------------------------------------------------------

    def record(
        self,
        name: str,
        kind: int,
        traceparent: str,
        parent: str | None,
        start_ns: int,
        attributes: dict[str, Any],
        error: str | None = None,
        end_ns: int | None = None,
    ) -> None:
        """Keep one finished span (``traceparent`` names it; ``parent`` is its parent's
        traceparent, None for a root); a span of an unsampled trace is dropped."""
        if not sampled(traceparent):
            return
        # kept as JSON text: thousands of span dicts a second would keep the GC busy
        trace_id = traceparent[3:35]
        head = f'{{"traceId":"{trace_id}","spanId":"{traceparent[36:52]}",'
        if parent is not None and len(parent) == 55 and parent[3:35] == trace_id:
            head += f'"parentSpanId":"{parent[36:52]}",'
        end = end_ns or time.time_ns()
        tail = f',"status":{{"code":2,"message":{_dumps(error)}}}}}' if error is not None else "}"
        self._spans.append(
            f'{head}"name":{_dumps(name)},"kind":{kind},"startTimeUnixNano":"{start_ns}",'
            f'"endTimeUnixNano":"{end}","attributes":[{_json_attributes(attributes)}]{tail}'
        )
        if len(self._spans) >= _MAX_BUFFER and self._task is not None:
            asyncio.get_running_loop().create_task(self.flush())

    def span(
        self, name: str, kind: int, attributes: dict[str, Any], *, enclose: bool = False
    ) -> StepSpan:
        """``async with tracer.span(...):`` — a child of the current span around a step;
        ``enclose`` makes it current inside (so what the step sends carries it)."""
        return StepSpan(self, name, kind, attributes, enclose)

    def name_operation(self, operation: str) -> None:
        """The model's operation being served names the current server span."""
        span = _server.get()
        if span is not None:
            span.operation = operation

    @contextlib.asynccontextmanager
    async def consuming(
        self, broker: str, event: str, group: str, operation: str, payload: dict[str, Any]
    ) -> AsyncIterator[None]:
        """A consumer span around handling one event, child of the span that published it
        (its ``traceparent`` travelled in the message)."""
        traceparent = current_traceparent()  # the broker made it a child of the publisher's
        if traceparent is None:
            traceparent = child_traceparent(None)
            token = use_traceparent(traceparent)
        else:
            token = None
        server = ServerSpan()
        server.operation = operation
        span_token = _server.set(server)
        start = time.time_ns()
        error: str | None = None
        try:
            yield
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            _server.reset(span_token)
            if token is not None:
                reset_traceparent(token)
            attrs = {
                "messaging.system": "redis",
                "messaging.operation.type": "process",
                "messaging.destination.name": event,
                "messaging.consumer.group.name": group,
                "messaging.message.id": payload.get("event_id"),
                "peer.service": broker,
                "archsim.operation": operation,
            }
            self.record(
                f"process {event}",
                SpanKind.CONSUMER,
                traceparent,
                payload.get("traceparent"),
                start,
                attrs,
                error,
            )

    async def balanced(
        self,
        route: Any,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        template: str | None = None,
    ) -> tuple[int, bytes, str]:
        """The load balancer's server span around ``route(...)``: a child of the client's
        ``traceparent``, or the root of a new trace (where the sampler decides); named by the
        route's path ``template`` (``http.route``) when one matched, else by the path."""
        parent = headers.get("traceparent")
        traceparent = child_traceparent(parent)
        start = time.time_ns()
        status, content, ctype = await route(
            method, path, query, {**headers, "traceparent": traceparent}, body
        )
        attrs = {
            "http.request.method": method,
            "url.path": path,
            "url.scheme": "http",
            "http.route": template,
            "http.response.status_code": status,
        }
        error = f"HTTP {status}" if status >= 500 else None
        name = f"{method} {template or path}"
        self.record(name, SpanKind.SERVER, traceparent, parent, start, attrs, error)
        return status, content, ctype

    # -- export ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the background export (once a second)."""
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(_FLUSH_S)
            await self.flush()

    def request(self, spans: list[str]) -> str:
        """One ``ExportTraceServiceRequest`` (OTLP/JSON text, one line) holding ``spans``."""
        resource = _dumps(self.resource, separators=(",", ":"))
        scope = _dumps(_SCOPE, separators=(",", ":"))
        return (
            f'{{"resourceSpans":[{{"resource":{resource},"scopeSpans":[{{"scope":{scope},'
            f'"spans":[{",".join(spans)}]}}]}}]}}'
        )

    async def flush(self) -> None:
        """Export what was recorded since the last flush (a failed export is logged and
        dropped: tracing never holds up or breaks the service)."""
        if not self._spans:
            return
        spans, self._spans = self._spans, []
        body = self.request(spans)
        try:
            if self.endpoint is not None:
                await self._post(body)
            elif self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(body + "\n")
            self.exported += len(spans)
        except Exception as exc:  # a collector that is down must not take the service down
            self.failed_exports += 1
            if self.failed_exports in (1, 10, 100):
                log.warning("trace export failed: %s", exc)

    async def _post(self, body: str) -> None:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=10)
        assert self.endpoint is not None
        async with self._session.post(
            self.endpoint, data=body.encode(), headers=self.headers, timeout=timeout
        ) as resp:
            if resp.status >= 300:
                raise RuntimeError(f"{self.endpoint} answered {resp.status}")

    async def close(self) -> None:
        """Stop the background export and flush what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self._session is not None:
            await self._session.close()
            self._session = None


class StepSpan:
    """The span of one step (``Tracer.span``): a plain class, not a generator-based context
    manager, since a cache hit makes one per request."""

    __slots__ = ("_enclose", "_parent", "_start", "_token", "attributes", "kind", "name",
                 "traceparent", "tracer")  # fmt: skip

    def __init__(
        self, tracer: Tracer, name: str, kind: int, attributes: dict[str, Any], enclose: bool
    ) -> None:
        self.tracer = tracer
        self.name = name
        self.kind = kind
        self.attributes = attributes
        self._enclose = enclose
        self._token: Any = None
        self._parent: str | None = None
        self._start = 0
        self.traceparent = ""

    async def __aenter__(self) -> str:
        self._parent = current_traceparent()
        self.traceparent = child_traceparent(self._parent)
        if self._enclose:
            self._token = use_traceparent(self.traceparent)
        self._start = time.time_ns()
        return self.traceparent

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if self._token is not None:
            reset_traceparent(self._token)
        error = None if exc is None else f"{type(exc).__name__}: {exc}"
        self.tracer.record(
            self.name, self.kind, self.traceparent, self._parent, self._start, self.attributes,
            error,
        )  # fmt: skip
        return False


# -- traced parts ------------------------------------------------------------------------------


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
