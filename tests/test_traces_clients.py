"""A traffic source's client spans (the load generator's, in hand-written OTLP JSON): discovery
counts them as the clients of the front door, not a component; the measured run and the trace
calibration take the entries' latency from them, with no gap added; and the generated
locustfile writes such spans itself (run in a subprocess: Locust patches the interpreter)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archsim.codegen.locustfile import render_locustfile
from archsim.model.loader import read_architecture
from archsim.traces import SpanKind, discover, read_spans, to_dot
from archsim.traces.hops import hop_gaps
from archsim.traces.measured import CLIENT, FRONT_DOOR, summary_from_traces
from archsim.traces.tune import _entries_why, measured_at_front

MS = 1_000_000
DOT = (
    "digraph g { lb [kind=load_balancer]; svc [kind=service]; db [kind=database]; "
    'lb -> svc [label="distributes to"]; svc -> db [label="stores in"]; }'
)


def _attrs(values: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, value in values.items():
        typed = {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}
        out.append({"key": key, "value": typed})
    return out


def _span(trace: str, sid: str, parent: str | None, name: str, kind: int, start_ms: float,
          end_ms: float, **attrs: Any) -> dict[str, Any]:  # fmt: skip
    span = {"traceId": trace, "spanId": sid, "name": name, "kind": kind,
            "startTimeUnixNano": str(int(start_ms * MS)),
            "endTimeUnixNano": str(int(end_ms * MS)), "attributes": _attrs(attrs)}  # fmt: skip
    if parent:
        span["parentSpanId"] = parent
    return span


def _otlp(service: str, spans: list[dict[str, Any]]) -> str:
    resource = {"attributes": _attrs({"service.name": service})}
    return json.dumps({"resourceSpans": [{"resource": resource,
                                          "scopeSpans": [{"spans": spans}]}]})  # fmt: skip


def _traces(n: int, *, clients: bool = True) -> str:
    """``n`` requests ``GET /svcs/{i}``: the load generator's client span (5 ms) around the load
    balancer's server span (4 ms), its forward to svc and svc's server span (3 ms)."""
    gen, lb, svc = [], [], []
    for i in range(n):
        t, trace = 10.0 * i, f"{i + 1:032x}"
        a, b, c, d = (f"{i + 1:02x}{k}".rjust(16, "0") for k in "abcd")
        if clients:
            gen.append(_span(trace, a, None, "GET /svcs/{id}", 3, t, t + 5,
                             **{"http.request.method": "GET",
                                "url.full": f"http://127.0.0.1:9000/svcs/{i}",
                                "server.address": "127.0.0.1", "server.port": 9000,
                                "http.response.status_code": 200}))  # fmt: skip
        lb.append(_span(trace, b, a if clients else None, "GET /svcs/{id}", 2, t + 0.5, t + 4.5,
                        **{"http.request.method": "GET", "url.path": f"/svcs/{i}",
                           "http.route": "/svcs/{id}"}))  # fmt: skip
        lb.append(_span(trace, c, b, "GET", 3, t + 0.6, t + 4.4,
                        **{"http.request.method": "GET", "url.path": f"/svcs/{i}",
                           "peer.service": "svc"}))  # fmt: skip
        svc.append(_span(trace, d, c, "get_svc", 2, t + 1.0, t + 4.0,
                         **{"archsim.operation": "get_svc", "http.request.method": "GET",
                            "url.path": f"/svcs/{i}"}))  # fmt: skip
    docs = [_otlp("lb", lb), _otlp("svc", svc)] + ([_otlp("load-generator", gen)] if gen else [])
    return "\n".join(docs) + "\n"


def test_the_load_generator_is_the_front_doors_client_not_a_component() -> None:
    found = discover(read_spans(_traces(30)))
    assert "load-generator" not in {c.id for c in found.components}
    assert "load-generator" not in found.services
    assert [(c.service, c.target, c.count) for c in found.clients] == [("load-generator", "lb", 30)]
    assert found.clients[0].mean_ms == pytest.approx(5.0)
    assert found.link("lb", "svc").relation == "distributes to"  # the lb's spans start the trace
    assert not found.unclassified and not any(k.source == "load-generator" for k in found.links)
    ops = {o.qualified: o for o in found.operations}
    assert ops["lb.GET /svcs/{id}"].roots == 30
    dot = to_dot(found)
    assert "// client (a traffic source, not a component): load-generator → lb: 30" in dot
    assert '"load-generator"' not in dot
    assert found.to_dict()["clients"][0]["service"] == "load-generator"


def test_the_client_spans_are_the_entries_latency() -> None:
    arch = read_architecture(DOT).architecture
    spans = read_spans(_traces(30))
    summary = summary_from_traces(arch, spans)
    assert summary["measured_by"] == {"GET /svcs/{id}": CLIENT}
    assert summary["clients"] == ["load-generator"]
    row = summary["endpoints"]["GET /svcs/{id}"]
    assert row["requests"] == 30 and row["mean"] == pytest.approx(0.005)
    # no gap added to what the client measured; the gap into the front door is now measured
    run = measured_at_front(arch, spans, 0.001)
    assert run.endpoints["GET /svcs/{id}"].mean == pytest.approx(0.005)
    assert hop_gaps(spans).into["lb"] == (pytest.approx(0.001), 30)
    assert _entries_why(summary, 0.001).startswith("client spans of load-generator")


def test_without_client_spans_the_root_spans_are_raised_by_the_gap() -> None:
    arch = read_architecture(DOT).architecture
    spans = read_spans(_traces(30, clients=False))
    summary = summary_from_traces(arch, spans)
    assert summary["measured_by"] == {"GET /svcs/{id}": FRONT_DOOR} and not summary["clients"]
    assert summary["endpoints"]["GET /svcs/{id}"]["mean"] == pytest.approx(0.004)
    run = measured_at_front(arch, spans, 0.001)
    assert run.endpoints["GET /svcs/{id}"].mean == pytest.approx(0.005)
    assert _entries_why(summary, 0.001).startswith("root spans at the front door")
    assert not discover(spans).clients


def test_a_model_component_that_calls_is_no_traffic_source() -> None:
    # the same spans with the client named like a component of the model: not a client
    arch = read_architecture(DOT.replace("}", '"load-generator" [kind=external]; }')).architecture
    arch_ids = {c.id for c in arch.components}
    assert "load-generator" in arch_ids
    summary = summary_from_traces(arch, read_spans(_traces(5)))
    assert summary["measured_by"] == {} and summary["clients"] == []
    # drawn in the model as a traffic source (kind client): it is the entries' client
    drawn = 'digraph g { "load-generator" [kind=client]; "load-generator" -> lb [label="calls"]; '
    arch = read_architecture(drawn + DOT.split("{", 1)[1]).architecture
    summary = summary_from_traces(arch, read_spans(_traces(5)))
    assert summary["measured_by"] == {"GET /svcs/{id}": CLIENT}


def test_the_generated_locustfile_writes_client_spans(tmp_path: Path) -> None:
    arch = read_architecture(DOT).architecture
    (tmp_path / "locustfile.py").write_text(render_locustfile(arch))
    script = """
