"""Analytic cross-check: the same behaviour solved as a queueing network in milliseconds.

Open workloads: traffic equations give each station's arrival rate; every replica is an
M/M/c (M/M/c/K with a ``queue_limit``) with the Allen–Cunneen correction for non-exponential
service; an operation's mean response time is the sum of its steps. Closed workloads: exact
Mean Value Analysis over the same per-request demands (Seidmann's approximation for
multi-worker stations). Assumptions (documented in docs/simulate.md): no retries or timeouts,
connection-pool waits ignored, thread-mode holding times from the open solution.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from archsim.model import Architecture, Entry, Operation
from archsim.model.cycles import import_numpy
from archsim.model.rate_curve import at_rate, has_curves
from archsim.sim.contention import host_wait_mean
from archsim.sim.demands import Demands, OpTimes
from archsim.sim.erlang import erlang_b, erlang_c, mmck
from archsim.sim.solution import EntrySolution, HostLoad, Solution, StationLoad
from archsim.sim.workload import Workload, entry_weights

if TYPE_CHECKING:
    import numpy as np
else:
    np = import_numpy()  # one BLAS thread: see import_numpy

__all__ = [
    "EntrySolution",
    "HostLoad",
    "Solution",
    "StationLoad",
    "erlang_b",
    "erlang_c",
    "mmck",
    "mva",
    "operations",
    "saturation",
    "solve",
]


def _station_wait(
    lam: float, hold: float, scv: float, c: int, r: int, limit: int | None
) -> tuple[float, float, float, float]:
    """(utilisation, mean queue (all replicas), mean wait, blocking) of r replicas of M/G/c."""
    if lam <= 0 or hold <= 0:
        return 0.0, 0.0, 0.0, 0.0
    lam_r, mu = lam / r, 1.0 / hold
    if limit is not None:
        block, _, queue = mmck(lam_r, mu, c, c + limit)
        lam_eff = lam_r * (1 - block)
        wait = queue / lam_eff if lam_eff else 0.0
        return lam_eff / (c * mu), queue * r, wait, block
    rho = lam_r / (c * mu)
    if rho >= 1:
        return rho, math.inf, math.inf, 0.0
    wait = erlang_c(c, lam_r / mu) / (c * mu - lam_r) * (1 + scv) / 2
    return rho, lam_r * wait * r, wait, 0.0


def saturation(arch: Architecture, workload: Workload) -> tuple[float, str | None]:
    """Open arrival rate (requests/s) at which the busiest station — or the shared host, named
    ``"host"`` — reaches 100% utilisation, by the utilisation law on the workload's mix (rate
    and ramp ignored)."""
    rate, busiest = _saturation_at(arch, workload, None)
    if not has_curves(arch) or not math.isfinite(rate):
        return rate, busiest
    # times that fall with the rate (cpu_power) move the bound: the rate where the bound at
    # that rate's times equals the rate itself. A contraction in log-rate (by |cpu_power − 1|,
    # at most 0.9), so a few dozen steps reach a part in a million.
    for _ in range(_MAX_STEPS):
        previous, (rate, busiest) = rate, _saturation_at(arch, workload, rate)
        if not math.isfinite(rate) or abs(rate - previous) <= 1e-6 * previous:
            break
    return rate, busiest


_MAX_STEPS = 200


def _saturation_at(
    arch: Architecture, workload: Workload, times_at: float | None
) -> tuple[float, str | None]:
    """The utilisation law's bound with the times as they are at ``times_at`` requests/s
    (None: as written)."""
    probe = 1.0  # utilisation is linear in the rate; any positive probe gives the same answer
    fixed = arch if times_at is None else at_rate(arch, times_at)
    solved = solve(fixed, replace(workload, rps=probe, ramp=(), users=None))
    loads = solved.offered_loads()
    busiest = max(loads, key=lambda cid: loads[cid], default=None)
    rate = math.inf
    if busiest is not None and loads[busiest] > 0:
        rate = probe / loads[busiest]
    host = solved.host
    if host is not None and host.saturation_rps < rate:
        return host.saturation_rps, "host"
    return rate, busiest if math.isfinite(rate) else None


def _host(arch: Architecture, lam: float, cpu_per_request: float) -> HostLoad | None:
    """The shared machine's load: ``(background + λ·cpu(λ)) / cores`` and the rate that fills
    it; ``cpu_per_request`` (s) is the model's own compute, used without ``host_cpu``."""
    host = arch.host
    if host is None:
        return None
    cpu = host.cpu_at(lam, cpu_per_request)
    load = host.busy(lam, cpu_per_request) / host.cores
    return HostLoad(
        cores=host.cores,
        background=host.background,
        cpu_per_request_s=cpu,
        utilisation=min(1.0, load),
        offered_load=load,
        saturation_rps=host.saturation_rps(cpu_per_request),
    )


