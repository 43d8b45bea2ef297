"""``simulate``: independent replications (in parallel on all cores), warm-up by MSER-5,
a precision target, and aggregation into a SimulationResult.

The executor is a seam: pass any ``concurrent.futures.Executor`` (a Dask client's executor,
a thread pool in tests); by default replications run in a process pool of ``jobs`` workers.
Results do not depend on the executor or the number of jobs: replication ``i`` is always
seeded by ``(seed, i)`` and records are combined in index order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from archsim.errors import ScenarioError
from archsim.model import Architecture
from archsim.model.rate_curve import at_rate
from archsim.sim.aggregate import aggregate
from archsim.sim.config import SimConfig
from archsim.sim.engine import run_replication
from archsim.sim.results import SimulationResult
from archsim.sim.stats import confidence_interval, mser5_truncation
from archsim.sim.workload import Workload, entry_weights

__all__ = ["mser5_warmup", "simulate"]

Progress = Callable[[int, int], None]
_MIN_FOR_PRECISION = 3


def _one(args: tuple[Architecture, Workload, SimConfig, int, float]) -> dict[str, Any]:
    arch, workload, cfg, index, warm = args
    return run_replication(arch, workload, cfg, index, warmup=warm)


def mser5_warmup(arch: Architecture, workload: Workload, cfg: SimConfig) -> float:
    """Warm-up (seconds) chosen by MSER-5 on a pilot run's response times in completion order."""
    pilot = run_replication(arch, workload, cfg, -1, warmup=0.0, pilot=True)["pilot"]
    pilot.sort()
    cut = mser5_truncation([lat for _, lat in pilot])
    if cut == 0 or not pilot:
        return 0.0
    return min(pilot[cut - 1][0], cfg.duration / 2)


def _mean_latency(rec: dict[str, Any]) -> float:
    count = sum(e["count"] for e in rec["entries"].values())
    return sum(e["sum"] for e in rec["entries"].values()) / count if count else 0.0


def simulate(
    arch: Architecture,
    workload: Workload,
    config: SimConfig | None = None,
    *,
    executor: Executor | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    analytic: bool = True,
) -> SimulationResult:
    """Simulate ``workload`` on ``arch``; pure: the same inputs and seed give the same result.

    ``jobs`` (default: all cores) sizes the process pool when no ``executor`` is given;
    ``progress(done, total)`` is called as replications finish. Raises ScenarioError for
    impossible parameters; an overloaded system is a result (``unstable``), not an error.
    """
    cfg = config or SimConfig()
    cfg.check(arch)
    workload.check()
    if workload.curve_rate is not None:  # times that depend on the rate, at this run's
        arch = at_rate(arch, workload.curve_rate)
    entry_weights(arch, workload)  # raises when there is nothing to send requests to
    warm = mser5_warmup(arch, workload, cfg) if cfg.warmup == "mser5" else float(cfg.warmup)
    target = (
        cfg.replications if cfg.precision is None else max(cfg.replications, _MIN_FOR_PRECISION)
    )
    limit = max(target, cfg.max_replications if cfg.precision is not None else target)
    jobs = max(1, jobs or os.cpu_count() or 1)
    own = executor is None and jobs > 1 and target > 1
    pool: Executor | None = ProcessPoolExecutor(max_workers=jobs) if own else executor
    records: list[dict[str, Any]] = []
    try:
        while True:
            batch = [(arch, workload, cfg, i, warm) for i in range(len(records), target)]
            if pool is None:
                for args in batch:
                    records.append(_one(args))
                    if progress:
                        progress(len(records), target)
            else:
                for rec in pool.map(_one, batch):
                    records.append(rec)
                    if progress:
                        progress(len(records), target)
            if cfg.precision is None or _precise(records, cfg.precision) or target >= limit:
                break
            target = min(limit, target + max(jobs, 2))
    finally:
        if own and pool is not None:
            pool.shutdown()
    if not any(sum(e["count"] for e in r["entries"].values()) for r in records):
        raise ScenarioError(
            "no request completed in the measured window",
            hint="run longer (--duration) or shorten --warmup",
            code="empty-run",
        )
    offered = solution = None
    if analytic:
        from archsim.sim.analytic import solve

        solution = solve(arch, workload)
        offered = solution.offered_loads()
    return aggregate(
        records,
        architecture=arch.name,
        workload=workload,
        config=cfg,
        seed=cfg.seed,
        offered=offered if not workload.closed else None,
        analytic=solution,
        host=arch.host,
    )


def _precise(records: list[dict[str, Any]], precision: float) -> bool:
    if len(records) < _MIN_FOR_PRECISION:
        return False
    mean, hw = confidence_interval([_mean_latency(r) for r in records])
    return mean > 0 and hw / mean <= precision
