"""Trace calibration's pure parts on hand-made spans: the gap of a call (client span less the
server span answering it) per callee, and the fit putting it in the callee's service time."""

from __future__ import annotations

import pytest

from archsim.model.loader import read_architecture
from archsim.traces import Span, SpanKind, discover
from archsim.traces.calibrate import fit_traces
from archsim.traces.hops import hop_gaps

MS = 1_000_000


def _call(trace: str, start: int, client_ms: float, server_ms: float) -> list[Span]:
    """front (server) → a client span to back → back's server span, ``start`` in ms."""
    t = start * MS
    root = Span(trace, "a" * 16, None, "front", "GET /x", SpanKind.SERVER, t, t + 10 * MS,
                {"http.request.method": "GET", "url.path": "/x"})  # fmt: skip
    client_end = t + MS + int(client_ms * MS)
    asked = {"http.request.method": "GET", "url.path": "/y", "peer.service": "back"}
    client = Span(trace, "b" * 16, "a" * 16, "front", "GET", SpanKind.CLIENT, t + MS, client_end,
                  asked)  # fmt: skip
    lead = int((client_ms - server_ms) * MS / 2)
    server = Span(trace, "c" * 16, "b" * 16, "back", "get_y", SpanKind.SERVER, t + MS + lead,
                  t + MS + lead + int(server_ms * MS), {"archsim.operation": "get_y"})  # fmt: skip
    return [root, client, server]


def test_the_gap_of_a_call_is_its_client_span_less_the_server_span() -> None:
    spans = _call("1" * 32, 0, 3.0, 2.0) + _call("2" * 32, 20, 5.0, 2.0)
    gaps = hop_gaps(spans)
    assert gaps.into["back"] == (pytest.approx(0.002), 2)  # (1 ms + 3 ms) / 2
    assert gaps.of("back") == pytest.approx(0.002)
    assert gaps.of("front") == pytest.approx(0.002)  # no traced caller: the typical gap


def test_the_fit_puts_the_gap_in_the_callee_service_time() -> None:
    arch = read_architecture(
        'digraph g { front [kind=service]; back [kind=service]; front -> back [label="calls"]; }'
    ).architecture
    spans = [s for i in range(25) for s in _call(f"{i:032x}", 20 * i, 3.0, 2.0)]
    fit = fit_traces(arch, discover(spans), hop_gaps(spans), min_spans=20)
    mean, _ = fit.times["back"]
    assert mean == pytest.approx(0.002 + 0.001)  # exclusive 2 ms + the 1 ms gap
    assert fit.outside["back"] == pytest.approx(0.001)
    assert "gap" in fit.calibration.why["back.service_time"]
