"""``sweep``: simulate an architecture at every level of an axis (load, users or any attribute),
with replications, and find the knee of the curve and the first component to saturate.

Knee rules (docs/sweep.md):
- ``rps``: a level is saturated when a component falls behind or goodput stays > 5% under the
  offered rate. The capacity is the utilisation law X / U of the busiest component at the last
  level before the first saturated one (``utilisation-law``): measured where the estimate is
  sharpest, and not biased by the requests an overloaded run still completes after its end.
  Without a saturated level the same law extrapolates from the highest level.
- ``users``: the same capacity X*, and the knee N* = X* · (R0 + Z), where the asymptotes of a
  closed system meet (R0: response time at the lowest level, Z: think time).
- ``set``: the first stable level whose p99 is within 10% of the best (``diminishing-returns``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from archsim.capacity.axis import Axis
from archsim.capacity.results import Knee, Measurement, SweepPoint, SweepResult
from archsim.capacity.runner import Scenario, run_scenarios
from archsim.model import Architecture, apply_overrides
from archsim.sim import SimConfig, Workload
from archsim.sim.results import short_duration
from archsim.sim.workload import entry_weights

__all__ = ["find_knee", "levels", "sweep"]

_SHORTFALL = 0.95  # goodput under 95% of the offered rate: the level is past the knee
_BUSY = 0.95  # closed systems never diverge; a bottleneck this busy is saturated
_RETURNS = 1.10  # p99 within 10% of the best: more of the swept attribute buys little


def levels(arch: Architecture, axis: Axis, workload: Workload) -> list[Scenario]:
    """One scenario per axis value; raises ScenarioError for a bad override or workload."""
    out = []
    for i, value in enumerate(axis.values):
        level_arch, level_load = arch, workload
        if axis.kind == "rps":
            level_load = dataclasses.replace(workload, rps=value, ramp=(), users=None)
        elif axis.kind == "users":
            level_load = dataclasses.replace(workload, users=int(value), rps=None, ramp=())
        else:
            level_arch = apply_overrides(arch, [axis.override(i) or ""])
        level_load.check()
        entry_weights(level_arch, level_load)
        out.append(Scenario(level_arch, level_load))
    return out


def sweep(
    arch: Architecture,
    axis: Axis,
    workload: Workload,
    config: SimConfig | None = None,
    executor: Executor | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Simulate every level of ``axis`` (``config.replications`` each; default 5 of 5 s after
    1 s warm-up, as the CLI) and find the knee.

    ``executor`` None runs in this process; results are the same whatever runs them. Ctrl-C
    returns the levels that finished, with ``interrupted`` set.
    """
    cfg = config or SimConfig(duration=5.0, warmup=1.0, replications=5)
    cfg.check(arch)
    scenarios = levels(arch, axis, workload)
    outcome = run_scenarios(scenarios, cfg, executor, progress=progress)
    points = tuple(
        SweepPoint(value, text, m)
        for value, text, m in zip(axis.values, axis.texts, outcome.measurements, strict=True)
        if m is not None
    )
    return SweepResult(
        architecture=arch.name,
        axis=axis,
        points=points,
        knee=find_knee(axis, points, workload),
        workload=_describe(workload, axis),
        config=cfg.describe(),
        seed=cfg.seed,
        levels=len(axis.values),
        interrupted=outcome.interrupted,
    )


def _describe(workload: Workload, axis: Axis) -> dict[str, object]:
    """The workload as run: the swept quantity is named, not given a placeholder value."""
    out = workload.describe() | {"swept": axis.name}
    if axis.kind in out:
        out[axis.kind] = None
    return out


def _saturated(axis: Axis, m: Measurement) -> bool:
    if not m.stable:
        return True
    if axis.kind == "users":
        return m.bottleneck_utilisation >= _BUSY
    return m.offered_rps is not None and m.goodput < _SHORTFALL * m.offered_rps


def _capacity(axis: Axis, points: Sequence[SweepPoint]) -> tuple[float | None, bool]:
    """(capacity req/s, reached) by the utilisation law X / U at the last level before the
    first saturated one (or the first level when every level saturates)."""
    hot = next((i for i, p in enumerate(points) if _saturated(axis, p.measurement)), None)
    ref = points[max(0, hot - 1)] if hot is not None else points[-1]
    m = ref.measurement
    if m.bottleneck_utilisation <= 0:
        return None, hot is not None
    return m.throughput / m.bottleneck_utilisation, hot is not None


def find_knee(axis: Axis, points: Sequence[SweepPoint], workload: Workload) -> Knee:
    """The knee of a sweep by the rules of this module's docstring."""
    if not points:
        return Knee(None, None, None, "none", False, "no level finished")
    first_hot = next((p for p in points if _saturated(axis, p.measurement)), None)
    component = (
        (first_hot.measurement.saturated or first_hot.measurement.bottleneck)
        if first_hot
        else points[-1].measurement.bottleneck
    )
    if axis.kind == "set":
        return _returns(axis, points)
    capacity, reached = _capacity(axis, points)
    method = "utilisation-law"
    if capacity is None:
        return Knee(None, None, None, "none", False, "no component does any work")
    if axis.kind == "rps":
        value = capacity
        where = f"~{capacity:.0f} req/s"
    else:
        r0 = points[0].measurement.latency["mean"] or 0.0
        value = capacity * (r0 + workload.think.mean)
        method = "asymptotes" if reached else method
        where = f"~{value:.0f} users ({capacity:.0f} req/s)"
    if first_hot is points[0]:
        note = (
            f"every level saturates ({component} first); capacity is below "
            f"{axis.name} {points[0].text} (utilisation law: {where})"
        )
    elif reached and first_hot is not None:
        note = (
            f"saturates at {where}; {component} saturates first "
            f"(first saturated level: {axis.name} {first_hot.text})"
        )
    else:
        util = points[-1].measurement.bottleneck_utilisation
        note = (
            f"not reached up to {axis.name} {points[-1].text}; the utilisation law puts it "
            f"at {where} ({component} at {util:.0%})"
        )
    return Knee(value, capacity, component, method, reached, note)


def _returns(axis: Axis, points: Sequence[SweepPoint]) -> Knee:
    stable = [p for p in points if p.measurement.stable and p.measurement.latency["p99"]]
    if not stable:
        comp = points[-1].measurement.saturated
        return Knee(None, None, comp, "none", False, f"every level saturates ({comp} first)")
    best = min(p.measurement.latency["p99"] or 0.0 for p in stable)
    knee = next(p for p in stable if (p.measurement.latency["p99"] or 0.0) <= _RETURNS * best)
    return Knee(
        knee.value,
        None,
        knee.measurement.bottleneck,
        "diminishing-returns",
        knee is not points[-1],
        f"from {axis.name}={knee.text} on, p99 stays within 10% of its best "
        f"({short_duration(best)}); busiest there: {knee.measurement.bottleneck}",
    )
