"""Cycles of the derived behaviour, and the traffic equations that give their visit ratios.

The *invocation graph* has a node per operation and per event (broker, event). An edge
``a -> b`` of weight ``w`` says one execution of ``a`` runs ``b`` ``w`` times on average: a
call step (weighted by its ``p`` and, inside a cache miss, by the miss ratio), a publish
(operation -> event) or a delivery (event -> each consumer, weight 1). Visit ratios solve
``x = e + Aᵀx``; mean response times ``r = b + A_sync·r`` (calls only: events are async).

Both are linear systems, solved per strongly connected group in topological order, so the
cost depends on the size of the largest cycle group, never on the number of call paths. A
group whose spectral radius is >= 1 has no finite solution: every request (or event) would
loop forever, which ``check_cycles`` reports as a validate error naming the cycle.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

from archsim.errors import Location
from archsim.model.architecture import Architecture
from archsim.model.behaviour import Behaviour, Step, StepAction
from archsim.model.checks import Reader
from archsim.model.digraph import find_cycle, groups_callees_first
from archsim.model.dot.ast import DotGraph
from archsim.model.kinds import Relation
from archsim.model.references import edge_of

if TYPE_CHECKING:
    import numpy as np

__all__ = ["InvocationGraph", "check_cycles", "import_numpy", "invocation_graph"]

Node = tuple[str, str] | tuple[str, str, str]  # (component, operation) or ("event", broker, event)

# A solution larger than this per unit of input is a loop that (numerically) never ends.
_DIVERGES = 1e9


def import_numpy() -> ModuleType:
    """numpy, with OpenBLAS held to one thread unless the environment says otherwise.

    The blocks solved here are small and dense; on a loaded 2-core machine OpenBLAS's threads
    made a 673x673 solve 4x slower (0.13 s vs 0.036 s), and simulation workers run in parallel
    processes already. The setting only takes effect before numpy's first import.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy

    return numpy


@dataclass(slots=True)  # one per call, publish and delivery: 77,000 at 10,000 links
class _Edge:
    source: int
    target: int
    weight: float
    sync: bool
    step: Step | None  # the call or publish step (None for a delivery to a consumer)


@dataclass
class InvocationGraph:
    """Operations and events, and how many times each runs per execution of another."""

    nodes: list[Node] = field(default_factory=list)
    index: dict[Node, int] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)
    _groups: list[list[int]] | None = None

    def node(self, key: Node) -> int:
        """The index of ``key``, added when new."""
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.nodes)
            self.nodes.append(key)
        return i

    @property
    def groups(self) -> list[list[int]]:
        """Strongly connected groups of node indices, in topological order (callers first)."""
        if self._groups is None:
            succ: dict[int, list[int]] = {i: [] for i in range(len(self.nodes))}
            for e in self.edges:
                if e.weight > 0:
                    succ[e.source].append(e.target)
            self._groups = [sorted(g) for g in reversed(groups_callees_first(succ))]
        return self._groups

    def matrix(self, sync_only: bool = False) -> _Sparse:
        """The weights as a sparse structure (all edges, or only synchronous calls)."""
        return _Sparse(self, sync_only)

    def describe(self, i: int) -> str:
        """A node for people: ``order_service.create_order`` or ``event OrderPlaced``."""
        key = self.nodes[i]
        if len(key) == 3 and key[0] == "event":
            return f"event {key[2]} on {key[1]}"
        return f"{key[0]}.{key[1]}"


