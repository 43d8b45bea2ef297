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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from archsim.model import Architecture, Operation, Step, StepVisitor, visit
from archsim.model.cycles import import_numpy, invocation_graph
from archsim.sim.contention import host_wait_mean
from archsim.sim.erlang import erlang_b, erlang_c
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


@dataclass(frozen=True)
class StationLoad:
    """One station's mean-value figures: rates per second, times in seconds, loads as a
    fraction of its workers. ``wait_mean`` and ``blocking`` come from the open solution only."""

    throughput: float
    utilisation: float
    offered_load: float
    queue_mean: float
    latency_mean: float
    unstable: bool
    wait_mean: float | None = None
    blocking: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the schema's key order."""
        out: dict[str, Any] = {
            "throughput": self.throughput,
            "utilisation": self.utilisation,
            "offered_load": self.offered_load,
            "queue_mean": self.queue_mean,
        }
        if self.wait_mean is not None:
            out["wait_mean"] = self.wait_mean
        out["latency_mean"] = self.latency_mean
        if self.blocking is not None:
            out["blocking"] = self.blocking
        out["unstable"] = self.unstable
        return out


@dataclass(frozen=True)
class EntrySolution:
    """One entry's throughput (requests/s) and mean response time (s)."""

    throughput: float
    latency_mean: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"throughput": self.throughput, "latency_mean": self.latency_mean}


@dataclass(frozen=True)
class HostLoad:
    """The shared machine's load: ``(background + λ·cpu) / cores`` and the rate that fills
    it (requests/s)."""

    cores: int
    background: float
    cpu_per_request_s: float
    utilisation: float
    offered_load: float
    saturation_rps: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "cores": self.cores,
            "background": self.background,
            "cpu_per_request_s": self.cpu_per_request_s,
            "utilisation": self.utilisation,
            "offered_load": self.offered_load,
            "saturation_rps": self.saturation_rps,
        }


