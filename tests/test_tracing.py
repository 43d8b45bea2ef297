"""Tracing in the runtime: sampling settings, the OTLP/JSON the tracer writes (checked against
OpenTelemetry's own protobuf definitions), OTLP/HTTP export to a real loopback receiver, and the
seed's generated stack started with tracing on (spans of every step, parents across processes
and through the broker)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from archsim.runtime.context import child_traceparent, new_traceparent, set_sample_ratio
from archsim.runtime.settings import Settings
from archsim.runtime.tracing import SpanKind, Tracer, TracingError, from_settings, sample_ratio


def _proto_check(line: str) -> None:
    """Parse one exported line as OpenTelemetry's ExportTraceServiceRequest (strict)."""
    json_format = pytest.importorskip("google.protobuf.json_format")
    service = pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
    json_format.Parse(line, service.ExportTraceServiceRequest())


def _spans(lines: list[str]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        for rs in json.loads(line)["resourceSpans"]:
            attrs = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    span["service"] = attrs["service.name"]["stringValue"]
                    span["attrs"] = {
                        a["key"]: next(iter(a["value"].values())) for a in span["attributes"]
                    }
                    out.append(span)
    return out


# -- settings ------------------------------------------------------------------------------------


def test_sample_ratio_reads_archsim_then_otel_settings() -> None:
    assert sample_ratio({}) == 1.0
    assert sample_ratio({"ARCHSIM_TRACE_SAMPLE": "0.25"}) == 0.25
    assert sample_ratio({"OTEL_TRACES_SAMPLER": "always_off"}) == 0.0
    env = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
    assert sample_ratio(env) == 0.1
    # archsim's own setting wins over OpenTelemetry's
    assert sample_ratio({**env, "ARCHSIM_TRACE_SAMPLE": "1"}) == 1.0


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"ARCHSIM_TRACE_SAMPLE": "half"}, "not a number"),
        ({"ARCHSIM_TRACE_SAMPLE": "2"}, "not between 0 and 1"),
        ({"OTEL_TRACES_SAMPLER": "jaeger_remote"}, "not a sampler archsim knows"),
    ],
)
def test_bad_sampling_settings_are_named(env: dict[str, str], needle: str) -> None:
    with pytest.raises(TracingError, match=needle):
        sample_ratio(env)


def test_tracing_is_off_unless_asked(tmp_path: Path) -> None:
    assert from_settings(Settings(env={})) is None
    assert from_settings(Settings(env={"ARCHSIM_TRACE": "1", "OTEL_SDK_DISABLED": "true"})) is None
    env = {"ARCHSIM_TRACE": "1", "ARCHSIM_TRACE_DIR": str(tmp_path)}
    tracer = from_settings(Settings(service="svc", instance="svc-2", env=env))
    assert tracer is not None and tracer.path == tmp_path / "svc-2.otlp.jsonl"
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318/"
    tracer = from_settings(Settings(env=env))
    assert tracer is not None and tracer.endpoint == "http://127.0.0.1:4318/v1/traces"
    assert tracer.path is None


def test_importing_the_cli_imports_no_tracing() -> None:
    code = (
        "import sys, archsim.cli; "
        "bad = [m for m in sys.modules "
        "if m.startswith(('opentelemetry', 'archsim.runtime.trac'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_sampler_marks_new_traces_and_children_follow() -> None:
    try:
        set_sample_ratio(0.0)
        root = new_traceparent()
        assert root.endswith("-00") and child_traceparent(root).endswith("-00")
        set_sample_ratio(1.0)
        assert new_traceparent().endswith("-01")
    finally:
        set_sample_ratio(1.0)


# -- encoding and export ---------------------------------------------------------------------------


def test_spans_are_otlp_json_with_parents_and_errors(tmp_path: Path) -> None:
    tracer = Tracer("svc", "svc-1", "stack", path=tmp_path / "t.jsonl")
    root = new_traceparent()
    child = child_traceparent(root)
    attrs = {"http.request.method": "GET", "http.response.status_code": 200, "hit": True}
    tracer.record("get_thing", SpanKind.SERVER, root, None, time.time_ns(), attrs)
    tracer.record('GET "x"', SpanKind.CLIENT, child, root, time.time_ns(), {"f": 0.5}, "boom")
    tracer.record("dropped", SpanKind.CLIENT, root[:-2] + "00", None, time.time_ns(), {})
    asyncio.run(tracer.flush())
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    assert len(lines) == 1
    _proto_check(lines[0])
    server, client = _spans(lines)
    assert server["traceId"] == root[3:35] and "parentSpanId" not in server
    assert server["kind"] == 2 and server["attrs"]["http.response.status_code"] == "200"
    assert client["parentSpanId"] == root[36:52] and client["name"] == 'GET "x"'
    assert client["status"] == {"code": 2, "message": "boom"}


def test_otlp_http_export_posts_json_to_the_collector(unused_tcp_port: int) -> None:
    received: list[tuple[str, str, bytes]] = []

    async def collect(request: web.Request) -> web.Response:
        received.append((request.path, request.headers["content-type"], await request.read()))
        return web.json_response({})

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/v1/traces", collect)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
        try:
            endpoint = f"http://127.0.0.1:{unused_tcp_port}/v1/traces"
            tracer = Tracer("svc", "svc-1", "stack", endpoint=endpoint, headers={"x-k": "v"})
            await tracer.start()
            tracer.record("op", SpanKind.SERVER, new_traceparent(), None, time.time_ns(), {})
            await tracer.close()
            assert tracer.exported == 1
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
    (path, ctype, body), *_ = received
    assert path == "/v1/traces" and ctype == "application/json"
    _proto_check(body.decode())


def test_a_collector_that_is_down_costs_a_warning_not_the_service(unused_tcp_port: int) -> None:
    async def scenario() -> Tracer:
        tracer = Tracer("svc", "svc-1", "s", endpoint=f"http://127.0.0.1:{unused_tcp_port}/x")
        tracer.record("op", SpanKind.SERVER, new_traceparent(), None, time.time_ns(), {})
        await tracer.close()
        return tracer

    tracer = asyncio.run(scenario())
    assert tracer.failed_exports == 1 and tracer.exported == 0


@pytest.fixture
def unused_tcp_port() -> int:
    from archsim.runtime.ports import free_port

    return free_port()
