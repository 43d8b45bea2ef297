"""archsim loadtest against the seed's generated stack, started on loopback by the test with
the launcher and always stopped; and the bad-input paths of a stack directory."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archsim.cli.app import app
from archsim.codegen import render
from archsim.model import Architecture
from archsim.runtime.ports import free_port

runner = CliRunner()


def _write_stack(arch: Architecture, directory: Path) -> Path:
    for rel, text in render(arch).items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


@pytest.fixture(scope="module")
def stack(seed_stack: tuple[Path, dict[str, Any]]) -> Path:
    """The session's seed stack (tests/conftest.py: password hashing lowered, as archsim
    loadtest --up does); these tests only put load on it."""
    return seed_stack[0]


def _loadtest(stack: Path, seed_path: Path | None, out: Path, *extra: str) -> tuple[int, str]:
    model = ["--model", str(seed_path)] if seed_path is not None else []
    args = ["loadtest", str(stack), *model, "--out", str(out), "--seed", "3"]
    result = runner.invoke(app, [*args, *extra])
    return result.exit_code, result.output


def test_closed_run_writes_reports_and_thresholds_flip(stack: Path, seed_path: Path, tmp_path):
    out = tmp_path / "closed"
    code, output = _loadtest(
        stack,
        seed_path,
        out,
        "--users",
        "8",
        "--duration",
        "8s",
        "--warmup",
        "2s",
        "--think",
        "200ms",
        "--check",
        "fail_ratio<1%",
        "--check",
        "p99<10s",
    )
    assert code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schema"] == "archsim.loadtest/1"
    assert summary["workload"]["type"] == "closed" and summary["workload"]["users"] == 8
    total = summary["total"]
    assert total["requests"] > 50 and total["fail_ratio"] < 0.01
    for key in ("mean", "p50", "p90", "p95", "p99", "p999", "throughput"):
        assert total[key] > 0
    assert set(summary["endpoints"]) <= {e.id for e in launcher_entries(stack)}
    # the inside of the stack, from /metrics and CPU time
    comps = summary["components"]
    assert comps["product_service"]["requests"] > 0
    assert comps["load_balancer"]["cpu_s"] > 0
    assert comps["product_service"]["caches"]["cache"]["hits"] >= 0
    for name in ("locust_stats.csv", "locust_failures.csv", "report.html", "locustfile.py"):
        assert (out / name).is_file(), name
    assert all(t["ok"] for t in summary["thresholds"])
    # a run judged by a threshold it cannot meet exits 1; without --model it runs the
    # locustfile archsim generate wrote into the stack
    assert (stack / "locustfile.py").is_file()
    code, output = _loadtest(
        stack,
        None,
        tmp_path / "strict",
        "--users",
        "4",
        "--duration",
        "5s",
        "--warmup",
        "1s",
        "--check",
        "p50<1us",
    )
    assert code == 1, output
    assert "✗ p50<1us" in output
    strict = json.loads((tmp_path / "strict" / "summary.json").read_text())
    assert strict["architecture"] == "MicroservicesArchitecture"


def launcher_entries(stack: Path) -> list:
    from archsim.model import load

    return list(
        load(Path(__file__).resolve().parent.parent / "topology.dot").architecture.behaviour.entries
    )


def test_open_run_keeps_the_rate(stack: Path, seed_path: Path, tmp_path: Path):
    out = tmp_path / "open"
    code, output = _loadtest(
        stack,
        seed_path,
        out,
        "--rps",
        "40",
        "--users",
        "30",
        "--duration",
        "8s",
        "--warmup",
        "2s",
        "--json",
    )
    assert code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["workload"] == {
        "type": "open",
        "users": 30,
        "spawn_rate": 20.0,
        "processes": 1,
        "rps": 40.0,
        "arrivals": "poisson",
    }
    assert summary["total"]["fail_ratio"] < 0.01
    assert 25 <= summary["total"]["throughput"] <= 55  # Poisson around 40/s over 6 s
    assert summary["open_model"]["count"] > 0
    # the seed's stack at rest: heartbeats and timers only, measured once, no waiting
    assert summary["idle_settled"] is True
    assert sum(summary["idle_cpu"].values()) <= 0.25


def test_stepped_run_serves_each_rate_and_records_the_knee(stack: Path, tmp_path: Path):
    out = tmp_path / "steps"
    code, output = _loadtest(
        stack,
        None,
        out,
        "--steps",
        "30,60",
        "--arrivals",
        "constant",
        "--users",
        "30",
        "--duration",
        "7s",
        "--warmup",
        "2s",
    )
    assert code == 0, output
    doc = json.loads((out / "steps.json").read_text())
    assert doc["schema"] == "archsim.steps/1"
    assert [s["offered_rps"] for s in doc["steps"]] == [30.0, 60.0]
    for step in doc["steps"]:
        # constant arrivals over the 5 s window: what Locust sends while its users stop
        # after the run's end must not be counted
        assert 0.9 <= step["goodput"] / step["offered_rps"] <= 1.1, step
        assert not step["saturated"]
        assert (out / step["dir"] / "summary.json").is_file()
    assert doc["knee"]["reached"] is False  # both rates served: the knee is only a floor
    assert "step higher" in output
    # the model's saturation beside it; a floor is neither inside nor outside the tolerance
    seed_dot = Path(__file__).resolve().parent.parent / "topology.dot"
    result = runner.invoke(app, ["compare", str(seed_dot), "--measured", str(out / "steps.json")])
    assert result.exit_code == 0, result.output
    assert "no step saturated" in result.output and "bottleneck" in result.output


def test_no_stack_running_exits_2(seed: Architecture, seed_path: Path, tmp_path: Path):
    directory = _write_stack(seed, tmp_path / "idle")
    code, output = _loadtest(directory, seed_path, tmp_path / "out", "--duration", "6s")
    assert code == 2
    assert "no stack is running" in output and "archsim up" in output


def test_wrong_directory_exits_2(seed_path: Path, tmp_path: Path):
    code, output = _loadtest(tmp_path, seed_path, tmp_path / "out")
    assert code == 2
    assert "not a generated stack" in output
    code, output = _loadtest(tmp_path / "missing", seed_path, tmp_path / "out")
    assert code == 2
    assert "not a directory" in output


def test_unreachable_front_door_exits_2(seed: Architecture, seed_path: Path, tmp_path: Path):
    directory = _write_stack(seed, tmp_path / "dead")
    port = free_port()  # nothing listens on it
    state = {
        "front_door": f"http://127.0.0.1:{port}",
        "instances": [  # a live process (this one) that does not serve the front door
            {
                "component": "load_balancer",
                "instance": "load_balancer-1",
                "pid": os.getpid(),
                "url": f"http://127.0.0.1:{port}",
                "health": "/_lb/health",
                "role": "balancer",
            }
        ],
    }
    (directory / ".archsim").mkdir()
    (directory / ".archsim" / "state.json").write_text(json.dumps(state))
    code, output = _loadtest(directory, seed_path, tmp_path / "out", "--duration", "6s")
    assert code == 2
    assert "does not answer" in output


def test_a_model_the_stack_was_not_generated_from_exits_2(stack: Path, tmp_path: Path):
    other = tmp_path / "other.dot"
    other.write_text('digraph Other { lb -> web [label="distributes to"]; }\n')
    code, output = _loadtest(stack, other, tmp_path / "out", "--duration", "6s")
    assert code == 2
    assert "generated from 'MicroservicesArchitecture'" in output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--users", "0"], "--users must be at least 1"),
        (["--duration", "5s", "--warmup", "9s"], "shorter than --duration"),
        (["--check", "p98<1s"], "unknown metric"),
        (["--rps", "-3"], "--rps must be > 0"),
    ],
)
def test_bad_options_exit_2_before_any_load(seed_path: Path, tmp_path: Path, args, fragment):
    code, output = _loadtest(tmp_path, seed_path, tmp_path / "out", *args)
    assert code == 2
    assert fragment in output
