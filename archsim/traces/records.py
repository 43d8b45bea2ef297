"""Span records: one shape for every trace format archsim reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from archsim.errors import ArchsimError

__all__ = ["Span", "SpanKind", "TraceFormatError"]


class TraceFormatError(ArchsimError):
    """A traces file archsim cannot read (not JSON, not OTLP or Jaeger, a span without ids)."""


class SpanKind(IntEnum):
    """OpenTelemetry's span kinds, numbered as OTLP numbers them."""

    UNSPECIFIED = 0
    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5


@dataclass(frozen=True, slots=True)
class Span:
    """One span: ids as lowercase hex, times in nanoseconds since the epoch, ``service`` from
    the resource (OTLP) or process (Jaeger), ``attributes`` flattened to plain values."""

    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    name: str
    kind: SpanKind
    start_ns: int
    end_ns: int
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    error: bool = False
    source: str = ""  # file:line the span came from, for messages

    @property
    def duration_ns(self) -> int:
        """End minus start (0 for a span whose clock ran backwards)."""
        return max(0, self.end_ns - self.start_ns)

    def attr(self, *names: str) -> Any:
        """The first of ``names`` the span carries, else None."""
        for name in names:
            value = self.attributes.get(name)
            if value is not None and value != "":
                return value
        return None
