"""The operation-level view of a model: which operations a request runs, and what each touches.

Blast radius and critical path both need "what does this entry operation do, recursively".
This module walks the derived steps once, from the entry operations, and records per
operation the components it needs synchronously (``fail`` bits), the ones whose loss only
degrades it (``degrade`` bits: caches, config/registry) and its edges: ``call`` edges to
callee operations and the events it publishes, whose consumers are listed once per event (not
one edge per publisher and consumer: thousands of each would make millions).
Components are bits of Python ints, so unions over thousands of components stay cheap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from archsim.model import Architecture, Operation, Step, StepVisitor, visit
from archsim.model.digraph import groups_callees_first

__all__ = ["EventKey", "OpGraph", "OpKey", "build_op_graph", "groups_callees_first", "iter_bits"]

OpKey = tuple[str, str]  # (component, operation)
EventKey = tuple[str, str]  # (broker, event)
N = TypeVar("N", bound=Hashable)


@dataclass
class OpGraph:
    """Operations reachable from the entries, with their local bits and edges."""

    arch: Architecture
    bit: dict[str, int]  # component id -> bit position
    ops: dict[OpKey, Operation] = field(default_factory=dict)
    local_fail: dict[OpKey, int] = field(default_factory=dict)
    local_degrade: dict[OpKey, int] = field(default_factory=dict)
    calls: dict[OpKey, list[OpKey]] = field(default_factory=dict)  # every op -> its callees
    publishes: dict[OpKey, list[EventKey]] = field(default_factory=dict)  # op -> its events
    consumers: dict[EventKey, list[OpKey]] = field(default_factory=dict)  # event -> consumers

    @cached_property
    def components(self) -> list[str]:
        """Component ids by bit position."""
        out = [""] * len(self.bit)
        for cid, pos in self.bit.items():
            out[pos] = cid
        return out

    @cached_property
    def call_order(self) -> list[list[OpKey]]:
        """Strongly connected groups of the call graph, callees before callers."""
        return groups_callees_first(self.calls)


def iter_bits(bits: int) -> list[int]:
    """Positions of the set bits of ``bits``, lowest first."""
    out = []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


def _infra_bits(arch: Architecture, bit: dict[str, int]) -> dict[str, int]:
    """Per component: the config/registry components its start-up and background work need."""
    out: dict[str, int] = {}
    for lc in arch.behaviour.lifecycles:
        bits = 0
        steps = [*lc.startup, *(s for task in lc.periodic for s in task.steps)]
        for step in steps:
            if step.target is not None and step.target in bit:
                bits |= 1 << bit[step.target]
        out[lc.component] = bits
    return out


@dataclass
class _Touches:
    """What the steps of operation ``key`` touch (``StepVisitor``; steps whose target has no
    bit are skipped before): calls, queries and publishes are needed (``fail``), caches only
    degrade it (a miss goes to the database, whose steps are walked too); callees and the
    consumers of events published for the first time are to be walked next (``nexts``)."""

    graph: OpGraph
    key: OpKey
    consumers: dict[EventKey, list[OpKey]]
    published: set[EventKey]
    fail: int
    degrade: int
    stack: list[Step]
    nexts: list[OpKey] = field(default_factory=list)

    def _bit(self, step: Step) -> int:
        return 1 << self.graph.bit[step.target or ""]

    def compute(self, step: Step) -> None:
        """Nothing beyond the operation's own component."""

    def call(self, step: Step) -> None:
        """Needs the callee, an edge to walk."""
        self.fail |= self._bit(step)
        callee = (step.target or "", step.operation or "")
        self.graph.calls[self.key].append(callee)
        self.nexts.append(callee)

    def query(self, step: Step) -> None:
        """Needs the database."""
        self.fail |= self._bit(step)

    def publish(self, step: Step) -> None:
        """Needs the broker; the event's consumers are walked once."""
        self.fail |= self._bit(step)
        event = (step.target or "", step.event or "")
        self.graph.publishes.setdefault(self.key, []).append(event)
        if event not in self.published:
            self.published.add(event)
            self.nexts.extend(self.consumers.get(event, ()))

    def _cache(self, step: Step) -> None:
        # Losing the cache sends reads to the database: slower, not broken.
        self.degrade |= self._bit(step)
        self.stack.extend(step.on_miss)

    cache_get = cache_set = cache_delete = _cache


def build_op_graph(arch: Architecture) -> OpGraph:
    """Walk every operation reachable from the entries (through calls and events)."""
    bit = {c.id: i for i, c in enumerate(arch.components)}
    graph = OpGraph(arch=arch, bit=bit)
    infra = _infra_bits(arch, bit)
    consumers = {(e.broker, e.event): [(r.component, r.operation) for r in e.consumers]
                 for e in arch.behaviour.events}  # fmt: skip
    behaviour = arch.behaviour
    todo = deque((e.operation.component, e.operation.operation) for e in behaviour.entries)
    seen: set[OpKey] = set(todo)
    published: set[EventKey] = set()
    while todo:
        key = todo.popleft()
        try:
            op = behaviour.operation(*key)
        except KeyError:
            continue  # a call to an operation the callee does not offer: its bit still counts
        graph.ops[key] = op
        graph.calls.setdefault(key, [])
        walk = _Touches(graph, key, consumers, published, 1 << bit[op.component],
                        infra.get(op.component, 0), stack=list(op.steps))  # fmt: skip
        touches: StepVisitor[None] = walk
        while walk.stack:
            step = walk.stack.pop()
            if step.p == 0 or step.target is None or step.target not in bit:
                continue
            visit(step, touches)
        graph.local_fail[key] = walk.fail
        graph.local_degrade[key] = walk.degrade
        for nxt in walk.nexts:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    graph.consumers = {event: consumers.get(event, []) for event in published}
    # Calls to operations that do not exist stay as bare nodes (bits come from the caller).
    for callees in list(graph.calls.values()):
        for callee in callees:
            graph.calls.setdefault(callee, [])
            graph.local_fail.setdefault(callee, 0)
            graph.local_degrade.setdefault(callee, 0)
    return graph
