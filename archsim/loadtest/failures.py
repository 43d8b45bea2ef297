"""Failed requests of a load test, said out loud.

A run whose requests fail measures the failures, not the system: ``archsim loadtest`` warns
(and exits 1) above ``LOADTEST_LIMIT`` failed requests, naming each failing entry with its most
frequent error; ``compare`` and ``calibrate`` refuse a measurement above ``MEASURE_LIMIT``
(a ScenarioError, exit 2), unless the user passes ``--allow-failures``. The errors come from
Locust's ``locust_failures.csv``; everything but ``read_errors`` is pure.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archsim.errors import ScenarioError

__all__ = [
    "LOADTEST_LIMIT",
    "MEASURE_LIMIT",
    "FailingEntry",
    "check_failures",
    "failing_entries",
    "failure_warning",
    "read_errors",
]

#: Above this share of failed requests a load test warns and exits 1.
LOADTEST_LIMIT = 0.01
#: Above this share of failed requests compare and calibrate refuse the measurement.
MEASURE_LIMIT = 0.05
# Locust wraps a failure's text: CatchResponseError('502: {...}') → 502: {...}
_WRAPPED = re.compile(r"^[A-Za-z]+Error\((['\"].*['\"])\)$", re.S)
# what the generated locustfile records: "502: <body>"; a JSON body's detail says it best
_STATUS_BODY = re.compile(r"^(\d{3}): (\{.*\})$", re.S)


@dataclass(frozen=True)
class FailingEntry:
    """One entry with failed requests and the error it failed with most often."""

    entry: str
    requests: int
    failures: int
    error: str | None = None
    occurrences: int = 0

    @property
    def ratio(self) -> float:
        """Failed share of this entry's requests."""
        return self.failures / self.requests if self.requests else 0.0

    def describe(self) -> str:
        """``GET /carts/{id}: 87% of 120 failed, most often (96×) 502: …``."""
        share = f"{self.ratio:.1%}" if self.ratio < 0.1 else f"{self.ratio:.0%}"
        text = f"{self.entry}: {share} of {self.requests} failed"
        if self.error:
            text += f", most often ({self.occurrences}×) {self.error}"
        return text


def _unwrap(error: str) -> str:
    """Locust's ``CatchResponseError('502: {"detail": …}')`` → ``502: …`` (the detail)."""
    text = error.strip()
    match = _WRAPPED.match(text)
    if match:
        with contextlib.suppress(ValueError, SyntaxError):
            text = str(ast.literal_eval(match.group(1)))
    match = _STATUS_BODY.match(text)
    if match:
        with contextlib.suppress(ValueError):
            body = json.loads(match.group(2))
            detail = body.get("detail") if isinstance(body, dict) else None
            if detail:
                said = detail if isinstance(detail, str) else json.dumps(detail)
                text = f"{match.group(1)}: {said}"
    return text if len(text) <= 200 else text[:197] + "…"


def read_errors(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Per entry, its errors by decreasing count, from Locust's failures CSV ({} if none)."""
    errors: dict[str, list[dict[str, Any]]] = {}
    with (
        contextlib.suppress(OSError, csv.Error, KeyError, ValueError),
        open(path, newline="") as fh,
    ):
        for row in csv.DictReader(fh):
            errors.setdefault(row["Name"], []).append(
                {"error": _unwrap(row["Error"]), "count": int(row["Occurrences"])}
            )
    for items in errors.values():
        items.sort(key=lambda e: -e["count"])
        del items[5:]
    return errors


def failing_entries(summary: Mapping[str, Any]) -> list[FailingEntry]:
    """Entries with failed requests, most failures first, each with its top error."""
    errors: Mapping[str, list[Mapping[str, Any]]] = summary.get("errors") or {}
    out = []
    for name, e in summary.get("endpoints", {}).items():
        if not e.get("failures"):
            continue
        listed = errors.get(name)
        top = listed[0] if listed else None
        out.append(
            FailingEntry(
                entry=name,
                requests=int(e["requests"]),
                failures=int(e["failures"]),
                error=top["error"] if top else None,
                occurrences=int(top["count"]) if top else 0,
            )
        )
    return sorted(out, key=lambda f: (-f.failures, f.entry))


def _pct(ratio: float, limit: float) -> str:
    """``5.0%`` — with one more digit when that alone would read as the limit itself."""
    text = f"{ratio:.1%}"
    return f"{ratio:.2%}" if text == f"{limit:.1%}" else text


def _fail_ratio(summary: Mapping[str, Any]) -> float:
    return float((summary.get("total") or {}).get("fail_ratio", 0.0))


def failure_warning(summary: Mapping[str, Any], limit: float = LOADTEST_LIMIT) -> str | None:
    """The warning for a run with more than ``limit`` failed requests, else None."""
    ratio = _fail_ratio(summary)
    if ratio <= limit:
        return None
    total = summary.get("total") or {}
    head = f"{_pct(ratio, limit)} of {total.get('requests', 0)} requests failed"
    lines = [f"{head} (more than {limit:.0%}): the figures measure failures, not the system"]
    lines += [f"  {f.describe()}" for f in failing_entries(summary)]
    return "\n".join(lines)


def check_failures(
    summary: Mapping[str, Any],
    source: str = "the run",
    limit: float = MEASURE_LIMIT,
    allow: bool = False,
) -> None:
    """ScenarioError when more than ``limit`` of the measured requests failed (unless
    ``allow``): latencies of failed requests are no measurement of working ones."""
    ratio = _fail_ratio(summary)
    if allow or ratio <= limit:
        return
    failing = failing_entries(summary)
    names = "; ".join(f.describe() for f in failing[:5])
    raise ScenarioError(
        f"{source}: {_pct(ratio, limit)} of the measured requests failed (more than {limit:.0%}): "
        f"{names}",
        hint="fix the failing entries (archsim logs DIR shows each failed call) and measure "
        "again, or pass --allow-failures to use the run anyway",
        code="failed-measurement",
    )
