"""Traces as a measured run: the front door's root spans as a load-test summary, so that
``archsim compare --measured TRACES`` puts the simulator beside what the traces measured.

The summary has what ``compare`` reads (schema ``archsim.loadtest/1``): the workload as an open
Poisson rate (the root spans per second of the window), the window as the duration (no
warm-up), per entry the latency figures of the root spans that match its method and path
template, and per component the server spans of the operations it served. Pure.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from archsim.model import Architecture
from archsim.traces.records import Span, SpanKind

__all__ = ["summary_from_traces"]

_SCHEMA = "archsim.loadtest/1"  # archsim.loadtest.summary's schema, without importing it
_PARAM = re.compile(r"\{[^}/]+\}")


def _stats(seconds: list[float], window_s: float, failures: int) -> dict[str, Any]:
    ordered = sorted(seconds)
    n = len(ordered)

    def q(p: float) -> float:
        return ordered[min(n - 1, int(p * n))]

    return {
        "requests": n,
        "failures": failures,
        "fail_ratio": failures / n if n else 0.0,
        "throughput": n / window_s,
        "mean": sum(ordered) / n,
        "max": ordered[-1],
        "p50": q(0.5),
        "p90": q(0.9),
        "p95": q(0.95),
        "p99": q(0.99),
        "p999": q(0.999),
        "cdf": [],
    }


def _method_path(span: Span) -> tuple[str, str] | None:
    method = span.attr("http.request.method", "http.method")
    path = span.attr("url.path", "http.target")
    if method is None or path is None:
        parts = span.name.split(" ", 1)
        if len(parts) != 2 or not parts[1].startswith("/"):
            return None
        method, path = parts
    return str(method).upper(), str(path).split("?", 1)[0]


def summary_from_traces(arch: Architecture, spans: list[Span]) -> dict[str, Any]:
    """A load-test summary of ``arch``'s entries from the root server spans of ``spans``."""
    patterns = []
    for entry in arch.behaviour.entries:
        method, _, path = entry.id.partition(" ")
        regex = "".join(
            re.escape(p) if i % 2 == 0 else "[^/]+" for i, p in enumerate(_PARAM.split(path))
        )
        # literal paths first: /users/login is not /users/{id}
        patterns.append((path.count("{"), method, re.compile(f"^{regex}$"), entry.id))
    patterns.sort(key=lambda t: t[0])
    ids = {(s.trace_id, s.span_id) for s in spans}
    start = min((s.start_ns for s in spans), default=0)
    end = max((s.end_ns for s in spans), default=0)
    window_s = max((end - start) / 1e9, 1e-9)
    latencies: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, int] = defaultdict(int)
    served: dict[str, list[float]] = defaultdict(list)
    for span in spans:
        root = span.parent_id is None or (span.trace_id, span.parent_id) not in ids
        if span.kind is SpanKind.SERVER:
            served[span.service].append(span.duration_ns / 1e9)
        if not root or span.kind not in (SpanKind.SERVER, SpanKind.UNSPECIFIED):
            continue
        found = _method_path(span)
        if found is None:
            continue
        method, path = found
        for _, m, compiled, eid in patterns:
            if m == method and compiled.match(path):
                latencies[eid].append(span.duration_ns / 1e9)
                failures[eid] += span.error
                break
    endpoints = {e: _stats(v, window_s, failures[e]) for e, v in latencies.items()}
    requests = sum(len(v) for v in latencies.values())
    components = {
        c: {
            "requests": len(v),
            "throughput": len(v) / window_s,
            "latency": _stats(v, window_s, 0),
        }
        for c, v in served.items()
    }
    return {
        "schema": _SCHEMA,
        "architecture": arch.name,
        "source": "traces",
        "workload": {"type": "open", "rps": requests / window_s, "arrivals": "poisson"},
        "duration_s": window_s,
        "warmup_s": 0.0,
        "window_s": window_s,
        "endpoints": endpoints,
        "total": _stats([x for v in latencies.values() for x in v] or [0.0], window_s, 0),
        "components": components,
    }
