"""What ``archsim discover`` finds, as frozen records: components, links, operations with their
observed steps, and the ``Discovery`` that holds them (with what could not be placed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Client", "Component", "Discovery", "Link", "Observed", "Step"]


@dataclass(frozen=True, slots=True)
class Component:
    """A discovered component: ``kind`` is one of archsim's kinds; ``evidence`` says why."""

    id: str
    kind: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Link:
    """A discovered link; ``count`` steps were seen on it, ``rate`` per second of the window."""

    source: str
    target: str
    relation: str  # as people write it: "routes to"
    count: int
    rate: float
    order: float  # mean start offset (ms) of its steps in the source's operations
    events: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()  # the target's operations the steps reached
    p: float | None = None  # probability per operation, when one operation makes the steps
    hit_ratio: float | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One observed step of an operation: ``action`` call, query, cache, publish or send."""

    action: str
    target: str
    detail: str
    p: float
    per: float  # mean times per operation that had it (fan-out)
    offset_ms: float
    mean_ms: float

    def describe(self) -> str:
        """``call user_service.get_user`` and the like."""
        if self.action == "call":
            return f"call {self.target}.{self.detail}"
        return f"{self.action} {self.target} {self.detail}".rstrip()


@dataclass(frozen=True, slots=True)
class Observed:
    """An operation as the traces show it (times in ms, ``rate`` per second)."""

    component: str
    name: str
    trigger: str  # "request" or "event"
    count: int
    rate: float
    roots: int  # spans of it that started a trace (entries at the front door)
    mean_ms: float
    p95_ms: float
    exclusive_ms: float
    exclusive_p95_ms: float
    errors: int
    steps: tuple[Step, ...]

    @property
    def qualified(self) -> str:
        """``component.operation``."""
        return f"{self.component}.{self.name}"


@dataclass(frozen=True, slots=True)
class Client:
    """A traffic source: ``service`` sent ``count`` requests (``rate`` per second, mean
    ``mean_ms`` as the client measured them) answered by ``target``, the front door."""

    service: str
    target: str
    count: int
    rate: float
    mean_ms: float

    def describe(self) -> str:
        """``load-generator → load_balancer: 120 requests (12.00/s, mean 3.10 ms)``."""
        return (
            f"{self.service} → {self.target}: {self.count} requests ({self.rate:.2f}/s, "
            f"mean {self.mean_ms:.2f} ms as the client measured them)"
        )


@dataclass(frozen=True)
class Discovery:
    """Everything ``discover`` found, and what it could not place."""

    components: tuple[Component, ...]
    links: tuple[Link, ...]
    operations: tuple[Observed, ...]
    unclassified: tuple[str, ...]
    notes: tuple[str, ...]
    spans: int
    traces: int
    window_s: float
    services: tuple[str, ...] = field(default=())
    clients: tuple[Client, ...] = field(default=())  # traffic sources: not components

    def link(self, source: str, target: str) -> Link | None:
        """The link from ``source`` to ``target``, if discovered."""
        return next((k for k in self.links if k.source == source and k.target == target), None)

    def operation(self, component: str, name: str) -> Observed | None:
        """The observed operation ``component.name``, if any."""
        return next(
            (o for o in self.operations if o.component == component and o.name == name), None
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (``discover --json``)."""
        return {
            "spans": self.spans,
            "traces": self.traces,
            "window_s": round(self.window_s, 3),
            "components": [
                {"id": c.id, "kind": c.kind, "evidence": c.evidence} for c in self.components
            ],
            "links": [
                {
                    "source": k.source,
                    "target": k.target,
                    "relation": k.relation,
                    "count": k.count,
                    "rate": round(k.rate, 3),
                    "events": list(k.events),
                    "operations": list(k.operations),
                    "p": k.p,
                    "hit_ratio": k.hit_ratio,
                }
                for k in self.links
            ],
            "operations": [
                {
                    "component": o.component,
                    "name": o.name,
                    "trigger": o.trigger,
                    "count": o.count,
                    "rate": round(o.rate, 3),
                    "roots": o.roots,
                    "mean_ms": round(o.mean_ms, 3),
                    "p95_ms": round(o.p95_ms, 3),
                    "exclusive_ms": round(o.exclusive_ms, 3),
                    "errors": o.errors,
                    "steps": [
                        {
                            "step": s.describe(),
                            "action": s.action,
                            "target": s.target,
                            "detail": s.detail,
                            "p": round(s.p, 4),
                            "per": round(s.per, 3),
                            "offset_ms": round(s.offset_ms, 3),
                            "mean_ms": round(s.mean_ms, 3),
                        }
                        for s in o.steps
                    ],
                }
                for o in self.operations
            ],
            "clients": [
                {
                    "service": c.service,
                    "target": c.target,
                    "count": c.count,
                    "rate": round(c.rate, 3),
                    "mean_ms": round(c.mean_ms, 3),
                }
                for c in self.clients
            ],
            "unclassified": list(self.unclassified),
            "notes": list(self.notes),
        }
