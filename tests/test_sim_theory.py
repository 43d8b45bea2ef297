"""Validation against queueing theory: each model is a DOT file run through ``simulate``; the
exact value must lie inside the simulated 95% confidence interval (fixed seeds)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from archsim.model import load
from archsim.sim import SimConfig, SimulationResult, Workload, simulate
from archsim.sim.figures import EntryFigures

MODELS = Path(__file__).parent / "sim_models"


def _run(
    name: str, workload: Workload, *, duration: float = 400.0, reps: int = 10, seed: int = 7
) -> SimulationResult:
    arch = load(MODELS / f"{name}.dot").architecture
    cfg = SimConfig(duration=duration, warmup=20.0, replications=reps, seed=seed, lifecycle=False)
    return simulate(arch, workload, cfg, jobs=2)


def _inside(exact: float, estimate: float, half_width: float) -> None:
    assert half_width > 0
    assert abs(estimate - exact) <= half_width, (
        f"exact {exact:.6g} outside {estimate:.6g} ± {half_width:.6g}"
    )


def _entry(result: SimulationResult) -> EntryFigures:
    (entry,) = result.entries.values()
    return entry


def _erlang_c(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_mm1_mean_utilisation_and_p99() -> None:
    lam, mu = 80.0, 100.0
    result = _run("mm1", Workload(rps=lam))
    lat = _entry(result).latency
    _inside(1 / (mu - lam), lat.mean, lat.mean_ci)
    server = result.components["server"]
    _inside(lam / mu, server.utilisation, server.utilisation_ci)
    p99 = -math.log(0.01) / (mu - lam)
    assert abs(lat.p99 - p99) / p99 < 0.05
    assert not server.unstable


def test_mmc_erlang_c() -> None:
    lam, mu, c = 80.0, 1 / 0.030, 3
    result = _run("mmc", Workload(rps=lam))
    exact = _erlang_c(c, lam / mu) / (c * mu - lam) + 1 / mu
    lat = _entry(result).latency
    _inside(exact, lat.mean, lat.mean_ci)
    server = result.components["server"]
    _inside(lam / (c * mu), server.utilisation, server.utilisation_ci)


def test_mm1k_blocking() -> None:
    lam, mu, k = 90.0, 100.0, 5
    rho = lam / mu
    probs = [rho**n for n in range(k + 1)]
    probs = [p / sum(probs) for p in probs]
    blocking = probs[-1]
    lam_eff = lam * (1 - blocking)
    mean_in_system = sum(n * p for n, p in enumerate(probs))
    result = _run("mm1k", Workload(rps=lam))
    entry = _entry(result)
    accepted = entry.latency  # rejected requests answer at once; compare accepted ones
    server = result.components["server"]
    _inside(lam_eff / mu, server.utilisation, server.utilisation_ci)
    _inside(mean_in_system / lam_eff, server.latency.mean, server.latency.mean_ci)
    assert abs(entry.rejection_rate - blocking) / blocking < 0.05
    assert accepted.mean < mean_in_system / lam_eff  # rejections pull the entry mean down


def test_md1_pollaczek_khinchine() -> None:
    lam, s = 100.0, 0.008
    rho = lam * s
    result = _run("md1", Workload(rps=lam))
    lat = _entry(result).latency
    _inside(s + rho * s / (2 * (1 - rho)), lat.mean, lat.mean_ci)
    server = result.components["server"]
    _inside(rho, server.utilisation, server.utilisation_ci)


def test_jackson_tandem() -> None:
    lam = 80.0
    services = {"a": 0.008, "b": 0.006, "c": 0.005}
    result = _run("tandem", Workload(rps=lam))
    exact = sum(1 / (1 / s - lam) for s in services.values())
    lat = _entry(result).latency
    _inside(exact, lat.mean, lat.mean_ci)
    for name, s in services.items():
        comp = result.components[name]
        _inside(lam * s, comp.utilisation, comp.utilisation_ci)


def test_jackson_probabilistic_routing() -> None:
    lam = 100.0
    stations = {"front": (1.0, 0.005), "left": (0.3, 0.020), "right": (0.7, 0.010)}
    result = _run("routing", Workload(rps=lam))
    exact = sum(v / (1 / s - v * lam) for v, s in stations.values())
    lat = _entry(result).latency
    _inside(exact, lat.mean, lat.mean_ci)
    for name, (v, s) in stations.items():
        comp = result.components[name]
        _inside(v * lam * s, comp.utilisation, comp.utilisation_ci)


def _exact_mva(demands: list[float], users: int, think: float) -> tuple[float, float]:
    """Textbook exact MVA for single-server FCFS stations: (throughput, response time)."""
    queue = [0.0] * len(demands)
    x = r = 0.0
    for n in range(1, users + 1):
        resid = [d * (1 + q) for d, q in zip(demands, queue, strict=True)]
        r = sum(resid)
        x = n / (think + r)
        queue = [x * t for t in resid]
    return x, r


def test_closed_network_against_exact_mva() -> None:
    demands = {"a": 0.010, "b": 0.020, "c": 0.015}
    users, think = 10, 0.1
    x, r = _exact_mva(list(demands.values()), users, think)
    result = _run("closed", Workload(users=users, think=_exp(think)), duration=300.0)
    lat = _entry(result).latency
    _inside(r, lat.mean, lat.mean_ci)
    for name, d in demands.items():
        comp = result.components[name]
        _inside(x * d, comp.utilisation, comp.utilisation_ci)
    analytic = result.analytic
    assert analytic is not None
    assert analytic.throughput == pytest.approx(x, rel=1e-9)


def _exp(mean: float):
    from archsim.model.distributions import Exponential

    return Exponential(mean_s=mean)
