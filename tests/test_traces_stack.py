"""Traces from the seed's generated stack: started with tracing on, driven by a short
``archsim loadtest`` through the front door, stopped (which flushes every instance's spans);
then the spans are checked (every step has its span, parents resolve across processes and
through the broker) and ``archsim discover`` must recover the seed from them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archsim.cli.app import app
from archsim.codegen import render
from archsim.model import Architecture
from archsim.runtime import launcher

runner = CliRunner()
FAST = {"ARCHSIM_HEARTBEAT_S": "0.5", "ARCHSIM_LOOKUP_TTL_S": "1", "ARCHSIM_REDELIVER_S": "2"}


def _spans(folder: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(folder.glob("*.otlp.jsonl")):
        for line in path.read_text().splitlines():
            for rs in json.loads(line)["resourceSpans"]:
                res = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
                for ss in rs["scopeSpans"]:
                    for span in ss["spans"]:
                        span["service"] = res["service.name"]["stringValue"]
                        span["attrs"] = {
                            a["key"]: next(iter(a["value"].values())) for a in span["attributes"]
                        }
                        out.append(span)
    return out


@pytest.fixture(scope="module")
def traced(seed: Architecture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The traces folder of the seed stack after a short load test (the stack is stopped)."""
    directory = tmp_path_factory.mktemp("traced")
    for rel, text in render(seed).items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    env = {**os.environ, **FAST, "ARCHSIM_TRACE": "1"}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    launcher.up(directory, timeout_s=120, env=env)
    try:
        args = ["loadtest", str(directory), "--out", str(directory / "run"), "--seed", "3"]
        args += ["--users", "6", "--duration", "8s", "--warmup", "1s", "--think", "100ms"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    finally:
        launcher.down(directory)
    yield directory / ".archsim" / "traces"


def test_every_service_wrote_otlp_json(traced: Path) -> None:
    names = {p.name.split("-")[0] for p in traced.glob("*.otlp.jsonl")}
    for component in ("load_balancer", "api_gateway", "order_service", "notification_service"):
        assert any(n.startswith(component) for n in names), names
    pytest.importorskip("opentelemetry.proto")
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    first = next(traced.glob("order_service*.jsonl")).read_text().splitlines()[0]
    json_format.Parse(first, ExportTraceServiceRequest())


def test_an_order_is_one_trace_across_processes_and_the_broker(traced: Path) -> None:
    spans = _spans(traced)
    by_id = {s["spanId"]: s for s in spans}
    orders = [s for s in spans if s["service"] == "order_service" and s["name"] == "create_order"]
    assert orders, "no create_order server span"
    order = orders[0]
    trace = [s for s in spans if s["traceId"] == order["traceId"]]

    def parent(span: dict[str, Any]) -> dict[str, Any] | None:
        return by_id.get(span.get("parentSpanId", ""))

    # every span of the trace but its root (the load balancer's) has its parent in the files
    roots = [s for s in trace if parent(s) is None]
    assert [r["service"] for r in roots] == ["load_balancer"], roots
    kinds = {(s["service"], s["kind"], s["name"]) for s in trace}
    assert ("api_gateway", 2, "create_order") in kinds
    assert ("payment_service", 3, "POST") in kinds  # the call to the provider
    assert ("order_service", 4, "publish OrderPlaced") in kinds
    assert ("notification_service", 5, "process OrderPlaced") in kinds
    assert ("notification_service", 3, "SMTP send") in kinds
    sql = [s for s in trace if s["attrs"].get("db.system") == "sqlite"]
    assert {s["attrs"]["peer.service"] for s in sql} >= {"order_db"}
    consume = next(s for s in trace if s["kind"] == 5)
    assert parent(consume)["kind"] == 4  # the consumer is the producer's child
    # the server span of a callee is the child of its caller's client span
    user = next(s for s in trace if s["service"] == "user_service" and s["kind"] == 2)
    assert parent(user)["service"] == "order_service" and parent(user)["kind"] == 3


def test_cache_spans_carry_the_semantic_conventions(traced: Path) -> None:
    cache = [s for s in _spans(traced) if s["attrs"].get("db.system") == "redis"]
    assert cache
    assert {s["name"] for s in cache} >= {"GET", "SET"}
    assert {s["attrs"]["peer.service"] for s in cache} == {"cache"}
