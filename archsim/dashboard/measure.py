"""What the running stack did between two polls, per component and per link of the model.

A poll (``poll``, the I/O edge) reads every service instance's ``/metrics`` (names in
``archsim/runtime/metrics.py``) and whether every process is alive. ``measure`` (pure) turns two
polls into rates: a component's own request counters; a link's from the caller's counters when
it has them (``archsim_calls_total``, cache reads, events), else *derived*: the caller's measured
operation rates through the model's steps (SQL has no counter; a gateway's routes are its
proxied requests). A caller with no metrics at all (the load balancer) is credited with what its
targets received that no instrumented caller accounts for.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from archsim.dashboard.readings import Measured
from archsim.loadtest.metrics import histogram_quantile, parse_metrics
from archsim.model import Architecture, Link, OpKind, Relation, Step, StepAction

__all__ = ["Measurement", "Poll", "link_visits", "measure", "poll"]

Sample = tuple[str, dict[str, str], float]
LinkKey = tuple[str, str, str]  # (source, target, relation value)

# Relations whose traffic is a synchronous request, counted by the caller's archsim_calls_total.
CALL_RELATIONS = frozenset({
    Relation.DISTRIBUTES_TO, Relation.ROUTES_TO, Relation.VALIDATES_WITH, Relation.USES,
    Relation.CALLS, Relation.SENDS_VIA, Relation.INTEGRATES_WITH, Relation.READS_FROM,
})  # fmt: skip


@dataclass(frozen=True)
class Poll:
    """One look at the stack: parsed samples per answering service instance, and the instances
    (of any role) that are not alive or did not answer."""

    taken_at: float
    samples: dict[str, list[Sample]]
    components: dict[str, str]  # instance → component
    down: frozenset[str] = frozenset()


@dataclass
class _Op:
    count: float = 0.0
    errors: float = 0.0
    total_s: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)


@dataclass
class _Counters:
    """One component's counter deltas over the window, its replicas added up."""

    ops: dict[str, _Op] = field(default_factory=lambda: defaultdict(_Op))
    calls: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0]))
    cache: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0]))
    published: float = 0.0
    consumed: float = 0.0

    def hit_ratio(self, cache: str) -> float | None:
        hits, misses = self.cache.get(cache, (0.0, 0.0))
        return hits / (hits + misses) if hits + misses > 0 else None


@dataclass(frozen=True)
class Measurement:
    """Measured figures per component id and per link key, the measured rate of every
    instrumented operation (for the arrival-rate fit), and which components are down."""

    window_s: float | None
    components: dict[str, Measured]
    links: dict[LinkKey, Measured]
    operations: dict[tuple[str, str], float]
    down: frozenset[str]
    probed: frozenset[str]  # components that have processes to probe


def _delta(before: list[Sample], after: list[Sample]) -> Iterable[Sample]:
    old = {(n, tuple(sorted(lb.items()))): v for n, lb, v in before}
    for name, labels, value in after:
        prev = old.get((name, tuple(sorted(labels.items()))), 0.0)
        yield name, labels, value - prev if value >= prev else value  # a restart resets counters


def _counters(before: Poll, after: Poll) -> dict[str, _Counters]:
    out: dict[str, _Counters] = {}
    for instance, samples in after.samples.items():
        if instance not in before.samples:
            continue  # appeared during the window: its totals are not a rate yet
        c = out.setdefault(after.components[instance], _Counters())
        for name, labels, value in _delta(before.samples[instance], samples):
            if name == "archsim_requests_total":
                op = c.ops[labels.get("operation", "?")]
                op.count += value
                if not labels.get("status", "200").startswith(("2", "3")):
                    op.errors += value
            elif name == "archsim_request_duration_seconds_bucket":
                b = c.ops[labels.get("operation", "?")].buckets
                le = float(labels["le"])
                b[le] = b.get(le, 0.0) + value
            elif name == "archsim_request_duration_seconds_sum":
                c.ops[labels.get("operation", "?")].total_s += value
            elif name == "archsim_calls_total":
                call = c.calls[labels.get("target", "?")]
                call[0] += value
                call[1] += value if labels.get("outcome") == "failed" else 0.0
            elif name == "archsim_cache_requests_total":
                c.cache[labels.get("cache", "?")][0 if labels.get("result") == "hit" else 1] += (
                    value
                )
            elif name == "archsim_events_total":
                if labels.get("outcome") == "published":
                    c.published += value
                elif labels.get("outcome") == "consumed":
                    c.consumed += value
    return out


