"""Traces from the seed's generated stack: started with tracing on, driven by a short
``archsim loadtest`` through the front door, stopped (which flushes every instance's spans);
then the spans are checked (every step has its span, parents resolve across processes and
through the broker, the load generator's client spans are the parents of the front door's) and
``archsim discover`` must recover the seed from them."""

from __future__ import annotations

import csv
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
FAST = {"ARCHSIM_HEARTBEAT_S": "0.5", "ARCHSIM_LOOKUP_TTL_S": "1", "ARCHSIM_REDELIVER_S": "2",
        # a load test: password hashing lowered (at 600,000 rounds sign-ups and logins take
        # seconds on a busy 2-core machine and the 8 s run reaches too few operations)
        "ARCHSIM_PBKDF2_ROUNDS": "1000"}  # fmt: skip


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
        # 10 users, not 6: an operation's time needs 20 spans, and with 6 on a slow machine
        # (a CI run while a hypervisor took 8% of the CPU) product_service came out with none
        args += ["--users", "10", "--duration", "8s", "--warmup", "1s", "--think", "100ms"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    finally:
        launcher.down(directory)
    yield directory / ".archsim" / "traces"


def test_every_service_wrote_otlp_json(traced: Path) -> None:
    names = {p.name.split("-")[0] for p in traced.glob("*.otlp.jsonl")}
    for component in ("load_balancer", "api_gateway", "order_service", "notification_service",
                      "load"):  # fmt: skip
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

    # every span of the trace but its root (the load generator's request) has its parent in
    # the files; the load balancer's server span is the request's child
    roots = [s for s in trace if parent(s) is None]
    assert [(r["service"], r["kind"]) for r in roots] == [("load-generator", 3)], roots
    assert roots[0]["name"] == "POST /api/orders"
    front = next(s for s in trace if s.get("parentSpanId") == roots[0]["spanId"])
    assert (front["service"], front["kind"]) == ("load_balancer", 2)
    # named by the route's template, as OpenTelemetry's HTTP conventions name server spans
    assert front["name"] == "POST /api/orders"
    assert front["attrs"]["http.route"] == "/api/orders"
    products = [s for s in spans if s["service"] == "load_balancer" and s["kind"] == 2
                and "products/" in s["attrs"]["url.path"]]  # fmt: skip
    assert products and all(s["attrs"]["http.route"].endswith("/{id}") for s in products)
    assert all(s["name"].endswith("/{id}") for s in products)
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


def test_the_load_generator_is_the_client_of_every_front_door_span(traced: Path) -> None:
    spans = _spans(traced)
    by_id = {s["spanId"]: s for s in spans}
    sent = [s for s in spans if s["service"] == "load-generator"]
    assert sent and all(s["kind"] == 3 and "parentSpanId" not in s for s in sent)
    assert all(s["attrs"]["url.full"].startswith("http://127.0.0.1:") for s in sent)
    assert {s["attrs"]["http.request.method"] for s in sent} >= {"GET", "POST"}
    assert all(int(s["attrs"]["http.response.status_code"]) < 500 for s in sent)
    # every request the front door served came from the load generator (every one traced)
    front = [s for s in spans if s["service"] == "load_balancer" and s["kind"] == 2]
    parents = [by_id.get(s.get("parentSpanId", "")) for s in front]
    assert parents and all(p is not None and p["service"] == "load-generator" for p in parents)
    # the server span starts while the client span it came from is open (one clock: the same
    # host); its end is not compared: the server closes its span after the response is on the
    # wire, so on a busy host the client can finish first (measured: by 1.3 ms)
    for server, client in zip(front, parents, strict=True):
        assert client is not None
        start = int(server["startTimeUnixNano"])
        assert int(client["startTimeUnixNano"]) <= start <= int(client["endTimeUnixNano"])
    # a span for every request Locust counted (sign-ups and logins too); its stats CSV, as
    # last written, lags the end of the run (measured: 357 requests beside 400 spans)
    with open(traced.parent.parent / "run" / "locust_stats.csv") as fh:
        total = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    assert len(sent) >= int(total["Request Count"]) > 0, (len(sent), total)


def test_cache_spans_carry_the_semantic_conventions(traced: Path) -> None:
    cache = [s for s in _spans(traced) if s["attrs"].get("db.system") == "redis"]
    assert cache
    assert {s["name"] for s in cache} >= {"GET", "SET"}
    assert {s["attrs"]["peer.service"] for s in cache} == {"cache"}


# -- discover: the acceptance test -----------------------------------------------------------------


def _derived_keys(op: Any) -> list[tuple[str, ...]]:
    """The model's steps of ``op`` as discover names them (nested cache-miss steps in place);
    compute has no span, start-up relations (registry, config) are not request steps."""
    out: list[tuple[str, ...]] = []

    def walk(steps: Any) -> None:
        for step in steps:
            action = step.action.value
            if action == "call":
                if step.operation == "send":
                    out.append(("send", step.target, "send"))
                else:
                    out.append(("call", step.target, step.operation))
            elif action == "query":
                out.append(("query", step.target))
            elif action.startswith("cache_"):
                verb = {"cache_get": "GET", "cache_set": "SET", "cache_delete": "DEL"}[action]
                out.append(("cache", step.target, verb))
            elif action == "publish":
                out.append(("publish", step.target, step.event))
            walk(step.on_miss)

    walk(op.steps)
    return out


def _observed_keys(op: Any) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for step in op.steps:  # already in the order they were seen
        if step.action == "query" and step.detail.endswith(" archsim_outbox"):
            continue  # the outbox's own bookkeeping (stage, send, delete): no step of the model
        key = (
            ("query", step.target)
            if step.action == "query"
            else (step.action, step.target, step.detail)
        )
        if not out or out[-1] != key:
            out.append(key)
    return out


@pytest.fixture(scope="module")
def discovered(traced: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("discovered") / "arch.dot"
    result = runner.invoke(app, ["discover", str(traced), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    from archsim.model.loader import load
    from archsim.traces import discover, read_spans

    load(out)  # the written architecture loads
    spans = [s for p in traced.glob("*.jsonl") for s in read_spans(p.read_text(), str(p))]
    return discover(spans)


def test_discover_recovers_every_link_of_the_seed(
    seed: Architecture, discovered: Any
) -> None:
    found = {(k.source, k.target): k.relation for k in discovered.links}
    missing = []
    for link in seed.links:
        relation = link.relation.label
        if found.get((link.source, link.target)) != relation:
            missing.append(f"{link.source} -[{relation}]-> {link.target}: "
                           f"{found.get((link.source, link.target))}")  # fmt: skip
    assert not missing, missing
    seed_pairs = {(k.source, k.target) for k in seed.links}
    assert set(found) <= seed_pairs, set(found) - seed_pairs  # nothing made up
    kinds = {c.id: c.kind for c in discovered.components}
    assert kinds["load_balancer"] == "load_balancer" and kinds["api_gateway"] == "gateway"
    assert kinds["cache"] == "cache" and kinds["order_db"] == "database"
    assert kinds["service_registry"] == "registry"  # from registration and heartbeat spans
    assert not discovered.unclassified
    # the load generator: seen as the front door's client, not a component
    assert "load-generator" not in kinds
    assert [(c.service, c.target) for c in discovered.clients] == [
        ("load-generator", "load_balancer")
    ]


def test_discover_recovers_each_operations_step_order(seed: Architecture, discovered: Any) -> None:
    checked, wrong = 0, []
    for op in seed.behaviour.operations:
        if op.component == "load_balancer":
            continue  # its spans are named by path, not by the model's operation
        seen = discovered.operation(op.component, op.name)
        if seen is None:
            continue
        derived, observed = _derived_keys(op), _observed_keys(seen)
        # the same steps in the same order; a step the run never took (a cache miss on an
        # always-hit key) may be absent, an unconditional one may not
        unseen = [k for k in derived if k not in observed]
        extra = [k for k in observed if k not in derived]
        must = {k for k in _derived_keys(type("Op", (), {"steps": [
            s for s in op.steps if s.p >= 1]})())}  # fmt: skip
        if extra or [k for k in derived if k in observed] != observed or must & set(unseen):
            wrong.append(f"{op.qualified}: model {derived} vs traces {observed}")
        checked += 1
    assert not wrong, "\n".join(wrong)
    assert checked >= 15, checked
    create = discovered.operation("order_service", "create_order")
    assert [s.describe() for s in create.steps] == [
        "call user_service.get_user",
        "call product_service.get_product",
        "call payment_service.create_payment",
        "query order_db INSERT orders",
        "query order_db INSERT archsim_outbox",
        "query order_db SELECT archsim_outbox",
        "publish message_broker OrderPlaced",
        "query order_db DELETE archsim_outbox",
    ]


def test_calibrate_from_traces_writes_a_profile_the_simulator_takes(
    traced: Path, seed_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "traces.profile.yaml"
    args = ["calibrate", str(seed_path), "--traces", str(traced), "-o", str(out), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    fit = json.loads(result.output)
    comps = fit["profile"]["components"]
    assert "get_product=gamma(" in comps["product_service"]["operation_time"]
    assert comps["order_db"]["service_time"].startswith("exp(")
    assert "product_service->cache" in fit["profile"]["links"]
    assert all(v > 0 for v in fit["fitted_ms"].values())
    # tuned at the traces' own level: network latency, the gaps' on-path share, the spread
    assert "network_latency" in fit["profile"]["graph"]
    assert {"network_latency", "on_path", "cv"} <= set(fit["why"])
    assert "gap" in fit["why"]["product_service.service_time"]
    # the entries' latency is what the load generator measured, no gap added
    assert fit["why"]["entries"].startswith("client spans of load-generator"), fit["why"]
    sim = [
        "simulate",
        str(seed_path),
        "--profile",
        str(out),
        "--duration",
        "10s",
        "--warmup",
        "1s",
        "--json",
    ]
    result = runner.invoke(app, sim)
    assert result.exit_code == 0, result.output


def test_calibrate_needs_exactly_one_measurement(seed_path: Path, traced: Path) -> None:
    result = runner.invoke(app, ["calibrate", str(seed_path)])
    assert result.exit_code == 2 and "--measured or --traces" in result.output


def test_compare_takes_traces_as_the_measurement(traced: Path, seed_path: Path) -> None:
    args = ["compare", str(seed_path), "--measured", str(traced), "--replications", "1"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = data["entries"]
    assert "GET /api/products/{id}" in rows
    row = rows["GET /api/products/{id}"]
    assert row["mean"]["measured"] > 0 and row["mean"]["predicted"] > 0
