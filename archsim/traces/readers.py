"""Readers of the two trace formats teams export: OTLP JSON and Jaeger JSON.

- **OTLP JSON**: ``ExportTraceServiceRequest`` documents (``resourceSpans`` → ``scopeSpans`` →
  ``spans``), one per line as the OpenTelemetry Collector's file exporter writes them, or one
  document in the whole file. Field names in protobuf's JSON form (``traceId``) or as in the
  proto (``trace_id``); ids in hex (the OTLP spec) or base64 (protobuf's generic JSON for bytes);
  ``kind`` as a number or ``SPAN_KIND_SERVER``; the older ``instrumentationLibrarySpans`` too.
- **Jaeger JSON**: what the Jaeger UI downloads and its HTTP API answers — ``{"data": [trace,
  …]}``, a single trace ``{"traceID", "spans", "processes"}``, or a list of traces. Times in
  microseconds, the kind in the ``span.kind`` tag, the parent in ``references`` (``CHILD_OF``,
  else ``FOLLOWS_FROM``) or ``parentSpanID``.

Everything here is pure: text in, spans out, ``TraceFormatError`` with the file, line and a hint
for what cannot be read.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any

from archsim.errors import Location
from archsim.traces.records import Span, SpanKind, TraceFormatError

__all__ = ["read_jaeger", "read_otlp", "read_spans"]

_HINT_FORMAT = (
    "give OTLP JSON (the collector's file exporter: one ExportTraceServiceRequest per line) "
    "or Jaeger JSON (the UI's download, or /api/traces)"
)
_KINDS = {
    "server": SpanKind.SERVER,
    "client": SpanKind.CLIENT,
    "producer": SpanKind.PRODUCER,
    "consumer": SpanKind.CONSUMER,
    "internal": SpanKind.INTERNAL,
}


def read_spans(text: str, file: str | None = None) -> list[Span]:
    """The spans of one traces file in either format (told apart by their top-level keys)."""
    docs = list(_documents(text, file))
    if not docs:
        raise TraceFormatError(
            "the file holds no traces", Location(file), _HINT_FORMAT, code="bad-traces"
        )
    spans: list[Span] = []
    for line, doc in docs:
        if _is_otlp(doc):
            spans.extend(read_otlp(doc, file, line))
        elif _is_jaeger(doc):
            spans.extend(read_jaeger(doc, file, line))
        else:
            keys = ", ".join(sorted(doc)[:5]) if isinstance(doc, dict) else type(doc).__name__
            raise TraceFormatError(
                f"neither OTLP JSON nor Jaeger JSON (top level: {keys or 'empty'})",
                Location(file, line),
                _HINT_FORMAT,
                code="bad-traces",
            )
    return spans


def _documents(text: str, file: str | None) -> Iterator[tuple[int, Any]]:
    """``(line, document)``: the whole text as one JSON document, else one per line."""
    stripped = text.strip()
    if not stripped:
        return
    try:
        yield 1, json.loads(stripped)
        return
    except json.JSONDecodeError as whole:
        if "\n" not in stripped:
            raise _not_json(whole, file, 0) from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise _not_json(exc, file, number - 1) from None


def _not_json(exc: json.JSONDecodeError, file: str | None, offset: int) -> TraceFormatError:
    return TraceFormatError(
        f"not JSON: {exc.msg}",
        Location(file, exc.lineno + offset, exc.colno),
        "a traces file is JSON: one document, or one document per line (JSON lines)",
        code="bad-traces",
    )


def _is_otlp(doc: Any) -> bool:
    return isinstance(doc, dict) and ("resourceSpans" in doc or "resource_spans" in doc)


def _is_jaeger(doc: Any) -> bool:
    if isinstance(doc, list):
        return all(isinstance(t, dict) and "spans" in t for t in doc)
    return isinstance(doc, dict) and ("data" in doc or ("spans" in doc and "traceID" in doc))


def _get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def _bad(message: str, file: str | None, line: int, where: str, hint: str) -> TraceFormatError:
    return TraceFormatError(f"{where}: {message}", Location(file, line), hint, code="bad-traces")


# -- OTLP ----------------------------------------------------------------------------------------


def _hex_id(value: Any, size: int) -> str | None:
    """An OTLP id as lowercase hex: hex as the spec writes it, or base64 as protobuf's generic
    JSON writes bytes; None when empty or neither."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) == size * 2:
        try:
            int(value, 16)
            return value.lower()
        except ValueError:
            pass
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == size else None