def link_visits(steps: Iterable[Step], link: Link, hit: Mapping[str, float] | None = None) -> float:
    """Expected interactions over ``link`` per execution of an operation with ``steps``: its
    steps aimed at the link's target for the link's relation (cache links: reads), weighted by
    probability; a cache miss's steps by the miss ratio (measured ``hit`` ratio if given)."""
    total = 0.0
    for s in steps:
        if (
            s.target == link.target
            and s.relation is link.relation
            and (link.relation is not Relation.CACHES_IN or s.action is StepAction.CACHE_GET)
        ):
            total += s.p
        if s.action is StepAction.CACHE_GET and s.on_miss:
            ratio = (hit or {}).get(s.target or "", s.hit_ratio or 0.0)
            total += s.p * (1 - ratio) * link_visits(s.on_miss, link, hit)
    return total


def _callees(steps: Iterable[Step], link: Link) -> set[str]:
    """Operations of the link's target that ``steps`` call over it."""
    return {s.operation or "" for s in steps
            if s.action is StepAction.CALL and s.target == link.target
            and s.relation is link.relation}  # fmt: skip


def _latency(ops: Iterable[_Op]) -> tuple[float | None, float | None]:
    """(mean, p95) in seconds of the merged histograms of ``ops``."""
    buckets: dict[float, float] = defaultdict(float)
    count = total = 0.0
    for op in ops:
        count += op.count
        total += op.total_s
        for le, n in op.buckets.items():
            buckets[le] += n
    if count <= 0:
        return None, None
    return total / count, histogram_quantile(buckets, 0.95)


class _Linker:
    """Measured figures of the model's links from the components' counters."""

    def __init__(self, arch: Architecture, counters: dict[str, _Counters], window: float) -> None:
        self.arch, self.counters, self.window = arch, counters, window
        self.ops = {(op.component, op.name): op for op in arch.behaviour.operations}
        self.to_target: dict[tuple[str, str], int] = defaultdict(int)
        for lk in arch.links:
            self.to_target[(lk.source, lk.target)] += 1

    def measure(self, link: Link) -> Measured:
        src = self.counters.get(link.source)
        if src is None:
            return self._from_targets(link)
        if link.relation is Relation.SUBSCRIBES_TO:
            consume = [o for name, o in src.ops.items() if self._kind(link.source, name)]
            count = src.consumed or sum(o.count for o in consume)
            return self._figure(count, sum(o.errors for o in consume), "calls")
        single = self.to_target[(link.source, link.target)] == 1
        if single and link.relation in CALL_RELATIONS and link.target in src.calls:
            total, failed = src.calls[link.target]
            return self._figure(total, failed, "calls", *self._callee_latency(link))
        if single and link.relation is Relation.CACHES_IN and link.target in src.cache:
            return self._figure(sum(src.cache[link.target]), 0.0, "calls")
        if link.relation is Relation.PUBLISHES_TO and src.published and self._one_broker(link):
            return self._figure(src.published, 0.0, "calls")
        hit = {k: r for k in src.cache if (r := src.hit_ratio(k)) is not None}
        count = errors = 0.0
        for name, o in src.ops.items():
            op = self.ops.get((link.source, name))
            if op is not None:
                v = link_visits(op.steps, link, hit)
                count, errors = count + o.count * v, errors + o.errors * v
        return self._figure(count, errors, "derived", *self._callee_latency(link))

    def _from_targets(self, link: Link) -> Measured:
        """An uninstrumented caller: what its callees received that no instrumented caller
        explains, shared among the uninstrumented callers of the same operation."""
        dst = self.counters.get(link.target)
        callees = set()
        for op in self.arch.behaviour.operations_of(link.source):
            callees |= _callees(op.steps, link)
        if dst is None or not callees:
            return self._figure(0.0, 0.0, "derived")
        count = errors = 0.0
        for callee in callees:
            got = dst.ops.get(callee)
            if got is None:
                continue
            explained, blind = 0.0, 0
            for (comp, _), op in self.ops.items():
                calls = sum(s.p for s in op.steps if s.action is StepAction.CALL
                            and s.target == link.target and s.operation == callee)  # fmt: skip
                if not calls:
                    continue
                caller = self.counters.get(comp)
                if caller is None:
                    blind += 1
                elif op.name in caller.ops:
                    explained += caller.ops[op.name].count * calls
            share = max(0.0, got.count - explained) / max(blind, 1)
            count += share
            errors += got.errors * (share / got.count if got.count else 0.0)
        return self._figure(count, errors, "derived", *self._callee_latency(link))

    def _callee_latency(self, link: Link) -> tuple[float | None, float | None]:
        dst = self.counters.get(link.target)
        if dst is None or link.relation not in CALL_RELATIONS:
            return None, None
        callees = set()
        for op in self.arch.behaviour.operations_of(link.source):
            callees |= _callees(op.steps, link)
        return _latency(dst.ops[c] for c in callees if c in dst.ops)

    def _kind(self, comp: str, name: str) -> bool:
        op = self.ops.get((comp, name))
        return op is not None and op.kind is OpKind.CONSUME

    def _one_broker(self, link: Link) -> bool:
        return sum(1 for lk in self.arch.links_from(link.source)
                   if lk.relation is Relation.PUBLISHES_TO) == 1  # fmt: skip

    def _figure(self, count: float, errors: float, source: str,
                mean: float | None = None, p95: float | None = None) -> Measured:  # fmt: skip
        return Measured(count / self.window, count, errors, mean, p95, source)


