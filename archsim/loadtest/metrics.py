"""Measurement of the inside of a stack: each service's ``/metrics`` and each process's CPU
time, read before and after a run, turned into per-component and per-operation figures.

``parse_metrics`` and ``component_deltas`` are pure (text in, numbers out); ``scrape`` and
``cpu_seconds`` are the I/O edges (HTTP on loopback, ``/proc``). Metric names are those the
generated runtime exports (``archsim/runtime/metrics.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

__all__ = [
    "MachineTimes",
    "Snapshot",
    "component_deltas",
    "cpu_seconds",
    "histogram_quantile",
    "machine_times",
    "parse_metrics",
    "scrape",
    "steal_ratio",
]

_INF = float("inf")


@dataclass
class Snapshot:
    """Counters of every service instance at one moment: parsed samples and CPU seconds."""

    taken_at: float
    samples: dict[str, list[tuple[str, dict[str, str], float]]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # instance → CPU seconds (user+sys)
    components: dict[str, str] = field(default_factory=dict)  # instance → component
    unreachable: list[str] = field(default_factory=list)
    machine: MachineTimes | None = None  # the whole machine's CPU time (``/proc/stat``)


@dataclass(frozen=True)
class MachineTimes:
    """CPU time of the whole machine so far (clock ticks, all cores): ``steal`` is the time a
    hypervisor ran other guests on our virtual cores, ``total`` every state's."""

    steal: int
    total: int


def machine_times(proc: Path = Path("/proc")) -> MachineTimes | None:
    """The machine's CPU time from ``/proc/stat`` (None where there is none)."""
    try:
        line = (proc / "stat").read_text().split("\n", 1)[0]
    except OSError:
        return None
    fields = line.split()
    if not fields or fields[0] != "cpu" or len(fields) < 9:
        return None
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    ticks = [int(v) for v in fields[1:9]]
    return MachineTimes(steal=ticks[7], total=sum(ticks))


def steal_ratio(before: MachineTimes | None, after: MachineTimes | None) -> float | None:
    """The share of the machine's CPU time a hypervisor took between two readings."""
    if before is None or after is None or after.total <= before.total:
        return None
    return (after.steal - before.steal) / (after.total - before.total)


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    """(sample name, labels, value) of every ``archsim_*`` sample in Prometheus text."""
    out = []
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("archsim_"):
            continue
        for s in family.samples:
            out.append((s.name, dict(s.labels), float(s.value)))
    return out


def _clock_ticks() -> int:
    return int(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100


def _task_seconds(pid_dir: Path) -> float | None:
    """Nanosecond CPU time of a process's live threads (``schedstat``), None if unreadable."""
    total = 0
    try:
        for task in (pid_dir / "task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def cpu_seconds(pids: Iterable[int], proc: Path = Path("/proc")) -> dict[int, float]:
    """CPU seconds used so far by each process group led by a pid in ``pids`` (the launcher
    starts every instance in its own group: its children count too).

    A process's ``stat`` keeps the time of its threads that have exited, in clock ticks (10
    ms); ``schedstat`` is in nanoseconds but of the live threads only. A service whose
    threads come and go (aiosqlite's, one per connection) lost a fifth of its CPU by the
    second alone, so each process counts the larger of the two.
    """
    wanted = {int(p) for p in pids}
    totals = dict.fromkeys(wanted, 0.0)
    tick = float(_clock_ticks())
    try:
        entries = list(proc.iterdir())
    except OSError:
        return totals
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        fields = raw.rsplit(") ", 1)[-1].split()
        # after the command: state ppid pgrp ... utime(11) stime(12) (0-based from state)
        pgrp = int(fields[2])
        if pgrp in wanted:
            ticks = (int(fields[11]) + int(fields[12])) / tick
            live = _task_seconds(entry)
            totals[pgrp] += ticks if live is None else max(live, ticks)
    return totals


def scrape(instances: Sequence[Mapping[str, Any]], timeout_s: float = 3.0) -> Snapshot:
    """Read ``/metrics`` of every service instance and the CPU time of every instance."""
    import time

    snap = Snapshot(taken_at=time.time())
    snap.components = {str(i["instance"]): str(i["component"]) for i in instances}
    with httpx.Client(timeout=timeout_s) as client:
        for inst in instances:
            if inst.get("role") != "service":
                continue
            try:
                reply = client.get(f"{inst['url']}/metrics")
                reply.raise_for_status()
            except httpx.HTTPError:
                snap.unreachable.append(str(inst["instance"]))
                continue
            snap.samples[str(inst["instance"])] = parse_metrics(reply.text)
    by_pid = {int(i["pid"]): str(i["instance"]) for i in instances if int(i.get("pid", 0)) > 0}
    for pid, seconds in cpu_seconds(by_pid).items():
        snap.cpu[by_pid[pid]] = seconds
    snap.machine = machine_times()
    return snap


def histogram_quantile(buckets: Mapping[float, float], q: float) -> float | None:
    """Prometheus-style quantile (seconds) from cumulative bucket counts ``{le: count}``,
    interpolating linearly inside the bucket (as ``histogram_quantile`` does)."""
    if not buckets:
        return None
    edges = sorted(buckets)
    total = buckets[edges[-1]]
    if total <= 0:
        return None
    rank = q * total
    prev_edge, prev_count = 0.0, 0.0
    for edge in edges:
        count = buckets[edge]
        if count >= rank:
            if edge == _INF:
                return prev_edge
            if count == prev_count:
                return edge
            return prev_edge + (edge - prev_edge) * (rank - prev_count) / (count - prev_count)
        prev_edge, prev_count = edge, count
    return prev_edge


def _delta(
    before: list[tuple[str, dict[str, str], float]] | None,
    after: list[tuple[str, dict[str, str], float]],
) -> list[tuple[str, dict[str, str], float]]:
    old = {(n, tuple(sorted(lb.items()))): v for n, lb, v in before or []}
    return [(n, lb, v - old.get((n, tuple(sorted(lb.items()))), 0.0)) for n, lb, v in after]


def _latency(buckets: dict[float, float], total: float, count: float) -> dict[str, float | None]:
    out: dict[str, float | None] = {"mean": total / count if count else None}
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)):
        out[name] = histogram_quantile(buckets, q) if count else None
    return out


