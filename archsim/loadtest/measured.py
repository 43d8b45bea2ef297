"""A measured run (``summary.json``, schema ``archsim.loadtest/1``) as typed records: what the
calibration reads of it. ``MeasuredRun.from_dict`` is the JSON edge; a field the file leaves
out (an older run, a synthetic one) reads as zero or None, as the fits always read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CacheMeasured",
    "CallsMeasured",
    "ComponentMeasured",
    "EndpointMeasured",
    "MeasuredRun",
    "OpMeasured",
]


def _mean(latency: Any) -> float | None:
    mean = (latency or {}).get("mean")
    return None if mean is None else float(mean)


@dataclass(frozen=True)
class OpMeasured:
    """One operation measured inside its service: requests in the window and latency (s)."""

    requests: float
    mean: float | None
    p95: float | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OpMeasured:
        """From the ``ops`` entry of a component in ``summary.json``."""
        latency = data.get("latency") or {}
        return cls(float(data.get("requests") or 0.0), _mean(latency), latency.get("p95"))


@dataclass(frozen=True)
class CacheMeasured:
    """A service's results at one cache."""

    hits: float
    misses: float
    hit_ratio: float | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CacheMeasured:
        """From the ``caches`` entry of a component in ``summary.json``."""
        return cls(data["hits"], data["misses"], data.get("hit_ratio"))


@dataclass(frozen=True)
class CallsMeasured:
    """A service's outbound calls to one target, by outcome."""

    ok: float
    failed: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallsMeasured:
        """From the ``calls`` entry of a component in ``summary.json``."""
        return cls(data["ok"], data["failed"])


@dataclass(frozen=True)
class ComponentMeasured:
    """One component over the window, its instances added up: requests it handled, CPU
    seconds and cores used, and per operation, cache and call target what it saw."""

    instances: int
    requests: float
    cpu_s: float
    cpu_utilisation: float
    ops: dict[str, OpMeasured] = field(default_factory=dict)
    caches: dict[str, CacheMeasured] = field(default_factory=dict)
    calls: dict[str, CallsMeasured] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComponentMeasured:
        """From a ``components`` entry of ``summary.json``."""
        return cls(
            instances=int(data.get("instances") or 1),
            requests=float(data.get("requests") or 0.0),
            cpu_s=float(data.get("cpu_s", 0.0)),
            cpu_utilisation=float(data.get("cpu_utilisation") or 0.0),
            ops={k: OpMeasured.from_dict(v) for k, v in (data.get("ops") or {}).items()},
            # an empty entry says nothing (the fits always skipped them)
            caches={
                k: CacheMeasured.from_dict(v) for k, v in (data.get("caches") or {}).items() if v
            },
            calls={
                k: CallsMeasured.from_dict(v) for k, v in (data.get("calls") or {}).items() if v
            },
        )

    def op_mean(self, operation: str) -> float | None:
        """Mean latency (s) of ``operation`` here, None when it was not measured."""
        op = self.ops.get(operation)
        return op.mean if op is not None else None


@dataclass(frozen=True)
class EndpointMeasured:
    """One entry at the front door: requests in the window and latency figures (s)."""

    requests: int
    mean: float | None
    p95: float | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EndpointMeasured:
        """From an ``endpoints`` entry of ``summary.json``."""
        return cls(data["requests"], data.get("mean"), data.get("p95"))

    def figure(self, name: str) -> float | None:
        """``mean`` or ``p95`` by name."""
        return {"mean": self.mean, "p95": self.p95}[name]


@dataclass(frozen=True)
class MeasuredRun:
    """What calibration reads of one measured run. ``window_s`` is the front door's
    measurement window; the load generator read ``/metrics`` over ``span_s`` of it."""

    endpoints: dict[str, EndpointMeasured]
    components: dict[str, ComponentMeasured]
    idle_cpu: dict[str, float]
    window_s: float
    metrics_window_s: float | None  # the load generator's span (None: not recorded)
    load_generator_cpu_s: float
    host_cpus: int | None  # None: a run from before the host was recorded
    steal_ratio: float | None  # share of the machine's CPU a hypervisor took (None: unknown)
    source: Mapping[str, Any] = field(repr=False, compare=False)  # the JSON, for its settings

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeasuredRun:
        """From ``summary.json`` data."""
        generator = data.get("load_generator") or {}
        cpus = (data.get("host") or {}).get("cpus")
        span = generator.get("window_s")
        return cls(
            endpoints={k: EndpointMeasured.from_dict(v) for k, v in data["endpoints"].items()},
            components={
                k: ComponentMeasured.from_dict(v) for k, v in (data.get("components") or {}).items()
            },
            idle_cpu={k: float(v) for k, v in (data.get("idle_cpu") or {}).items()},
            window_s=float(data.get("window_s") or 0.0),
            metrics_window_s=float(span) if span else None,
            load_generator_cpu_s=float(generator.get("cpu_s", 0.0)),
            host_cpus=int(cpus) if cpus else None,
            steal_ratio=_optional_float((data.get("host") or {}).get("steal_ratio")),
            source=data,
        )

    @property
    def span_ratio(self) -> float:
        """Metrics were read over a slightly shorter span than the front-door window: the
        ratio."""
        span = self.metrics_window_s or self.window_s
        return span / self.window_s if self.window_s else 1.0

    @property
    def front_requests(self) -> int:
        """Requests at the front door in the window, over every entry."""
        return sum(e.requests for e in self.endpoints.values())


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
