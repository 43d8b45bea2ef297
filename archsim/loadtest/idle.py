"""The CPU a stack burns at rest (cores per component), measured before a run so that
calibration does not charge heartbeats, timers and a backlog's consumers to the requests."""

from __future__ import annotations

import time
from typing import Any

from archsim.loadtest.metrics import cpu_seconds

__all__ = ["SETTLED_CORES", "idle_cpu", "settled_idle"]


def idle_cpu(instances: list[dict[str, Any]], seconds: float) -> dict[str, float]:
    """CPU each component burns with no load (cores): heartbeats, timers, the Redis cron.
    Calibration subtracts it, so it is not charged to the requests."""
    by_pid = {int(i["pid"]): str(i["component"]) for i in instances}
    t0, first = time.monotonic(), cpu_seconds(by_pid)
    time.sleep(seconds)
    span, second = time.monotonic() - t0, cpu_seconds(by_pid)
    idle: dict[str, float] = {}
    for pid, comp in by_pid.items():
        idle[comp] = idle.get(comp, 0.0) + max(0.0, second[pid] - first[pid]) / span
    return idle


#: a stack at rest burns less than this (cores, every process): heartbeats, timers, Redis cron
SETTLED_CORES = 0.25


def settled_idle(
    instances: list[dict[str, Any]], seconds: float, limit_s: float
) -> tuple[dict[str, float], float]:
    """The idle CPU of ``idle_cpu`` once the stack is at rest, and how long it took (s).

    After a saturated run an event-driven stack's consumers are still working off the backlog
    (measured: 1.7 of 2 cores "idle"); measuring then would charge that work to no request and
    the next run would share the machine with it. Waits up to ``limit_s``, then gives the last
    reading (``idle_settled`` in the summary says which)."""
    t0 = time.monotonic()
    idle = idle_cpu(instances, seconds)
    while sum(idle.values()) > SETTLED_CORES and time.monotonic() - t0 < limit_s:
        idle = idle_cpu(instances, seconds)
    return idle, time.monotonic() - t0
