"""Per-operation service times and their spread, fitted from one component's measured data.

A component's CPU seconds in the window (``cpu_s``) are split over its operations using each
operation's *exclusive* time: its mean latency measured inside the service less the mean
latency of the downstream calls it makes (from the callees' own histograms). The split keeps
``sum(count_op * t_op) == cpu_s`` (docs/calibrate.md, "Per-operation times"):

- exclusive time beyond the CPU (waits on the cache, SQLite commits, event-loop queueing):
  every operation's time is scaled by ``cpu_s / sum(count * exclusive)``;
- CPU beyond the exclusive time (HTTP framing and parsing outside the handler's timer): the
  rest is shared equally per request, on top of each operation's exclusive time.

The spread (coefficient of variation) comes from the mean and the 95th percentile of the
exclusive time under a lognormal assumption, clamped to ``CV_RANGE``. Everything here is pure.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from archsim.loadtest.measured import ComponentMeasured, MeasuredRun
from archsim.model import Architecture, Kind, Relation, Step, StepAction
from archsim.model.quantities import format_duration

__all__ = [
    "CV_RANGE",
    "MIN_REQUESTS",
    "DatabaseTime",
    "OpFit",
    "OpTime",
    "clamp_cv",
    "database_times",
    "fit_operations",
    "lognormal_cv",
    "operation_times",
]

CV_RANGE = (0.2, 1.5)
_Z95 = 1.6448536269514722  # standard normal 95th percentile
_WAIT_DOMINATED = 0.8  # waits above this share of the latency leave the rest unidentified
_MIN_S = 20e-6
MIN_REQUESTS = 20  # fewer requests in the window: nothing is fitted from them


@dataclass(frozen=True)
class OpTime:
    """One operation's measured figures at its own service (seconds)."""

    operation: str
    requests: float
    latency: float  # mean latency measured inside the service
    waits: float  # expected latency of the downstream calls it makes
    p95: float | None = None

    @property
    def identified(self) -> bool:
        """Whether the exclusive time is more than noise next to the downstream waits."""
        return self.latency > 0 and self.waits <= _WAIT_DOMINATED * self.latency

    @property
    def exclusive(self) -> float:
        """Mean latency less the downstream waits (s), never negative."""
        return max(self.latency - self.waits, 0.0)


@dataclass(frozen=True)
class OpFit:
    """A fitted operation: mean service time (s), coefficient of variation, provenance, and
    how much of the mean is CPU spent outside the handler's timer (s)."""

    mean: float
    cv: float | None  # None: no histogram to tell the spread
    why: str
    outside: float = 0.0  # framing, metrics, logging: not all of it on the request's path


def lognormal_cv(mean: float, p95: float | None) -> float | None:
    """CV of the lognormal with this mean and 95th percentile (seconds); None if unknown.

    ``p95 / mean = exp(z σ - σ²/2)``: the smaller root in σ; a ratio beyond the largest a
    lognormal reaches (``exp(z²/2)``, ≈ 3.87) gives the σ at that largest ratio."""
    if p95 is None or mean <= 0 or p95 <= 0:
        return None
    ratio = math.log(p95 / mean)
    disc = _Z95 * _Z95 - 2.0 * ratio
    sigma = _Z95 - math.sqrt(max(disc, 0.0))
    return math.sqrt(math.expm1(sigma * sigma))


def clamp_cv(cv: float) -> float:
    """``cv`` limited to ``CV_RANGE``."""
    return min(max(cv, CV_RANGE[0]), CV_RANGE[1])


def operation_times(
    arch: Architecture,
    comp: str,
    comps: Mapping[str, ComponentMeasured],
    network_latency: float = 0.0,
) -> list[OpTime]:
    """Every measured operation of ``comp`` that the model knows, with its downstream waits:
    for each call step, ``p`` × (callee operation's mean latency + two network hops)."""
    out = []
    measured = comps.get(comp)
    for name, om in (measured.ops if measured is not None else {}).items():
        if not om.requests or om.mean is None:
            continue
        try:
            op = arch.behaviour.operation(comp, name)
        except KeyError:
            continue
        waits = _call_waits(op.steps, comps, network_latency)
        out.append(OpTime(name, om.requests, om.mean, waits, om.p95))
    return out


def _callee_mean(comps: Mapping[str, ComponentMeasured], step: Step) -> float | None:
    """The measured mean latency (s) of the operation a call step calls, if measured."""
    callee = comps.get(step.target or "")
    return callee.op_mean(step.operation or "") if callee is not None else None


def _call_waits(
    steps: Sequence[Step], comps: Mapping[str, ComponentMeasured], network_latency: float
) -> float:
    waits = 0.0
    for step in steps:
        if step.action is StepAction.CALL and step.target:
            mean = _callee_mean(comps, step)
            if mean is not None:
                waits += step.p * (mean + 2 * network_latency)
    return waits


