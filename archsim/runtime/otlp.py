"""OpenTelemetry's vocabulary as the runtime's tracing writes it: span kinds, the sampler
settings (``ARCHSIM_TRACE_SAMPLE``, ``OTEL_TRACES_SAMPLER``), exporter headers, and attributes
as OTLP/JSON ``KeyValue`` lists (as objects, or straight to JSON text on the hot path).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["SpanKind", "TracingError", "sample_ratio", "sampled"]


class SpanKind:
    """OTLP's span kinds (``Span.SpanKind`` in trace.proto)."""

    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5


class TracingError(ValueError):
    """A tracing setting that cannot be used (the service refuses to start, saying which)."""



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
