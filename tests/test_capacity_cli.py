"""`archsim sweep` and `archsim plan` via the CLI: formats, files, exit codes, and one clear
error (exit 2, no traceback) per bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from archsim.cli.app import app

MODELS = Path(__file__).parent / "sim_models"
MMC = str(MODELS / "mmc.dot")
FAST = ["--duration", "20s", "--warmup", "2s", "--replications", "2", "--jobs", "1"]
runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_sweep_table_json_csv_and_report(tmp_path: Path) -> None:
    report, table = tmp_path / "sweep.html", tmp_path / "sweep.csv"
    result = _run("sweep", MMC, "--rps", "60..120:step=20", *FAST, "--report", str(report),
                  "--csv", str(table))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "knee: saturates at" in result.stdout and "SATURATED" in result.stdout
    assert report.read_text().startswith("<!DOCTYPE html>")
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [r["rps"] for r in rows] == ["60", "80", "100", "120"]
    assert rows[-1]["saturated"] == "server" and rows[0]["saturated"] == ""
    data = json.loads(_run("sweep", MMC, "--rps", "60..120:step=20", *FAST, "--json").stdout)
    assert data["schema"] == "archsim.sweep/1" and data["levels"] == 4
    assert data["knee"]["component"] == "server" and data["knee"]["reached"]
    assert {"throughput", "latency", "utilisation", "saturated"} <= set(data["points"][0])


def test_sweep_csv_to_stdout_and_a_set_axis() -> None:
    result = _run("sweep", MMC, "--rps", "80", "--set", "server.workers=2..4", *FAST,
                  "--csv", "-")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["server.workers"] for r in rows] == ["2", "3", "4"]
    assert rows[0]["offered_rps"] == "80.0"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--rps", "100"], "nothing to sweep"),
        (["--rps", "10..20", "--set", "server.workers=1..3"], "exactly one range"),
        (["--rps", "20..10"], "low to high"),
        (["--rps", "10..20", "--users", "5"], "not both"),
        (["--rps", "10..20", "--set", "server.wrkers=2"], "wrkers"),
        (["--rps", "10..20", "--duration", "0s"], "--duration"),
        (["--rps", "10..20", "--scheduler", "tcp://127.0.0.1:9"], "Dask scheduler"),
        (["--rps", "fast", "--set", "server.workers=1..2"], "--rps"),
    ],
)
def test_sweep_bad_input_exits_2_with_one_clear_error(args: list[str], fragment: str) -> None:
    result = _run("sweep", MMC, "--duration", "5s", "--warmup", "1s", "--jobs", "1", *args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_plan_writes_an_applicable_profile(tmp_path: Path, seed_path: Path) -> None:
    out = tmp_path / "plan.yaml"
    result = _run("plan", str(seed_path), "--target-rps", "1500", "--slo", "p99<300ms",
                  "--jobs", "2", "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "meets the objectives" in result.stdout and "components:" in result.stdout
    profile = yaml.safe_load(out.read_text())
    assert set(profile) == {"components"} and profile["components"]
    check = _run("simulate", str(seed_path), "--profile", str(out), "--rps", "1500",
                 "--duration", "5s", "--warmup", "1s", "--replications", "2", "--json")  # fmt: skip
    assert check.exit_code == 0, check.output
    assert not any(c["unstable"] for c in json.loads(check.stdout)["components"].values())


def test_plan_says_clearly_when_nothing_within_the_limits_can(seed_path: Path) -> None:
    result = _run("plan", str(seed_path), "--target-rps", "2000", "--slo", "p99<300ms",
                  "--max-replicas", "1", "--jobs", "1", "--json")  # fmt: skip
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["schema"] == "archsim.plan/1" and not data["feasible"]
    assert "--max-replicas" in data["reason"]
    table = _run("plan", str(seed_path), "--target-rps", "2000", "--slo", "p99<300ms",
                 "--max-replicas", "1", "--jobs", "1")  # fmt: skip
    assert table.exit_code == 1 and "no configuration within the limits can" in table.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--target-rps", "100", "--slo", "p99>1s"], "--slo"),
        (["--target-rps", "0", "--slo", "p99<1s"], "--target-rps"),
        (["--target-rps", "100", "--slo", "p99<1s", "--scale", "cpu"], "--scale"),
        (["--target-rps", "100", "--slo", "p99<1s", "--only", "nope"], "unknown component"),
        (["--target-rps", "100", "--slo", "p99<1s", "--jobs", "0"], "--jobs"),
    ],
)
def test_plan_bad_input_exits_2(seed_path: Path, args: list[str], fragment: str) -> None:
    result = _run("plan", str(seed_path), *args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and "Traceback" not in result.stderr
