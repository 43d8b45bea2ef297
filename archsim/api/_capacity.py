"""Capacity: ``sweep`` and ``plan`` over the simulator (a process pool, or Dask)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archsim.api import options
from archsim.api._base import FilePath, Profile, Source, _prepared
from archsim.errors import ScenarioError

if TYPE_CHECKING:
    from archsim.capacity import PlanResult, SweepResult
    from archsim.sim import SimConfig

__all__ = ["plan", "sweep"]


@contextmanager
def _executor(jobs: int | None, scheduler: str | None) -> Iterator[Any]:
    from archsim.capacity import open_executor

    with open_executor(jobs, scheduler) as backend:
        yield backend.executor


def _config(duration: float | str, warmup: float | str, replications: int, seed: int) -> SimConfig:
    return options.sim_config(
        duration=duration, warmup_=warmup, replications=replications, seed=seed
    )


def sweep(
    source: Source,
    *,
    rps: float | str | None = None,
    users: int | str | None = None,
    think: str = "1s",
    mix: str | None = None,
    sets: Sequence[str] = (),
    profile: Profile | None = None,
    duration: float | str = "5s",
    warmup: float | str = "1s",
    replications: int = 5,
    seed: int = 1,
    jobs: int | None = None,
    scheduler: str | None = None,
) -> SweepResult:
    """Simulate every level of one range (``archsim sweep``): ``rps="100..2000:step=100"``,
    ``users="10..200:points=20"`` or a ``sets`` entry ``"comp.attr=1..6"``; throughput and
    latency per level, the knee and the first component to saturate."""
    from archsim.capacity import parse_axis
    from archsim.capacity import sweep as run
    from archsim.capacity.axis import is_range
    from archsim.sim import Workload
    from archsim.sim.workload import parse_mix, parse_think

    if rps is not None and users is not None:
        raise ScenarioError(
            "give either rps (open) or users (closed), not both",
            hint="e.g. rps='100..2000:step=100'",
            code="bad-workload",
        )
    axes, fixed = [], []
    for text in sets:
        key, sep, value = text.partition("=")
        if sep and is_range(value.strip()):
            axes.append(parse_axis("set", value.strip(), key.strip()))
        else:
            fixed.append(text)
    for kind, given in (("rps", rps), ("users", users)):
        if isinstance(given, str) and is_range(given):
            axes.append(parse_axis(kind, given))
    if len(axes) != 1:
        raise ScenarioError(
            "give exactly one range to sweep" if axes else "nothing to sweep",
            hint="e.g. rps='100..3000:step=100' or sets=['cache.replicas=1..4']",
            code="bad-axis",
        )
    arch = _prepared(source, fixed, profile)

    def single(value: float | str | None, default: float) -> float:
        if value is None or (isinstance(value, str) and is_range(value)):
            return default  # the swept one's placeholder
        return float(value)

    workload = Workload(
        rps=None if users is not None else single(rps, 100.0),
        users=None if users is None else int(single(users, 1.0)),
        think=parse_think(think),
        mix=parse_mix(mix, arch) if mix else None,
    )
    cfg = _config(duration, warmup, replications, seed)
    cfg.check(arch)
    with _executor(jobs, scheduler) as executor:
        return run(arch, axes[0], workload, cfg, executor)


def plan(
    source: Source,
    *,
    target_rps: float,
    slo: str,
    scale: str = "replicas",
    max_replicas: int = 10,
    max_workers: int = 64,
    only: Sequence[str] = (),
    fixed: Sequence[str] = (),
    max_evaluations: int = 60,
    mix: str | None = None,
    sets: Sequence[str] = (),
    profile: Profile | None = None,
    duration: float | str = "5s",
    warmup: float | str = "1s",
    replications: int = 3,
    seed: int = 1,
    jobs: int | None = None,
    scheduler: str | None = None,
    output: FilePath | None = None,
) -> PlanResult:
    """The cheapest replica (and worker) counts that meet ``slo`` (``"p99<300ms"``) at
    ``target_rps``, verified by re-simulating (``archsim plan``); ``result.feasible`` says
    whether any configuration within the limits can, ``result.profile_yaml()`` is the change
    (written to ``output`` when feasible)."""
    from archsim.atomic import write_atomic
    from archsim.capacity import Limits, parse_slos
    from archsim.capacity import plan as search
    from archsim.sim import Workload
    from archsim.sim.workload import parse_mix

    slos = parse_slos(slo)
    arch = _prepared(source, sets, profile)
    limits = Limits(
        max_replicas=max_replicas,
        max_workers=max_workers,
        scale=scale,
        only=tuple(only),
        fixed=tuple(fixed),
        max_evaluations=max_evaluations,
    )
    cfg = _config(duration, warmup, replications, seed)
    with _executor(jobs, scheduler) as executor:
        result = search(
            arch,
            target_rps,
            slos,
            workload=Workload(mix=parse_mix(mix, arch) if mix else None),
            config=cfg,
            limits=limits,
            executor=executor,
        )
    if output is not None and result.feasible:
        write_atomic(Path(output), result.profile_yaml())
    return result
