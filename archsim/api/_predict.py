"""Prediction: ``simulate`` and ``solve`` (``archsim simulate``, its ``--method analytic``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from archsim.api import options
from archsim.api._base import Profile, Source, _prepared

if TYPE_CHECKING:
    from archsim.sim import SimulationResult
    from archsim.sim.analytic import Solution

__all__ = ["simulate", "solve"]


def simulate(
    source: Source,
    *,
    rps: float | None = None,
    users: int | None = None,
    think: str = "1s",
    arrivals: str = "poisson",
    ramp: str | None = None,
    mix: str | None = None,
    duration: float | str = "60s",
    warmup: float | str = "5s",
    replications: int = 5,
    precision: float | str | None = None,
    seed: int = 1,
    sets: Sequence[str] = (),
    profile: Profile | None = None,
    fail: Sequence[str] = (),
    slow: Sequence[str] = (),
    balancing: str = "round_robin",
    jobs: int | None = None,
) -> SimulationResult:
    """Simulate a model under load (``archsim simulate``): per-entry latency and throughput,
    per-component utilisation, bottlenecks, with 95% CIs over ``replications``.

    ``rps`` (open, 100 by default) or ``users`` with ``think`` (closed); ``fail``/``slow`` are
    windows as on the command line (``"product_db@30s..60s"``, ``"cache@10s..20s:x5"``). The
    same ``seed`` gives the same result. ``result.to_dict()`` is ``simulate --json``."""
    from archsim.sim import simulate as run

    arch = _prepared(source, sets, profile)
    workload = options.workload(
        arch, rps=rps, users=users, think=think, mix=mix, arrivals=arrivals, ramp=ramp
    )
    cfg = options.sim_config(
        duration=duration,
        warmup_=warmup,
        replications=replications,
        seed=seed,
        precision=precision,
        balancing=balancing,
        fault_windows=options.faults(fail, slow),
    )
    cfg.check(arch)
    return run(arch, workload, cfg, jobs=jobs)


def solve(
    source: Source,
    *,
    rps: float | None = None,
    users: int | None = None,
    think: str = "1s",
    mix: str | None = None,
    sets: Sequence[str] = (),
    profile: Profile | None = None,
) -> Solution:
    """The analytic solution of a model (``archsim simulate --method analytic``): per entry
    throughput and mean latency, per component offered load and queue, in milliseconds of
    computing instead of seconds of simulation; ``.to_dict()`` is the command's JSON."""
    from archsim.sim import solve as run

    arch = _prepared(source, sets, profile)
    return run(arch, options.workload(arch, rps=rps, users=users, think=think, mix=mix))
