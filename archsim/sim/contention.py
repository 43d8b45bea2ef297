"""Waiting for a core on a shared host (graph attribute ``host_wait``; docs/model.md).

Every process of a system on one machine competes for its ``cores``. At ``X`` requests/s the
host is busy ``u = (background + X · cpu(X)) / cores`` (``Host.busy``); a process that wakes
to do a compute step finds every core busy with the Erlang C probability of an M/M/c at that
load, and then waits an exponential time of mean ``wait / cores`` (``wait``: the CPU burst it
waits behind, shared by the cores) — holding its worker meanwhile, as a process waiting for a
core holds the request in hand. Measured on the 2-core machine (docs/calibrate.md): without
this wait the latencies at 40% of the knee came out 30–50% low.

The analytic solver adds :func:`host_wait_mean` to every compute step; the simulator draws the
wait per step with the host's load re-estimated each second from the arrivals
(:class:`HostWaits`), so ramps, steps and closed workloads see the load they make.
"""

from __future__ import annotations

from typing import Any

from archsim.model import Host
from archsim.sim.erlang import erlang_c

__all__ = ["HostWaits", "host_utilisation", "host_wait_mean", "host_wait_probability"]

_FULL = 0.999  # Erlang C needs u < 1; past the bound the host is reported unstable instead
_TICK_S = 1.0  # how often the simulator re-estimates the host's load (simulated seconds)
_SMOOTH = 0.5  # weight of the newest second in that estimate


def host_utilisation(host: Host, rate: float) -> float:
    """The host's busy fraction at ``rate`` entry requests/s (needs ``cpu_per_request``)."""
    return host.busy(rate) / host.cores


def host_wait_probability(host: Host, rate: float) -> float:
    """Probability that a compute step waits for a core at ``rate`` requests/s (Erlang C)."""
    if not host.wait or not host.cpu_per_request:
        return 0.0
    u = min(max(host_utilisation(host, rate), 0.0), _FULL)
    return erlang_c(host.cores, host.cores * u)


def host_wait_mean(host: Host | None, rate: float) -> float:
    """Mean wait for a core per compute step (s) at ``rate`` requests/s; 0 without one."""
    if host is None or not host.wait:
        return 0.0
    return host_wait_probability(host, rate) * host.wait / host.cores


class HostWaits:
    """The simulator's side: counts entry arrivals, re-estimates the host's load every
    simulated second and draws each compute step's wait for a core (s)."""

    __slots__ = ("arrived", "host", "inverse_mean", "kernel", "p", "rate")

    def __init__(self, kernel: Any, host: Host, rate: float) -> None:
        self.kernel = kernel
        self.host = host
        self.arrived = 0
        self.inverse_mean = host.cores / host.wait
        self.rate = rate  # the workload's nominal rate until the first second is counted
        self.p = host_wait_probability(host, rate)
        kernel.later(_TICK_S, self._tick, None)

    def _tick(self, _: Any) -> None:
        now = self.arrived / _TICK_S
        self.arrived = 0
        self.rate = _SMOOTH * now + (1 - _SMOOTH) * self.rate
        self.p = host_wait_probability(self.host, self.rate)
        self.kernel.later(_TICK_S, self._tick, None)

    def draw(self) -> float:
        """One compute step's wait for a core (s): 0, or exponential with probability p."""
        k = self.kernel
        if self.p and k.rand() < self.p:
            return float(k.rng.expovariate(self.inverse_mean))
        return 0.0
