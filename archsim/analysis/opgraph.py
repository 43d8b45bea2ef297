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

from archsim.model import Architecture, Operation, Step, StepAction
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
        callees = graph.calls.setdefault(key, [])
        fail = 1 << bit[op.component]
        degrade = infra.get(op.component, 0)
        nexts: list[OpKey] = []
        stack: list[Step] = list(op.steps)
        while stack:
            step = stack.pop()
            if step.p == 0 or step.target is None or step.target not in bit:
                continue
            target = 1 << bit[step.target]
            match step.action:
                case StepAction.CALL:
                    fail |= target
                    callee = (step.target, step.operation or "")
                    callees.append(callee)
                    nexts.append(callee)
                case StepAction.QUERY | StepAction.PUBLISH:
                    fail |= target
                    if step.action is StepAction.PUBLISH:
                        event = (step.target, step.event or "")
                        graph.publishes.setdefault(key, []).append(event)
                        if event not in published:  # its consumers are walked once
                            published.add(event)
                            nexts.extend(consumers.get(event, ()))
                case StepAction.CACHE_GET | StepAction.CACHE_SET | StepAction.CACHE_DELETE:
                    # Losing the cache sends reads to the database: slower, not broken.
                    degrade |= target
                    stack.extend(step.on_miss)
        graph.local_fail[key] = fail
        graph.local_degrade[key] = degrade
        for nxt in nexts:
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
