"""Traces as a measured run: the entries' requests as a load-test summary, so that
``archsim compare --measured TRACES`` puts the simulator beside what the traces measured.

The summary has what ``compare`` reads (schema ``archsim.loadtest/1``): the workload as an open
Poisson rate (the entries' requests per second of the window), the window as the duration (no
warm-up), per entry the latency figures of its requests, and per component the server spans of
the operations it served. An entry's requests are the **client spans** of a traffic source
(a root client span of a service that is not a model component, or is one of kind ``client``,
answered by the system: the
load generator of ``archsim loadtest``, an instrumented client) that match its method and path
template, when the traces have any; else the front door's **root server spans** that match
(which start after the client's side of the first hop). ``measured_by`` in the summary says
which, per entry. Pure.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from archsim.model import Architecture, Kind
from archsim.traces.records import Span, SpanKind
from archsim.traces.span_index import SpanIndex, path

__all__ = ["CLIENT", "FRONT_DOOR", "summary_from_traces"]

_SCHEMA = "archsim.loadtest/1"  # archsim.loadtest.summary's schema, without importing it
_PARAM = re.compile(r"\{[^}/]+\}")
#: ``measured_by`` of an entry: its traffic source's client spans, or the front door's roots
CLIENT, FRONT_DOOR = "client spans", "root spans at the front door"


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
    asked = path(span)  # url.path, http.target, else the path of url.full
    if method is None or asked is None:
        parts = span.name.split(" ", 1)
        if len(parts) != 2 or not parts[1].startswith("/"):
            return None
        method, asked = parts
    return str(method).upper(), str(asked).split("?", 1)[0]


_Patterns = list[tuple[int, str, re.Pattern[str], str]]


def _patterns(arch: Architecture) -> _Patterns:
    """``(params, method, path regex, entry id)`` of every entry, literal paths first
    (``/users/login`` is not ``/users/{id}``)."""
    patterns = []
    for entry in arch.behaviour.entries:
        method, _, template = entry.id.partition(" ")
        regex = "".join(
            re.escape(p) if i % 2 == 0 else "[^/]+" for i, p in enumerate(_PARAM.split(template))
        )
        patterns.append((template.count("{"), method, re.compile(f"^{regex}$"), entry.id))
    patterns.sort(key=lambda t: t[0])
    return patterns


def _entry_of(span: Span, patterns: _Patterns) -> str | None:
    found = _method_path(span)
    if found is None:
        return None
    method, asked = found
    return next((e for _, m, rx, e in patterns if m == method and rx.match(asked)), None)


def _requests(
    arch: Architecture, spans: list[Span]
) -> tuple[dict[str, list[Span]], dict[str, str], list[str]]:
    """Per entry its requests' spans and what measured them (``CLIENT`` or ``FRONT_DOOR``),
    and the traffic sources seen."""
    index = SpanIndex(spans)
    # a traffic source drawn in the model (kind client) is one still; any other is a hop
    sources = sorted(index.sources - {c.id for c in arch.components if c.kind is not Kind.CLIENT})
    patterns = _patterns(arch)
    by_client: dict[str, list[Span]] = defaultdict(list)
    by_root: dict[str, list[Span]] = defaultdict(list)
    for span in index.spans:
        if span.service in sources and index.is_request_of_source(span):
            eid = _entry_of(span, patterns)
            if eid is not None:
                by_client[eid].append(span)
        elif index.parent(span) is None and span.kind in (SpanKind.SERVER, SpanKind.UNSPECIFIED):
            eid = _entry_of(span, patterns)
            if eid is not None:
                by_root[eid].append(span)
    requests = {**by_root, **by_client}  # an entry its client measured: the client's spans
    measured_by = {eid: CLIENT if eid in by_client else FRONT_DOOR for eid in requests}
    return requests, measured_by, sources


def summary_from_traces(arch: Architecture, spans: list[Span]) -> dict[str, Any]:
    """A load-test summary of ``arch``'s entries from ``spans`` (rules in the module doc)."""
    requests, measured_by, sources = _requests(arch, spans)
    start = min((s.start_ns for s in spans), default=0)
    end = max((s.end_ns for s in spans), default=0)
    window_s = max((end - start) / 1e9, 1e-9)
    latencies = {e: [s.duration_ns / 1e9 for s in v] for e, v in requests.items()}
    failures = {e: sum(s.error for s in v) for e, v in requests.items()}
    served: dict[str, list[float]] = defaultdict(list)
    for span in spans:
        if span.kind is SpanKind.SERVER:
            served[span.service].append(span.duration_ns / 1e9)
    endpoints = {e: _stats(v, window_s, failures[e]) for e, v in latencies.items()}
    count = sum(len(v) for v in latencies.values())
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
        "workload": {"type": "open", "rps": count / window_s, "arrivals": "poisson"},
        "duration_s": window_s,
        "warmup_s": 0.0,
        "window_s": window_s,
        "endpoints": endpoints,
        "total": _stats([x for v in latencies.values() for x in v] or [0.0], window_s, 0),
        "components": components,
        "measured_by": measured_by,
        "clients": sources,
    }