def component_deltas(before: Snapshot, after: Snapshot) -> dict[str, dict[str, Any]]:
    """Per component: requests, errors, throughput (req/s), latency (s) per operation and
    overall, CPU seconds and CPU utilisation (cores), cache hits and misses, between two
    snapshots. Instances of one component (replicas) are added up."""
    window = max(after.taken_at - before.taken_at, 1e-9)
    comps: dict[str, dict[str, Any]] = {}

    def comp(name: str) -> dict[str, Any]:
        return comps.setdefault(
            name,
            {
                "instances": 0,
                "requests": 0,
                "errors": 0,
                "cpu_s": 0.0,
                "ops": {},
                "caches": {},
                "calls": {},
                "_buckets": {},
                "_sum": 0.0,
            },
        )

    for instance, component in after.components.items():
        c = comp(component)
        c["instances"] += 1
        if instance in after.cpu and instance in before.cpu:
            c["cpu_s"] += max(0.0, after.cpu[instance] - before.cpu[instance])
    for instance, samples in after.samples.items():
        c = comp(after.components.get(instance, instance))
        for name, labels, value in _delta(before.samples.get(instance), samples):
            _count(c, name, labels, value)
    for c in comps.values():
        _rates(c, window)
    return dict(sorted(comps.items()))


def _count(c: dict[str, Any], name: str, labels: Mapping[str, str], value: float) -> None:
    """Add one metric sample's increase to component ``c``: requests and errors, latency
    histogram buckets and sums (per operation and overall), cache results, outbound calls."""
    op = labels.get("operation")
    if name == "archsim_requests_total" and op:
        o = c["ops"].setdefault(op, {"requests": 0, "errors": 0, "_b": {}, "_s": 0.0})
        o["requests"] += value
        c["requests"] += value
        if not labels.get("status", "200").startswith(("2", "3")):
            o["errors"] += value
            c["errors"] += value
    elif name == "archsim_request_duration_seconds_bucket" and op:
        o = c["ops"].setdefault(op, {"requests": 0, "errors": 0, "_b": {}, "_s": 0.0})
        le = float(labels["le"])
        o["_b"][le] = o["_b"].get(le, 0.0) + value
        c["_buckets"][le] = c["_buckets"].get(le, 0.0) + value
    elif name == "archsim_request_duration_seconds_sum" and op:
        o = c["ops"].setdefault(op, {"requests": 0, "errors": 0, "_b": {}, "_s": 0.0})
        o["_s"] += value
        c["_sum"] += value
    elif name == "archsim_cache_requests_total":
        cache = c["caches"].setdefault(labels.get("cache", "?"), {"hits": 0, "misses": 0})
        cache["hits" if labels.get("result") == "hit" else "misses"] += value
    elif name == "archsim_calls_total":
        key = labels.get("target", "?")
        call = c["calls"].setdefault(key, {"ok": 0, "failed": 0})
        call["ok" if labels.get("outcome") != "failed" else "failed"] += value


def _rates(c: dict[str, Any], window: float) -> None:
    """Turn component ``c``'s counts over ``window`` seconds into rates, latency figures
    (dropping the raw histogram) and hit ratios."""
    buckets, total = c.pop("_buckets"), c.pop("_sum")
    c["throughput"] = c["requests"] / window
    c["latency"] = _latency(buckets, total, c["requests"])
    c["cpu_utilisation"] = c["cpu_s"] / window
    c["cpu_per_request_s"] = c["cpu_s"] / c["requests"] if c["requests"] else None
    for o in c["ops"].values():
        o["throughput"] = o["requests"] / window
        o["latency"] = _latency(o.pop("_b"), o.pop("_s"), o["requests"])
    for cache in c["caches"].values():
        seen = cache["hits"] + cache["misses"]
        cache["hit_ratio"] = cache["hits"] / seen if seen else None
