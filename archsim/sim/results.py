"""Frozen simulation results: the record the simulator hands on (figures per entry,
component, link and event flow, as records of ``archsim.sim.figures``), rendered as JSON
(schema ``archsim.simulation/1``, docs/simulation-json.md, by ``to_dict``), CSV and Rich
tables (``archsim.sim.result_tables``). Built by ``archsim.sim.aggregate``.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult

from archsim.sim.analytic import Solution
from archsim.sim.figures import (
    Bottleneck,
    ComponentFigures,
    EntryFigures,
    EventFigures,
    Latency,
    LinkFigures,
    LittlesLaw,
    Series,
)
from archsim.sim.host import HostResult
from archsim.sim.result_tables import render_result, short_duration

__all__ = ["QUANTILES", "SCHEMA", "SimulationResult", "short_duration"]

SCHEMA = "archsim.simulation/1"
QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999))


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation predicts: per entry, component, link and event flow (see schema).
    ``workload`` and ``config`` echo the run's inputs as their JSON."""

    entries: dict[str, EntryFigures]
    components: dict[str, ComponentFigures]
    links: list[LinkFigures]
    events: list[EventFigures]
    bottlenecks: list[Bottleneck]
    littles_law: LittlesLaw
    workload: dict[str, Any]
    config: dict[str, Any]
    seed: int
    replications: int
    warmup: float
    series: Series
    architecture: str
    analytic: Solution | None = None
    cdf: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    host: HostResult | None = None
    truncated: int = 0  # calls cut at the simulator's call-depth cap (sim.steps.MAX_CALL_DEPTH)
    compensations: int = 0  # saga undos run (a write failed after a charge), all replications

    @property
    def unstable(self) -> list[str]:
        """Components that cannot keep up (utilisation ~1 or a growing queue)."""
        return [c for c, v in self.components.items() if v.unstable]

    @property
    def mean_latency(self) -> tuple[float, float]:
        """Overall mean response time over all entries (seconds) and its CI half-width."""
        m = self.littles_law
        return m.W, m.W_ci or math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (schema ``archsim.simulation/1``)."""
        return {
            "schema": SCHEMA,
            "architecture": self.architecture,
            "seed": self.seed,
            "replications": self.replications,
            "warmup_s": self.warmup,
            "workload": self.workload,
            "config": self.config,
            "entries": {eid: e.to_dict() for eid, e in self.entries.items()},
            "components": {cid: c.to_dict() for cid, c in self.components.items()},
            "links": [lk.to_dict() for lk in self.links],
            "events": [ev.to_dict() for ev in self.events],
            "bottlenecks": [b.to_dict() for b in self.bottlenecks],
            "littles_law": self.littles_law.to_dict(),
            "series": self.series.to_dict(),
            "analytic": self.analytic.to_dict() if self.analytic is not None else None,
            "host": self.host.to_dict() if self.host is not None else None,
            "truncated_calls": self.truncated,
            "compensations": self.compensations,
            "windows": self.windows,
        }

    @property
    def windows(self) -> list[dict[str, Any]]:
        """Each --fail/--slow window with the figures inside it beside those outside (after the
        warm-up): overall throughput and mean latency, and the faulted component's utilisation,
        from the time series (means over replications)."""
        t = self.series.t
        out = []
        for fault in self.config.get("faults") or ():
            start, end = fault["start_s"], fault["end_s"]
            comp = self.components.get(fault["component"])
            inside = [i for i, x in enumerate(t) if start < x <= end and x > self.warmup]
            outside = [i for i, x in enumerate(t) if not start < x <= end and x > self.warmup]
            series = {"throughput": self.series.throughput,
                      "latency_mean": self.series.latency_mean,
                      "utilisation": comp.util_series if comp is not None else ()}  # fmt: skip
            inside_means = {k: _mean_at(v, inside) for k, v in series.items()}
            outside_means = {k: _mean_at(v, outside) for k, v in series.items()}
            out.append({**fault, "inside": inside_means, "outside": outside_means})
        return out

    def to_csv(self) -> str:
        """One row per entry and per component: scope, id, count, throughput, rates, latency."""
        buf = io.StringIO()
        names = ["mean", *(n for n, _ in QUANTILES)]
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(
            ["scope", "id", "count", "throughput", "error_rate", "timeout_rate",
             "rejection_rate", "utilisation", "queue_mean",
             *(f"{n}_s" for n in names), *(f"{n}_ci_s" for n in names)]
        )  # fmt: skip
        for eid, e in self.entries.items():
            writer.writerow(
                ["entry", eid, e.count, e.throughput, e.error_rate, e.timeout_rate,
                 e.rejection_rate, "", "", *_latency_columns(e.latency, names)]
            )  # fmt: skip
        for cid, c in self.components.items():
            writer.writerow(
                ["component", cid, c.count, c.throughput, c.error_rate, "", c.rejection_rate,
                 c.utilisation, c.queue_mean, *_latency_columns(c.latency, names)]
            )  # fmt: skip
        return buf.getvalue()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from render_result(self, console, options)


def _latency_columns(lat: Latency, names: list[str]) -> list[float | None]:
    return [*(getattr(lat, n) for n in names), *(getattr(lat, f"{n}_ci") for n in names)]


def _mean_at(values: tuple[float, ...], idx: list[int]) -> float | None:
    """The mean of ``values`` at the indexes ``idx`` (NaN skipped), None when none is there."""
    picked = [values[i] for i in idx if i < len(values) and values[i] == values[i]]
    return sum(picked) / len(picked) if picked else None
