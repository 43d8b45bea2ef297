"""From what the walk over the spans counted (``Tallies``) to a ``Discovery``: operations with
their steps, links with their relation, ``p`` and hit ratio, components with their kind and
the evidence for it, and notes (missing parents, clock skew). Rule 4 of
``archsim.traces.discover``.

Pure: tallies in, a ``Discovery`` out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import median

from archsim.traces.classify import Target, target_kind
from archsim.traces.found import Client, Component, Discovery, Link, Observed, Step
from archsim.traces.records import Span
from archsim.traces.span_index import SpanIndex

__all__ = ["LinkTally", "OpTally", "StepTally", "Tallies", "build"]

_EVIDENCE = {
    "cache": "db.system of a cache in client spans",
    "database": "db.system in client spans",
    "broker": "messaging spans",
    "external": "called, answered by no span",
    "config": "read at start-up",
    "registry": "registered with, outside any request",
    "auth": "validates tokens for others",
}


@dataclass
class StepTally:
    """One step of an operation: instances that had it, occurrences, start offsets and
    durations (ms)."""

    instances: int = 0
    occurrences: int = 0
    offsets: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)


@dataclass
class OpTally:
    """One operation of a component: durations and exclusive times (ms) of its instances,
    how many started a trace or failed, and its steps by (action, target, detail)."""

    component: str
    name: str
    trigger: str
    durations: list[float] = field(default_factory=list)
    exclusive: list[float] = field(default_factory=list)
    roots: int = 0
    errors: int = 0
    steps: dict[tuple[str, str, str], StepTally] = field(default_factory=dict)


@dataclass
class LinkTally:
    """One (source, target) pair: the relations its spans suggested, offsets (ms) inside the
    caller's operation, events, operations asked for, callers, and cache gets and sets."""

    relations: Counter[str] = field(default_factory=Counter)
    count: int = 0
    offsets: list[float] = field(default_factory=list)
    events: set[str] = field(default_factory=set)
    operations: set[str] = field(default_factory=set)
    callers: Counter[tuple[str, str]] = field(default_factory=Counter)
    hits: int = 0
    gets: int = 0
    known: int = 0  # gets that said whether they hit (archsim.cache.hit)
    sets: int = 0


