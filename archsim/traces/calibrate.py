"""Calibrate a model from traces: a profile (the same sections ``archsim calibrate`` writes)
fitted to what the spans measured, before tuning (``archsim.traces.tune`` tunes it).

- ``operation_time`` of every model operation seen at least ``MIN_SPANS`` times: a gamma with the
  mean of its **exclusive** time (the server span less the union of its steps' spans) **plus the
  component's gap** (``archsim.traces.hops``: the mean of its callers' client spans less its
  server spans — parsing, writing and event-loop waits no span covers, and the network; for the
  front door, from its traffic source's client spans when the traces have them (the load
  generator's), else the typical gap), and the cv of the lognormal with
  the exclusive time's mean and 95th percentile (clamped to 0.2–1.5); the component's
  ``service_time`` is the count-weighted mean over its operations (the cv likewise). The gap
  is kept as the operation's time *outside* its spans: tuning decides how much of it queues.
- databases, caches and brokers: ``service_time`` = ``exp(mean)`` of the client spans of their
  queries, cache commands and publishes (the caller's view: it includes the network hop).
- ``caches in`` links: ``hit_ratio``; ``calls``/``uses`` links made by one operation and not on
  every one of its spans: ``p``.

Only components and operations the model has are written; the rest is listed in ``skipped``.
Pure: an architecture, a ``Discovery`` and the spans' ``Gaps`` in, a ``TraceFit`` out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from archsim.loadtest import tuning
from archsim.loadtest.calibrate import OpTimes, Times
from archsim.loadtest.calibration import Calibration, fitted_time
from archsim.loadtest.fit import OpFit
from archsim.model import Architecture
from archsim.model.link_address import address_of
from archsim.model.quantities import format_duration
from archsim.traces.discover import Discovery
from archsim.traces.hops import Gaps

__all__ = ["MIN_SPANS", "TraceFit", "fit_traces"]

MIN_SPANS = 20


@dataclass(frozen=True)
class TraceFit:
    """A profile fitted to traces (``calibration``), with what was left out and why; the
    service and operation times before tuning and each component's gap (s) are kept for
    ``archsim.traces.tune``."""

    calibration: Calibration
    skipped: tuple[str, ...] = ()
    fitted: dict[str, float] = field(default_factory=dict)  # component.operation → mean ms
    times: Times = field(default_factory=dict)
    ops: OpTimes = field(default_factory=dict)
    outside: dict[str, float] = field(default_factory=dict)
    gaps: Gaps = field(default_factory=Gaps)

    @property
    def profile(self) -> dict[str, Any]:
        """The profile mapping (components, links, graph)."""
        return self.calibration.profile()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the profile, the fitted means, how each value was got, what was
        skipped."""
        return {
            "profile": self.profile,
            "fitted_ms": self.fitted,
            "why": self.calibration.why,
            "skipped": list(self.skipped),
        }

    def yaml(self, source: str) -> str:
        """The profile as YAML with a header saying where it came from."""
        import yaml

        head = [
            f"# archsim calibrate --traces: fitted to {source}.",
            "# Use it with: archsim simulate MODEL.dot --profile THIS_FILE",
        ]
        head += [f"#   {k}: {v}" for k, v in sorted(self.calibration.why.items())]
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


def fit_traces(
    arch: Architecture, found: Discovery, gaps: Gaps | None = None, min_spans: int = MIN_SPANS
) -> TraceFit:
    """The profile ``found`` supports for ``arch`` (rules in the module doc), before tuning;
    ``gaps`` (``hop_gaps`` of the same spans) add each component's time outside its spans."""
    gaps = gaps or Gaps()
    comps = {c.id for c in arch.components}
    model_ops = {(o.component, o.name) for o in arch.behaviour.operations}
    fit = Calibration(architecture=arch.name)
    skipped: list[str] = []
    fitted: dict[str, float] = {}
    per_comp: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    ops: OpTimes = defaultdict(dict)
    outside: dict[str, float] = {}
    for op in found.operations:
        if op.component not in comps:
            skipped.append(f"{op.qualified}: no component {op.component} in the model")
            continue
        gap = gaps.of(op.component) if op.trigger == "request" else 0.0
        gap = outside.setdefault(op.component, gap)
        cv = _cv(op.exclusive_ms, op.exclusive_p95_ms)
        mean_s = op.exclusive_ms / 1e3 + gap
        per_comp[op.component].append((op.count, mean_s, cv))
        if (op.component, op.name) not in model_ops:
            continue  # its time still counts in the component's service time
        if op.count < min_spans:
            skipped.append(f"{op.qualified}: {op.count} spans (fewer than {min_spans})")
            continue
        fitted[op.qualified] = round(op.exclusive_ms, 4)
        why = f"exclusive time of {op.count} spans, {op.exclusive_ms:.3f} ms"
        ops[op.component][op.name] = OpFit(mean_s, cv, why, gap)
        fit.why[f"{op.qualified}.operation_time"] = why
    times: Times = {}
    for comp, rows in per_comp.items():
        total = sum(n for n, _, _ in rows)
        times[comp] = (
            sum(n * m for n, m, _ in rows) / total,
            sum(n * c for n, _, c in rows) / total,
        )
        fit.why[f"{comp}.service_time"] = (
            f"exclusive time of its {total} server spans, plus {format_duration(outside[comp])} "
            "per request outside them (the gap of the calls it answered)"
        )
    _resources(found, comps, fit)
    _links(arch, found, fit)
    tuning.write_times(fit, times, ops, 1.0)
    return TraceFit(fit, tuple(skipped), fitted, times, dict(ops), outside, gaps)


def _resources(found: Discovery, comps: set[str], fit: Calibration) -> None:
    """Databases, caches, brokers: the mean time of the steps that reach them."""
    times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for op in found.operations:
        for step in op.steps:
            if step.action in ("query", "cache", "publish") and step.target in comps:
                times[step.target].append((op.count * step.p * step.per, step.mean_ms))
    for target, rows in times.items():
        weight = sum(w for w, _ in rows)
        if weight > 0 and fit.component(target).service_time is None:
            mean = sum(w * m for w, m in rows) / weight
            fit.component(target).service_time = fitted_time(mean / 1e3, None)
            fit.why[f"{target}.service_time"] = f"mean of {weight:.0f} client spans reaching it"


def _links(arch: Architecture, found: Discovery, fit: Calibration) -> None:
    """Hit ratios of ``caches in`` links; ``p`` of calls one operation made on fewer than all
    of its spans."""
    for seen in found.links:
        pair = [k for k in arch.links if (k.source, k.target) == (seen.source, seen.target)]
        same = [k for k in pair if k.relation.value == seen.relation.replace(" ", "_")]
        if not pair:
            continue
        model_link = (same or pair)[0]
        key = str(address_of(model_link, arch.links))
        if seen.relation == "caches in" and seen.hit_ratio is not None:
            fit.link(key).hit_ratio = round(min(max(seen.hit_ratio, 0.0), 1.0), 4)
            fit.why[f"{key}.hit_ratio"] = f"{seen.count} cache spans"
        elif seen.relation in ("calls", "uses") and seen.p is not None:
            fit.link(key).p = round(seen.p, 4)
            fit.why[f"{key}.p"] = "share of the operation's spans that made the call"
