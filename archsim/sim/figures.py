"""The figures of a simulation, as frozen records: latency, and per entry, component, link and
event flow, the bottlenecks, Little's law and the figures inside and outside each fault
window. ``to_dict()`` is the JSON edge (schema ``archsim.simulation/1``,
docs/simulation-json.md); its keys are the field names, in order (``lambda`` is ``lam`` here).

Readers use the attributes (``entry.latency.p99``); dicts exist only at the JSON edge.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "Bottleneck",
    "ComponentFigures",
    "EntryFigures",
    "EventFigures",
    "FaultWindow",
    "Latency",
    "LinkFigures",
    "LittlesLaw",
    "Series",
    "WindowFigures",
]


def _json(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, tuple):
        return list(value)
    return value


class _Record:
    """The JSON edge of a figures record."""

    __slots__ = ()
    _KEYS: ClassVar[dict[str, str]] = {}  # JSON key -> field name where they differ

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: one key per field, in field order."""
        names = {v: k for k, v in self._KEYS.items()}
        return {
            names.get(f.name, f.name): _json(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }


@dataclass(frozen=True, slots=True)
class Latency(_Record):
    """Mean and quantiles (seconds) with 95% CI half-widths over replications; None where no
    replication had a request."""

    mean: float | None = None
    mean_ci: float | None = None
    p50: float | None = None
    p50_ci: float | None = None
    p90: float | None = None
    p90_ci: float | None = None
    p95: float | None = None
    p95_ci: float | None = None
    p99: float | None = None
    p99_ci: float | None = None
    p999: float | None = None
    p999_ci: float | None = None


@dataclass(frozen=True, slots=True)
class EntryFigures(_Record):
    """One entry point: requests, throughput, failure rates and latency."""

    count: int
    throughput: float
    throughput_ci: float | None
    error_rate: float
    timeout_rate: float
    rejection_rate: float
    latency: Latency

    @property
    def failed_rate(self) -> float:
        """Errors, timeouts and rejections together."""
        return self.error_rate + self.timeout_rate + self.rejection_rate


@dataclass(frozen=True, slots=True)
class ComponentFigures(_Record):
    """One station: utilisation, throughput, queue, failures, latency, its series over time
    and whether it keeps up."""

    utilisation: float
    utilisation_ci: float | None
    throughput: float
    throughput_ci: float | None
    count: int
    queue_mean: float
    queue_mean_ci: float | None
    queue_end: float
    error_rate: float
    rejection_rate: float
    capacity: int
    offered_load: float | None
    latency: Latency
    unstable: bool
    util_series: tuple[float, ...]
    queue_series: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class LinkFigures(_Record):
    """One link as its caller sees the calls."""

    source: str
    target: str
    relation: str
    throughput: float
    p99: float | None
    mean: float | None
    count: int
    error_rate: float
    timeout_rate: float
    latency: Latency

    @property
    def key(self) -> tuple[str, str, str]:
        """(source, target, relation): the link's identity."""
        return (self.source, self.target, self.relation)


@dataclass(frozen=True, slots=True)
class EventFigures(_Record):
    """One event flow (event, broker, consumer): counts, rates, backlog and delay."""

    event: str
    broker: str
    consumer: str
    published: int
    consumed: int
    failed: int
    published_rate: float
    consumed_rate: float
    backlog_mean: float
    backlog_end: float
    delay: Latency


@dataclass(frozen=True, slots=True)
class Bottleneck(_Record):
    """One of the busiest components."""

    component: str
    utilisation: float
    unstable: bool
    queue_mean: float
    offered_load: float | None


@dataclass(frozen=True, slots=True)
class LittlesLaw(_Record):
    """L (time-average requests in system) against λ·W (arrival rate × mean response time)."""

    _KEYS: ClassVar[dict[str, str]] = {"lambda": "lam"}

    L: float
    lam: float
    W: float
    W_ci: float | None
    lambda_W: float
    relative_error: float


@dataclass(frozen=True, slots=True)
class Series(_Record):
    """Throughput and mean latency over time, bin by bin (``t``: bin ends, seconds)."""

    t: tuple[float, ...] = ()
    throughput: tuple[float, ...] = ()
    latency_mean: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class WindowFigures(_Record):
    """Means over the series bins on one side of a fault window, after the warm-up: overall
    throughput (requests/s), mean latency (s) and the faulted component's utilisation (0..1);
    None where no bin had a value."""

    throughput: float | None
    latency_mean: float | None
    utilisation: float | None


@dataclass(frozen=True, slots=True)
class FaultWindow(_Record):
    """One ``--fail``/``--slow`` window (``kind``, times in seconds, slowdown ``factor``) with
    the figures inside it beside those outside."""

    component: str
    kind: str
    start_s: float
    end_s: float
    factor: float
    inside: WindowFigures
    outside: WindowFigures
