"""Per-request demands and operation response times over the invocation graph: the walks the
analytic solver (``archsim.sim.analytic``) shares between its open solution and closed MVA.

``Demands`` turns the traffic equations into visits and compute seconds per station;
``OpTimes`` turns each station's mean wait into each operation's mean response time with one
linear solve. Both read steps through ``StepVisitor`` (``_LocalVisits``, ``_OwnTime``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archsim.model import Architecture, Operation, Step, StepVisitor, visit
from archsim.model.cycles import import_numpy, invocation_graph

if TYPE_CHECKING:
    import numpy as np
else:
    np = import_numpy()  # one BLAS thread: see import_numpy

__all__ = ["Demands", "OpTimes"]


class Demands:
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


class OpTimes:
    """Mean response time of operations given each station's mean wait: one linear solve,
    ``r = b + A_calls·r``, where ``b`` is each operation's own time (its compute, queries,
    hops) and ``A_calls`` how often it calls each callee."""

    def __init__(
        self, arch: Architecture, demands: Demands, waits: dict[str, float], hold: dict[str, float]
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

    d: Demands
    node: int
    comp: str
    m: float

    def compute(self, s: Step) -> None:
        """A visit of the own station with its compute seconds."""
        self.d.local.append((self.node, self.comp, self.m, self.m * self.d.own_time(s, self.comp)))

    def call(self, s: Step) -> None:
        """Nothing local: the callee's executions come from the traffic equations."""

    def _visit(self, s: Step) -> None:
        # the visit's own time (a database write's write_time), else the station's: every
        # visit counts, so a station's mean hold is the visits' mean (reads and writes)
        target = s.target or ""
        time = s.service_time or self.d.arch.component(target).service_time
        self.d.local.append((self.node, target, self.m, self.m * time.mean))

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

    times: OpTimes
    comp: str
    held: bool
    service: float

    def compute(self, s: Step) -> float:
        """The worker's holding time, or wait plus hold of the own station; and the wait
        beside it that holds no worker (the step's ``latency``)."""
        d, comp = self.times.d, self.comp
        own = d.own_time(s, comp) if s.service_time is not None else None
        if self.held:
            return (self.service + d.host_wait if own is None else own) + s.latency
        return self.times.waits[comp] + (self.times.hold[comp] if own is None else own) + s.latency

    def call(self, s: Step) -> float:
        """The network hops; the callee's response comes from the linear solve."""
        return 2 * s.latency

    def _visit(self, s: Step) -> float:
        target = s.target or ""
        hold = s.service_time.mean if s.service_time is not None else self.times.hold[target]
        return 2 * s.latency + self.times.waits[target] + hold

    query = cache_set = cache_delete = publish = _visit

    def cache_get(self, s: Step) -> float:
        """The cache's visit plus the miss steps at the miss share."""
        miss = self.times.steps(s.on_miss, self.comp, self.held, self.service)
        return self._visit(s) + (1 - (s.hit_ratio or 0)) * miss
