"""Predicted vs measured as frozen records: per entry and per component, measured and predicted
throughput and latency cells with the relative error, and the summary over the entries. Built
by ``archsim.loadtest.compare``; ``to_dict()`` is the JSON edge (schema ``archsim.compare/1``,
docs/compare.md), its keys the field names, in order. Rendered as Rich tables here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from archsim.narrow import fit_table
from archsim.sim.results import short_duration

__all__ = [
    "COMPARE_SCHEMA",
    "CdfPair",
    "CompareSummary",
    "Comparison",
    "ComponentRow",
    "EntryRow",
    "FailureCell",
    "LatencyCell",
    "ThroughputCell",
]

COMPARE_SCHEMA = "archsim.compare/1"


class _Record:
    """The JSON edge of a comparison record."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: one key per field, in field order."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class ThroughputCell(_Record):
    """Requests/s measured and predicted; ``rel_error`` = (predicted − measured) / measured."""

    measured: float
    predicted: float
    rel_error: float | None


@dataclass(frozen=True, slots=True)
class LatencyCell(_Record):
    """One latency figure (s) measured and predicted, the prediction's 95% CI half-width, the
    relative error and whether the measurement lies inside the CI (None: a side is missing)."""

    measured: float | None
    predicted: float | None
    ci: float | None
    rel_error: float | None
    inside_ci: bool | None


@dataclass(frozen=True, slots=True)
class FailureCell(_Record):
    """Share of failed requests (0..1), measured and predicted."""

    measured: float
    predicted: float


@dataclass(frozen=True, slots=True)
class EntryRow(_Record):
    """One entry point at the front door: throughput, latency and failures."""

    throughput: ThroughputCell
    mean: LatencyCell
    p50: LatencyCell
    p95: LatencyCell
    p99: LatencyCell
    failures: FailureCell


@dataclass(frozen=True, slots=True)
class ComponentRow(_Record):
    """One component's service-side time per request; its measured CPU utilisation (cores
    busy over the window, None when not measured) beside the predicted utilisation (0..1)."""

    throughput: ThroughputCell
    mean: LatencyCell
    p50: LatencyCell
    p95: LatencyCell
    p99: LatencyCell
    cpu_utilisation: float | None
    utilisation: float


@dataclass(frozen=True, slots=True)
class CompareSummary(_Record):
    """How many entry means and p95s are within the tolerance, and the worst relative errors
    (absolute; None when no entry has that figure on both sides)."""

    mean_within: int
    p95_within: int
    mean_worst: float | None
    p95_worst: float | None
    entries: int


@dataclass(frozen=True, slots=True)
class CdfPair:
    """One entry's latency CDFs for the report: (latency s, cumulative fraction) points."""

    measured: Sequence[Sequence[float]]
    predicted: Sequence[Sequence[float]]


def _abs_errors(cells: Iterable[LatencyCell]) -> list[float]:
    return [abs(c.rel_error) for c in cells if c.rel_error is not None]


@dataclass(frozen=True)
class Comparison:
    """Per-entry and per-component rows. ``workload`` is the measured run's, as its
    summary.json records it (JSON in, echoed to JSON out)."""

    architecture: str
    workload: Mapping[str, Any]
    entries: dict[str, EntryRow]
    components: dict[str, ComponentRow]
    tolerance: float
    cdf: dict[str, CdfPair]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (schema ``archsim.compare/1``)."""
        return {
            "schema": COMPARE_SCHEMA,
            "architecture": self.architecture,
            "workload": dict(self.workload),
            "tolerance": self.tolerance,
            "entries": {eid: r.to_dict() for eid, r in self.entries.items()},
            "components": {cid: r.to_dict() for cid, r in self.components.items()},
            "summary": self.summary().to_dict(),
        }

    def summary(self) -> CompareSummary:
        """How many entry means/p95s are within the tolerance, and the worst errors."""
        mean = _abs_errors(r.mean for r in self.entries.values())
        p95 = _abs_errors(r.p95 for r in self.entries.values())
        return CompareSummary(
            mean_within=sum(e <= self.tolerance for e in mean),
            p95_within=sum(e <= self.tolerance for e in p95),
            mean_worst=max(mean, default=None),
            p95_worst=max(p95, default=None),
            entries=len(self.entries),
        )

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        t = Table(
            title=f"{self.architecture}: predicted vs measured per entry (tolerance "
            f"±{self.tolerance:.0%}; ✓ = inside the prediction's 95% CI)",
            title_justify="left",
        )
        t.add_column("entry", no_wrap=True)
        for col in ("req/s m/p", "mean m/p", "err", "p95 m/p", "err", "p99 m/p"):
            t.add_column(col, justify="right")
        for eid, r in self.entries.items():
            t.add_row(
                eid,
                f"{r.throughput.measured:.1f}/{r.throughput.predicted:.1f}",
                _pair(r.mean),
                self._err(r.mean),
                _pair(r.p95),
                self._err(r.p95),
                _pair(r.p99),
            )
        yield fit_table(t, console, options, optional=("p99 m/p",))
        c = Table(title="per component (service-side time per request)", title_justify="left")
        for col in ("component", "req/s m/p", "mean m/p", "err", "p95 m/p", "cpu m", "util p"):
            c.add_column(col, justify="left" if col == "component" else "right")
        for cid, cr in self.components.items():
            cpu = cr.cpu_utilisation
            c.add_row(
                cid,
                f"{cr.throughput.measured:.1f}/{cr.throughput.predicted:.1f}",
                _pair(cr.mean),
                self._err(cr.mean),
                _pair(cr.p95),
                "–" if cpu is None else f"{cpu:.0%}",
                f"{cr.utilisation:.0%}",
            )
        yield fit_table(c, console, options)
        s = self.summary()
        yield Text(
            f"entries within ±{self.tolerance:.0%}: mean {s.mean_within}/{s.entries}, "
            f"p95 {s.p95_within}/{s.entries}",
            "bold",
        )

    def _err(self, cell: LatencyCell) -> Text:
        e = cell.rel_error
        if e is None:
            return Text("–")
        mark = " ✓" if cell.inside_ci else ""
        return Text(f"{e:+.0%}{mark}", "green" if abs(e) <= self.tolerance else "red")


def _pair(cell: LatencyCell) -> str:
    return f"{short_duration(cell.measured)}/{short_duration(cell.predicted)}"
