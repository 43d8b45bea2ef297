"""Typed records of the dashboard: what was measured, what the model predicts, and the verdict
for every component and link, plus the frame the page polls (its JSON edge is ``to_dict``).

Units: rates in requests per second, latencies in seconds, ratios in 0..1.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["SCHEMA", "Frame", "Measured", "Predicted", "Reading", "State", "link_id"]

SCHEMA = "archsim.dashboard/1"


class State(StrEnum):
    """The verdict on one component or link, as the page colours it."""

    OK = "ok"  # measured within the prediction's interval
    DEPARTS = "departs"  # measured outside the interval (``reasons`` say which figure)
    ERROR = "error"  # down, or failing more than the error threshold
    IDLE = "idle"  # no traffic measured and none predicted
    UNKNOWN = "unknown"  # nothing to judge yet (first poll, or nothing measurable)


def link_id(source: str, target: str, relation: str) -> str:
    """The id of a link on the page and in the JSON (``source->target:relation``)."""
    return f"{source}->{target}:{relation}"


@dataclass(frozen=True, slots=True)
class Measured:
    """Figures between two polls. ``source``: ``metrics`` (the component's own counters),
    ``calls`` (the caller's call/cache/event counters), ``derived`` (measured operation rates
    through the model's steps, for what has no counter of its own, e.g. SQL), ``links`` (an
    uninstrumented component: the sum of its measured links)."""

    throughput: float
    count: float
    errors: float = 0.0
    mean: float | None = None
    p95: float | None = None
    source: str = "metrics"

    @property
    def error_ratio(self) -> float | None:
        """Failed share of the window's requests (None without requests)."""
        return self.errors / self.count if self.count > 0 else None


@dataclass(frozen=True, slots=True)
class Predicted:
    """The model's figures at the measured arrival rate; ``p95_approx`` when the p95 is the
    exponential-response estimate of the analytic solver (ln 20 × mean), not a simulation's."""

    throughput: float
    mean: float | None = None
    p95: float | None = None
    utilisation: float | None = None
    p95_approx: bool = False


@dataclass(frozen=True, slots=True)
class Reading:
    """Measured beside predicted for one component (``source``/``target`` None) or link.
    ``interval`` is the band of throughput consistent with the prediction (requests/s)."""

    id: str
    label: str
    kind: str  # component kind, or the link's interaction (sync, async, data, infra)
    measured: Measured | None
    predicted: Predicted | None
    state: State
    reasons: tuple[str, ...] = ()
    interval: tuple[float, float] | None = None
    up: bool | None = None  # None: nothing to probe (e.g. a SQLite file)
    source: str | None = None
    target: str | None = None
    relation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (error ratio included; non-finite numbers as null)."""
        out = _clean(asdict(self))
        out["state"] = self.state.value
        if self.measured is not None:
            out["measured"]["error_ratio"] = _clean(self.measured.error_ratio)
        return out


@dataclass(frozen=True)
class Frame:
    """Everything the page shows at one refresh."""

    architecture: str
    taken_at: float
    window_s: float | None
    arrival_rate: float | None  # requests/s: the rate that best explains what was measured
    method: str | None  # how the prediction was made (analytic, simulation) or why there is none
    predict_ms: float | None
    components: list[Reading] = field(default_factory=list)
    links: list[Reading] = field(default_factory=list)
    loadtest: dict[str, Any] | None = None
    refresh_s: float = 2.0
    sequence: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON the page polls (schema ``archsim.dashboard/1``)."""
        return {
            "schema": SCHEMA,
            "architecture": self.architecture,
            "sequence": self.sequence,
            "taken_at": self.taken_at,
            "refresh_s": self.refresh_s,
            "window_s": _clean(self.window_s),
            "arrival_rate": _clean(self.arrival_rate),
            "method": self.method,
            "predict_ms": _clean(self.predict_ms),
            "components": [r.to_dict() for r in self.components],
            "links": [r.to_dict() for r in self.links],
            "loadtest": self.loadtest,
        }


def _clean(value: Any) -> Any:
    """Non-finite floats become None (JSON has no inf/nan), recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
