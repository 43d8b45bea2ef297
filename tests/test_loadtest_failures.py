"""Failure is loud: a stack whose payment provider declines every request, really started.
The front door's 502 names the hop chain, every failed call is a JSON log line with its trace
id, ``archsim loadtest`` warns and exits 1 (0 with --allow-failures), and ``compare`` and
``calibrate`` refuse the run (exit 2) unless --allow-failures. The CLI runs in subprocesses,
as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from archsim.codegen import apply_writes, plan_writes, render
from archsim.errors import ScenarioError
from archsim.loadtest.failures import (
    check_failures,
    failing_entries,
    failure_warning,
    read_errors,
)
from archsim.model.loader import read_architecture
from archsim.runtime import launcher

ROOT = Path(__file__).resolve().parent.parent
FAILING = """digraph failing {
  gateway [kind="gateway"];
  gateway -> order_service [label="routes to"];
  order_service -> payment_service [label="calls"];
  order_service -> order_db [label="stores in"];
  payment_service -> payment_provider [label="integrates with"];
  payment_provider [error_rate="100%"];
}
"""


def _archsim(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    code = "import sys; from archsim.cli import main; sys.argv[0] = 'archsim'; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "failing.dot"
    path.write_text(FAILING)
    return path


@pytest.fixture(scope="module")
def stack(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("stack")
    arch = read_architecture(FAILING, str(model)).architecture
    apply_writes(plan_writes(directory, render(arch)))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.setdefault("ARCHSIM_PBKDF2_ROUNDS", "1000")  # a load test: hashing lowered (warned)
    launcher.up(directory, env=env, timeout_s=120)
    try:
        yield directory
    finally:
        launcher.down(directory)


@pytest.fixture(scope="module")
def measured(stack: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    out = tmp_path_factory.mktemp("run")
    args = ["--users", "4", "--duration", "6s", "--warmup", "1s", "--think", "const(0.05s)"]
    result = _archsim("loadtest", str(stack), *args, "--seed", "2", "-o", str(out))
    return out / "summary.json", result.stdout + result.stderr, result.returncode


def test_front_door_502_names_the_hop_chain(stack: Path) -> None:
    front = launcher.read_state(stack)["front_door"]
    reply = httpx.post(front + "/api/orders", json={"name": "one"}, timeout=15)
    assert reply.status_code == 502
    assert reply.json()["detail"] == (
        "order_service → payment_service → payment_provider answered 502: "
        "payment_provider declined the request"
    )


def test_every_failed_call_is_a_json_log_line_with_its_trace(stack: Path) -> None:
    front = launcher.read_state(stack)["front_door"]
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {"traceparent": f"00-{trace}-00f067aa0ba902b7-01"}
    httpx.post(front + "/api/orders", json={"name": "two"}, headers=headers, timeout=15)
    seen: dict[str, dict[str, object]] = {}
    for service in ("gateway", "order_service", "payment_service"):
        result = _archsim("logs", service, "-d", str(stack), "-n", "400")
        assert result.returncode == 0, result.stderr
        for line in result.stdout.splitlines():
            if line.startswith("{") and '"call_failed"' in line:
                entry = json.loads(line)
                if entry.get("trace_id") == trace:
                    seen[service] = entry
    assert set(seen) == {"gateway", "order_service", "payment_service"}
    assert seen["payment_service"]["target"] == "payment_provider"
    assert seen["payment_service"]["status"] == 502
    assert "declined" in str(seen["payment_service"]["cause"])
    assert seen["gateway"]["target"] == "order_service"


def test_loadtest_with_failures_warns_and_exits_1(measured: tuple[Path, str, int]) -> None:
    summary_path, output, code = measured
    assert code == 1, output
    assert "requests failed (more than 1%)" in output
    assert "POST /api/orders" in output and "declined the request" in output
    summary = json.loads(summary_path.read_text())
    assert summary["errors"]["POST /api/orders"][0]["error"].startswith("502: order_service →")


def test_loadtest_allow_failures_exits_0(stack: Path, tmp_path: Path) -> None:
    args = ["--users", "2", "--duration", "3s", "--warmup", "0s", "--think", "const(0.1s)"]
    result = _archsim("loadtest", str(stack), *args, "--allow-failures", "-o", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "requests failed" in result.stderr  # still said


def test_compare_and_calibrate_refuse_the_run(model: Path, measured: tuple[Path, str, int]):
    summary = str(measured[0])
    for command in (
        ["compare", str(model), "--measured", summary],
        ["calibrate", str(model), "--measured", summary, "-o", str(model.with_suffix(".yaml"))],
    ):
        result = _archsim(*command)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "of the measured requests failed" in result.stderr
        assert "POST /api/orders" in result.stderr and "--allow-failures" in result.stderr
    allowed = _archsim("compare", str(model), "--measured", summary, "--replications", "1",
                       "--allow-failures")  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr


# -- the pure parts ------------------------------------------------------------------------


def _summary(**entries: tuple[int, int]) -> dict[str, object]:
    endpoints = {n: {"requests": r, "failures": f} for n, (r, f) in entries.items()}
    requests = sum(r for r, _ in entries.values())
    failures = sum(f for _, f in entries.values())
    return {
        "endpoints": endpoints,
        "total": {"requests": requests, "failures": failures, "fail_ratio": failures / requests},
        "errors": {"GET /a": [{"error": "404: a 1 not found", "count": 7}]},
    }


def test_warning_names_entries_most_failures_first() -> None:
    summary = _summary(**{"GET /a": (100, 8), "GET /b": (100, 0), "POST /c": (10, 10)})
    text = failure_warning(summary)
    assert text is not None and text.splitlines()[0].startswith("8.6% of 210 requests failed")
    assert [f.entry for f in failing_entries(summary)] == ["POST /c", "GET /a"]
    assert "most often (7×) 404: a 1 not found" in text
    assert failure_warning(_summary(**{"GET /a": (1000, 10)})) is None  # exactly 1%: fine


def test_check_failures_limit_and_flag() -> None:
    check_failures(_summary(**{"GET /a": (100, 5)}), "run")  # 5%: still a measurement
    with pytest.raises(ScenarioError) as info:
        check_failures(_summary(**{"GET /a": (10000, 502)}), "run")
    assert "5.02% of the measured" in info.value.message and "GET /a" in info.value.message
    check_failures(_summary(**{"GET /a": (10, 10)}), "run", allow=True)


def test_read_errors_unwraps_locust_text(tmp_path: Path) -> None:
    path = tmp_path / "locust_failures.csv"
    path.write_text(
        "Method,Name,Error,Occurrences\n"
        'GET,GET /a,"CatchResponseError(\'502: {""detail"": '
        '""x \\\\u2192 y answered 503: no""}\')",3\n'
        "GET,GET /a,ConnectionRefusedError(111),9\n"
    )
    errors = read_errors(path)
    assert errors["GET /a"][0] == {"error": "ConnectionRefusedError(111)", "count": 9}
    assert errors["GET /a"][1]["error"] == "502: x → y answered 503: no"
    assert read_errors(tmp_path / "missing.csv") == {}