def solve(arch: Architecture, workload: Workload) -> Solution:
    """Mean-value prediction: per component utilisation/throughput/queue/wait, per entry mean
    response time (seconds), by open network analysis or MVA for a closed workload."""
    lam = workload.peak_rate if not workload.ramp else workload.rate_at(0.0)
    if workload.curve_rate is not None:
        arch = at_rate(arch, workload.curve_rate)
    # closed: the rate is the answer, so no wait for a core (docs/simulate.md)
    demands = Demands(arch, 0.0 if workload.closed else host_wait_mean(arch.host, lam))
    weights = entry_weights(arch, workload)
    visits, work = demands.stations(demands.flows.forward(demands.entry_vector(weights)))
    if workload.closed:
        return _closed(arch, workload, demands, weights, visits, work)
    return _open(arch, lam, demands, weights, visits, work)


def _open(
    arch: Architecture,
    lam: float,
    demands: Demands,
    weights: list[tuple[int, float]],
    visits: dict[str, float],
    work: dict[str, float],
) -> Solution:
    """The open network at arrival rate ``lam`` (requests/s): an M/G/c per station, the
    thread-mode holding times found by fixed-point rounds."""
    entries = arch.behaviour.entries
    waits: dict[str, float] = defaultdict(float)
    comps: dict[str, StationLoad] = {}
    # A station's mean hold is its compute demand per visit: operations may have their own
    # service times (``operation_time``); infrastructure stations visited by queries keep theirs.
    hold = {
        c.id: work[c.id] / visits[c.id] if work.get(c.id) else c.service_time.mean
        for c in arch.all_components
    }
    for _ in range(
        20 if any(c.concurrency == "threads" and c.is_application for c in arch.components) else 1
    ):
        _hold_threads(arch, OpTimes(arch, demands, waits, hold), hold)
        comps = _open_stations(arch, lam, visits, hold, waits)
    op_time = OpTimes(arch, demands, waits, hold)
    out_entries = {
        entries[i].id: EntrySolution(
            throughput=lam * w, latency_mean=op_time.response(_entry_op(demands, entries[i]))
        )
        for i, w in weights
    }
    # every station's compute per request, the model's own estimate of the host's CPU
    cpu = sum(visits.get(c.id, 0.0) * hold[c.id] for c in arch.all_components)
    return Solution(
        method="open network (M/M/c per station)",
        arrival_rate=lam,
        entries=out_entries,
        components=comps,
        host=_host(arch, lam, cpu),
    )


def _entry_op(demands: Demands, entry: Entry) -> Operation:
    """The operation an entry starts."""
    return demands.ops[(entry.operation.component, entry.operation.operation)]


def _hold_threads(arch: Architecture, op_time: OpTimes, hold: dict[str, float]) -> None:
    """Set in ``hold`` each thread-mode application component's holding time (s): its longest
    operation, callees included."""
    for c in arch.all_components:
        if c.concurrency == "threads" and c.is_application:
            ops = arch.behaviour.operations_of(c.id)
            if ops:
                hold[c.id] = max(op_time.holding(op) for op in ops)


def _open_stations(
    arch: Architecture,
    lam: float,
    visits: dict[str, float],
    hold: dict[str, float],
    waits: dict[str, float],
) -> dict[str, StationLoad]:
    """Each station's load at arrival rate ``lam`` given its mean hold (s); records each
    station's mean wait (s) in ``waits``."""
    comps: dict[str, StationLoad] = {}
    for c in arch.all_components:
        rate = lam * visits.get(c.id, 0.0)
        util, queue, wait, block = _station_wait(
            rate, hold[c.id], c.service_time.scv, c.workers, c.replicas, c.queue_limit
        )
        waits[c.id] = wait
        offered = rate * hold[c.id] / (c.workers * c.replicas)
        comps[c.id] = StationLoad(
            throughput=rate * (1 - block),
            utilisation=min(util, 1.0),
            offered_load=offered,
            queue_mean=queue,
            wait_mean=wait,
            latency_mean=wait + hold[c.id],
            blocking=block,
            unstable=offered >= 1.0,
        )
    return comps


def operations(
    arch: Architecture, workload: Workload, solved: Solution | None = None
) -> dict[tuple[str, str], dict[str, float]]:
    """Per (component, operation) of an open workload: executions per second (``rate``) and
    mean response time in seconds, callees included (``response``), from ``solve``'s answer."""
    solved = solved or solve(arch, workload)
    if solved.arrival_rate is None or workload.curve_rate is None:
        raise ValueError("operations() needs the solution of an open workload")
    arch = at_rate(arch, workload.curve_rate)
    demands = Demands(arch, host_wait_mean(arch.host, solved.arrival_rate))
    runs = demands.flows.forward(demands.entry_vector(entry_weights(arch, workload))).tolist()
    waits = {c: v.wait_mean or 0.0 for c, v in solved.components.items()}
    hold = {c: v.latency_mean - waits[c] for c, v in solved.components.items()}
    times, lam = OpTimes(arch, demands, waits, hold), solved.arrival_rate
    return {
        key: {"rate": lam * runs[demands.graph.index[key]], "response": times.response(op)}
        for key, op in demands.ops.items()
    }


