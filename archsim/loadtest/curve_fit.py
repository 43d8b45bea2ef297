"""Each process's CPU per request against the rate (node attributes ``cpu_power`` and
``cpu_at``; docs/calibrate.md, method step 9).

A process's CPU per request falls as the rate rises, as the host's does: its fixed cost per
wake-up is shared by the requests it finds waiting (bookinfo's ratings used 3.6 ms of CPU per
front-door request at 34 req/s and 1.6 ms at 304). A service time fitted at the calibration
level then puts the component's own bound far below what it serves. Over runs at two rates or
more, the component's busy cores (CPU per front-door request × rate) are fitted as ``A · X **
power`` by least squares in log-log, the power kept in ``POWER_RANGE``, and the curve anchored
at the calibration level, where its service and operation times were fitted.

Pure: takes measured runs, writes into the ``Calibration`` it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from archsim.loadtest.calibration import Calibration
from archsim.loadtest.host_fit import POWER_RANGE, host_point, log_slope
from archsim.loadtest.measured import MeasuredRun
from archsim.model.quantities import format_duration

__all__ = ["fit_curves"]

#: A power this close to 1 is CPU per request that does not move with the rate: no curve.
_FLAT = 0.98

PerFront = Callable[[MeasuredRun], Mapping[str, float]]


def fit_curves(
    fit: Calibration, runs: Sequence[MeasuredRun], fitted: Iterable[str], per_front: PerFront
) -> None:
    """``cpu_power`` and ``cpu_at`` of every component in ``fitted`` (those whose service
    time the first run gave) measured in runs at two rates or more; ``per_front(run)`` is
    each component's CPU per front-door request (s) in a run."""
    first = runs[0]
    anchor = _configured_rate(first)
    measured = [(host_point(m)[0], per_front(m)) for m in runs]
    for cid in fitted:
        points = [(x, per[cid] * x) for x, per in measured if x > 0 and per.get(cid, 0.0) > 0]
        if len({round(x, 1) for x, _ in points}) < 2:
            continue
        slope, _, _ = log_slope(points)
        power = min(max(slope, POWER_RANGE[0]), POWER_RANGE[1])
        if power >= _FLAT:
            continue
        comp = fit.component(cid)
        comp.cpu_power, comp.cpu_at = power, anchor
        kept = "" if power == slope else f" (the runs say {slope:.2f}; kept in 0.5–1)"
        seen = ", ".join(f"{format_duration(y / x)} at {x:.0f}" for x, y in sorted(points))
        fit.why[f"{cid}.cpu_power"] = (
            f"CPU per front-door request {seen} req/s: busy time grows as the rate to "
            f"{power:.2f}{kept}"
        )
        fit.why[f"{cid}.cpu_at"] = "the calibration level, where its service time was fitted"


def _configured_rate(run: MeasuredRun) -> float:
    """The rate (requests/s) the run was asked for, which its simulation is given; the
    front door's measured rate for a closed run."""
    workload = run.source.get("workload") or {}
    if workload.get("type") != "closed" and workload.get("rps"):
        return float(workload["rps"])
    return host_point(run)[0]