@dataclass(frozen=True)
class Solution:
    """What ``solve`` predicts. An open network has ``arrival_rate`` (and ``host`` when the
    model has one); a closed one (MVA) its ``throughput`` and ``response_mean`` instead."""

    method: str
    entries: dict[str, EntrySolution]
    components: dict[str, StationLoad]
    arrival_rate: float | None = None
    host: HostLoad | None = None
    throughput: float | None = None
    response_mean: float | None = None

    @property
    def closed(self) -> bool:
        """Solved as a closed network (a fixed number of users)."""
        return self.arrival_rate is None

    def offered_loads(self) -> dict[str, float]:
        """Per component, its offered load (utilisation without the cap at 1)."""
        return {cid: c.offered_load for cid, c in self.components.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``analytic`` object of schema ``archsim.simulation/1``)."""
        out: dict[str, Any] = {"method": self.method}
        if self.closed:
            out["throughput"] = self.throughput
            out["response_mean"] = self.response_mean
        else:
            out["arrival_rate"] = self.arrival_rate
        out["entries"] = {eid: e.to_dict() for eid, e in self.entries.items()}
        out["components"] = {cid: c.to_dict() for cid, c in self.components.items()}
        if self.host is not None:
            out["host"] = self.host.to_dict()
        return out


def mmck(lam: float, mu: float, c: int, k: int) -> tuple[float, float, float]:
    """M/M/c/K: (blocking probability, mean number in system, mean queue) — exact, O(c)
    whatever ``k`` (the states past ``c`` are a geometric series, summed in closed form) and
    in log-space, so no a^c/c! overflows at any count."""
    a = lam / mu
    if a <= 1e-200:
        return 0.0, max(a, 0.0), 0.0
    log_a = math.log(a)
    logs = [n * log_a - math.lgamma(n + 1) for n in range(c + 1)]  # log p_n, n <= c, p_0 = 1
    r, m = a / c, max(k - c, 0)  # p_{c+j} = p_c·r^j for j = 0..m
    top = max(max(logs), logs[c] + m * math.log(r))  # the largest state's log: the unit
    low = [math.exp(x - top) for x in logs]
    below = math.fsum(low[:c])
    n_below = math.fsum(n * x for n, x in enumerate(low[:c]))
    if r <= 1:  # the tail decays from p_c
        p_c, (g0, g1) = low[c], _sums(r, m)  # sum_{j<=m} r^j, sum_{j<=m} j·r^j
        total = below + p_c * g0
        return p_c * _power(r, m) / total, (n_below + p_c * (c * g0 + g1)) / total, p_c * g1 / total
    # the tail grows towards p_K (= 1 in these units): p_{K-i} = q^i with q = 1/r
    g0, g1 = _sums(1.0 / r, m)
    total = below + g0
    return 1.0 / total, (n_below + (c + m) * g0 - g1) / total, (m * g0 - g1) / total


def _sums(r: float, m: int) -> tuple[float, float]:
    """(sum_{j=0..m} r^j, sum_{j=0..m} j·r^j) for 0 <= r <= 1, in closed form."""
    if r >= 1.0 - 1e-12:
        return m + 1.0, m * (m + 1) / 2.0
    rm = _power(r, m)
    g0 = (1 - rm * r) / (1 - r)
    g1 = r * (1 - (m + 1) * rm + m * rm * r) / (1 - r) ** 2
    return g0, g1


def _power(r: float, m: int) -> float:
    """r**m without OverflowError (inf for r > 1 and huge m is the right limit here)."""
    try:
        return r**m
    except OverflowError:
        return math.inf


class _Demands:
    """Visits and service demand (s) at each station, per request, from the traffic equations
    over the invocation graph (``archsim.model.cycles``): cycles with p < 1 are solved
    exactly, and the cost does not depend on the number of call paths."""

    def __init__(self, arch: Architecture, host_wait: float = 0.0) -> None:
        self.arch = arch
        self.host_wait = host_wait  # s per compute step, waiting for a core (sim.contention)
        self.ops = {(op.component, op.name): op for op in arch.behaviour.operations}
        self.graph = invocation_graph(arch.behaviour)
        self.flows = self.graph.matrix()  # calls and events: how often each node runs
        self.calls = self.graph.matrix(sync_only=True)  # calls only: what a response waits for
        # (node, station, visits, compute seconds) per execution of an operation, calls and
        # consumers excluded (the traffic equations add those)
        self.local: list[tuple[int, str, float, float]] = []
        for key, op in self.ops.items():
            self._local(self.graph.index[key], op.steps, op.component, 1.0)

    def _local(self, node: int, steps: tuple[Step, ...], comp: str, mult: float) -> None:
        for s in steps:
            visits: StepVisitor[None] = _LocalVisits(self, node, comp, mult * s.p)
            visit(s, visits)

    def entry_vector(self, weights: list[tuple[int, float]]) -> np.ndarray:
        """External arrivals per node: ``weights`` of entries (index, share), one column."""
        e = np.zeros(len(self.graph.nodes))
        for i, w in weights:
            ref = self.arch.behaviour.entries[i].operation
            e[self.graph.index[(ref.component, ref.operation)]] += w
        return e

    def stations(self, x: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
        """(visits, compute seconds) per station for executions ``x`` of every node (a vector,
        or a matrix with a column per entry)."""
        visits: dict[str, Any] = defaultdict(float)
        work: dict[str, Any] = defaultdict(float)
        if x.ndim == 1:
            x = x.tolist()  # plain floats: the solution is JSON data, not numpy scalars
        for node, comp, n, t in self.local:
            runs = x[node]
            visits[comp] = visits[comp] + n * runs
            if t:
                work[comp] = work[comp] + t * runs
        return visits, work

    def own_time(self, step: Step, comp: str) -> float:
        """Mean time (s) a compute step holds its worker: the operation's own service time,
        else the component's, plus the wait for a core on a busy shared host."""
        if step.service_time is not None:
            return step.service_time.mean + self.host_wait
        return self.arch.component(comp).service_time.mean + self.host_wait


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
    probe = 1.0  # utilisation is linear in the rate; any positive probe gives the same answer
    solved = solve(arch, replace(workload, rps=probe, ramp=(), users=None))
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
    """The shared machine's load: ``(background + λ·cpu) / cores`` and the rate that fills it."""
    host = arch.host
    if host is None:
        return None
    cpu = host.cpu_per_request if host.cpu_per_request is not None else cpu_per_request
    free = host.cores - host.background
    return HostLoad(
        cores=host.cores,
        background=host.background,
        cpu_per_request_s=cpu,
        utilisation=min(1.0, (host.background + lam * cpu) / host.cores),
        offered_load=(host.background + lam * cpu) / host.cores,
        saturation_rps=free / cpu if cpu > 0 else math.inf,
    )


