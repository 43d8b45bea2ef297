"""The shared host seen in measured runs: how busy the machine was (every process of the
stack and the load generator) at each run's rate, and the curve through those points.

CPU per request falls as the rate rises (a process's fixed cost per wake-up is shared by the
requests it finds waiting: docs/calibrate.md), so the busy cores above the idle CPU are fitted
as ``A · X ** power`` (least squares in log-log), not a straight line whose intercept would
stand in for the fall. One run gives a line through the idle CPU (``power`` 1).

Pure: takes measured runs (``archsim.loadtest.measured``), returns numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from archsim.loadtest.measured import MeasuredRun
from archsim.model import Host

__all__ = ["POWER_RANGE", "HostCurve", "host_fit", "host_point", "log_slope"]

_MIN_S = 20e-6  # below the resolution of CPU accounting over a minute-long run
#: CPU per request that falls faster than this is not what a stack's wake-ups explain (noise in
#: two close runs); above 1 it would grow with the rate, which no measured stack did.
POWER_RANGE = (0.5, 1.0)


def host_point(measured: MeasuredRun) -> tuple[float, float]:
    """(front-door requests/s, cores busy on the host: every process and the load generator)
    over one run's measurement span."""
    span = measured.metrics_window_s or measured.window_s or 1.0
    front = measured.front_requests * measured.span_ratio
    cpu = sum(c.cpu_s for c in measured.components.values())
    cpu += measured.load_generator_cpu_s
    return front / span, cpu / span


@dataclass(frozen=True)
class HostCurve:
    """The host's busy cores as ``background + X · cpu(X)`` over the runs' points
    ((requests/s, busy cores) each): CPU per request ``cpu_per_request_s`` at ``rate``
    requests/s, changing as ``X ** (power − 1)``; how it was fitted, and the rate that fills
    the ``cpus`` cores."""

    cpus: int
    cpu_per_request_s: float
    rate: float
    power: float
    background: float
    how: str
    points: tuple[tuple[float, float], ...]

    @property
    def host(self) -> Host:
        """The model's shared host with these figures."""
        return Host(
            cores=self.cpus,
            cpu_per_request=self.cpu_per_request_s,
            background=self.background,
            cpu_power=self.power,
            cpu_rate=self.rate if self.power != 1.0 else None,
        )

    @property
    def host_bound_rps(self) -> float:
        """Requests/s whose busy cores fill the machine."""
        return self.host.saturation_rps()


def host_fit(runs: Sequence[MeasuredRun]) -> HostCurve:
    """The host's busy cores over the runs: the idle CPU measured before the load plus
    ``A · X ** power`` through runs at two or more rates (least squares in log-log, the power
    kept in ``POWER_RANGE``); with one run, the line through its idle CPU."""
    points = [host_point(m) for m in runs]
    cpus = runs[0].host_cpus or 1
    background = min(sum(runs[0].idle_cpu.values()), cpus * 0.9)  # leave requests some
    above = [(x, y - background) for x, y in points if x > 0 and y > background]
    if len({round(x, 1) for x, _ in above}) >= 2:
        rate, cpu, power, slope = _power_law(above)
        kept = "" if power == slope else f" (the runs say {slope:.2f}; kept in 0.5–1)"
        how = (
            "least squares in log-log over runs at "
            + ", ".join(f"{x:.0f}" for x, _ in points)
            + f" req/s: busy cores above the idle CPU grow as the rate to {power:.2f}{kept}"
        )
    else:
        rate, busy = max(points) if points else (0.0, 0.0)
        cpu, power = ((busy - background) / rate if rate else 0.0), 1.0
        how = f"one run at {rate:.0f} req/s and the idle CPU (give a run nearer the knee too)"
    return HostCurve(
        cpus=cpus,
        cpu_per_request_s=max(cpu, _MIN_S),
        rate=rate,
        power=power,
        background=background,
        how=how,
        points=tuple(points),
    )


def log_slope(points: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """(slope, mean log x, mean log y) of the least-squares line through ``(log x, log y)``
    of positive points at two or more distinct ``x``."""
    logs = [(math.log(x), math.log(y)) for x, y in points]
    mx = sum(u for u, _ in logs) / len(logs)
    my = sum(v for _, v in logs) / len(logs)
    sxx = sum((u - mx) ** 2 for u, _ in logs)
    return sum((u - mx) * (v - my) for u, v in logs) / sxx, mx, my


def _power_law(points: Sequence[tuple[float, float]]) -> tuple[float, float, float, float]:
    """(reference rate, CPU per request there (s), power, the slope before clamping) of
    ``y = A · x ** power`` by least squares in log-log; the reference is the highest rate,
    nearest the knee it predicts."""
    slope, mx, my = log_slope(points)
    power = min(max(slope, POWER_RANGE[0]), POWER_RANGE[1])
    rate, busy = max(points)
    if power == slope:
        busy = math.exp(my + power * (math.log(rate) - mx))  # the fitted line at that rate
    # a clamped power cannot pass through every run: through the busiest, nearest the knee
    return rate, busy / rate, power, slope