def mva(
    demands: dict[str, float], servers: dict[str, int], users: int, think: float, delay: float = 0.0
) -> dict[str, Any]:
    """Exact MVA for single-server stations (Seidmann's split for c > 1; c >= users is a pure
    delay). ``demands`` are seconds per request; returns throughput, response time, per-station
    residence time, queue length and utilisation."""
    queue = dict.fromkeys(demands, 0.0)
    x, resid = 0.0, dict.fromkeys(demands, 0.0)
    for n in range(1, users + 1):
        for k, d in demands.items():
            c = servers.get(k, 1)
            if c >= users:
                resid[k] = d
            elif c == 1:
                resid[k] = d * (1 + queue[k])
            else:
                resid[k] = d / c * (1 + queue[k]) + d * (c - 1) / c
        r = sum(resid.values()) + delay
        x = n / (think + r)
        queue = {k: x * resid[k] for k in demands}
    return {
        "throughput": x,
        "response": sum(resid.values()) + delay,
        "residence": resid,
        "queue": queue,
        "utilisation": {k: x * d / servers.get(k, 1) for k, d in demands.items()},
    }


def _closed(
    arch: Architecture,
    workload: Workload,
    demands: Demands,
    weights: list[tuple[int, float]],
    visits: dict[str, float],
    work: dict[str, float],
) -> Solution:
    """The closed network of ``workload.users`` users: exact MVA over each station's demand
    per request, network latency as a pure delay."""
    entries = arch.behaviour.entries
    dem = {
        c.id: work[c.id] if work.get(c.id) else visits.get(c.id, 0.0) * c.service_time.mean
        for c in arch.all_components
    }
    servers = {c.id: c.workers * c.replicas for c in arch.all_components}
    # network latency per request: a pure delay
    zero = {c.id: 0.0 for c in arch.all_components}
    latency = OpTimes(arch, demands, zero, zero)
    delay = sum(w * latency.response(_entry_op(demands, entries[i])) for i, w in weights)
    active = {k: d for k, d in dem.items() if d > 0}
    sol = mva(active, servers, workload.users or 0, workload.think.mean, delay)
    scale = {k: (sol["residence"][k] / d if d else 1.0) for k, d in active.items()}
    return Solution(
        method="closed network (exact MVA)",
        throughput=sol["throughput"],
        response_mean=sol["response"],
        entries=_closed_entries(arch, demands, weights, sol["throughput"], scale, latency),
        components=_closed_stations(arch, sol, dem, servers, visits),
    )


def _closed_stations(
    arch: Architecture,
    sol: dict[str, Any],
    dem: dict[str, float],
    servers: dict[str, int],
    visits: dict[str, float],
) -> dict[str, StationLoad]:
    """Each station's load from the MVA answer ``sol`` and its demand per request ``dem`` (s)."""
    x = sol["throughput"]
    comps: dict[str, StationLoad] = {}
    for c in arch.all_components:
        d = dem[c.id]
        resid = sol["residence"].get(c.id, 0.0)
        comps[c.id] = StationLoad(
            throughput=x * visits.get(c.id, 0.0),
            utilisation=x * d / servers[c.id],
            offered_load=x * d / servers[c.id],
            queue_mean=max(0.0, sol["queue"].get(c.id, 0.0) - x * d),
            latency_mean=resid / visits[c.id] if visits.get(c.id) else 0.0,
            unstable=False,
        )
    return comps


def _closed_entries(
    arch: Architecture,
    demands: Demands,
    weights: list[tuple[int, float]],
    x: float,
    scale: dict[str, float],
    latency: OpTimes,
) -> dict[str, EntrySolution]:
    """Each entry's share of throughput ``x`` and its response time (s): its own demand at each
    station stretched by that station's residence/demand ratio ``scale``, plus network latency."""
    entries = arch.behaviour.entries
    out_entries: dict[str, EntrySolution] = {}
    # one column per entry: the executions of every node that one request of it causes
    columns = np.zeros((len(demands.graph.nodes), len(weights)))
    for col, (i, _) in enumerate(weights):
        columns[:, col] = demands.entry_vector([(i, 1.0)])
    per_v, per_w = demands.stations(demands.flows.forward(columns))
    for col, (i, w) in enumerate(weights):
        e = entries[i]
        resp = 0.0
        for k, n in per_v.items():
            t = float(per_w[k][col]) if k in per_w else 0.0
            own = t if t else float(n[col]) * arch.component(k).service_time.mean
            resp += own * scale.get(k, 1.0)
        out_entries[e.id] = EntrySolution(
            throughput=x * w, latency_mean=resp + latency.response(_entry_op(demands, e))
        )
    return out_entries
