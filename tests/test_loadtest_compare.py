"""compare and calibrate on synthetic measurements (no stack needed), and their CLI paths."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from archsim.cli.app import app
from archsim.errors import ScenarioError
from archsim.loadtest.calibrate import calibrate, host_fit, profile_yaml
from archsim.loadtest.compare import check_measured, compare, sim_config_of, workload_of
from archsim.loadtest.measured import MeasuredRun
from archsim.loadtest.report import render_compare_report
from archsim.loadtest.summary import SCHEMA
from archsim.model import Architecture, apply_overrides, profile_overrides
from archsim.sim import SimConfig, Workload, simulate
from archsim.sim.analytic import saturation, solve

runner = CliRunner()


def _measured_from(arch: Architecture, workload: Workload, cfg: SimConfig) -> dict[str, Any]:
    """A summary.json whose figures are exactly a simulation's (the ideal measurement)."""
    result = simulate(arch, workload, cfg, jobs=1, analytic=False)
    endpoints = {
        eid: {
            "requests": e.count,
            "failures": 0,
            "fail_ratio": 0.0,
            "throughput": e.throughput,
            **{k: getattr(e.latency, k) for k in ("mean", "p50", "p90", "p95", "p99", "p999")},
            "cdf": [],
        }
        for eid, e in result.entries.items()
    }
    return {
        "schema": SCHEMA,
        "architecture": arch.name,
        "workload": {"type": "open", "rps": workload.rps, "arrivals": workload.arrivals},
        "duration_s": cfg.duration,
        "warmup_s": cfg.warmup,
        "window_s": cfg.duration - cfg.warmup,
        "endpoints": endpoints,
        "total": {},
        "components": {
            cid: {
                "requests": c.count,
                "throughput": c.throughput,
                "latency": c.latency.to_dict(),
                "cpu_utilisation": c.utilisation,
            }
            for cid, c in result.components.items()
        },
    }


@pytest.fixture(scope="module")
def ideal(seed: Architecture) -> dict[str, Any]:
    return _measured_from(
        seed, Workload(rps=50.0), SimConfig(duration=20, warmup=2, replications=2)
    )


def test_the_same_simulation_compares_as_exact(seed: Architecture, ideal: dict[str, Any]):
    workload, cfg = workload_of(ideal), sim_config_of(ideal, replications=2)
    assert workload.rps == 50.0 and cfg.duration == 20 and cfg.warmup == 2
    result = simulate(seed, workload, cfg, jobs=1, analytic=False)
    comparison = compare(seed, ideal, result, tolerance=0.25)
    assert set(comparison.entries) == set(ideal["endpoints"])
    for row in comparison.entries.values():
        assert row.mean.rel_error == pytest.approx(0.0, abs=1e-9)
        assert row.mean.inside_ci is True
    summary = comparison.summary()
    assert summary.mean_within == summary.entries == len(seed.behaviour.entries)
    assert comparison.to_dict()["summary"] == summary.to_dict()
    html = render_compare_report(comparison)
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<script" not in html


def test_a_run_of_another_architecture_is_refused(seed: Architecture, ideal: dict[str, Any]):
    other = dict(ideal, architecture="SomethingElse")
    with pytest.raises(ScenarioError, match="another architecture"):
        check_measured(seed, other)
    foreign = dict(ideal, endpoints={**ideal["endpoints"], "GET /nope": {}})
    with pytest.raises(ScenarioError, match="GET /nope"):
        check_measured(seed, foreign)
    with pytest.raises(ScenarioError, match="not an archsim load-test summary"):
        check_measured(seed, {"schema": "archsim.simulation/1"})


def _measured_for_calibration(seed: Architecture) -> dict[str, Any]:
    front = 1000
    comps = {
        "load_balancer": {"requests": 0, "cpu_s": 1.0, "instances": 1, "cpu_utilisation": 0.1},
        "product_service": {
            "requests": 500,
            "cpu_s": 1.0 + 0.01 * 10,  # 2 ms per request plus 1% of a core idle
            "instances": 1,
            "cpu_utilisation": 0.11,
            "ops": {"get_product": {"requests": 500, "latency": {"mean": 0.0025}}},
            "caches": {"cache": {"hits": 450, "misses": 50, "hit_ratio": 0.9}},
            "calls": {},
        },
        "api_gateway": {
            "requests": 100,
            "cpu_s": 0.1,
            "instances": 1,
            "cpu_utilisation": 0.01,
            "ops": {"get_product": {"requests": 100, "latency": {"mean": 0.004}}},
            "calls": {"auth_service": {"ok": 5, "failed": 0}},
        },
    }
    return {
        "schema": SCHEMA,
        "architecture": seed.name,
        "workload": {"type": "open", "rps": 100.0, "arrivals": "poisson"},
        "duration_s": 12.0,
        "warmup_s": 2.0,
        "window_s": 10.0,
        "endpoints": {"GET /products/{id}": {"requests": front, "mean": 0.004}},
        "components": comps,
        "idle_cpu": {"product_service": 0.01},
        "load_generator": {"cpu_s": 0.5, "window_s": 10.0},
        "host": {"cpus": 2},
    }