def fit_operations(cpu_s: float, ops: Sequence[OpTime], min_requests: float) -> dict[str, OpFit]:
    """Split ``cpu_s`` (CPU seconds in the window) over ``ops`` (see the module docstring);
    operations with fewer than ``min_requests`` still count in the split but are not returned."""
    total_n = sum(o.requests for o in ops)
    if cpu_s <= 0 or total_n <= 0:
        return {}
    known = [o.exclusive for o in ops if o.identified and o.exclusive > 0]
    if not known:
        return {}
    # an operation whose latency is nearly all downstream waits: its exclusive time is the
    # difference of two large means, noise; the component's typical exclusive time stands in
    prior = statistics.median(known)
    excl = {o.operation: o.exclusive if o.identified else prior for o in ops}
    busy = sum(o.requests * excl[o.operation] for o in ops)
    if busy <= 0:
        return {}
    if busy >= cpu_s:
        scale, extra = cpu_s / busy, 0.0
        how = f"exclusive time × {scale:.2f} (CPU < measured exclusive time)"
    else:
        scale, extra = 1.0, (cpu_s - busy) / total_n
        how = f"exclusive time + {format_duration(extra)} per request (CPU outside handlers)"
    out: dict[str, OpFit] = {}
    for o in ops:
        if o.requests < min_requests:
            continue
        mean = max(scale * excl[o.operation] + extra, _MIN_S)
        raw = lognormal_cv(o.exclusive, None if o.p95 is None else o.p95 - o.waits)
        # the handler's own spread; CPU outside it is taken as steady, so it narrows the cv
        cv = clamp_cv(raw * scale * excl[o.operation] / mean) if raw is not None else None
        source = "" if o.identified else " (waits dominate: typical exclusive time used)"
        out[o.operation] = OpFit(mean, cv, f"{o.requests:.0f} requests, {how}{source}", extra)
    return out


@dataclass(frozen=True)
class DatabaseTime:
    """A database's fitted times (s): per read query, and per write where the measured
    operations tell the two apart (None: writes take the read's)."""

    read_s: float
    write_s: float | None
    source: str


def database_times(
    arch: Architecture,
    measured: MeasuredRun,
    demand: Mapping[str, float],
    op_time: Callable[[str, str], float] | None = None,
) -> dict[str, DatabaseTime]:
    """Per database: measured operation time left after CPU, calls and cache, per query;
    ``op_time(component, operation)`` is the operation's CPU (default: the component's).

    Reads and writes are told apart when operations that only read and operations that write
    were both measured: the read time from the reading operations, then the write time from
    what is left of the writing ones after their reads (a commit is the database's costliest
    work, and a single mean would give it a read's time)."""
    cpu_of = op_time or (lambda cid, _name: demand[cid])
    out: dict[str, DatabaseTime] = {}
    for db in arch.of_kind(Kind.DATABASE):
        ops = list(_query_ops(arch, measured, demand, db.id, cpu_of))
        reads = sum(n * r for n, r, w, _ in ops)
        writes = sum(n * w for n, r, w, _ in ops)
        if reads + writes < MIN_REQUESTS:
            continue
        left = sum(n * res for n, _, _, res in ops)
        only = [(n, r, res) for n, r, w, res in ops if w == 0]
        read_only = sum(n * r for n, r, _ in only)
        if read_only < MIN_REQUESTS or writes < MIN_REQUESTS:
            time = max(left / (reads + writes), _MIN_S)
            out[db.id] = DatabaseTime(time, None, f"{reads + writes:.0f} queries")
            continue
        read_s = max(sum(n * res for n, _, res in only) / read_only, _MIN_S)
        write_left = sum(n * (res - r * read_s) for n, r, w, res in ops if w > 0)
        write_s = max(write_left / writes, _MIN_S)
        source = f"{read_only:.0f} queries of reading operations, {writes:.0f} writes"
        out[db.id] = DatabaseTime(read_s, write_s, source)
    return out


def _query_ops(
    arch: Architecture,
    measured: MeasuredRun,
    demand: Mapping[str, float],
    db: str,
    cpu_of: Callable[[str, str], float],
) -> Iterator[tuple[float, float, float, float]]:
    """(executions, reads and writes of ``db`` per execution, time left per execution (s))
    of each measured operation that queries ``db``."""
    comps = measured.components
    for link in arch.links_to(db, Relation.STORES_IN):
        m = comps.get(link.source)
        if not m or link.source not in demand:
            continue
        for name, om in m.ops.items():
            n, mean = om.requests, om.mean
            if not n or mean is None:
                continue
            try:
                op = arch.behaviour.operation(link.source, name)
            except KeyError:
                continue
            reads, writes, other = _op_visits(arch, op.steps, db, comps, m)
            if reads + writes > 0:
                yield n, reads, writes, mean - cpu_of(link.source, name) - other


def _op_visits(
    arch: Architecture,
    steps: Sequence[Step],
    db: str,
    comps: Mapping[str, ComponentMeasured],
    own: ComponentMeasured,
) -> tuple[float, float, float]:
    """(expected reads, expected writes of ``db``, expected time in calls) of one execution
    of ``steps``."""
    reads, writes, other = 0.0, 0.0, 0.0
    for step in steps:
        if step.action is StepAction.QUERY and step.target == db:
            if step.changes_data:  # an insert, update or delete: each commits
                writes += step.p
            else:
                reads += step.p
        elif step.action is StepAction.CALL and step.target:
            other += step.p * (_callee_mean(comps, step) or 0.0)
        elif step.action is StepAction.CACHE_GET and step.target:
            cache = own.caches.get(step.target)
            hit = cache.hit_ratio if cache is not None else None
            miss = 1.0 - (hit if hit is not None else (step.hit_ratio or 0.0))
            r, w, o = _op_visits(arch, step.on_miss, db, comps, own)
            reads += step.p * miss * r
            writes += step.p * miss * w
            other += step.p * miss * o
    return reads, writes, other
