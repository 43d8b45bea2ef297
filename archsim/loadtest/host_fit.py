"""The shared host seen in measured runs: how busy the machine was (every process of the
stack and the load generator) at each run's rate, and the straight line through those points.

Pure: takes measured runs (``archsim.loadtest.measured``), returns numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archsim.loadtest.measured import MeasuredRun

__all__ = ["HostLine", "host_fit", "host_point"]

_MIN_S = 20e-6  # below the resolution of CPU accounting over a minute-long run


def host_point(measured: MeasuredRun) -> tuple[float, float]:
    """(front-door requests/s, cores busy on the host: every process and the load generator)
    over one run's measurement span."""
    span = measured.metrics_window_s or measured.window_s or 1.0
    front = measured.front_requests * measured.span_ratio
    cpu = sum(c.cpu_s for c in measured.components.values())
    cpu += measured.load_generator_cpu_s
    return front / span, cpu / span


@dataclass(frozen=True)
class HostLine:
    """The host's busy cores as ``background + X · cpu_per_request_s`` over the runs' points
    ((requests/s, busy cores) each), how it was fitted, and the rate that fills the
    ``cpus`` cores."""

    cpus: int
    cpu_per_request_s: float
    background: float
    host_bound_rps: float
    how: str
    points: tuple[tuple[float, float], ...]


def host_fit(runs: Sequence[MeasuredRun]) -> HostLine:
    """The host's busy cores as ``background + X · cpu`` (cores, s per request) over the runs:
    least squares through runs at two or more rates; with one, the line through its idle CPU."""
    points = [host_point(m) for m in runs]
    cpus = runs[0].host_cpus or 1
    rates = {round(x, 1) for x, _ in points}
    if len(rates) >= 2:
        n = len(points)
        mx = sum(x for x, _ in points) / n
        my = sum(y for _, y in points) / n
        sxx = sum((x - mx) ** 2 for x, _ in points)
        cpu = sum((x - mx) * (y - my) for x, y in points) / sxx
        background = max(0.0, my - cpu * mx)
        how = "least squares over runs at " + ", ".join(f"{x:.0f}" for x, _ in points)
    else:
        x, y = points[0]
        background = sum(runs[0].idle_cpu.values())
        cpu = (y - background) / x if x else 0.0
        how = f"one run at {x:.0f} req/s and the idle CPU (give a run nearer the knee too)"
    cpu = max(cpu, _MIN_S)
    background = min(background, cpus * 0.9)  # leave the requests some of the machine
    return HostLine(
        cpus=cpus,
        cpu_per_request_s=cpu,
        background=background,
        host_bound_rps=(cpus - background) / cpu,
        how=how + " req/s",
        points=tuple(points),
    )