def test_calibration_by_the_service_demand_law(seed: Architecture):
    fit = calibrate(seed, _measured_for_calibration(seed), fit_network=False)
    times = {cid: c.attrs().get("service_time") for cid, c in fit.components.items()}
    assert times["product_service"] == "exp(2ms)"
    assert times["load_balancer"] == "exp(1ms)"  # 1 s / 1000 requests
    assert times["api_gateway"] == "exp(1ms)"
    assert fit.links["product_service->cache"].hit_ratio == pytest.approx(0.9)
    assert fit.links["api_gateway->auth_service"].p == pytest.approx(0.05)  # tokens are cached
    assert fit.profile()["links"]["product_service->cache"] == {"hit_ratio": "0.900"}
    assert "idle" in fit.why["product_service.service_time"]
    # the profile applies to the model as it is
    text = profile_yaml(fit, source="run.json")
    calibrated = apply_overrides(seed, profile_overrides(yaml.safe_load(text)))
    assert calibrated.component("product_service").service_time.mean == pytest.approx(0.002)


def test_the_shared_host_is_fitted_and_bounds_the_prediction(seed: Architecture):
    low = _measured_for_calibration(seed)
    # one run: the line through its idle CPU (0.01 core) and the run itself; the host was busy
    # lb 1 s + product 1.1 s + gateway 0.1 s + Locust 0.5 s in 10 s at 100 requests/s
    one = host_fit([MeasuredRun.from_dict(low)])
    assert one.cpu_per_request_s == pytest.approx((2.7 / 10 - 0.01) / 100)
    assert one.background == pytest.approx(0.01)
    # a second run at twice the rate costing less than twice the CPU: CPU per request falls
    # with the rate, and the curve above the idle CPU passes through both runs
    high = json.loads(json.dumps(low))
    for e in high["endpoints"].values():
        e["requests"] *= 2
    for c in high["components"].values():
        c["cpu_s"] *= 1.5
    high["load_generator"]["cpu_s"] *= 1.5
    two = host_fit([MeasuredRun.from_dict(low), MeasuredRun.from_dict(high)])
    assert two.background == pytest.approx(0.01)  # the idle CPU, not an intercept
    assert two.power == pytest.approx(math.log2(0.395 / 0.26))
    assert (two.rate, two.cpu_per_request_s) == (pytest.approx(200), pytest.approx(0.395 / 200))
    assert two.host.busy(100) == pytest.approx(0.27) and two.host.busy(200) == pytest.approx(0.405)
    # the rate where the curve reaches the 2 cores, not where a straight line would
    knee = 200 * ((2 - 0.01) / 0.395) ** (1 / two.power)
    assert two.host_bound_rps == pytest.approx(knee)
    # each process's CPU per request falls alike (× 1.5 for twice the rate): its curve's power
    curved = calibrate(seed, low, more=[high], fit_network=False, fit_spread=False)
    lb = curved.components["load_balancer"]
    assert (lb.cpu_power, lb.cpu_at) == (pytest.approx(math.log2(1.5)), 100.0)
    # the host alone, the processes' times as fitted at the calibration level
    fit = calibrate(seed, low, more=[high], fit_network=False, fit_spread=False, fit_curves=False)
    assert fit.graph.host_cores == 2 and fit.graph.host_cpu == pytest.approx(0.395 / 200)
    assert fit.graph.attrs() == {
        "host_cores": "2",
        "host_cpu": "1.975ms",
        "host_background": "0.010",
        "host_cpu_power": f"{two.power:.4f}",
        "host_cpu_at": "200",
    }
    calibrated = apply_overrides(seed, fit.overrides())
    assert calibrated.host is not None and calibrated.host.cores == 2
    host = solve(calibrated, Workload(rps=100.0)).host
    assert host is not None
    assert host.saturation_rps == pytest.approx(knee, rel=1e-3)  # the profile rounds the power
    assert host.utilisation == pytest.approx(0.27 / 2, rel=1e-3)
    # the balancer (1 ms per request, one worker) saturates first at 1,000 req/s; a slower
    # host would be the bound
    assert saturation(calibrated, Workload(rps=1.0)) == (pytest.approx(1000.0), "load_balancer")
    slow = apply_overrides(calibrated, ["host_cpu=8ms"])
    slow_knee = 200 * ((2 - 0.01) / (0.008 * 200)) ** (1 / float(f"{two.power:.4f}"))
    assert saturation(slow, Workload(rps=1.0)) == (pytest.approx(slow_knee), "host")


