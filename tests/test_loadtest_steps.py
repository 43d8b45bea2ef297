"""Stepped runs: rates, the measured knee, and the model's saturation beside it (no stack)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from archsim.cli.app import app
from archsim.errors import ScenarioError
from archsim.loadtest.steps import (
    StepResult,
    check_steps,
    compare_knee,
    parse_rates,
    steps_document,
)
from archsim.model import load
from archsim.sim import Workload
from archsim.sim.analytic import saturation

runner = CliRunner()

SHOP = """digraph Shop {
  lb [kind=load_balancer, service_time="exp(0.2ms)"];
  api [kind=service, service_time="exp(10ms)", workers=WORKERS];
  db [kind=database, service_time="exp(1ms)"];
  lb -> api [label="distributes to"];
  api -> db [label="stores in"];
}
"""


def _shop(tmp_path: Path, workers: int = 1) -> Path:
    path = tmp_path / f"shop{workers}.dot"
    path.write_text(SHOP.replace("WORKERS", str(workers)))
    return path


def _summary(rps: float, served: float, fail: float = 0.0, generator: float = 0.3) -> dict:
    """A load-test summary with just what a step reads."""
    return {
        "schema": "archsim.loadtest/1",
        "architecture": "Shop",
        "stack": "shop-1",
        "workload": {"type": "open", "users": 100, "processes": 1, "rps": rps},
        "duration_s": 20.0,
        "warmup_s": 4.0,
        "total": {"throughput": served, "fail_ratio": fail, "mean": 0.01, "p95": 0.02},
        "components": {"api": {"cpu_utilisation": served / 110}, "lb": {"cpu_utilisation": 0.1}},
        "load_generator": {"cpu_utilisation": generator},
    }


def _doc(rows: list[tuple[float, float]], **kw: Any) -> dict:
    sums = [_summary(r, s, **kw) for r, s in rows]
    steps = [StepResult.of(s, f"step-{r:g}") for s, (r, _) in zip(sums, rows, strict=True)]
    return steps_document(sums, steps, planned=len(rows))


def test_rates_from_a_list_or_a_range():
    assert parse_rates("100,300,500") == [100.0, 300.0, 500.0]
    assert parse_rates("100:500:200") == [100.0, 300.0, 500.0]
    assert parse_rates("50:120:50") == [50.0, 100.0]  # the stop is included only when hit


@pytest.mark.parametrize("text", ["", "100,50", "0,10", "a,b", "100:500:0", "100:500"])
def test_bad_rates_say_what_to_write(text: str):
    with pytest.raises(ScenarioError) as err:
        parse_rates(text)
    assert err.value.code == "bad-load" and "--steps" in str(err.value)


def test_the_knee_is_the_best_served_rate_and_a_floor_until_a_step_saturates():
    served = _doc([(100, 101), (300, 298)])
    assert served["knee"] == {
        "throughput": 298,
        "offered_rps": 300,
        "reached": False,
        "generator_bound": False,
    }
    past = _doc([(100, 101), (300, 298), (500, 390), (700, 370)])
    assert [s["saturated"] for s in past["steps"]] == [False, False, True, True]
    assert past["knee"]["throughput"] == 390 and past["knee"]["reached"] is True
    failing = _doc([(100, 100)], fail=0.2)  # served, but a fifth of it failed
    assert failing["steps"][0]["saturated"] and failing["knee"]["throughput"] == 80
    busy = _doc([(100, 100)], generator=0.97)
    assert busy["knee"]["generator_bound"] is True


def test_a_step_records_the_host_cores_busy_and_the_knee_table_shows_them(tmp_path: Path):
    doc = _doc([(110, 110), (220, 220)], generator=0.25)
    # every process of the stack (api 1 + lb 0.1 at 110 req/s) and the load generator
    assert [s["host_cores"] for s in doc["steps"]] == pytest.approx([1.35, 2.35])
    arch = load(_shop(tmp_path)).architecture
    table = _render(compare_knee(arch, doc, 0.25))
    assert "host cores" in table and "2.35" in table
    old = doc | {"steps": [{k: v for k, v in s.items() if k != "host_cores"} for s in doc["steps"]]}
    assert "host cores" not in _render(compare_knee(arch, old, 0.25))  # written before it


def _render(thing: object) -> str:
    console = Console(width=120, file=io.StringIO())
    console.print(thing)
    return console.file.getvalue()


def test_predicted_saturation_is_the_utilisation_law(tmp_path: Path):
    # api: 10 ms per request on one worker → 100 req/s; two workers → 200 req/s
    one = load(_shop(tmp_path, 1)).architecture
    two = load(_shop(tmp_path, 2)).architecture
    rate, where = saturation(one, Workload(rps=5))
    assert rate == pytest.approx(100.0) and where == "api"
    assert saturation(two, Workload(users=3))[0] == pytest.approx(200.0)


def test_compare_knee_relative_error_and_floor(tmp_path: Path):
    arch = load(_shop(tmp_path)).architecture
    doc = _doc([(50, 50), (100, 95), (150, 80), (200, 82)])
    check_steps(arch, doc)
    c = compare_knee(arch, doc, 0.25)
    assert c.predicted == pytest.approx(100.0) and c.bottleneck == "api"
    assert c.rel_error == pytest.approx(100 / 95 - 1)
    assert c.within is True
    assert compare_knee(arch, doc, 0.01).within is False
    floor = compare_knee(arch, _doc([(50, 50)]), 0.25)
    assert floor.within is None  # no step saturated: nothing to judge
    data = c.to_dict()
    assert data["measured"]["throughput"] == 95
    assert data["steps"][2]["predicted_rps"] == pytest.approx(100)


def test_check_steps_rejects_other_files_and_architectures(tmp_path: Path):
    arch = load(_shop(tmp_path)).architecture
    with pytest.raises(ScenarioError, match="not an archsim stepped run"):
        check_steps(arch, {"schema": "archsim.loadtest/1"})
    other = _doc([(50, 50)]) | {"architecture": "Bank"}
    with pytest.raises(ScenarioError, match="another architecture") as err:
        check_steps(arch, other)
    assert err.value.code == "wrong-architecture"


def test_compare_cli_with_a_stepped_run(tmp_path: Path):
    model = _shop(tmp_path)
    path = tmp_path / "steps.json"
    path.write_text(json.dumps(_doc([(50, 50), (100, 95), (150, 80), (200, 82)])))
    result = runner.invoke(app, ["compare", str(model), "--measured", str(path)])
    assert result.exit_code == 0, result.output
    assert "knee: measured 95 req/s, predicted 100 req/s" in result.output
    as_json = runner.invoke(app, ["compare", str(model), "--measured", str(path), "--json"])
    assert json.loads(as_json.output)["schema"] == "archsim.compare-knee/1"
    report = runner.invoke(
        app, ["compare", str(model), "--measured", str(path), "--report", str(tmp_path / "r.html")]
    )
    assert report.exit_code == 2 and "single run" in report.output
    assert not (tmp_path / "r.html").exists()


def test_loadtest_steps_clash_with_rps_and_thresholds(tmp_path: Path):
    base = ["loadtest", str(tmp_path), "--steps", "10,20"]
    clash = runner.invoke(app, [*base, "--rps", "10"])
    assert clash.exit_code == 2 and "--steps and --rps" in clash.output
    check = runner.invoke(app, [*base, "--check", "p99<1s"])
    assert check.exit_code == 2 and "single run" in check.output
    bad = runner.invoke(app, ["loadtest", str(tmp_path), "--steps", "20,10"])
    assert bad.exit_code == 2 and "must rise" in bad.output
