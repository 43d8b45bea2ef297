"""Traces as input: OTLP JSON and Jaeger JSON read into span records, and the architecture,
operations and timings they show (``archsim discover``, ``archsim calibrate --traces``).

The core is pure: readers take text (and a file name for messages), ``discover`` takes spans.
"""

from __future__ import annotations

from archsim.traces.discover import Discovery, discover
from archsim.traces.dot import to_dot
from archsim.traces.readers import read_spans
from archsim.traces.records import Span, SpanKind, TraceFormatError

__all__ = [
    "Discovery",
    "Span",
    "SpanKind",
    "TraceFormatError",
    "discover",
    "read_spans",
    "to_dot",
]
