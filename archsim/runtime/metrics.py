"""Prometheus metrics of a service: per-operation request counts and latency histograms.

Names (stable; ``archsim loadtest`` reads them from ``/metrics``):
``archsim_requests_total{service,operation,status}``,
``archsim_request_duration_seconds{service,operation}`` (histogram),
``archsim_calls_total{service,target,outcome}``,
``archsim_cache_requests_total{service,cache,result}``,
``archsim_events_total{service,event,outcome}``.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "OperationTimer", "render"]

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "archsim_requests",
    "Requests handled, by operation and status",
    ["service", "operation", "status"],
)
LATENCY = Histogram(
    "archsim_request_duration_seconds",
    "Time to handle a request, by operation (s)",
    ["service", "operation"],
    buckets=_BUCKETS,
)
CALLS = Counter("archsim_calls", "Outbound calls", ["service", "target", "outcome"])
CACHE = Counter("archsim_cache_requests", "Cache reads", ["service", "cache", "result"])
EVENTS = Counter("archsim_events", "Events published and consumed", ["service", "event", "outcome"])


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


class OperationTimer:
    """``async with metrics.operation("get_product"):`` counts and times one request."""

    __slots__ = ("_done", "_latency", "_ok", "_start", "_status")

    def __init__(self, latency: Any, done: dict[Any, Any], status_of: Any, ok: int = 200) -> None:
        self._latency = latency
        self._done = done
        self._status = status_of
        self._ok = ok
        self._start = 0.0

    async def __aenter__(self) -> OperationTimer:
        self._start = time.perf_counter()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        self._latency.observe(time.perf_counter() - self._start)
        status = self._ok if exc is None else self._status(exc)
        counter = self._done.get(status)
        if counter is None:
            counter = self._done[status] = self._done["factory"](status)
        counter.inc()
        return False


class Metrics:
    """Metric children bound to one service (label lookups done once, not per request)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._timers: dict[str, tuple[Any, dict[Any, Any]]] = {}
        self._children: dict[tuple[int, str, str], Any] = {}  # (id(metric), label, label) → child

    def operation(self, name: str, ok: int = 200) -> OperationTimer:
        """A timer for one request of operation ``name`` (``ok``: the status on success)."""
        entry = self._timers.get(name)
        if entry is None:
            latency = LATENCY.labels(self.service, name)

            def _factory(status: int, _name: str = name) -> Any:
                return REQUESTS.labels(self.service, _name, str(status))

            entry = self._timers[name] = (latency, {"factory": _factory})
        return OperationTimer(entry[0], entry[1], _status_of, ok)

    def call(self, target: str, outcome: str) -> None:
        """Count one outbound call (``ok``, ``client_error``, ``failed``)."""
        self._child(CALLS, target, outcome).inc()

    def cache(self, cache: str, hit: bool) -> None:
        """Count one cache read."""
        self._child(CACHE, cache, "hit" if hit else "miss").inc()

    def event(self, event: str, outcome: str) -> None:
        """Count one event (``published``, ``consumed``)."""
        self._child(EVENTS, event, outcome).inc()

    def _child(self, metric: Any, first: str, second: str) -> Any:
        key = (id(metric), first, second)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.service, first, second)
        return child


def _status_of(exc: BaseException) -> int:
    return int(getattr(exc, "status_code", None) or getattr(exc, "status", None) or 500)
