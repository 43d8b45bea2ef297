"""The calibration fits that need the simulator: each tries candidate values, simulates the
calibration level itself and keeps the one whose entries match the measurement best
(network latency by least squares; the on-path share of CPU outside handlers and the spread
factor by a grid). Pure given the ``Simulate`` callable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from archsim.loadtest.calibration import Calibration, fitted_time
from archsim.loadtest.compare import sim_config_of, workload_of
from archsim.loadtest.fit import MIN_REQUESTS, OpFit, clamp_cv
from archsim.loadtest.measured import MeasuredRun
from archsim.model import Architecture, apply_overrides
from archsim.model.quantities import format_duration
from archsim.sim import SimConfig, SimulationResult, Workload

__all__ = [
    "HOST_WAITS",
    "ON_PATH_SHARES",
    "SPREAD_FACTORS",
    "TRACE_SPREAD_FACTORS",
    "Simulate",
    "fit_host_wait",
    "fit_on_path",
    "fit_spread",
    "on_path",
    "set_network",
    "write_times",
]

SPREAD_FACTORS = (0.25, 0.4, 0.55, 0.7, 0.85, 1.0)
#: Spans' exclusive times hold no queueing, but the stack's tail holds what the simulator does
#: not add (a wait for a core): a trace fit may need a wider spread than the spans show.
TRACE_SPREAD_FACTORS = (*SPREAD_FACTORS, 1.25, 1.5, 1.75, 2.0)
ON_PATH_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
HOST_WAITS = (0.0, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008)  # s
Simulate = Callable[[Architecture, Workload, SimConfig], SimulationResult]
_MIN_S = 20e-6
_MIN_REQUESTS = MIN_REQUESTS


def _fit_network(
    arch: Architecture, measured: MeasuredRun, run: Simulate, candidates: tuple[float, float]
) -> tuple[float, str]:
    """Least-squares network latency (s) from two simulations (entry means are linear in it)."""
    cfg = sim_config_of(measured.source, replications=1)
    workload = workload_of(measured.source)
    means = []
    for nl in candidates:
        trial = apply_overrides(arch, [f"network_latency={format_duration(nl)}"])
        means.append(run(trial, workload, cfg).entries)
    num = den = 0.0
    for eid, m in measured.endpoints.items():
        if not m.requests or eid not in means[0] or m.mean is None:
            continue
        p0, p1 = means[0][eid].latency.mean, means[1][eid].latency.mean
        if p0 is None or p1 is None:
            continue
        slope = (p1 - p0) / (candidates[1] - candidates[0])
        # relative errors: in absolute terms the 100 ms entries would outweigh the 2 ms ones
        w = m.requests / (m.mean * m.mean) if m.mean else 0.0
        num += w * slope * (m.mean - p0)
        den += w * slope * slope
    if den <= 0:
        return arch.network_latency, "kept (no entry depends on it)"
    fitted = candidates[0] + num / den
    return max(0.0, fitted), "least squares over the entries' relative error in mean latency"


def set_network(arch: Architecture, measured: MeasuredRun, run: Simulate, fit: Calibration) -> None:
    fit.graph.network_latency = None  # the trials set it themselves
    base = apply_overrides(arch, fit.overrides())
    nl, source = _fit_network(base, measured, run, (0.0, 0.0005))
    fit.graph.network_latency = max(nl, 1e-6)
    fit.why["network_latency"] = source


def write_times(
    fit: Calibration,
    times: Mapping[str, tuple[float, float | None]],
    ops: Mapping[str, Mapping[str, OpFit]],
    factor: float,
) -> None:
    """Write service times and operation times as gamma distributions, every measured cv ×
    ``factor`` (``exp`` where no spread was measured)."""

    def scaled(cv: float | None) -> float | None:
        return None if cv is None else clamp_cv(cv * factor)

    for cid, (mean, cv) in times.items():
        fit.component(cid).service_time = fitted_time(mean, scaled(cv))
    for cid, fits in ops.items():
        fit.component(cid).operation_time = {
            name: fitted_time(f.mean, scaled(f.cv)) for name, f in fits.items()
        }


def on_path(
    times: Mapping[str, tuple[float, float | None]],
    ops: Mapping[str, Mapping[str, OpFit]],
    outside: Mapping[str, float],
    share: float,
) -> tuple[dict[str, tuple[float, float | None]], dict[str, dict[str, OpFit]]]:
    """Service and operation times with only ``share`` of the CPU outside handlers kept."""
    cut = {cid: (1.0 - share) * o for cid, o in outside.items()}
    new_times = {
        cid: (max(mean - cut.get(cid, 0.0), _MIN_S), cv) for cid, (mean, cv) in times.items()
    }
    new_ops = {
        cid: {
            name: replace(f, mean=max(f.mean - (1.0 - share) * f.outside, _MIN_S))
            for name, f in fits.items()
        }
        for cid, fits in ops.items()
    }
    return new_times, new_ops


def _best_on_grid(
    arch: Architecture,
    measured: MeasuredRun,
    run: Simulate,
    fit: Calibration,
    candidates: Sequence[float],
    apply: Callable[[float], None],
    figure: str,
) -> float:
    """The candidate whose simulation of the calibration level matches the entries' ``figure``
    (``mean`` or ``p95``) best, by squared log error; ``apply(c)`` writes candidate ``c`` into
    ``fit`` first."""
    cfg = sim_config_of(measured.source, replications=1)
    workload = workload_of(measured.source)
    best: tuple[float, float] | None = None
    for candidate in candidates:
        apply(candidate)
        entries = run(apply_overrides(arch, fit.overrides()), workload, cfg).entries
        err = 0.0
        for eid, m in measured.endpoints.items():
            entry = entries.get(eid)
            predicted = getattr(entry.latency, figure) if entry is not None else None
            seen = m.figure(figure)
            if m.requests >= _MIN_REQUESTS and predicted and seen:
                err += math.log(predicted / seen) ** 2
        if best is None or err < best[0]:
            best = (err, candidate)
    assert best is not None  # candidates is never empty
    return best[1]


def fit_on_path(
    arch: Architecture,
    measured: MeasuredRun,
    run: Simulate,
    fit: Calibration,
    times: Mapping[str, tuple[float, float | None]],
    ops: Mapping[str, Mapping[str, OpFit]],
    outside: Mapping[str, float],
) -> tuple[float, str]:
    """The share of the CPU spent outside the handlers' timers (framing, metrics, logging)
    that lies on a request's path, chosen by simulating the calibration level: every entry's
    relative error in mean latency counts alike, so the paths through proxies (gateway, auth:
    nearly all their CPU is outside handlers) weigh as much as the direct ones."""

    def apply(share: float) -> None:
        write_times(fit, *on_path(times, ops, outside, share), 1.0)
        set_network(arch, measured, run, fit)  # the share moves the latency per hop

    share = _best_on_grid(arch, measured, run, fit, ON_PATH_SHARES, apply, "mean")
    tried = ", ".join(f"{s:g}" for s in ON_PATH_SHARES)
    return share, (
        f"{share:g} of the CPU outside handlers is on the request's path: best match of the "
        f"entries' mean at the calibration level (tried {tried})"
    )


def fit_spread(
    arch: Architecture,
    measured: MeasuredRun,
    run: Simulate,
    fit: Calibration,
    times: Mapping[str, tuple[float, float | None]],
    ops: Mapping[str, Mapping[str, OpFit]],
    factors: tuple[float, ...] = SPREAD_FACTORS,
) -> tuple[float, str]:
    """One factor on every fitted cv, chosen by simulating the calibration level itself: the
    handlers' histograms include queueing and cache misses, which the simulator adds itself."""

    def apply(factor: float) -> None:
        write_times(fit, times, ops, factor)

    factor = _best_on_grid(arch, measured, run, fit, factors, apply, "p95")
    tried = ", ".join(f"{f:g}" for f in factors)
    return factor, (
        f"handler cv × {factor:g}: best match of the entries' p95 at the calibration level "
        f"(tried {tried})"
    )


def fit_host_wait(
    arch: Architecture, measured: MeasuredRun, run: Simulate, fit: Calibration
) -> tuple[float, str]:
    """The wait for a core (``host_wait``, s) whose simulation of a run near the knee matches
    its entries' mean latency best; the calibration level is too quiet to show it."""

    def apply(wait: float) -> None:
        fit.graph.host_wait = wait

    wait = _best_on_grid(arch, measured, run, fit, HOST_WAITS, apply, "mean")
    apply(wait)
    rate = measured.front_requests / (measured.window_s or 1.0)
    tried = ", ".join(format_duration(w) for w in HOST_WAITS)
    return wait, (
        f"best match of the entries' mean latency in the run at {rate:.0f} req/s (tried {tried})"
    )
