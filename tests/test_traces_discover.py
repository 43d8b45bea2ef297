"""archsim discover on hand-written traces: Jaeger JSON and OTLP JSON of services archsim did
not generate (missing parents, clock skew, a span with no peer), ids in base64, malformed files
with their errors, and the DOT it writes loading as an architecture."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archsim.cli.app import app
from archsim.model.loader import read_architecture
from archsim.traces import Span, SpanKind, TraceFormatError, discover, read_spans, to_dot

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "traces"
BAD = Path(__file__).resolve().parent / "trace_files"
runner = CliRunner()


def _read(path: Path) -> list:
    return read_spans(path.read_text(), str(path))


def test_jaeger_example_gives_services_stores_and_notes() -> None:
    spans = _read(EXAMPLES / "hotrod.jaeger.json")
    assert len(spans) == 20
    customer = next(s for s in spans if s.name == "HTTP GET /customer")
    assert customer.kind is SpanKind.SERVER and customer.service == "customer"
    assert customer.duration_ns == 11_000_000  # microseconds read as such
    found = discover(spans)
    kinds = {c.id: c.kind for c in found.components}
    assert kinds == {
        "customer": "service",
        "driver": "service",
        "frontend": "service",
        "mysql": "database",
        "redis": "cache",
        "route": "service",
    }
    relations = {(k.source, k.target): k.relation for k in found.links}
    assert relations == {
        ("frontend", "customer"): "calls",
        ("frontend", "driver"): "calls",
        ("customer", "mysql"): "stores in",
        ("driver", "redis"): "caches in",
    }
    assert found.unclassified == ("frontend: client span 'refresh' (2x)",)
    assert any("route name a parent" in n for n in found.notes)
    skew = next(n for n in found.notes if n.startswith("clock skew"))
    assert "customer" in skew and "20.0 ms" in skew
    # step order from the caller's clock, untouched by the callee's skew
    dispatch = found.operation("frontend", "HTTP GET /dispatch")
    assert dispatch is not None
    assert [s.target for s in dispatch.steps] == ["customer", "driver"]
    assert dispatch.exclusive_ms == pytest.approx(10.0)


def test_otlp_example_gives_messaging_external_and_order() -> None:
    found = discover(_read(EXAMPLES / "checkout.otlp.jsonl"))
    relations = {(k.source, k.target): (k.relation, k.events) for k in found.links}
    assert relations[("checkout", "kafka")] == ("publishes to", ("orders",))
    assert relations[("shipping", "kafka")] == ("subscribes to", ("orders",))
    assert relations[("shipping", "api.mailer.example")][0] == "integrates with"
    checkout = found.operation("checkout", "POST /checkout")
    assert checkout is not None and checkout.count == 3 and checkout.roots == 3
    assert [s.describe() for s in checkout.steps] == [
        "query cart_db SELECT",
        "call payments.POST /charges",
        "publish kafka orders",
    ]
    assert found.operation("shipping", "orders process").trigger == "event"  # type: ignore[union-attr]


def test_the_discovered_dot_loads_with_links_in_step_order() -> None:
    found = discover(_read(EXAMPLES / "checkout.otlp.jsonl"))
    text = to_dot(found)
    arch = read_architecture(text, "discovered.dot").architecture
    assert {c.id for c in arch.components} >= {"checkout", "payments", "kafka", "cart_db"}
    order = [line.split("->")[1].split("[")[0].strip() for line in text.splitlines()
             if line.strip().startswith('"checkout" ->')]  # fmt: skip
    assert order == ['"cart_db"', '"payments"', '"kafka"']
    assert to_dot(discover(_read(EXAMPLES / "checkout.otlp.jsonl"))) == text  # deterministic


def test_otlp_ids_in_base64_and_kinds_by_name() -> None:
    trace = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
    span = bytes.fromhex("00f067aa0ba902b7")
    doc = {
        "resource_spans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"string_value": "svc"}}]
                },
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": base64.b64encode(trace).decode(),
                                "span_id": base64.b64encode(span).decode(),
                                "name": "op",
                                "kind": "SPAN_KIND_SERVER",
                                "start_time_unix_nano": 10,
                                "end_time_unix_nano": 25,
                                "status": {"code": "STATUS_CODE_ERROR"},
                            }
                        ]
                    }
                ],
            }
        ]
    }
    (one,) = read_spans(json.dumps(doc))
    assert one.trace_id == trace.hex() and one.span_id == span.hex()
    assert one.kind is SpanKind.SERVER and one.service == "svc" and one.error
    assert one.duration_ns == 15


@pytest.mark.parametrize(
    ("name", "where", "needle"),
    [
        ("truncated.otlp.json", ":1:63", "not JSON"),
        ("unknown_process.jaeger.json", ":1", "processID 'p9' is not among"),
        ("bad_time.jaeger.json", ":1", "no numeric startTime"),
        ("bad_span_id_line2.otlp.jsonl", ":2", "spans[0]: no valid spanId"),
        ("neither.json", ":1", "neither OTLP JSON nor Jaeger JSON (top level: traces)"),
        ("empty.json", ": error", "holds no traces"),
    ],
)
def test_malformed_files_are_named_errors(name: str, where: str, needle: str) -> None:
    path = BAD / name
    with pytest.raises(TraceFormatError) as caught:
        read_spans(path.read_text(), str(path))
    text = str(caught.value)
    assert needle in text and f"{path}{where}" in text, text
    assert caught.value.hint


def test_cli_writes_dot_json_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "hotrod.dot"
    result = runner.invoke(app, ["discover", str(EXAMPLES / "hotrod.jaeger.json"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "unclassified: frontend: client span 'refresh'" in result.output
    assert "clock skew" in result.output
    assert '"frontend" -> "customer" [label="calls"' in out.read_text()
    result = runner.invoke(app, ["discover", str(EXAMPLES), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["spans"] == 41 and {c["id"] for c in data["components"]} >= {"kafka", "redis"}


def test_cli_bad_input_is_exit_2_with_location(tmp_path: Path) -> None:
    result = runner.invoke(app, ["discover", str(BAD / "neither.json")])
    assert result.exit_code == 2
    assert "neither.json:1" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["discover", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "cannot read the traces file" in result.output
    result = runner.invoke(app, ["discover", str(tmp_path)])
    assert result.exit_code == 2 and "holds no .json or .jsonl files" in result.output


def test_registration_outside_any_request_is_registers_with() -> None:
    ms = 1_000_000
    spans = [
        Span("1" * 32, "a" * 16, None, "shop", "POST /services", SpanKind.CLIENT, 0, ms,
             {"http.request.method": "POST", "url.path": "/services",
              "peer.service": "registry"}),
        Span("2" * 32, "b" * 16, None, "shop", "PUT /v1/agent/check/pass/shop", SpanKind.CLIENT,
             5 * ms, 6 * ms, {"http.request.method": "PUT", "peer.service": "consul",
                              "url.path": "/v1/agent/check/pass/shop"}),
        Span("3" * 32, "c" * 16, None, "shop", "GET", SpanKind.CLIENT, 7 * ms, 8 * ms,
             {"http.request.method": "GET", "url.path": "/config/shop",
              "peer.service": "config"}),
    ]  # fmt: skip
    found = discover(spans)
    relations = {(k.source, k.target): k.relation for k in found.links}
    assert relations == {
        ("shop", "registry"): "registers with",
        ("shop", "consul"): "registers with",
        ("shop", "config"): "integrates with",  # unanswered and not a registration
    }
    assert {c.id: c.kind for c in found.components}["registry"] == "registry"