class _Sparse:
    """Edge weights grouped for the per-group solves; inverses are cached (the solver
    solves the same matrix for many right-hand sides).

    numpy is imported where a block is solved, not at module import: loading a model without
    loops (most files) never needs it, and it costs every command ~0.1 s of start-up.
    """

    def __init__(self, graph: InvocationGraph, sync_only: bool) -> None:
        self.graph = graph
        self.out: list[list[tuple[int, float]]] = [[] for _ in graph.nodes]
        for e in graph.edges:
            if e.weight > 0 and (e.sync or not sync_only):
                self.out[e.source].append((e.target, e.weight))
        self.group_of = [0] * len(graph.nodes)
        for gi, members in enumerate(graph.groups):
            for n in members:
                self.group_of[n] = gi
        self._inv: dict[tuple[int, bool], np.ndarray] = {}

    def _block(self, gi: int, transpose: bool) -> np.ndarray:
        """(I - A_g)⁻¹ (or of Aᵀ) for group ``gi``; raises ValueError when it diverges."""
        np = import_numpy()

        key = (gi, transpose)
        if key not in self._inv:
            members = self.graph.groups[gi]
            a = self._weights(members)
            m = np.eye(len(members)) - (a.T if transpose else a)
            try:
                inv = np.linalg.inv(m)
            except np.linalg.LinAlgError:
                raise ValueError("singular") from None
            if not np.all(np.isfinite(inv)) or inv.min() < -1e-9 or inv.max() > _DIVERGES:
                raise ValueError("diverges")
            self._inv[key] = inv
        return self._inv[key]

    def diverges(self, gi: int) -> bool:
        """True when group ``gi`` loops without end (no finite solution).

        One solve of ``(I - A)x = 1`` instead of the inverse (a third of the work): the group
        is strongly connected and ``A >= 0``, so a positive ``x`` (``Ax < x``) proves its
        spectral radius is below 1, and any other outcome means the loop never ends.
        """
        np = import_numpy()

        if (gi, False) in self._inv or (gi, True) in self._inv:
            return False
        members = self.graph.groups[gi]
        m = np.eye(len(members)) - self._weights(members)
        try:
            x = np.linalg.solve(m, np.ones(len(members)))
        except np.linalg.LinAlgError:
            return True
        return not np.all(np.isfinite(x)) or x.min() <= 1e-9 or x.max() > _DIVERGES

    def _weights(self, members: list[int]) -> np.ndarray:
        """The weights among ``members`` as a dense matrix (row: caller, column: callee)."""
        np = import_numpy()

        pos = {n: k for k, n in enumerate(members)}
        a = np.zeros((len(members), len(members)))
        for n in members:
            for t, w in self.out[n]:
                if t in pos:
                    a[pos[n], pos[t]] += w
        return a

    def forward(self, e: np.ndarray) -> np.ndarray:
        """Solve ``x = e + Aᵀx`` (visits: ``e`` holds the external arrivals; columns allowed)."""
        np = import_numpy()

        x = np.array(e, dtype=float, copy=True)
        for gi, members in enumerate(self.graph.groups):
            if len(members) == 1 and not any(t == members[0] for t, _ in self.out[members[0]]):
                block = x[members[0] : members[0] + 1]
            else:
                block = self._block(gi, True) @ x[members]
                x[members] = block
            # what this group sends downstream (to later groups)
            for k, n in enumerate(members):
                row = block[k]
                if not np.any(row):
                    continue
                for t, w in self.out[n]:
                    if self.group_of[t] != gi:
                        x[t] += w * row
        return x

    def backward(self, b: np.ndarray) -> np.ndarray:
        """Solve ``r = b + A·r`` (per-execution totals: callees before callers)."""
        np = import_numpy()

        r = np.array(b, dtype=float, copy=True)
        for gi in range(len(self.graph.groups) - 1, -1, -1):
            members = self.graph.groups[gi]
            for n in members:  # add what later (already solved) groups contribute
                for t, w in self.out[n]:
                    if self.group_of[t] != gi:
                        r[n] += w * r[t]
            if len(members) > 1 or any(t == members[0] for t, _ in self.out[members[0]]):
                r[members] = self._block(gi, False) @ r[members]
        return r


def _walk(
    graph: InvocationGraph,
    src: int,
    steps: Sequence[Step],
    mult: float,
) -> None:
    for s in steps:
        m = mult * s.p
        if s.action is StepAction.CALL:
            callee = graph.node((s.target or "", s.operation or ""))
            graph.edges.append(_Edge(src, callee, m, True, s))
        elif s.action is StepAction.PUBLISH:
            event = graph.node(("event", s.target or "", s.event or ""))
            graph.edges.append(_Edge(src, event, m, False, s))
        elif s.action is StepAction.CACHE_GET and s.on_miss:
            _walk(graph, src, s.on_miss, m * (1 - (s.hit_ratio or 0.0)))


