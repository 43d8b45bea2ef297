"""The shared host seen in measured runs: how busy the machine was (every process of the
stack and the load generator) at each run's rate, and the straight line through those points.

Pure: takes ``summary.json`` data, returns numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["HostLine", "host_fit", "host_point", "span_ratio"]

_MIN_S = 20e-6  # below the resolution of CPU accounting over a minute-long run


def span_ratio(measured: Mapping[str, Any]) -> float:
    """Metrics were read over a slightly shorter span than the front-door window: the ratio."""
    window = float(measured.get("window_s") or 0.0)
    span = float((measured.get("load_generator") or {}).get("window_s") or window)
    return span / window if window else 1.0


def host_point(measured: Mapping[str, Any]) -> tuple[float, float]:
    """(front-door requests/s, cores busy on the host: every process and the load generator)
    over one run's measurement span."""
    span = float((measured.get("load_generator") or {}).get("window_s") or 0.0)
    span = span or float(measured.get("window_s") or 1.0)
    front = sum(e["requests"] for e in measured["endpoints"].values()) * span_ratio(measured)
    cpu = sum(float(c.get("cpu_s", 0.0)) for c in (measured.get("components") or {}).values())
    cpu += float((measured.get("load_generator") or {}).get("cpu_s", 0.0))
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


def host_fit(runs: Sequence[Mapping[str, Any]]) -> HostLine:
    """The host's busy cores as ``background + X · cpu`` (cores, s per request) over the runs:
    least squares through runs at two or more rates; with one, the line through its idle CPU."""
    points = [host_point(m) for m in runs]
    cpus = int((runs[0].get("host") or {}).get("cpus") or 1)
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
        background = sum(float(v) for v in (runs[0].get("idle_cpu") or {}).values())
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