def _any_value(value: Any) -> Any:
    """A plain Python value of an OTLP ``AnyValue``."""
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "string_value", "boolValue", "bool_value", "doubleValue"):
        if key in value:
            return value[key]
    for key in ("intValue", "int_value"):
        if key in value:
            try:
                return int(value[key])
            except (TypeError, ValueError):
                return value[key]
    if "double_value" in value:
        return value["double_value"]
    array = value.get("arrayValue") or value.get("array_value")
    if isinstance(array, dict):
        return [_any_value(v) for v in array.get("values", [])]
    return None


def _otlp_attributes(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = _any_value(item.get("value"))
    return out


def _otlp_kind(value: Any) -> SpanKind:
    if isinstance(value, int) and 0 <= value <= 5:
        return SpanKind(value)
    if isinstance(value, str):
        name = value.upper().removeprefix("SPAN_KIND_")
        if name in SpanKind.__members__:
            return SpanKind[name]
    return SpanKind.UNSPECIFIED


def _nanos(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_otlp(doc: dict[str, Any], file: str | None = None, line: int = 1) -> list[Span]:
    """The spans of one ``ExportTraceServiceRequest`` in its JSON form."""
    spans: list[Span] = []
    hint = "an OTLP span needs traceId, spanId, startTimeUnixNano and endTimeUnixNano"
    for r, rs in enumerate(_get(doc, "resourceSpans", "resource_spans") or []):
        if not isinstance(rs, dict):
            raise _bad("not an object", file, line, f"resourceSpans[{r}]", hint)
        resource = _otlp_attributes((rs.get("resource") or {}).get("attributes"))
        service = str(resource.get("service.name") or "unknown_service")
        scopes = (
            _get(rs, "scopeSpans", "scope_spans")
            or _get(rs, "instrumentationLibrarySpans", "instrumentation_library_spans")
            or []
        )
        for s, scope in enumerate(scopes):
            for n, raw in enumerate((scope or {}).get("spans") or []):
                where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{n}]"
                spans.append(_otlp_span(raw, service, resource, file, line, where, hint))
    return spans


def _otlp_span(
    raw: Any,
    service: str,
    resource: dict[str, Any],
    file: str | None,
    line: int,
    where: str,
    hint: str,
) -> Span:
    if not isinstance(raw, dict):
        raise _bad("not an object", file, line, where, hint)
    trace_id = _hex_id(_get(raw, "traceId", "trace_id"), 16)
    span_id = _hex_id(_get(raw, "spanId", "span_id"), 8)
    if trace_id is None or span_id is None:
        missing = "traceId" if trace_id is None else "spanId"
        raise _bad(f"no valid {missing} (16/8 bytes, hex or base64)", file, line, where, hint)
    start = _nanos(_get(raw, "startTimeUnixNano", "start_time_unix_nano"))
    end = _nanos(_get(raw, "endTimeUnixNano", "end_time_unix_nano"))
    if start is None or end is None:
        raise _bad("no start or end time", file, line, where, hint)
    attributes = _otlp_attributes(raw.get("attributes"))
    for key in ("service.instance.id", "service.namespace"):
        if key in resource:
            attributes.setdefault(key, resource[key])
    status = raw.get("status") or {}
    code = status.get("code") if isinstance(status, dict) else None
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=_hex_id(_get(raw, "parentSpanId", "parent_span_id"), 8),
        service=service,
        name=str(raw.get("name") or ""),
        kind=_otlp_kind(raw.get("kind")),
        start_ns=start,
        end_ns=end,
        attributes=attributes,
        error=code in (2, "STATUS_CODE_ERROR", "ERROR"),
        source=f"{file or '<input>'}:{line}",
    )