def measure(arch: Architecture, before: Poll | None, after: Poll) -> Measurement:
    """Per component and link, what happened between ``before`` and ``after`` (rates need
    two polls: with only one, just which components are down)."""
    probed = frozenset(after.components.values())
    by_comp: dict[str, list[str]] = defaultdict(list)
    for instance, comp_id in after.components.items():
        by_comp[comp_id].append(instance)
    down = frozenset(c for c, insts in by_comp.items() if all(i in after.down for i in insts))
    if before is None:
        return Measurement(None, {}, {}, {}, down, probed)
    window = max(after.taken_at - before.taken_at, 1e-9)
    counters = _counters(before, after)
    linker = _Linker(arch, counters, window)
    links = {(lk.source, lk.target, lk.relation.value): linker.measure(lk) for lk in arch.links}
    comps: dict[str, Measured] = {}
    rates: dict[tuple[str, str], float] = {}
    for comp in arch.components:
        c = counters.get(comp.id)
        if c is not None and c.ops:
            count = sum(o.count for o in c.ops.values())
            mean, p95 = _latency(c.ops.values())
            errors = sum(o.errors for o in c.ops.values())
            comps[comp.id] = Measured(count / window, count, errors, mean, p95, "metrics")
            rates.update({(comp.id, name): o.count / window for name, o in c.ops.items()})
        elif c is None and comp.id not in down:
            comps[comp.id] = _through_links(comp.id, arch, links, window)
    return Measurement(window, comps, links, rates, down, probed)


def _through_links(comp: str, arch: Architecture, links: dict[LinkKey, Measured],
                   window: float) -> Measured:  # fmt: skip
    """An uninstrumented component (store, broker, balancer): the traffic of its links, inbound
    when it has any (what it serves), else outbound (what it sends: a load balancer)."""
    inbound = [m for (s, t, _), m in links.items() if t == comp]
    chosen = inbound or [m for (s, _, _), m in links.items() if s == comp]
    count = sum(m.count for m in chosen)
    return Measured(count / window, count, sum(m.errors for m in chosen), source="links")


async def _scrape(session: Any, inst: Mapping[str, Any], timeout_s: float) -> list[Sample] | None:
    import aiohttp

    try:
        limit = aiohttp.ClientTimeout(total=timeout_s)
        async with session.get(f"{inst['url']}/metrics", timeout=limit) as reply:
            if reply.status != 200:
                return None
            text = await reply.text()
    except (TimeoutError, aiohttp.ClientError, OSError):
        return None
    return parse_metrics(text)


async def poll(
    instances: Sequence[Mapping[str, Any]], session: Any, timeout_s: float = 1.5
) -> Poll:
    """Read every service instance's ``/metrics`` (concurrently) and check every process is
    alive (``session``: an aiohttp ClientSession)."""
    from archsim.runtime.launcher import instance_alive

    taken_at = time.time()
    services = [i for i in instances if i.get("role") == "service"]
    texts = await asyncio.gather(*(_scrape(session, i, timeout_s) for i in services))
    samples = {str(i["instance"]): s for i, s in zip(services, texts, strict=True) if s is not None}
    down = {str(i["instance"]) for i in instances
            if not instance_alive(int(i.get("pid") or 0))}  # fmt: skip
    down |= {str(i["instance"]) for i in services if str(i["instance"]) not in samples}
    comps = {str(i["instance"]): str(i["component"]) for i in instances}
    return Poll(taken_at, samples, comps, frozenset(down))
