"""Calibrate a model from traces: a profile (the same sections ``archsim calibrate`` writes)
fitted to what the spans measured.

- ``operation_time`` of every model operation seen at least ``MIN_SPANS`` times: a gamma with the
  mean of its **exclusive** time (the server span less the union of its steps' spans) and the cv
  of the lognormal with that mean and 95th percentile (clamped to 0.2–1.5); the component's
  ``service_time`` is the count-weighted mean over its operations (the cv likewise).
- databases, caches and brokers: ``service_time`` = ``exp(mean)`` of the client spans of their
  queries, cache commands and publishes (the caller's view: it includes the network hop).
- ``caches in`` links: ``hit_ratio``; ``calls``/``uses`` links made by one operation and not on
  every one of its spans: ``p``.

Only components and operations the model has are written; the rest is listed in ``skipped``.
Pure: an architecture and a ``Discovery`` in, a ``TraceFit`` out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from archsim.model import Architecture
from archsim.traces.discover import Discovery

__all__ = ["MIN_SPANS", "TraceFit", "fit_traces"]

MIN_SPANS = 20


@dataclass(frozen=True)
class TraceFit:
    """A profile fitted to traces, with what was left out and why."""

    profile: dict[str, Any]
    skipped: tuple[str, ...] = ()
    fitted: dict[str, float] = field(default_factory=dict)  # component.operation → mean ms

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the profile, the fitted means and what was skipped."""
        return {"profile": self.profile, "fitted_ms": self.fitted, "skipped": list(self.skipped)}

    def yaml(self, source: str) -> str:
        """The profile as YAML with a header saying where it came from."""
        import yaml

        head = [
            f"# archsim calibrate --traces: fitted to {source}.",
            "# Use it with: archsim simulate MODEL.dot --profile THIS_FILE",
        ]
        return "\n".join(head) + "\n" + yaml.safe_dump(self.profile, sort_keys=True)


def _cv(mean: float, p95: float) -> float:
    """The cv of the lognormal with this mean and 95th percentile: ``p95/mean = exp(1.645σ −
    σ²/2)``, solved for the smaller σ; clamped to 0.2–1.5."""
    if mean <= 0 or p95 <= mean:
        return 0.2
    ratio = math.log(p95 / mean)
    disc = 1.645**2 - 2 * ratio
    sigma = 1.645 - math.sqrt(disc) if disc > 0 else 1.645
    return min(1.5, max(0.2, math.sqrt(math.exp(sigma * sigma) - 1)))


def _ms(value: float) -> str:
    return f"{value * 1000:.4g}us" if value < 1 else f"{value:.4g}ms"


def _gamma(mean_ms: float, cv: float) -> str:
    return f"gamma(mean={_ms(max(mean_ms, 0.001))},cv={cv:.2f})"


def fit_traces(arch: Architecture, found: Discovery, min_spans: int = MIN_SPANS) -> TraceFit:
    """The profile ``found`` supports for ``arch`` (rules in the module doc)."""
    comps = {c.id for c in arch.components}
    model_ops = {(o.component, o.name) for o in arch.behaviour.operations}
    components: dict[str, dict[str, str]] = defaultdict(dict)
    skipped: list[str] = []
    fitted: dict[str, float] = {}
    per_comp: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for op in found.operations:
        if op.component not in comps:
            skipped.append(f"{op.qualified}: no component {op.component} in the model")
            continue
        cv = _cv(op.exclusive_ms, op.exclusive_p95_ms)
        per_comp[op.component].append((op.count, op.exclusive_ms, cv))
        if (op.component, op.name) not in model_ops:
            continue  # its time still counts in the component's service time
        if op.count < min_spans:
            skipped.append(f"{op.qualified}: {op.count} spans (fewer than {min_spans})")
            continue
        fitted[op.qualified] = round(op.exclusive_ms, 4)
        times = components[op.component].get("operation_time", "")
        entry = f"{op.name}={_gamma(op.exclusive_ms, cv)}"
        components[op.component]["operation_time"] = f"{times}; {entry}" if times else entry
    for comp, rows in per_comp.items():
        total = sum(n for n, _, _ in rows)
        mean = sum(n * m for n, m, _ in rows) / total
        cv = sum(n * c for n, _, c in rows) / total
        components[comp]["service_time"] = _gamma(mean, cv)
    _resources(found, comps, components)
    links = _links(arch, found)
    profile: dict[str, Any] = {"components": dict(components)}
    if links:
        profile["links"] = links
    return TraceFit(profile, tuple(skipped), fitted)


def _resources(found: Discovery, comps: set[str], out: dict[str, dict[str, str]]) -> None:
    """Databases, caches, brokers: the mean time of the steps that reach them."""
    times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for op in found.operations:
        for step in op.steps:
            if step.action in ("query", "cache", "publish") and step.target in comps:
                times[step.target].append((op.count * step.p * step.per, step.mean_ms))
    for target, rows in times.items():
        weight = sum(w for w, _ in rows)
        if weight > 0 and "service_time" not in out.get(target, {}):
            mean = sum(w * m for w, m in rows) / weight
            out[target]["service_time"] = f"exp({_ms(mean)})"


def _links(arch: Architecture, found: Discovery) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for model_link in arch.links:
        pairs[(model_link.source, model_link.target)] += 1
    for seen in found.links:
        key = (seen.source, seen.target)
        if key not in pairs:
            continue
        name = f"{seen.source}->{seen.target}"
        if pairs[key] > 1:
            name += f"[{seen.relation}]"
        if seen.relation == "caches in" and seen.hit_ratio is not None:
            out[name] = {"hit_ratio": round(min(max(seen.hit_ratio, 0.0), 1.0), 4)}
        elif seen.relation in ("calls", "uses") and seen.p is not None:
            out[name] = {"p": round(seen.p, 4)}
    return out
