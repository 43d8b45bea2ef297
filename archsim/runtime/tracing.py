"""OpenTelemetry traces of a generated service: spans in OTLP, W3C ``traceparent`` across calls.

Off unless ``ARCHSIM_TRACE=1`` (``archsim up --trace``): then ``from_settings`` gives a
``Tracer`` and the runtime builds traced twins of its parts (``archsim.runtime.traced``:
``TracedFront`` for server spans, ``TracedClient`` for HTTP client spans, ``TracedCache``,
``TracedBroker`` for publish, SQLAlchemy events for SQL); the consumer, SMTP and operation
hooks live in ``service.Runtime``. With it off nothing here runs, so the default fast path
pays one ``is None`` test per step.

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
import logging
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from .context import (
    child_traceparent,
    current_traceparent,
    reset_traceparent,
    set_sample_ratio,
    use_traceparent,
)
from .otlp import (
    SpanKind,
    TracingError,
    _attributes,
    _dumps,
    _headers,
    _json_attributes,
    sample_ratio,
    sampled,
)
from .settings import Settings

__all__ = [
    "SpanKind",
    "StepSpan",
    "Tracer",
    "TracingError",
    "from_settings",
    "sample_ratio",
    "sampled",
]

log = logging.getLogger("archsim.tracing")

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