@dataclass
class Tallies:
    """Everything the walk counts: operations, links, unclassified spans, clock skew (ms, per
    caller and callee), the kind each target looked like, and the steps of each operation
    instance (by the entry span's trace and span id), and the durations (ms) of traffic
    sources' requests per (source, target)."""

    ops: dict[tuple[str, str], OpTally] = field(default_factory=dict)
    links: defaultdict[tuple[str, str], LinkTally] = field(
        default_factory=lambda: defaultdict(LinkTally)
    )
    unclassified: Counter[str] = field(default_factory=Counter)
    skew: defaultdict[tuple[str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    kinds: dict[str, str] = field(default_factory=dict)
    steps_of: defaultdict[tuple[str, str], list[tuple[Span, Target]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    clients: defaultdict[tuple[str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def build(index: SpanIndex, tallies: Tallies, window_s: float) -> Discovery:
    """The discovery the tallies over ``index``'s spans show (rates over ``window_s`` s)."""
    observed = [_observed(acc, window_s) for acc in tallies.ops.values()]
    observed.sort(key=lambda o: (o.component, -o.count, o.name))
    op_counts = {(o.component, o.name): o.count for o in observed}
    links = [
        _link(source, target, acc, op_counts, window_s)
        for (source, target), acc in tallies.links.items()
    ]
    links.sort(key=lambda k: (k.source, k.order, k.target))
    services = sorted({s.service for s in index.spans} - index.sources)
    unclassified = sorted(tallies.unclassified.items())
    clients = [
        Client(source, target, len(ms), len(ms) / window_s, sum(ms) / len(ms))
        for (source, target), ms in sorted(tallies.clients.items())
    ]
    return Discovery(
        components=tuple(_components(services, links, tallies.kinds)),
        links=tuple(links),
        operations=tuple(observed),
        unclassified=tuple(f"{text} ({n}x)" for text, n in unclassified),
        notes=tuple(_notes(index, tallies.skew)),
        spans=len(index.spans),
        traces=len({s.trace_id for s in index.spans}),
        window_s=window_s,
        services=tuple(services),
        clients=tuple(clients),
    )


def _observed(acc: OpTally, window_s: float) -> Observed:
    """One operation with its steps in the order they start (rule 4)."""
    n = len(acc.durations)
    steps = [
        Step(
            action=action,
            target=target,
            detail=detail,
            p=slot.instances / n,
            per=slot.occurrences / slot.instances,
            offset_ms=sum(slot.offsets) / len(slot.offsets),
            mean_ms=sum(slot.durations) / len(slot.durations),
        )
        for (action, target, detail), slot in acc.steps.items()
    ]
    steps.sort(key=lambda s: s.offset_ms)
    return Observed(
        component=acc.component,
        name=acc.name,
        trigger=acc.trigger,
        count=n,
        rate=n / window_s,
        roots=acc.roots,
        mean_ms=sum(acc.durations) / n,
        p95_ms=_p95(acc.durations),
        exclusive_ms=sum(acc.exclusive) / len(acc.exclusive) if acc.exclusive else 0.0,
        exclusive_p95_ms=_p95(acc.exclusive),
        errors=acc.errors,
        steps=tuple(steps),
    )


def _link(
    source: str,
    target: str,
    acc: LinkTally,
    op_counts: dict[tuple[str, str], int],
    window_s: float,
) -> Link:
    """One link: its most frequent relation, ``p`` when one operation makes it less than
    always, and a cache's hit ratio."""
    relation = acc.relations.most_common(1)[0][0]
    p = None
    if len(acc.callers) == 1 and relation in ("calls", "uses", "integrates with"):
        ((caller, made),) = acc.callers.items()
        instances = op_counts.get(caller, 0)
        if instances and made < instances * 0.995:
            p = round(made / instances, 4)
    hit = None
    if acc.gets and relation == "caches in":
        # without a hit attribute, every fill (SET) after a get was a miss
        hits = acc.hits if acc.known else max(0, acc.gets - acc.sets)
        hit = round(hits / (acc.known or acc.gets), 4)
    return Link(
        source=source,
        target=target,
        relation=relation,
        count=acc.count,
        rate=acc.count / window_s,
        order=sum(acc.offsets) / len(acc.offsets) if acc.offsets else -1.0,
        events=tuple(sorted(acc.events)),
        operations=tuple(sorted(acc.operations)),
        p=p,
        hit_ratio=hit,
    )


def _components(services: list[str], links: list[Link], kinds: dict[str, str]) -> list[Component]:
    """Every component, by id: front doors from their links, traced services, then targets."""
    out: dict[str, Component] = {}
    for link in links:
        if link.relation == "distributes to":
            out[link.source] = Component(link.source, "load_balancer", "passes paths on unchanged")
        elif link.relation == "routes to" and link.source not in out:
            out[link.source] = Component(link.source, "gateway", "forwards paths it shortens")
    for service in services:
        if service not in out:
            kind = kinds.get(service, "service")
            kind = kind if kind in ("auth", "config") else "service"
            out[service] = Component(service, kind, _EVIDENCE.get(kind, "emits spans"))
    for target, kind in kinds.items():
        if target not in out:
            out[target] = Component(target, kind, _EVIDENCE.get(kind, "called, emits no spans"))
    for link in links:
        if link.target not in out:
            kind = "broker" if link.relation == "subscribes to" else target_kind(link.relation)
            out[link.target] = Component(link.target, kind, _EVIDENCE.get(kind, "linked to"))
    return sorted(out.values(), key=lambda c: c.id)


def _notes(index: SpanIndex, skew: dict[tuple[str, str], list[float]]) -> list[str]:
    """Spans whose parent is missing, and clock skew between callers and callees."""
    notes = []
    for service, n in sorted(index.missing.items()):
        notes.append(
            f"{n} span(s) of {service} name a parent the files do not hold: each starts its "
            "own part of the trace"
        )
    for (caller, callee), offsets in sorted(skew.items()):
        notes.append(
            f"clock skew: {len(offsets)} span(s) of {callee} lie outside the {caller} call "
            f"that made them (by {median(offsets):.1f} ms, median); step order and times use "
            "each service's own clock"
        )
    return notes
