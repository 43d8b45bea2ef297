"""Per-operation service times and their spread, fitted from synthetic measured data (pure)."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from archsim.loadtest.calibrate import calibrate, profile_yaml
from archsim.loadtest.calibration import ComponentFit, distribution_text, fitted_time
from archsim.loadtest.fit import (
    CV_RANGE,
    OpTime,
    fit_operations,
    lognormal_cv,
    operation_times,
)
from archsim.loadtest.measured import MeasuredRun
from archsim.loadtest.summary import SCHEMA
from archsim.model import Architecture, apply_overrides, load, profile_overrides
from archsim.model.attributes import parse_operation_times
from archsim.sim.figures import Latency

SEED = Path(__file__).resolve().parent.parent / "topology.dot"


@pytest.fixture(scope="module")
def seed() -> Architecture:
    return load(SEED).architecture


def _lognormal_p95(mean: float, cv: float) -> float:
    sigma = math.sqrt(math.log1p(cv * cv))
    mu = math.log(mean) - sigma * sigma / 2
    return math.exp(mu + 1.6448536269514722 * sigma)


@pytest.mark.parametrize("cv", [0.2, 0.5, 1.0, 1.4])
def test_lognormal_cv_recovers_the_spread_from_mean_and_p95(cv: float):
    assert lognormal_cv(0.004, _lognormal_p95(0.004, cv)) == pytest.approx(cv, rel=1e-6)


def test_lognormal_cv_without_a_percentile_or_beyond_any_lognormal():
    assert lognormal_cv(0.004, None) is None
    assert lognormal_cv(0.0, 0.01) is None
    # p95/mean above exp(z²/2) ≈ 3.87: no lognormal has it; the widest one is returned
    widest = lognormal_cv(0.001, 0.0039)
    assert lognormal_cv(0.001, 0.02) == pytest.approx(widest, rel=0.02)


def test_cpu_below_exclusive_time_scales_every_operation():
    ops = [OpTime("login", 100, 0.011, 0.001), OpTime("get_user", 900, 0.001, 0.0)]
    # exclusive: 100 × 10 ms + 900 × 1 ms = 1.9 s; CPU 0.95 s → everything × 0.5
    fits = fit_operations(0.95, ops, min_requests=20)
    assert fits["login"].mean == pytest.approx(0.005)
    assert fits["get_user"].mean == pytest.approx(0.0005)
    assert sum(o.requests * fits[o.operation].mean for o in ops) == pytest.approx(0.95)
    assert "× 0.50" in fits["login"].why


def test_cpu_beyond_exclusive_time_is_shared_per_request():
    ops = [OpTime("issue_token", 100, 0.0002, 0.0), OpTime("validate_token", 900, 0.0, 0.0)]
    ops[1] = OpTime("validate_token", 900, 0.00001, 0.0)
    busy = 100 * 0.0002 + 900 * 0.00001
    fits = fit_operations(0.4, ops, min_requests=20)
    extra = (0.4 - busy) / 1000
    assert fits["issue_token"].mean == pytest.approx(0.0002 + extra)
    assert fits["validate_token"].mean == pytest.approx(0.00001 + extra)
    assert sum(o.requests * fits[o.operation].mean for o in ops) == pytest.approx(0.4)


def test_wait_dominated_operation_takes_the_typical_exclusive_time():
    ops = [
        OpTime("get_user", 500, 0.002, 0.001),  # 1 ms exclusive
        OpTime("list_users", 500, 0.003, 0.0),  # 3 ms
        OpTime("get_order", 500, 0.002, 0.0),  # 2 ms
        OpTime("create_payment", 100, 0.110, 0.108),  # 2 ms of 110 ms: noise
    ]
    assert not ops[3].identified and ops[0].identified
    fits = fit_operations(3.2, ops, min_requests=20)  # = Σ n × exclusive with the median
    assert fits["create_payment"].mean == pytest.approx(0.002)
    assert "waits dominate" in fits["create_payment"].why


def test_few_requests_share_the_split_but_are_not_written():
    ops = [OpTime("login", 5, 0.010, 0.0), OpTime("get_user", 500, 0.001, 0.0)]
    fits = fit_operations(0.55, ops, min_requests=20)
    assert set(fits) == {"get_user"}
    assert fits["get_user"].mean == pytest.approx(0.001)


def test_cv_comes_from_the_exclusive_spread_and_is_clamped():
    wide = OpTime("a", 100, 0.002, 0.0, p95=0.0075)  # p95/mean 3.75: very wide
    narrow = OpTime("b", 100, 0.002, 0.0, p95=0.0021)
    mid = OpTime("c", 100, 0.002, 0.0, p95=_lognormal_p95(0.002, 0.6))
    fits = fit_operations(0.6, [wide, narrow, mid], min_requests=20)
    assert fits["a"].cv == CV_RANGE[1]
    assert fits["b"].cv == CV_RANGE[0]
    assert fits["c"].cv == pytest.approx(0.6, rel=1e-3)
    assert fit_operations(0.6, [OpTime("d", 100, 0.002, 0.0)], 20)["d"].cv is None


def test_distribution_text_parses_in_the_model_language():
    assert distribution_text(fitted_time(0.0025, 0.4)) == "gamma(mean=2.5ms,cv=0.40)"
    assert distribution_text(fitted_time(0.0025, None)) == "exp(2.5ms)"
    assert distribution_text(fitted_time(0.0, None)) == "exp(20us)"  # below CPU accounting
    fits = fit_operations(
        0.95, [OpTime("login", 100, 0.010, 0.0, 0.012), OpTime("get_user", 900, 0.001, 0.0)], 20
    )
    fitted = ComponentFit(operation_time={n: fitted_time(f.mean, f.cv) for n, f in fits.items()})
    parsed = parse_operation_times(fitted.attrs()["operation_time"])
    assert set(parsed) == {"login", "get_user"}
    assert parsed["login"].mean == pytest.approx(fits["login"].mean, rel=1e-3)
    assert parsed["get_user"].scv == pytest.approx(1.0)  # no p95: exponential


def _op(requests: float, mean: float, p95: float | None = None) -> dict[str, Any]:
    return {"requests": requests, "latency": {"mean": mean, "p95": p95}}


def _measured(seed: Architecture) -> dict[str, Any]:
    """user_service: logins that hash a password (10 ms) and cheap cached reads (0.5 ms)."""
    ops = {
        "login": _op(100, 0.0105, 0.0130),  # 0.5 ms of it waits for auth_service
        "create_user": _op(100, 0.0090, 0.0110),
        "get_user": _op(600, 0.0006, 0.0012),
        "list_users": _op(200, 0.0010, 0.0020),
    }
    cpu = 100 * 0.010 + 100 * 0.009 + 600 * 0.0006 + 200 * 0.001  # 2.46 s, all exclusive
    comps = {
        "user_service": {
            "requests": 1000,
            "cpu_s": cpu,
            "instances": 1,
            "cpu_utilisation": 0.1,
            "ops": ops,
            "caches": {"cache": {"hits": 640, "misses": 160, "hit_ratio": 0.8}},
            "calls": {"auth_service": {"ok": 100, "failed": 0}},
        },
        "auth_service": {
            "requests": 100,
            "cpu_s": 0.05,
            "instances": 1,
            "cpu_utilisation": 0.005,
            "ops": {"issue_token": _op(100, 0.0005, 0.0008)},
            "calls": {},
        },
    }
    return {
        "schema": SCHEMA,
        "architecture": seed.name,
        "workload": {"type": "open", "rps": 100.0, "arrivals": "poisson"},
        "duration_s": 12.0,
        "warmup_s": 2.0,
        "window_s": 10.0,
        "endpoints": {
            "POST /users/login": {"requests": 100, "mean": 0.012, "p95": 0.015},
            "GET /users/{id}": {"requests": 600, "mean": 0.002, "p95": 0.004},
        },
        "components": comps,
        "idle_cpu": {},
        "load_generator": {"cpu_s": 0.5, "window_s": 10.0},
        "host": {"cpus": 2},
    }


def test_operation_times_subtract_the_callee_latency(seed: Architecture):
    measured = _measured(seed)
    comps = MeasuredRun.from_dict(measured).components
    ops = {o.operation: o for o in operation_times(seed, "user_service", comps)}
    assert ops["login"].waits == pytest.approx(0.0005)  # calls auth_service.issue_token
    assert ops["login"].exclusive == pytest.approx(0.010)
    assert ops["get_user"].waits == 0.0


def test_calibrate_writes_per_operation_times_that_keep_the_cpu(seed: Architecture):
    measured = _measured(seed)
    fit = calibrate(seed, measured, fit_network=False, fit_spread=False)
    times = fit.components["user_service"].operation_time
    assert times["login"].mean == pytest.approx(0.010, rel=1e-3)
    assert times["get_user"].mean == pytest.approx(0.0006, rel=1e-3)
    counts = {
        name: om["requests"] for name, om in measured["components"]["user_service"]["ops"].items()
    }
    cpu = sum(counts[n] * t.mean for n, t in times.items())
    assert cpu == pytest.approx(measured["components"]["user_service"]["cpu_s"], rel=1e-3)
    assert 0.2 <= times["login"].scv ** 0.5 < 0.6  # a narrow handler, not exponential
    assert "user_service.operation_time.login" in fit.why
    # the profile applies: the compute step of login now draws its own time
    profile = yaml.safe_load(profile_yaml(fit, "run.json"))
    calibrated = apply_overrides(seed, profile_overrides(profile))
    login = calibrated.behaviour.operation("user_service", "login")
    assert login.steps[0].service_time.mean == pytest.approx(0.010, rel=1e-3)
    assert calibrated.component("user_service").service_time.mean == pytest.approx(0.00246)
    single = calibrate(seed, measured, fit_network=False, fit_spread=False, per_operation=False)
    assert not single.components["user_service"].operation_time


def test_spread_factor_is_the_one_that_matches_the_measured_p95(seed: Architecture):
    measured = _measured(seed)
    seen: list[float] = []

    def fake_run(arch: Architecture, workload: Any, cfg: Any) -> Any:
        cv = math.sqrt(arch.behaviour.operation("user_service", "login").steps[0].service_time.scv)
        seen.append(cv)
        # a stand-in simulator whose p95 grows with the spread; measured p95s are met at cv 0.2
        scale = cv / CV_RANGE[0]
        entries = {
            eid: SimpleNamespace(latency=Latency(p95=m["p95"] * scale, mean=m["mean"]))
            for eid, m in measured["endpoints"].items()
        }
        return SimpleNamespace(entries=entries)

    fit = calibrate(seed, measured, run=fake_run, fit_network=False)
    assert len(seen) > 2
    assert "best match" in fit.why["cv"]
    login = fit.components["user_service"].operation_time["login"]
    assert math.sqrt(login.scv) == pytest.approx(min(seen), rel=1e-3)


def test_the_on_path_share_of_cpu_outside_handlers_is_fitted_to_the_entries(seed: Architecture):
    measured = _measured(seed)
    # auth's handler takes 0.5 ms but its process burns 2.5 ms per request: 2 ms of framing,
    # metrics and logging, of which (in this stand-in world) half lies on the request's path
    measured["components"]["auth_service"]["cpu_s"] = 0.25
    on_path = 0.0005 + 0.5 * 0.002
    shares: list[float] = []

    def fake_run(arch: Architecture, workload: Any, cfg: Any) -> Any:
        t = arch.component("auth_service").service_time.mean
        shares.append(t)
        entries = {
            eid: SimpleNamespace(
                latency=Latency(
                    p95=m["p95"],
                    # login waits for auth: its mean is met only at the true on-path time
                    mean=m["mean"] * (t / on_path if eid == "POST /users/login" else 1.0),
                )
            )
            for eid, m in measured["endpoints"].items()
        }
        return SimpleNamespace(entries=entries)

    fit = calibrate(seed, measured, run=fake_run, fit_spread=False)
    assert fit.why["on_path"].startswith("0.5 of the CPU outside handlers")
    auth = fit.components["auth_service"].service_time
    assert auth is not None and auth.mean == pytest.approx(on_path, rel=1e-3)
    assert len(set(shares)) >= 4  # every candidate share was simulated
    # the host still pays all of it: its CPU per request comes from process CPU, not from
    # the service times
    assert fit.host is not None and fit.host.cpu_per_request_s > 0.0025
