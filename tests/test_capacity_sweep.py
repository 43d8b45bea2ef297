"""Sweeps: the knee against queueing theory (M/M/c capacity c·μ), identical results whatever
the executor (in-process, process pool, Dask LocalCluster), and Ctrl-C keeping finished levels."""

from __future__ import annotations

from pathlib import Path

import pytest

from archsim.capacity import open_executor, parse_axis, render_sweep_report, sweep
from archsim.capacity.runner import Scenario, run_scenarios
from archsim.model import load
from archsim.sim import SimConfig, Workload

MODELS = Path(__file__).parent / "sim_models"
MMC = load(MODELS / "mmc.dot").architecture  # c = 3 workers, exp(30 ms): c·μ = 100 req/s
CAPACITY = 3 / 0.030
CFG = SimConfig(duration=60.0, warmup=5.0, replications=3, seed=11, lifecycle=False)


def test_knee_matches_mmc_capacity_within_5_percent() -> None:
    result = sweep(MMC, parse_axis("rps", "50..150:step=10"), Workload(), CFG)
    knee = result.knee
    assert knee.reached and knee.component == "server"
    assert abs(knee.capacity_rps - CAPACITY) / CAPACITY < 0.05, knee
    assert abs(knee.value - CAPACITY) / CAPACITY < 0.05
    # Below capacity every level is stable; from c·μ on the server is the one to saturate.
    for p in result.points:
        assert (p.measurement.saturated == "server") == (p.value >= CAPACITY), p.value
        assert p.measurement.bottleneck == "server"
    low = result.points[0].measurement
    assert low.latency["p50"] < low.latency["p95"] < low.latency["p99"]
    assert low.latency["p99_ci"] > 0


def test_knee_below_the_range_is_extrapolated_by_the_utilisation_law() -> None:
    result = sweep(MMC, parse_axis("rps", "20..60:step=20"), Workload(), CFG)
    assert not result.knee.reached and result.knee.method == "utilisation-law"
    assert abs(result.knee.capacity_rps - CAPACITY) / CAPACITY < 0.05
    assert "not reached" in result.knee.note


def test_sweep_over_an_attribute_finds_diminishing_returns() -> None:
    axis = parse_axis("set", "1..5", "server.workers")
    result = sweep(MMC, axis, Workload(rps=80.0), CFG)
    by_workers = {p.value: p.measurement for p in result.points}
    assert not by_workers[1].stable and not by_workers[2].stable  # 80 > 2·33.3 req/s
    assert by_workers[3].stable
    assert result.knee.method == "diminishing-returns" and result.knee.value in (4, 5)


def test_closed_sweep_knee_from_the_asymptotes() -> None:
    mm1 = load(MODELS / "mm1.dot").architecture  # μ = 100 req/s
    cfg = SimConfig(duration=60.0, warmup=5.0, replications=3, seed=3, lifecycle=False)
    result = sweep(mm1, parse_axis("users", "10,50,150,300"), Workload(rps=None, users=1), cfg)
    assert abs(result.knee.capacity_rps - 100) < 5
    # N* = X* · (D + Z) = 100 · (0.01 + 1) ≈ 101 users
    assert 90 < result.knee.value < 112


def test_mser5_warmup_is_chosen_per_level() -> None:
    cfg = SimConfig(duration=20.0, warmup="mser5", replications=2, seed=2, lifecycle=False)
    result = sweep(MMC, parse_axis("rps", "40,80"), Workload(), cfg)
    assert [p.value for p in result.points] == [40, 80]
    assert result.config["warmup"] == "mser5"


def _small() -> tuple:
    return parse_axis("rps", "40,80,120"), SimConfig(
        duration=20.0, warmup=2.0, replications=3, seed=5, lifecycle=False
    )


def test_results_are_identical_whatever_the_executor() -> None:
    axis, cfg = _small()
    serial = sweep(MMC, axis, Workload(), cfg).to_dict()
    with open_executor(jobs=2) as backend:
        assert backend.executor is not None
        pooled = sweep(MMC, axis, Workload(), cfg, backend.executor).to_dict()
    assert pooled == serial
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        with open_executor(scheduler=address) as backend:
            assert backend.description == f"Dask at {address} (2 workers)"
            dasked = sweep(MMC, axis, Workload(), cfg, backend.executor).to_dict()
    assert dasked == serial
    html = render_sweep_report(sweep(MMC, axis, Workload(), cfg))
    assert html.count("<svg") == 3 and "http" not in html.replace("http-equiv", "")


@pytest.mark.parametrize("jobs", [1, 2])
def test_interrupt_keeps_the_finished_levels(jobs: int) -> None:
    axis = parse_axis("rps", "20..120:step=20")
    cfg = SimConfig(duration=10.0, warmup=1.0, replications=3, seed=5, lifecycle=False)
    raised = []

    def progress(done: int, total: int) -> None:
        if done == 4 and not raised:  # the highest level's replications run first
            raised.append(done)
            raise KeyboardInterrupt

    with open_executor(jobs=jobs) as backend:
        result = sweep(MMC, axis, Workload(), cfg, backend.executor, progress=progress)
    assert result.interrupted and result.levels == 6
    assert 1 <= len(result.points) < 6
    assert 120 in [p.value for p in result.points]
    full = {p["value"]: p for p in sweep(MMC, axis, Workload(), cfg).to_dict()["points"]}
    for p in result.to_dict()["points"]:
        assert p == full[p["value"]]  # kept levels are complete, not partial


def test_the_architecture_is_pickled_once_per_scenario() -> None:
    import pickle

    calls = []
    original = pickle.dumps

    def counting(obj, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(type(obj).__name__)
        return original(obj, *args, **kwargs)

    pickle.dumps = counting  # type: ignore[assignment]
    try:
        run_scenarios(
            [Scenario(MMC, Workload(rps=r)) for r in (10.0, 20.0)],
            SimConfig(duration=2.0, warmup=0.0, replications=4, lifecycle=False),
        )
    finally:
        pickle.dumps = original  # type: ignore[assignment]
    assert calls.count("Architecture") == 1