import locustfile as lf
sent = lf._traced({"Authorization": "Bearer t"})
tp = sent["headers"]["traceparent"]
assert sent["context"] == {"traceparent": tp} and sent["headers"]["Authorization"]
class Reply: status_code = 503
lf.SPANS.add("GET /svcs/{id}", 2.5, None, {"context": sent["context"], "start_time": 100.0,
             "url": "http://127.0.0.1:9000/svcs/7", "request_type": "GET", "response": Reply()})
lf.SPANS.add("POST /svcs", 1.0, ValueError("boom"), {"context": lf._traced({})["context"],
             "start_time": 101.0, "url": "http://127.0.0.1:9000/svcs", "request_type": "POST"})
lf.SPANS.add("GET /svcs", 1.0, None, {"context": {}})  # not traced: no span
lf._stopped(None)
print(tp)
"""
    env = {**os.environ, "ARCHSIM_TRACE": "1", "ARCHSIM_TRACE_DIR": str(tmp_path / "traces")}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    traceparent = done.stdout.split()[-1]
    (path,) = (tmp_path / "traces").glob("load-generator-*.otlp.jsonl")
    spans = read_spans(path.read_text(), str(path))
    assert len(spans) == 2
    get, post = spans
    assert (get.service, get.kind, get.parent_id) == ("load-generator", SpanKind.CLIENT, None)
    assert f"00-{get.trace_id}-{get.span_id}-01" == traceparent
    assert get.start_ns == 100 * 10**9 and get.duration_ns == 2_500_000
    assert get.attributes["http.request.method"] == "GET"
    assert get.attributes["url.full"] == "http://127.0.0.1:9000/svcs/7"
    assert get.attributes["server.address"] == "127.0.0.1"
    assert get.attributes["http.response.status_code"] == 503
    assert not get.error and post.error
    pytest.importorskip("opentelemetry.proto")
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    line = path.read_text().splitlines()[0]
    doc = json.loads(line)
    for span in doc["resourceSpans"][0]["scopeSpans"][0]["spans"]:  # hex ids, as OTLP/JSON
        for key in ("traceId", "spanId"):
            span[key] = __import__("base64").b64encode(bytes.fromhex(span[key])).decode()
    json_format.Parse(json.dumps(doc), ExportTraceServiceRequest())


def test_sampling_follows_the_stacks_ratio_and_off_writes_nothing(tmp_path: Path) -> None:
    arch = read_architecture(DOT).architecture
    (tmp_path / "locustfile.py").write_text(render_locustfile(arch))
    script = (
        "import locustfile as lf\n"
        "print(lf.TRACE_DIR or '-', lf._traced({}).get('headers', {}).get('traceparent', '-'))"
    )
    for env_extra, expect_dir, flag in (
        ({"ARCHSIM_TRACE": "1", "ARCHSIM_TRACE_SAMPLE": "0"}, True, "00"),
        ({"ARCHSIM_TRACE": "0"}, False, None),
    ):
        env = {**os.environ, "ARCHSIM_TRACE_DIR": str(tmp_path / "t"), **env_extra}
        done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        folder, traceparent = done.stdout.split()
        assert (folder != "-") is expect_dir
        assert traceparent == "-" if flag is None else traceparent.endswith(f"-{flag}")


def test_loadtest_traces_as_the_stack_was_started() -> None:
    from archsim.loadtest.stack_state import tracing_environment
    from archsim.runtime.launcher import _trace_sample

    state = {"trace": "1", "trace_sample": 0.25, "trace_dir": "/stack/.archsim/traces"}
    assert tracing_environment(state) == {
        "ARCHSIM_TRACE": "1",
        "ARCHSIM_TRACE_DIR": "/stack/.archsim/traces",
        "ARCHSIM_TRACE_SAMPLE": "0.25",
    }
    # untraced (or a state file from before): off, whatever the shell says
    assert tracing_environment({"trace": "0", "trace_sample": None}) == {"ARCHSIM_TRACE": "0"}
    assert tracing_environment({}) == {"ARCHSIM_TRACE": "0"}
    assert _trace_sample({"ARCHSIM_TRACE": "1"}) == 1.0
    assert _trace_sample({"ARCHSIM_TRACE": "1", "OTEL_TRACES_SAMPLER": "traceidratio",
                          "OTEL_TRACES_SAMPLER_ARG": "0.1"}) == 0.1  # fmt: skip
    assert _trace_sample({"ARCHSIM_TRACE": "1", "OTEL_SDK_DISABLED": "true"}) is None
    assert _trace_sample({"ARCHSIM_TRACE": "1", "ARCHSIM_TRACE_SAMPLE": "half"}) is None
    assert _trace_sample({}) is None
