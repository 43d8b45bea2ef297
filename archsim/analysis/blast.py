"""Blast radius: which entry routes fail or degrade when a component is down, for every
component, from one pass over the operation graph (the rules are in docs/analyze.md and the
docstring of ``archsim.analysis.availability``, whose SPOF rule reads it)."""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from archsim.analysis.opgraph import EventKey, OpGraph, OpKey, groups_callees_first
from archsim.errors import ScenarioError
from archsim.model import Architecture, Kind

__all__ = ["Blast", "BlastRadius"]

_DEGRADE_WHY = {
    Kind.CACHE: "reads fall back to the database: slower, and more load on it",
    Kind.CONFIG: "running instances keep working; new or restarted ones cannot load config",
    Kind.REGISTRY: "running instances keep working on cached lookups; registration, "
    "heartbeats and fresh lookups fail",
}
_ASYNC_WHY = "only asynchronous work depends on it: events back up until it returns"
N = TypeVar("N", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Blast:
    """What happens to the entry routes when ``component`` is down (entry ids, file order)."""

    component: str
    fails: tuple[str, ...]
    degrades: tuple[str, ...]
    why: str

    def to_dict(self) -> dict[str, object]:
        """JSON view: ``{"fails": [...], "degrades": [...], "why": ...}``."""
        return {"fails": list(self.fails), "degrades": list(self.degrades), "why": self.why}


class BlastRadius:
    """Blast radius of every component, from one pass over the operation graph."""

    def __init__(self, arch: Architecture, ops: OpGraph) -> None:
        self._arch = arch
        self._ops = ops
        fail = _fail_bits(ops)
        reach = _reach_bits(ops)
        self._entries: list[tuple[str, int, int]] = []
        self._known: dict[str, Blast] = {}  # the SPOF rule and the JSON ask for the same ones
        seen: set[str] = set()
        for entry in arch.behaviour.entries:
            key = (entry.operation.component, entry.operation.operation)
            if entry.id in seen or key not in fail:
                continue
            seen.add(entry.id)
            f = fail[key]
            self._entries.append((entry.id, f, reach[key] & ~f))

    @cached_property
    def affected(self) -> int:
        """Bits of every component whose loss touches at least one route."""
        out = 0
        for _, f, d in self._entries:
            out |= f | d
        return out

    @cached_property
    def _matrices(self) -> tuple[bytes, bytes]:
        """Entries x components, one byte per cell (1: losing it fails / degrades the entry)."""
        width = len(self._ops.bit)
        return (
            _unpack([f for _, f, _ in self._entries], width),
            _unpack([d for _, _, d in self._entries], width),
        )

    @cached_property
    def _ids(self) -> list[str]:
        return [eid for eid, _, _ in self._entries]

    def is_affecting(self, component: str) -> bool:
        """True when losing ``component`` fails or degrades some entry route."""
        return bool(self.affected >> self._ops.bit[component] & 1)

    def of(self, component: str) -> Blast:
        """The blast radius of one component (ScenarioError for an unknown id)."""
        if component not in self._ops.bit:
            close = difflib.get_close_matches(component, list(self._ops.bit), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "see: archsim inspect FILE"
            raise ScenarioError(f"unknown component '{component}'", hint=hint,
                                code="unknown-component")  # fmt: skip
        if component in self._known:
            return self._known[component]
        # A component's column is a strided slice of the matrix: the entries it breaks, in C.
        pos, width = self._ops.bit[component], len(self._ops.bit)
        fail_matrix, degrade_matrix = self._matrices
        fails = tuple(itertools.compress(self._ids, fail_matrix[pos::width]))
        degrades = tuple(itertools.compress(self._ids, degrade_matrix[pos::width]))
        kind = self._arch.component(component).kind
        why = "synchronous dependency of these routes" if fails else ""
        if degrades and not fails:
            why = _DEGRADE_WHY.get(kind, _ASYNC_WHY)
        elif degrades:
            why += f"; degrades others ({_DEGRADE_WHY.get(kind, _ASYNC_WHY)})"
        blast = self._known[component] = Blast(component, fails, degrades, why)
        return blast

    def __iter__(self) -> Iterator[Blast]:
        for comp in self._arch.components:
            if self.is_affecting(comp.id):
                yield self.of(comp.id)


def _unpack(rows: list[int], width: int) -> bytes:
    """Rows of bits as one byte per bit (bit 0 first), laid end to end: row r, bit b is at
    ``r * width + b``.

    Asking each component "which entries have my bit" tests every entry per component
    (millions of big-int operations at 2,000 x 3,000); a byte matrix answers with a strided
    slice instead.
    """
    to_bytes = bytes.maketrans(b"01", b"\x00\x01")
    return b"".join(format(row, f"0{width}b")[::-1].encode("ascii").translate(to_bytes)
                    for row in rows)  # fmt: skip


def _fail_bits(ops: OpGraph) -> dict[OpKey, int]:
    """Per operation: components it needs synchronously (itself and its callees, recursively)."""
    return _closure(ops.call_order, ops.calls, ops.local_fail)


def _reach_bits(ops: OpGraph) -> dict[OpKey, int]:
    """Per operation: every component it touches, through calls and the events it publishes."""
    # A publisher reaches the consumers of its events through one node per distinct list of
    # consumers (3-tuples: never an OpKey). Every event on a broker usually has the same
    # subscribers, so p publishers and c consumers cost p + c edges instead of p * c (125,000
    # at 2,000 components).
    hubs: dict[tuple[OpKey, ...], tuple[str, str, str]] = {}
    hub_of: dict[EventKey, tuple[str, str, str]] = {}
    for event, consumers in ops.consumers.items():
        hub_of[event] = hubs.setdefault(tuple(consumers), ("consumers", str(len(hubs)), ""))
    succ: dict[tuple[str, ...], list[tuple[str, ...]]] = {
        op: [*callees, *(hub_of[e] for e in ops.publishes.get(op, ()))]
        for op, callees in ops.calls.items()
    }
    for group, hub in hubs.items():
        succ[hub] = list(group)
        for consumer in group:
            succ.setdefault(consumer, [])
    local: dict[tuple[str, ...], int] = {
        op: ops.local_fail[op] | ops.local_degrade[op] for op in ops.calls
    }
    reach = _closure(groups_callees_first(succ), succ, local)
    return {op: reach[op] for op in ops.calls}


def _closure(
    order: list[list[N]], succ: Mapping[N, Iterable[N]], local: Mapping[N, int]
) -> dict[N, int]:
    """Per node: the union of ``local`` bits over everything it reaches (``order``: strongly
    connected groups, each after the groups it reaches; a group shares one union)."""
    out: dict[N, int] = {}
    for group in order:
        bits = 0
        members = set(group)
        for node in group:
            bits |= local.get(node, 0)
            for nxt in succ[node]:
                if nxt not in members:
                    bits |= out[nxt]
        for node in group:
            out[node] = bits
    return out