def test_calibration_needs_inside_measurements(seed: Architecture):
    bare = dict(_measured_for_calibration(seed), components={})
    with pytest.raises(ScenarioError, match="no per-component data"):
        calibrate(seed, bare, fit_network=False)


def test_compare_and_calibrate_cli(seed_path: Path, ideal: dict[str, Any], tmp_path: Path):
    run = tmp_path / "run.json"
    run.write_text(json.dumps(ideal))
    report = tmp_path / "compare.html"
    out = runner.invoke(
        app,
        [
            "compare",
            str(seed_path),
            "--measured",
            str(run),
            "--replications",
            "2",
            "--report",
            str(report),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["schema"] == "archsim.compare/1"
    assert data["summary"]["mean_within"] == len(data["entries"])
    assert "<svg" in report.read_text()
    cal = dict(_measured_for_calibration_like(ideal))
    run.write_text(json.dumps(cal))
    profile = tmp_path / "cal.profile.yaml"
    out = runner.invoke(
        app, ["calibrate", str(seed_path), "--measured", str(run), "-o", str(profile)]
    )
    assert out.exit_code == 0, out.output
    assert "components" in yaml.safe_load(profile.read_text())
    out = runner.invoke(
        app,
        [
            "simulate",
            str(seed_path),
            "--profile",
            str(profile),
            "--duration",
            "5s",
            "--warmup",
            "1s",
            "--replications",
            "1",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output


def _measured_for_calibration_like(ideal: dict[str, Any]) -> dict[str, Any]:
    comps = {
        cid: dict(c, cpu_s=c["cpu_utilisation"] * ideal["window_s"], instances=1)
        for cid, c in ideal["components"].items()
    }
    return dict(ideal, components=comps, host={"cpus": 2})


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not json", "not JSON"),
        ('{"schema": "archsim.simulation/1"}', "not an archsim load-test summary"),
        (None, "cannot read the measured run"),
    ],
)
def test_bad_measured_files_exit_2(seed_path: Path, tmp_path: Path, content, fragment):
    run = tmp_path / "run.json"
    if content is not None:
        run.write_text(content)
    for command in ("compare", "calibrate"):
        out = runner.invoke(app, [command, str(seed_path), "--measured", str(run)])
        assert out.exit_code == 2
        assert fragment in out.output
        assert "Traceback" not in out.output


def test_measured_on_another_architecture_exits_2(tmp_path: Path, ideal: dict[str, Any]):
    other = tmp_path / "other.dot"
    other.write_text('digraph Other { lb -> web [label="distributes to"]; }\n')
    run = tmp_path / "run.json"
    run.write_text(json.dumps(ideal))
    out = runner.invoke(app, ["compare", str(other), "--measured", str(run)])
    assert out.exit_code == 2
    assert "another architecture" in out.output


def test_a_host_curve_steeper_than_the_range_is_kept_in_it_and_says_so(seed: Architecture):
    low = _measured_for_calibration(seed)
    # ten times the rate for the same CPU: a power near 0, which no stack's wake-ups explain
    high = json.loads(json.dumps(low))
    for e in high["endpoints"].values():
        e["requests"] *= 10
    curve = host_fit([MeasuredRun.from_dict(low), MeasuredRun.from_dict(high)])
    assert curve.power == 0.5
    assert "kept in 0.5–1" in curve.how
    # the clamped curve still passes through the busiest run, where it predicts the knee from
    assert curve.host.busy(curve.rate) == pytest.approx(0.27)


def test_calibrate_fits_the_wait_for_a_core_when_asked(seed_path: Path, tmp_path: Path):
    runs = Path(__file__).resolve().parent.parent / "examples" / "runs"
    low, high = str(runs / "low.json"), str(runs / "high.json")
    one = runner.invoke(app, ["calibrate", str(seed_path), "--measured", low, "--fit-wait"])
    assert one.exit_code == 2 and "needs a second --measured run" in one.output
    out = tmp_path / "cal.yaml"
    args = ["calibrate", str(seed_path), "--measured", low, "--measured", high, "-o", str(out)]
    plain = runner.invoke(app, [*args, "--json"])
    assert plain.exit_code == 0, plain.output
    assert "host_wait" not in yaml.safe_load(out.read_text())["graph"]  # off by default
    waited = runner.invoke(app, [*args, "--fit-wait", "--json"])
    assert waited.exit_code == 0, waited.output
    graph = yaml.safe_load(out.read_text())["graph"]
    assert "host_wait" in graph and "398 req/s" in json.loads(waited.output)["why"]["host_wait"]