def invocation_graph(behaviour: Behaviour) -> InvocationGraph:
    """The invocation graph of a behaviour (every operation and event flow)."""
    graph = InvocationGraph()
    for op in behaviour.operations:
        graph.node((op.component, op.name))
    for flow in behaviour.events:
        event = graph.node(("event", flow.broker, flow.event))
        for ref in flow.consumers:
            graph.edges.append(
                _Edge(event, graph.node((ref.component, ref.operation)), 1.0, False, None)
            )
    for op in behaviour.operations:
        _walk(graph, graph.index[(op.component, op.name)], op.steps, 1.0)
    return graph


def check_cycles(arch: Architecture, graph: DotGraph, reader: Reader) -> None:
    """Report every cycle group that never ends: a synchronous call cycle or an event loop
    with probability 1 (or whose loops repeat more than once per turn on average)."""
    inv = invocation_graph(arch.behaviour)
    matrix = inv.matrix()
    for gi, members in enumerate(inv.groups):
        loops = len(members) > 1 or any(t == members[0] for t, _ in matrix.out[members[0]])
        if not loops:
            continue
        if matrix.diverges(gi):
            _report(arch, graph, reader, inv, set(members))


def _report(
    arch: Architecture,
    dot: DotGraph,
    reader: Reader,
    inv: InvocationGraph,
    members: set[int],
) -> None:
    edges = [e for e in inv.edges if e.source in members and e.target in members and e.weight > 0]
    sure = _edge_map(e for e in edges if e.weight >= 1 - 1e-12)
    anyw = _edge_map(edges)
    certain = True
    cycle = find_cycle({u: list(vs) for u, vs in sure.items()})
    if cycle is None:
        cycle, certain = find_cycle({u: list(vs) for u, vs in anyw.items()}), False
    assert cycle is not None  # a diverging group has a cycle
    g = sure if certain else anyw
    path = [inv.describe(cycle[0][0])] + [inv.describe(v) for _, v in cycle]
    has_event = any(g[u][v].step is None or not g[u][v].sync for u, v in cycle)
    first = next((g[u][v] for u, v in cycle if g[u][v].step is not None))
    src = inv.nodes[first.source]
    step = first.step
    assert step is not None
    where = _location(dot, src[0], step.target or "", step.relation, reader)
    chain = " → ".join(path)
    if has_event:
        what = "event loop every event takes" if certain else "event loop that grows"
        code, hint = "event-loop", (
            "a consumer must not publish what it (or a consumer after it) consumes again: "
            'publish another event (event="…"), or give the publish step p<1 (p="0.5")'
        )
    else:
        what = "synchronous call cycle every request takes" if certain else "call cycle that grows"
        code, hint = "call-cycle", (
            'give a call of the cycle a probability below 1 (p="0.5"), or break the cycle'
        )
    why = (
        "it never ends (it would loop forever in the real system too)"
        if certain
        else "its calls repeat on average at least once per turn, so a request never ends"
    )
    reader.error(f"{what}: {chain}; {why}", where, hint, code)


def _edge_map(edges: Iterable[_Edge]) -> dict[int, dict[int, _Edge]]:
    """``source -> {target: edge}``, the last edge between two nodes winning (as in a
    networkx DiGraph); every node is a key, in the order edges first name them."""
    out: dict[int, dict[int, _Edge]] = {}
    for e in edges:
        out.setdefault(e.source, {})[e.target] = e
        out.setdefault(e.target, {})
    return out


def _location(
    dot: DotGraph, source: str, target: str, relation: Relation | None, reader: Reader
) -> Location:
    edge = edge_of(dot, source, target, relation)
    if edge is None:
        return Location(reader.file)
    p = edge.attrs.get("p")
    return p.location if p is not None else edge.location