# -- Jaeger --------------------------------------------------------------------------------------


def read_jaeger(doc: Any, file: str | None = None, line: int = 1) -> list[Span]:
    """The spans of a Jaeger JSON document (``{"data": [...]}``, one trace, or a list)."""
    if isinstance(doc, dict) and "data" in doc:
        traces = doc["data"]
        if not isinstance(traces, list):
            raise _bad("is not a list of traces", file, line, "data", _HINT_FORMAT)
    elif isinstance(doc, dict):
        traces = [doc]
    else:
        traces = doc
    spans: list[Span] = []
    hint = "a Jaeger span needs traceID, spanID, startTime and duration (microseconds)"
    for t, trace in enumerate(traces):
        if not isinstance(trace, dict):
            raise _bad("not an object", file, line, f"data[{t}]", hint)
        processes = trace.get("processes") or {}
        for n, raw in enumerate(trace.get("spans") or []):
            where = f"data[{t}].spans[{n}]"
            spans.append(_jaeger_span(raw, processes, file, line, where, hint))
    return spans


def _jaeger_tags(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = item.get("value")
    return out


def _jaeger_id(value: Any, size: int) -> str | None:
    """A Jaeger id (hex, leading zeros often dropped) as lowercase hex of ``size`` bytes."""
    if not isinstance(value, str) or not value or len(value) > size * 2:
        return None
    try:
        int(value, 16)
    except ValueError:
        return None
    return value.lower().rjust(size * 2, "0")


def _jaeger_span(
    raw: Any, processes: dict[str, Any], file: str | None, line: int, where: str, hint: str
) -> Span:
    if not isinstance(raw, dict):
        raise _bad("not an object", file, line, where, hint)
    trace_id = _jaeger_id(raw.get("traceID"), 16)
    span_id = _jaeger_id(raw.get("spanID"), 8)
    if trace_id is None or span_id is None:
        missing = "traceID" if trace_id is None else "spanID"
        raise _bad(f"no valid {missing} (hex)", file, line, where, hint)
    start, duration = raw.get("startTime"), raw.get("duration")
    if not isinstance(start, int | float) or not isinstance(duration, int | float):
        raise _bad("no numeric startTime and duration", file, line, where, hint)
    process = raw.get("process") or processes.get(raw.get("processID", ""))
    if not isinstance(process, dict):
        raise _bad(
            f"processID {raw.get('processID')!r} is not among the trace's processes",
            file,
            line,
            where,
            "every span names its process (service) in the trace's processes",
        )
    tags = _jaeger_tags(raw.get("tags"))
    kind = _KINDS.get(str(tags.get("span.kind", "")).lower(), SpanKind.UNSPECIFIED)
    parent = None
    refs = [r for r in raw.get("references") or [] if isinstance(r, dict)]
    for ref_type in ("CHILD_OF", "FOLLOWS_FROM"):
        ref = next((r for r in refs if r.get("refType") == ref_type), None)
        if ref is not None:
            parent = _jaeger_id(ref.get("spanID"), 8)
            break
    if parent is None and raw.get("parentSpanID") not in (None, "", "0"):
        parent = _jaeger_id(raw.get("parentSpanID"), 8)
    error = tags.get("error") in (True, "true") or tags.get("otel.status_code") == "ERROR"
    start_ns = int(start * 1000)
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent,
        service=str(process.get("serviceName") or "unknown_service"),
        name=str(raw.get("operationName") or ""),
        kind=kind,
        start_ns=start_ns,
        end_ns=start_ns + int(duration * 1000),
        attributes=tags,
        error=error,
        source=f"{file or '<input>'}:{line}",
    )
