"""The seed's stack exporting to an OTLP/HTTP receiver, as it would to a collector: no collector
or Jaeger binary installs from the registries this project uses, so the receiver is a minimal one
on loopback built on OpenTelemetry's official protobuf definitions (``opentelemetry-proto``). It
decodes every ``POST /v1/traces`` as the OTLP/HTTP JSON encoding says a receiver must — ids in
hex, then the rest strictly as ``ExportTraceServiceRequest`` (an unknown field fails) — and
answers with an ``ExportTraceServiceResponse``. What it decoded must be the whole stack's traces:
spans of every traced process, parents that resolve across processes."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from stack_run import running_stack

json_format = pytest.importorskip("google.protobuf.json_format")
trace_service = pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")

ROOT = Path(__file__).resolve().parent.parent
_IDS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


def _hex_ids(node: Any) -> Any:
    """OTLP/JSON writes trace and span ids in hex, not protobuf JSON's base64: convert them
    (checking their length) before the strict parse."""
    if isinstance(node, list):
        return [_hex_ids(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in _IDS and isinstance(value, str):
            raw = bytes.fromhex(value)  # ValueError: not hex
            if len(raw) != _IDS[key]:
                raise ValueError(f"{key} {value!r} is {len(raw)} bytes, not {_IDS[key]}")
            out[key] = base64.b64encode(raw).decode()
        else:
            out[key] = _hex_ids(value)
    return out


class _Receiver(BaseHTTPRequestHandler):
    decoded: list[Any] = []
    errors: list[str] = []

    def do_POST(self) -> None:  # http.server calls it by this name
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            if self.path != "/v1/traces" or self.headers["content-type"] != "application/json":
                raise ValueError(f"{self.path} {self.headers['content-type']}")
            request = trace_service.ExportTraceServiceRequest()
            json_format.ParseDict(_hex_ids(json.loads(body)), request)
            self.decoded.append(request)
            status, reply = 200, json_format.MessageToJson(
                trace_service.ExportTraceServiceResponse()
            )
        except Exception as exc:  # the test reports every export it could not decode
            self.errors.append(f"{type(exc).__name__}: {exc}")
            status, reply = 400, "{}"
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(reply.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def received(tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[_Receiver]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    directory = tmp_path_factory.mktemp("otlp")
    env = {"ARCHSIM_TRACE": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
           "ARCHSIM_PBKDF2_ROUNDS": "1000", "ARCHSIM_HEARTBEAT_S": "0.5"}  # fmt: skip
    try:
        with running_stack(ROOT / "topology.dot", directory, **env) as front:
            for path in ("/products/1", "/products/2", "/users/1", "/products"):
                try:  # a row the stack has not got answers 404: traced all the same
                    urllib.request.urlopen(front + path, timeout=30).close()
                except urllib.error.HTTPError as exc:
                    assert exc.code == 404, (path, exc.code)
        # archsim down flushed every instance: what was sent has arrived
        yield _Receiver
    finally:
        server.shutdown()


def test_every_export_decodes_as_otlp(received: type[_Receiver]) -> None:
    assert not received.errors, received.errors[:3]
    assert received.decoded


def test_the_decoded_traces_are_the_stack(received: type[_Receiver]) -> None:
    spans: dict[bytes, Any] = {}
    services = set()
    for request in received.decoded:
        for rs in request.resource_spans:
            attrs = {a.key: a.value.string_value for a in rs.resource.attributes}
            services.add(attrs["service.name"])
            for ss in rs.scope_spans:
                for span in ss.spans:
                    assert len(span.trace_id) == 16 and len(span.span_id) == 8
                    spans[span.span_id] = (attrs["service.name"], span)
    assert {"load_balancer", "product_service", "user_service", "config_service"} <= services
    assert "service_registry" not in services  # not traced: it is seen through its callers
    front = [s for svc, s in spans.values() if svc == "load_balancer" and s.kind == 2]
    routes = {next(a.value.string_value for a in s.attributes if a.key == "http.route")
              for s in front}  # fmt: skip
    assert {"/products/{id}", "/users/{id}", "/products"} <= routes
    # a product read: its spans chain up to the load balancer's
    product = next(
        s for svc, s in spans.values() if svc == "product_service" and s.name == "get_product"
    )
    chain = []
    node = product
    while node.parent_span_id:
        svc, node = spans[node.parent_span_id]
        chain.append(svc)
    assert chain[-1] == "load_balancer" and node.trace_id == product.trace_id
