"""Service-level objectives for ``plan``: ``p99<300ms``, ``mean<=50ms``, ``error_rate<1%``, joined
with commas (``p99<300ms,error_rate<0.5%``). Latency objectives are over all entries."""

from __future__ import annotations

import re
from dataclasses import dataclass

from archsim.capacity.results import Measurement
from archsim.errors import ScenarioError
from archsim.model.quantities import parse_duration, parse_probability
from archsim.sim.results import short_duration

__all__ = ["LATENCY_METRICS", "Slo", "parse_slos"]

LATENCY_METRICS = ("mean", "p50", "p90", "p95", "p99", "p999")
_SLO = re.compile(r"^\s*([A-Za-z_0-9.]+)\s*(<=|<)\s*(\S.*?)\s*$")
_ALIASES = {"p99.9": "p999", "errors": "error_rate", "error-rate": "error_rate"}


@dataclass(frozen=True)
class Slo:
    """One objective: ``metric`` (``p99``, ``mean``, …: seconds; ``error_rate``: fraction)
    must stay below ``limit`` (or at most, when ``inclusive``)."""

    metric: str
    limit: float
    inclusive: bool = False

    def __str__(self) -> str:
        op = "<=" if self.inclusive else "<"
        if self.metric == "error_rate":
            value = f"{self.limit * 100:g}%"
        else:
            value = short_duration(self.limit)
        return f"{self.metric}{op}{value}"

    def value(self, m: Measurement) -> float | None:
        """The measured value this objective reads."""
        return m.metric(self.metric)[0]

    def met(self, m: Measurement) -> bool:
        """True when ``m`` meets the objective (a missing value never does)."""
        x = self.value(m)
        if x is None:
            return False
        return x <= self.limit if self.inclusive else x < self.limit


def parse_slos(text: str) -> tuple[Slo, ...]:
    """Read ``p99<300ms,error_rate<1%``; raises ScenarioError naming the bad part."""
    out = []
    hint = "e.g. --slo 'p99<300ms' or --slo 'p95<200ms,error_rate<1%'"
    for part in (p for p in text.split(",") if p.strip()):
        match = _SLO.match(part)
        if not match:
            raise ScenarioError(f"cannot read --slo '{part.strip()}'", hint=hint, code="bad-slo")
        name, op, limit = match.groups()
        name = _ALIASES.get(name.lower(), name.lower())
        try:
            if name in LATENCY_METRICS:
                value = parse_duration(limit)
            elif name == "error_rate":
                value = parse_probability(limit)
            else:
                raise ScenarioError(
                    f"--slo: unknown metric '{name}'",
                    hint=f"use one of {', '.join(LATENCY_METRICS)}, error_rate",
                    code="bad-slo",
                )
        except ValueError as exc:
            raise ScenarioError(
                f"--slo '{part.strip()}': {exc}", hint=hint, code="bad-slo"
            ) from None
        out.append(Slo(name, value, op == "<="))
    if not out:
        raise ScenarioError("--slo is empty", hint=hint, code="bad-slo")
    return tuple(out)
