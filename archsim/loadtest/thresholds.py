"""k6-style thresholds on a load-test summary: ``p99<300ms``, ``fail_ratio<1%``,
``GET /api/products/{id}:p95<=100ms``. Any violated threshold makes the command exit 1."""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from archsim.errors import ScenarioError
from archsim.model.quantities import format_duration, parse_duration

__all__ = ["METRICS", "Threshold", "ThresholdResult", "evaluate", "parse_threshold"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
#: metric name → (summary key, kind of value: duration, ratio, count, rate)
METRICS: dict[str, tuple[str, str]] = {
    "mean": ("mean", "duration"),
    "avg": ("mean", "duration"),
    "p50": ("p50", "duration"),
    "med": ("p50", "duration"),
    "p90": ("p90", "duration"),
    "p95": ("p95", "duration"),
    "p99": ("p99", "duration"),
    "p999": ("p999", "duration"),
    "p99.9": ("p999", "duration"),
    "max": ("max", "duration"),
    "fail_ratio": ("fail_ratio", "ratio"),
    "failures": ("failures", "count"),
    "requests": ("requests", "count"),
    "rps": ("throughput", "rate"),
    "throughput": ("throughput", "rate"),
}
_FORM = re.compile(
    r"^\s*(?:(?P<scope>.+):)?\s*(?P<metric>[a-z0-9_.]+)\s*(?P<op><=|>=|<|>)\s*(?P<value>\S+)\s*$"
)
_EXAMPLE = "e.g. --check p99<300ms --check fail_ratio<1% --check 'GET /users:p95<50ms'"


@dataclass(frozen=True)
class Threshold:
    """One check: ``metric op value`` on an entry (``scope``) or on all requests (None)."""

    text: str
    scope: str | None
    metric: str
    op: str
    value: float
    kind: str


@dataclass(frozen=True)
class ThresholdResult:
    """A threshold with the measured value and whether it held."""

    threshold: Threshold
    actual: float | None
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``thresholds`` of summary.json)."""
        t = self.threshold
        return {
            "check": t.text,
            "scope": t.scope or "all",
            "metric": t.metric,
            "op": t.op,
            "limit": t.value,
            "actual": self.actual,
            "ok": self.ok,
        }

    def describe(self, value: float | None = None) -> str:
        """A value in the threshold's unit (``12.3ms``, ``0.4%``, ``120``)."""
        x = self.actual if value is None else value
        if x is None:
            return "–"
        kind = self.threshold.kind
        if kind == "duration":
            return format_duration(x)
        if kind == "ratio":
            return f"{x:.2%}"
        return f"{x:g}"


def _number(text: str, kind: str, source: str) -> float:
    try:
        if kind == "duration":
            return parse_duration(text)
        if kind == "ratio":
            return float(text[:-1]) / 100 if text.endswith("%") else float(text)
        return float(text.removesuffix("/s"))
    except ValueError:
        unit = {"duration": "a duration like 300ms", "ratio": "a ratio like 1% or 0.01"}
        raise ScenarioError(
            f"--check '{source}': cannot read '{text}' as {unit.get(kind, 'a number')}",
            hint=_EXAMPLE,
            code="bad-threshold",
        ) from None


def parse_threshold(text: str) -> Threshold:
    """Parse ``[ENTRY:]metric<op>value`` (op: < <= > >=). ScenarioError when unreadable."""
    match = _FORM.match(text)
    if not match:
        raise ScenarioError(f"cannot read --check '{text}'", hint=_EXAMPLE, code="bad-threshold")
    metric = match["metric"]
    if metric not in METRICS:
        close = difflib.get_close_matches(metric, list(METRICS), n=1)
        raise ScenarioError(
            f"--check '{text}': unknown metric '{metric}'",
            hint=f"did you mean '{close[0]}'?" if close else f"metrics: {', '.join(METRICS)}",
            code="bad-threshold",
        )
    key, kind = METRICS[metric]
    scope = " ".join(match["scope"].split()) if match["scope"] else None
    value = _number(match["value"], kind, text)
    return Threshold(text.strip(), scope, key, match["op"], value, kind)


def evaluate(
    thresholds: list[Threshold],
    endpoints: Mapping[str, Mapping[str, Any]],
    total: Mapping[str, Any],
) -> list[ThresholdResult]:
    """Check each threshold against the summary; an unknown entry is a ScenarioError."""
    results = []
    for t in thresholds:
        if t.scope is None:
            stats = total
        elif t.scope in endpoints:
            stats = endpoints[t.scope]
        else:
            close = difflib.get_close_matches(t.scope, list(endpoints), n=1, cutoff=0.4)
            raise ScenarioError(
                f"--check '{t.text}': no requests named '{t.scope}' in this run",
                hint=f"did you mean '{close[0]}'?" if close else "entries: " + ", ".join(endpoints),
                code="bad-threshold",
            )
        actual = stats.get(t.metric)
        ok = actual is not None and _OPS[t.op](float(actual), t.value)
        results.append(ThresholdResult(t, None if actual is None else float(actual), ok))
    return results
