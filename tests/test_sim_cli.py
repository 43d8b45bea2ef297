"""`archsim simulate` via the CLI: formats, files, and one clear error per bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archsim.cli.app import app

MM1 = str(Path(__file__).parent / "sim_models" / "mm1.dot")
FAST = ["--duration", "20s", "--warmup", "2s", "--replications", "2", "--jobs", "1"]
runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["simulate", *args])


def test_json_output_has_the_documented_keys(seed_path: Path) -> None:
    result = _run(str(seed_path), "--rps", "100", *FAST, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "archsim.simulation/1"
    for key in (
        "entries",
        "components",
        "links",
        "events",
        "bottlenecks",
        "littles_law",
        "workload",
        "config",
        "seed",
    ):
        assert key in data
    comp = data["components"]["api_gateway"]
    assert {"utilisation", "throughput", "queue_mean", "latency", "unstable"} <= set(comp)
    assert {"source", "target", "relation", "throughput", "p99"} <= set(data["links"][0])
    entry = data["entries"]["GET /products/{id}"]
    assert {"p50", "p99", "p999", "p99_ci", "mean_ci"} <= set(entry["latency"])


def test_tables_csv_and_report(tmp_path: Path) -> None:
    csv_path, html_path = tmp_path / "out.csv", tmp_path / "out.html"
    result = _run(
        MM1,
        "--rps",
        "50",
        *FAST,
        "--csv",
        str(csv_path),
        "--report",
        str(html_path),
        "--method",
        "both",
    )
    assert result.exit_code == 0, result.output
    assert "POST /servers" in result.stdout and "analytic" in result.stdout
    assert csv_path.read_text().startswith("scope,id,count,throughput")
    page = html_path.read_text()
    assert "<svg" in page and "Latency CDF" in page and "http" not in page.split("<body>")[1]


def test_analytic_method_is_instant_and_json(seed_path: Path) -> None:
    result = _run(str(seed_path), "--rps", "200", "--method", "analytic", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["analytic"]["components"]["product_service"]["offered_load"] > 0


def test_overload_exits_zero_and_names_the_unstable_station(seed_path: Path) -> None:
    result = _run(
        str(seed_path),
        "--rps",
        "1500",
        "--duration",
        "10s",
        "--warmup",
        "1s",
        "--replications",
        "1",
        "--jobs",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert "unstable: product_service" in result.stdout and "queue grows" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rps", "-5"], "arrival rate must be a number >= 0"),
        (["--set", "nosuch.workers=2"], "unknown component 'nosuch'"),
        (["--set", "order_service->payment_service.p=1.5"], "outside [0, 1]"),
        (["--fail", "cache@30s..90s", "--duration", "60s"], "ends after the run"),
        (["--slow", "cache@10s..20s:x0"], "factor x0 must be > 0"),
        (["--fail", "cache"], "cannot read --fail"),
        (["--duration", "-3s"], "--duration"),
        (["--warmup", "90s"], "shorter than --duration"),
        (["--precision", "150%"], "--precision"),
        (["--mix", "GET /nope=1"], "unknown entry"),
        (["--users", "0"], "--users must be between 1 and 10,000"),
        (["--rps", "5", "--users", "3"], "not both"),
        (["--ramp", "10s=5,5s=1"], "increasing times"),
        (["--think", "banana"], "--think"),
        (["--profile", "/nonexistent/profile.yaml"], "cannot read profile"),
    ],
)
def test_bad_input_is_one_clear_error(seed_path: Path, args: list[str], message: str) -> None:
    result = _run(str(seed_path), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.count("error") == 1


def test_profile_file_applies_overrides(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("components:\n  server: {service_time: const(1ms)}\n")
    result = _run(MM1, "--rps", "50", *FAST, "--profile", str(profile), "--json")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["entries"].values()
    assert entry["latency"]["mean"] < 0.002
    profile.write_text("components: [1, 2\n")
    assert _run(MM1, "--profile", str(profile)).exit_code == 2


def test_a_short_run_names_the_default_warm_up_it_collides_with(seed_path):
    result = runner.invoke(app, ["simulate", str(seed_path), "--duration", "5s"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "the warm-up is 5s unless given" in text
    assert "--duration 5s --warmup 1s" in text  # a fix the user can paste
