"""Run many scenarios (a configuration under a workload) × replications as independent tasks on
one executor, and reduce each scenario's replication records to a Measurement.

One task per (scenario, replication) keeps the work coarse enough for processes to pay off;
the longest tasks go first so that two workers finish together. Each architecture is pickled
once per scenario and cached by digest in the worker, not rebuilt per task. Records are put
back in (scenario, replication) order, so results never depend on the executor. Ctrl-C
cancels what has not started, lets running tasks end, and keeps every scenario whose
replications all finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, as_completed, wait
from dataclasses import dataclass
from typing import Any

from archsim.capacity.results import Measurement
from archsim.model import Architecture
from archsim.sim import SimConfig, Workload, solve
from archsim.sim.aggregate import aggregate
from archsim.sim.engine import run_replication
from archsim.sim.replicate import mser5_warmup
from archsim.sim.results import QUANTILES, SimulationResult
from archsim.sim.stats import confidence_interval, quantile_from_counts

__all__ = ["Outcome", "Scenario", "measure", "run_scenarios"]

Progress = Callable[[int, int], None]
_CACHE: dict[str, Architecture] = {}
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Scenario:
    """One configuration under one workload (a sweep level, or a plan candidate)."""

    arch: Architecture
    workload: Workload


@dataclass(frozen=True)
class Outcome:
    """Measurements in scenario order (None where interrupted before all replications ended)."""

    measurements: tuple[Measurement | None, ...]
    interrupted: bool


def _arch(key: str, blob: bytes) -> Architecture:
    arch = _CACHE.get(key)
    if arch is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        arch = _CACHE[key] = pickle.loads(blob)
    return arch


def _replicate(
    key: str, blob: bytes, workload: Workload, cfg: SimConfig, index: int, warm: float
) -> dict[str, Any]:
    return run_replication(_arch(key, blob), workload, cfg, index, warmup=warm)


def _pilot(key: str, blob: bytes, workload: Workload, cfg: SimConfig) -> float:
    return mser5_warmup(_arch(key, blob), workload, cfg)


def _weight(workload: Workload) -> float:
    """Relative cost of a task: simulated requests per second of the workload."""
    if workload.closed:
        return (workload.users or 0) / max(workload.think.mean, 1e-3)
    return workload.peak_rate


def _run(
    executor: Executor | None,
    calls: list[tuple[Callable[..., Any], tuple[Any, ...]]],
    done: Callable[[int, Any], None],
) -> bool:
    """Run ``calls``; ``done(i, value)`` as each finishes. Returns True when interrupted."""
    if executor is None:
        try:
            for i, (fn, args) in enumerate(calls):
                done(i, fn(*args))
        except KeyboardInterrupt:
            return True
        return False
    futures: dict[Future[Any], int] = {}
    try:
        for i, (fn, args) in enumerate(calls):
            futures[executor.submit(fn, *args)] = i
        for fut in as_completed(futures):
            done(futures[fut], fut.result())
    except KeyboardInterrupt:
        for fut in futures:
            fut.cancel()
        # Tasks already running cannot be stopped: let them finish and keep them too; a
        # second Ctrl-C stops waiting.
        with contextlib.suppress(KeyboardInterrupt):
            wait(futures)
        for fut, i in futures.items():
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                with contextlib.suppress(KeyboardInterrupt):
                    done(i, fut.result())
        return True
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    return False


def run_scenarios(
    scenarios: Sequence[Scenario],
    cfg: SimConfig,
    executor: Executor | None = None,
    *,
    progress: Progress | None = None,
) -> Outcome:
    """Simulate every scenario with ``cfg.replications`` replications on ``executor`` (None:
    in this process); ``progress(done, total)`` counts finished replications."""
    blobs: dict[int, tuple[str, bytes]] = {}
    for s in scenarios:
        if id(s.arch) not in blobs:
            blob = pickle.dumps(s.arch, protocol=pickle.HIGHEST_PROTOCOL)
            blobs[id(s.arch)] = (hashlib.sha1(blob).hexdigest(), blob)
    reps = cfg.replications
    total = len(scenarios) * reps
    warm = [0.0] * len(scenarios)
    if cfg.warmup == "mser5":
        pilots = [(_pilot, (*blobs[id(s.arch)], s.workload, cfg)) for s in scenarios]
        if _run(executor, pilots, warm.__setitem__):
            return Outcome((None,) * len(scenarios), True)
    else:
        warm = [float(cfg.warmup)] * len(scenarios)
    order = sorted(
        ((p, i) for p in range(len(scenarios)) for i in range(reps)),
        key=lambda pi: (-_weight(scenarios[pi[0]].workload), pi),
    )
    calls = [
        (_replicate, (*blobs[id(scenarios[p].arch)], scenarios[p].workload, cfg, i, warm[p]))
        for p, i in order
    ]
    records: list[list[dict[str, Any] | None]] = [[None] * reps for _ in scenarios]
    finished = [0]

    def done(k: int, rec: dict[str, Any]) -> None:
        p, i = order[k]
        records[p][i] = rec
        finished[0] += 1
        if progress:
            progress(finished[0], total)

    interrupted = _run(executor, calls, done)
    out: list[Measurement | None] = []
    for s, recs in zip(scenarios, records, strict=True):
        complete = [r for r in recs if r is not None]
        out.append(measure(complete, s, cfg) if len(complete) == reps else None)
    return Outcome(tuple(out), interrupted)


def measure(records: list[dict[str, Any]], scenario: Scenario, cfg: SimConfig) -> Measurement:
    """Overall figures of one scenario from its replication records (95% CIs across them; the
    warm-up each used is in the records)."""
    arch, workload = scenario.arch, scenario.workload
    offered = None
    if not workload.closed:
        offered = solve(arch, workload).offered_loads()
    result = aggregate(
        records,
        architecture=arch.name,
        workload=workload,
        config=cfg,
        seed=cfg.seed,
        offered=offered,
        host=arch.host,
    )
    thr, good, lat, count, ok = _per_replication(records)
    latency = _latency(lat)
    throughput, throughput_ci = confidence_interval(thr)
    goodput, goodput_ci = confidence_interval(good)
    busiest = _busiest(result)
    return Measurement(
        offered_rps=None if workload.closed else workload.peak_rate,
        users=workload.users,
        throughput=throughput,
        throughput_ci=_finite(throughput_ci),
        goodput=goodput,
        goodput_ci=_finite(goodput_ci),
        error_rate=(count - ok) / count if count else 0.0,
        latency=latency,
        utilisation={cid: util for cid, (util, _) in busiest},
        unstable=tuple(cid for cid, (_, unstable) in busiest if unstable),
        replications=len(records),
    )


def _per_replication(
    records: list[dict[str, Any]],
) -> tuple[list[float], list[float], list[tuple[float | None, dict[int, int]]], int, int]:
    """Per replication its throughput and goodput (requests/s) and (mean latency in s or None,
    merged latency histogram); and the requests and successes over all of them."""
    thr, good, lat = [], [], []
    count = ok = 0
    for rec in records:
        window = rec["window"]
        entries = rec["entries"].values()
        n = sum(e["count"] for e in entries)
        count += n
        ok += sum(e["ok"] for e in entries)
        thr.append(n / window)
        good.append(sum(e["ok"] for e in entries) / window)
        merged: dict[int, int] = {}
        for e in entries:
            for k, c in e["hist"].items():
                merged[k] = merged.get(k, 0) + c
        lat.append((sum(e["sum"] for e in entries) / n if n else None, merged))
    return thr, good, lat, count, ok


def _latency(lat: list[tuple[float | None, dict[int, int]]]) -> dict[str, float | None]:
    """Mean and quantile latencies (s) with their CI half-widths, across the replications
    that completed a request."""
    latency: dict[str, float | None] = {}
    used = [(m, h) for m, h in lat if m is not None]
    for name, value in (
        ("mean", [m for m, _ in used]),
        *((n, [quantile_from_counts(h, q) for _, h in used]) for n, q in QUANTILES),
    ):
        mid, hw = confidence_interval(value)
        latency[name], latency[f"{name}_ci"] = (mid if value else None), _finite(hw)
    return latency


def _busiest(result: SimulationResult) -> list[tuple[str, tuple[float, bool]]]:
    """(station, (utilisation, cannot keep up)), busiest first; the shared machine saturates
    like one."""
    loads = {cid: (c.utilisation, c.unstable) for cid, c in result.components.items()}
    if result.host is not None:
        loads["host"] = (result.host.utilisation, result.host.unstable)
    return sorted(loads.items(), key=lambda kv: (-kv[1][0], kv[0]))


def _finite(x: float) -> float | None:
    return None if x != x else x
