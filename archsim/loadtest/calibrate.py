"""Fit the model to a measured run, so the next prediction starts from reality.

Method (docs/calibrate.md):

1. **Service demand law.** A component's service time is the CPU time its processes spent in
   the measurement window divided by the requests they handled there (``D = U / X``): from the
   ``/proc`` CPU deltas and ``/metrics`` request counts in ``summary.json``. The load balancer
   has no ``/metrics``; every front-door request passes it once. A Redis-protocol process
   counts its operations from the services' cache metrics (a get, plus a set on a miss).
2. **Per-operation times** (``archsim.loadtest.fit``): the component's CPU is split over its
   operations by their exclusive time (latency less downstream calls), keeping the total;
   written as ``operation_time`` when the component has more than one measured operation.
3. **Spread**: each operation's cv from the mean and p95 of its exclusive time (lognormal),
   clamped; then one factor on every cv, chosen by simulating the calibration level itself and
   matching the entries' p95. Written as ``gamma(mean=…,cv=…)``; ``exp`` where no histogram.
4. **Hit ratios** of every ``caches in`` link from the services' cache counters.
5. **Databases** run inside the service (SQLite): their CPU is already in the service's demand,
   their waits (commits) are not CPU. A database's service time is what is left of its
   services' measured operation time after the operation's CPU, downstream calls and cache
   visits, per read; its ``write_time`` the same per write, where both were measured.
6. **Shared host.** All processes of a local stack (and the load generator) share ``C``
   cores; the simulator gives every component its own workers. The host's busy cores are
   fitted as the idle CPU plus ``A · X ** power`` over the runs (least squares in log-log when
   runs at two or more rates are given: CPU per request falls with the rate; with one run, the
   line through its idle CPU and the run itself) and written as ``host_cores``, ``host_cpu``,
   ``host_background`` and (power below 1) ``host_cpu_power`` and ``host_cpu_at``: a
   throughput bound, where the busy cores reach ``C``, for the simulator and the solver.
7. **Each process's CPU per request as a curve** (``archsim.loadtest.curve_fit``): with runs
   at two rates or more, each fitted component's busy cores as ``A · X ** power`` too, written
   as ``cpu_power`` and ``cpu_at`` (the calibration level, where its times were fitted).
8. **On-path share** of the CPU spent outside the handlers' timers (a proxy's framing,
   metrics, logging; part of it follows the response): one share for all components, chosen by
   simulating the calibration level and matching every entry's mean alike.
9. **Network latency** (one global value) by least squares over the entries' relative errors
   in mean latency, from two quick simulations (latency is linear in it below saturation);
   fitted before and again after the spread.

Limits (docs/calibrate.md): a database's reads share one time, its writes another; CPU per
request falls with load (wake-ups amortise), so a host fitted to one low-rate run is
pessimistic — give a second run nearer the knee; worker counts are only changed where the data
identify them (a process that used more than one core).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archsim.errors import ScenarioError
from archsim.loadtest import tuning
from archsim.loadtest.calibration import Calibration, HostFit, fitted_time
from archsim.loadtest.curve_fit import fit_curves as fit_curves_of
from archsim.loadtest.fit import (
    MIN_REQUESTS,
    OpFit,
    database_times,
    fit_operations,
    operation_times,
)
from archsim.loadtest.host_fit import host_fit, host_point
from archsim.loadtest.measured import ComponentMeasured, MeasuredRun
from archsim.loadtest.tuning import Simulate
from archsim.model import Architecture, Kind, Relation, StepAction
from archsim.model.link_address import address_of
from archsim.model.quantities import format_duration
from archsim.sim import simulate

__all__ = ["Calibration", "calibrate", "host_fit", "profile_yaml", "service_demands"]

_MIN_REQUESTS = MIN_REQUESTS


def service_demands(
    arch: Architecture, measured: MeasuredRun
) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """(service demand per request handled (s), CPU per front-door request (s), provenance)
    per component, by the service demand law over the measurement window."""
    comps = measured.components
    if not comps:
        raise ScenarioError(
            "the measured run has no per-component data (its /metrics were not read)",
            hint="measure again with archsim loadtest (it reads /metrics and CPU times)",
            code="bad-measured",
        )
    front_in_window = measured.front_requests * measured.span_ratio
    idle = measured.idle_cpu
    span = measured.metrics_window_s or 0.0
    demand: dict[str, float] = {}
    per_front: dict[str, float] = {}
    why: dict[str, str] = {}
    for comp in arch.components:
        m = comps.get(comp.id)
        if m is None:
            continue
        # the CPU the component burns with no load is not the requests' doing
        cpu = max(0.0, m.cpu_s - idle.get(comp.id, 0.0) * span)
        per_front[comp.id] = cpu / front_in_window if front_in_window else 0.0
        handled = m.requests
        if comp.kind is Kind.LOAD_BALANCER:
            handled = front_in_window
        elif comp.kind in (Kind.CACHE, Kind.BROKER):
            handled = _redis_ops(comp.id, comps)
        if handled < _MIN_REQUESTS or comp.kind in (Kind.DATABASE, Kind.EXTERNAL):
            continue
        demand[comp.id] = cpu / handled
        why[f"{comp.id}.service_time"] = f"{cpu:.2f} s CPU (less idle) / {handled:.0f} requests"
    return demand, per_front, why


def _redis_ops(cache: str, comps: Mapping[str, ComponentMeasured]) -> float:
    ops = 0.0
    for c in comps.values():
        stats = c.caches.get(cache)
        if stats is not None:
            ops += stats.hits + 2 * stats.misses  # a miss is a get and then a set
    return ops


def calibrate(
    arch: Architecture,
    measured: Mapping[str, Any],
    *,
    run: Simulate | None = None,
    fit_network: bool = True,
    fit_spread: bool = True,
    per_operation: bool = True,
    more: Sequence[Mapping[str, Any]] = (),
    fit_wait: bool = False,
    fit_curves: bool = True,
) -> Calibration:
    """Fit service times (per operation where identified, with their spread), hit ratios,
    database times, network latency and the shared host to ``measured``; runs in ``more``, at
    other rates, give the host's CPU per request and each process's as curves of the rate
    (``fit_curves``; docs/calibrate.md)."""
    runner = run or (lambda a, w, c: simulate(a, w, c, jobs=1, analytic=False))
    fit = Calibration(architecture=arch.name)
    first = MeasuredRun.from_dict(measured)  # the JSON edge: typed records from here on
    demand, per_front, why = service_demands(arch, first)
    fit.why.update(why)
    comps = first.components
    op_fits = {cid: _op_fits(arch, cid, d, comps) for cid, d in demand.items()}
    # components without latency histograms (balancer, cache, broker) get the spread typical
    # of the measured handlers, weighted by the CPU each accounts for
    typical_cv = _weighted([fn for fits in op_fits.values() for fn in fits.values()])
    times, ops = _fit_components(arch, fit, demand, op_fits, comps, per_operation, typical_cv)

    def op_time(cid: str, name: str) -> float:
        own = op_fits.get(cid, {}).get(name) if per_operation else None
        return own[0].mean if own else demand[cid]

    for cid, db in database_times(arch, first, demand, op_time).items():
        # no histogram of the queries alone: their spread is unknown, exponential is kept
        fit.component(cid).service_time = fitted_time(db.read_s, None)
        if db.write_s is None:
            fit.why[f"{cid}.service_time"] = f"operation time left per query ({db.source})"
            continue
        fit.component(cid).write_time = fitted_time(db.write_s, None)
        fit.why[f"{cid}.service_time"] = f"operation time left per read ({db.source})"
        fit.why[f"{cid}.write_time"] = "what writing operations leave after their reads"
    _fit_hit_ratios(arch, comps, fit)
    _fit_call_probabilities(arch, comps, fit)
    others = [MeasuredRun.from_dict(m) for m in more]
    _fit_host(fit, [first, *others], per_front)
    if others and fit_curves:  # each process's CPU per request falls with the rate too
        fit_curves_of(fit, [first, *others], demand, lambda m: service_demands(arch, m)[1])
    tuning.write_times(fit, times, ops, 1.0)
    # the spread changes the queueing, and so the means the network latency is fitted to:
    # network latency first, then the spread with it, then the network latency again
    if fit_network:
        tuning.set_network(arch, first, runner, fit)
        outside = {
            cid: next(iter(fits.values()))[0].outside for cid, fits in op_fits.items() if fits
        }
        if any(outside.values()):
            times, ops = _fit_on_path(arch, first, runner, fit, times, ops, outside)
    if fit_spread and typical_cv is not None:
        factor, source = tuning.fit_spread(arch, first, runner, fit, times, ops)
        tuning.write_times(fit, times, ops, factor)
        fit.why["cv"] = source
        if fit_network:
            tuning.set_network(arch, first, runner, fit)
    # off by default: it helped sock-shop and the seed on 2026-12-03 and hurt sock-shop the day
    # before (docs/calibrate.md)
    if fit_wait and _fit_host_wait(arch, first, others, runner, fit) and fit_network:
        tuning.set_network(arch, first, runner, fit)  # the calibration level waits a little too
    return fit


def _fit_host_wait(
    arch: Architecture,
    first: MeasuredRun,
    others: Sequence[MeasuredRun],
    run: Simulate,
    fit: Calibration,
) -> bool:
    """The wait for a core, from the busiest run at twice the calibration rate or more;
    False when no run is busy enough to show it."""
    if fit.graph.host_cpu is None:
        return False
    rate = host_point(first)[0]
    busy = [m for m in others if host_point(m)[0] >= 2 * rate]
    if not busy:
        fit.why["host_wait"] = "not fitted: no run at twice the calibration rate or more"
        return False
    _, source = tuning.fit_host_wait(arch, max(busy, key=lambda m: host_point(m)[0]), run, fit)
    fit.why["host_wait"] = source
    return True


Times = dict[str, tuple[float, float | None]]  # component → (mean s, cv) of its service_time
OpTimes = dict[str, dict[str, OpFit]]  # component → operation → fit (operation_time)


def _fit_components(
    arch: Architecture,
    fit: Calibration,
    demand: Mapping[str, float],
    op_fits: Mapping[str, dict[str, tuple[OpFit, float]]],
    comps: Mapping[str, ComponentMeasured],
    per_operation: bool,
    typical_cv: float | None,
) -> tuple[Times, OpTimes]:
    """Each measured component's service time (its demand, with the spread of its handlers or
    the typical one), its operation times where it has several, and its workers where one
    process used more than a core; records the why of each in ``fit``."""
    times: Times = {}
    ops: OpTimes = {}
    for cid, d in demand.items():
        fits = op_fits[cid]
        comp_cv = _weighted(list(fits.values())) if fits else typical_cv
        times[cid] = (d, comp_cv)
        fit.component(cid)
        if per_operation and len(fits) > 1:
            ops[cid] = {name: f for name, (f, _) in fits.items()}
            for name, (f, _) in fits.items():
                fit.why[f"{cid}.operation_time.{name}"] = f.why
            fit.why[f"{cid}.operation_time"] = (
                f"its CPU split over {len(fits)} operations by exclusive time"
            )
        cores = comps[cid].cpu_utilisation / max(1, comps[cid].instances)
        comp = arch.component(cid)
        if cores > 1.2 and comp.workers < 2:  # one process that used more than one core
            fit.component(cid).workers = round(cores + 0.5)
            fit.why[f"{cid}.workers"] = f"used {cores:.1f} cores"
    return times, ops


def _fit_hit_ratios(
    arch: Architecture, comps: Mapping[str, ComponentMeasured], fit: Calibration
) -> None:
    """Every ``caches in`` link's hit ratio, from its service's cache counters."""
    for link in arch.links:
        if link.relation is not Relation.CACHES_IN:
            continue
        source = comps.get(link.source)
        stats = source.caches.get(link.target) if source is not None else None
        if stats is not None and stats.hits + stats.misses >= _MIN_REQUESTS:
            key = str(address_of(link, arch.links))
            assert stats.hit_ratio is not None  # hits + misses > 0
            fit.link(key).hit_ratio = float(stats.hit_ratio)
            fit.why[f"{key}.hit_ratio"] = f"{stats.hits:.0f} hits, {stats.misses:.0f} misses"


def _fit_on_path(
    arch: Architecture,
    measured: MeasuredRun,
    runner: Simulate,
    fit: Calibration,
    times: Times,
    ops: OpTimes,
    outside: Mapping[str, float],
) -> tuple[Times, OpTimes]:
    """The share of the CPU outside handlers that lies on the path (``tuning.fit_on_path``),
    the times with only that share kept, and the network latency fitted again to them."""
    share, source = tuning.fit_on_path(arch, measured, runner, fit, times, ops, outside)
    times, ops = tuning.on_path(times, ops, outside, share)
    fit.why["on_path"] = source
    for cid, extra in outside.items():
        if extra > 0 and f"{cid}.service_time" in fit.why:
            fit.why[f"{cid}.service_time"] += (
                f"; {share:g} of its {format_duration(extra)} per request outside "
                "handlers kept (on path)"
            )
    tuning.write_times(fit, times, ops, 1.0)
    tuning.set_network(arch, measured, runner, fit)
    return times, ops


def _fit_host(
    fit: Calibration, runs: Sequence[MeasuredRun], per_front: Mapping[str, float]
) -> None:
    if not runs[0].host_cpus:
        return  # a run from before the host was recorded: no shared host to fit
    h = host_fit(runs)
    busiest = max(per_front.values(), default=0.0)
    fit.host = HostFit.of(h, busiest)
    fit.graph.host_cores = fit.host.cpus
    fit.graph.host_cpu = fit.host.cpu_per_request_s
    fit.graph.host_background = fit.host.background
    fit.why["host_cores"] = "cores of the machine the run was measured on" + _stolen(runs)
    fit.why["host_cpu"] = f"host CPU (every process and Locust) per request: {h.how}"
    fit.why["host_background"] = "idle CPU of every process, measured before the load"
    if h.power != 1.0:
        fit.graph.host_cpu_power, fit.graph.host_cpu_at = h.power, h.rate
        fit.why["host_cpu_power"] = "the same curve's power"
        fit.why["host_cpu_at"] = "the rate host_cpu holds at: the busiest run's"


def _stolen(runs: Sequence[MeasuredRun]) -> str:
    """How much of the machine's CPU time a hypervisor took in the runs, when it was
    measured: a machine that lost some is a slower one, and may not be the same tomorrow."""
    shares = [r.steal_ratio for r in runs if r.steal_ratio is not None]
    if not shares:
        return ""
    return " (a hypervisor took " + ", ".join(f"{s:.0%}" for s in shares) + " of its CPU time)"


def _op_fits(
    arch: Architecture, cid: str, demand: float, comps: Mapping[str, ComponentMeasured]
) -> dict[str, tuple[OpFit, float]]:
    """Per measured operation of ``cid``: (fit, requests), from its share of the CPU."""
    # no network latency subtracted: on loopback a call costs the caller CPU (HTTP framing)
    ops = operation_times(arch, cid, comps)
    cpu = demand * sum(o.requests for o in ops)  # the CPU of the operations the model knows
    fits = fit_operations(cpu, ops, _MIN_REQUESTS)
    counts = {o.operation: o.requests for o in ops}
    return {name: (f, counts[name]) for name, f in fits.items()}


def _weighted(fits: list[tuple[OpFit, float]]) -> float | None:
    """The CPU-weighted mean cv of fitted operations (None if none has a measured spread)."""
    known = [(f.cv, f.mean * n) for f, n in fits if f.cv is not None]
    total = sum(w for _, w in known)
    return sum(v * w for v, w in known) / total if total > 0 else None


def _fit_call_probabilities(
    arch: Architecture, comps: Mapping[str, ComponentMeasured], fit: Calibration
) -> None:
    """A call the model makes on every request but the stack makes less often (a gateway that
    caches validated tokens): the link's ``p`` becomes measured calls / modelled calls."""
    for link in arch.links:
        m = comps.get(link.source)
        measured_calls = m.calls.get(link.target) if m is not None else None
        if m is None or measured_calls is None or link.interaction != "sync":
            continue
        expected = 0.0
        for name, om in m.ops.items():
            try:
                op = arch.behaviour.operation(link.source, name)
            except KeyError:
                continue
            n = om.requests
            expected += n * sum(
                s.p for s in op.steps if s.action is StepAction.CALL and s.target == link.target
            )
        calls = float(measured_calls.ok + measured_calls.failed)
        if expected < _MIN_REQUESTS or calls > 0.9 * expected:
            continue
        key = str(address_of(link, arch.links))
        fit.link(key).p = min(1.0, calls / expected * link.p)
        fit.why[f"{key}.p"] = f"{calls:.0f} calls for {expected:.0f} modelled"


def _front_door(arch: Architecture) -> str | None:
    entries = arch.behaviour.entries
    return entries[0].hops[0] if entries else None


def profile_yaml(fit: Calibration, source: str = "a measured run") -> str:
    """The profile as YAML text with a header saying where it came from."""
    import yaml

    lines = [
        f"# archsim calibrate: fitted to {source} ({fit.architecture}).",
        "# Use it with: archsim simulate MODEL.dot --profile THIS_FILE",
    ]
    lines += [f"#   {k}: {v}" for k, v in sorted(fit.why.items())]
    body = yaml.safe_dump(fit.profile(), sort_keys=True, allow_unicode=True)
    return "\n".join(lines) + "\n" + body