def solve(arch: Architecture, workload: Workload) -> Solution:
    """Mean-value prediction: per component utilisation/throughput/queue/wait, per entry mean
    response time (seconds), by open network analysis or MVA for a closed workload."""
    lam = workload.peak_rate if not workload.ramp else workload.rate_at(0.0)
    # closed: the rate is the answer, so no wait for a core (docs/simulate.md)
    demands = _Demands(arch, 0.0 if workload.closed else host_wait_mean(arch.host, lam))
    weights = entry_weights(arch, workload)
    entries = arch.behaviour.entries
    visits, work = demands.stations(demands.flows.forward(demands.entry_vector(weights)))
    if workload.closed:
        return _closed(arch, workload, demands, weights, visits, work)
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
        op_time = _OpTimes(arch, demands, waits, hold)
        for c in arch.all_components:
            if c.concurrency == "threads" and c.is_application:
                ops = arch.behaviour.operations_of(c.id)
                if ops:
                    hold[c.id] = max(op_time.holding(op) for op in ops)
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
    op_time = _OpTimes(arch, demands, waits, hold)
    out_entries = {
        entries[i].id: EntrySolution(
            throughput=lam * w,
            latency_mean=op_time.response(
                demands.ops[(entries[i].operation.component, entries[i].operation.operation)]
            ),
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


def operations(
    arch: Architecture, workload: Workload, solved: Solution | None = None
) -> dict[tuple[str, str], dict[str, float]]:
    """Per (component, operation) of an open workload: executions per second (``rate``) and
    mean response time in seconds, callees included (``response``), from ``solve``'s answer."""
    solved = solved or solve(arch, workload)
    if solved.arrival_rate is None:
        raise ValueError("operations() needs the solution of an open workload")
    demands = _Demands(arch, host_wait_mean(arch.host, solved.arrival_rate))
    runs = demands.flows.forward(demands.entry_vector(entry_weights(arch, workload))).tolist()
    waits = {c: v.wait_mean or 0.0 for c, v in solved.components.items()}
    hold = {c: v.latency_mean - waits[c] for c, v in solved.components.items()}
    times, lam = _OpTimes(arch, demands, waits, hold), solved.arrival_rate
    return {
        key: {"rate": lam * runs[demands.graph.index[key]], "response": times.response(op)}
        for key, op in demands.ops.items()
    }


class _OpTimes:
    """Mean response time of operations given each station's mean wait: one linear solve,
    ``r = b + A_calls·r``, where ``b`` is each operation's own time (its compute, queries,
    hops) and ``A_calls`` how often it calls each callee."""

    def __init__(
        self, arch: Architecture, demands: _Demands, waits: dict[str, float], hold: dict[str, float]
    ) -> None:
        self.arch, self.d, self.waits, self.hold = arch, demands, waits, hold
        graph = demands.graph
        own = np.zeros(len(graph.nodes))
        self.threads: dict[int, str] = {}  # node -> component, for thread-holding operations
        for key, op in demands.ops.items():
            comp = arch.component(op.component)
            held = comp.concurrency == "threads" and comp.is_application
            node = graph.index[key]
            t = self.steps(op.steps, op.component, held, comp.service_time.mean)
            if held:
                self.threads[node] = op.component
                t += waits[op.component]
            own[node] = t
        self.r = demands.calls.backward(own)

    def response(self, op: Operation) -> float:
        """Mean response time (s) of one execution of ``op``, callees included."""
        return float(self.r[self.d.graph.index[(op.component, op.name)]])

    def holding(self, op: Operation) -> float:
        """How long (s) an operation of a thread-mode component holds its thread."""
        node = self.d.graph.index[(op.component, op.name)]
        return float(self.r[node]) - self.waits[op.component]

    def steps(self, steps: tuple[Step, ...], comp: str, held: bool, service: float) -> float:
        """Own time (s) of steps: compute, visits and the network hops of calls (the callees'
        response times come from the linear solve)."""
        total = 0.0
        own: StepVisitor[float] = _OwnTime(self, comp, held, service)
        for s in steps:
            total += s.p * visit(s, own)
        return total


@dataclass(frozen=True)
class _LocalVisits:
    """Records what one step of ``node`` (run by ``comp``, ``m`` times per execution) visits
    in ``d.local``; calls are left to the traffic equations (``StepVisitor``)."""

    d: _Demands
    node: int
    comp: str
    m: float

    def compute(self, s: Step) -> None:
        """A visit of the own station with its compute seconds."""
        self.d.local.append((self.node, self.comp, self.m, self.m * self.d.own_time(s, self.comp)))

    def call(self, s: Step) -> None:
        """Nothing local: the callee's executions come from the traffic equations."""

    def _visit(self, s: Step) -> None:
        self.d.local.append((self.node, s.target or "", self.m, 0.0))

    query = cache_set = cache_delete = publish = _visit

    def cache_get(self, s: Step) -> None:
        """A visit of the cache, then the miss steps at the miss share."""
        self._visit(s)
        self.d._local(self.node, s.on_miss, self.comp, self.m * (1 - (s.hit_ratio or 0)))


@dataclass(frozen=True)
class _OwnTime:
    """Mean own time (s) of one execution of a step run by ``comp`` (``held``: its thread
    is held; ``service``: the component's mean service time), chance not applied
    (``StepVisitor``)."""

    times: _OpTimes
    comp: str
    held: bool
    service: float

    def compute(self, s: Step) -> float:
        """The worker's holding time, or wait plus hold of the own station."""
        d, comp = self.times.d, self.comp
        own = d.own_time(s, comp) if s.service_time is not None else None
        if self.held:
            return self.service + d.host_wait if own is None else own
        return self.times.waits[comp] + (self.times.hold[comp] if own is None else own)

    def call(self, s: Step) -> float:
        """The network hops; the callee's response comes from the linear solve."""
        return 2 * s.latency

    def _visit(self, s: Step) -> float:
        target = s.target or ""
        return 2 * s.latency + self.times.waits[target] + self.times.hold[target]

    query = cache_set = cache_delete = publish = _visit

    def cache_get(self, s: Step) -> float:
        """The cache's visit plus the miss steps at the miss share."""
        miss = self.times.steps(s.on_miss, self.comp, self.held, self.service)
        return self._visit(s) + (1 - (s.hit_ratio or 0)) * miss


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
    demands: _Demands,
    weights: list,
    visits: dict[str, float],
    work: dict[str, float],
) -> Solution:
    entries = arch.behaviour.entries
    dem = {
        c.id: work[c.id] if work.get(c.id) else visits.get(c.id, 0.0) * c.service_time.mean
        for c in arch.all_components
    }
    servers = {c.id: c.workers * c.replicas for c in arch.all_components}
    # network latency per request: a pure delay
    zero = {c.id: 0.0 for c in arch.all_components}
    latency = _OpTimes(arch, demands, zero, zero)
    delay = sum(
        w
        * latency.response(
            demands.ops[(entries[i].operation.component, entries[i].operation.operation)]
        )
        for i, w in weights
    )
    active = {k: d for k, d in dem.items() if d > 0}
    sol = mva(active, servers, workload.users or 0, workload.think.mean, delay)
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
    scale = {k: (sol["residence"][k] / d if d else 1.0) for k, d in active.items()}
    out_entries: dict[str, EntrySolution] = {}
    # one column per entry: the executions of every node that one request of it causes
    columns = np.zeros((len(demands.graph.nodes), len(weights)))
    for col, (i, _) in enumerate(weights):
        columns[:, col] = demands.entry_vector([(i, 1.0)])
    per_v, per_w = demands.stations(demands.flows.forward(columns))
    for col, (i, w) in enumerate(weights):
        e = entries[i]
        op = demands.ops[(e.operation.component, e.operation.operation)]
        resp = 0.0
        for k, n in per_v.items():
            t = float(per_w[k][col]) if k in per_w else 0.0
            own = t if t else float(n[col]) * arch.component(k).service_time.mean
            resp += own * scale.get(k, 1.0)
        out_entries[e.id] = EntrySolution(
            throughput=x * w, latency_mean=resp + latency.response(op)
        )
    return Solution(
        method="closed network (exact MVA)",
        throughput=x,
        response_mean=sol["response"],
        entries=out_entries,
        components=comps,
    )
