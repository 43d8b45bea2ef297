"""Frozen records of capacity work: one Measurement per simulated scenario; a SweepResult (levels,
knee) and a PlanResult (sizing, costs, verification) that render as Rich tables and JSON
(schemas ``archsim.sweep/1``, ``archsim.plan/1``); sweeps also as CSV, plans as a profile.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import yaml
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from archsim.capacity.axis import Axis
from archsim.narrow import fit_table
from archsim.sim.results import short_duration

__all__ = [
    "PLAN_SCHEMA",
    "SWEEP_SCHEMA",
    "Knee",
    "Measurement",
    "PlanResult",
    "Sizing",
    "SweepPoint",
    "SweepResult",
    "ci_text",
]

SWEEP_SCHEMA = "archsim.sweep/1"
PLAN_SCHEMA = "archsim.plan/1"
Sizing = dict[str, tuple[int, int]]  # component id -> (replicas, workers per replica)
_LATENCY = ("mean", "p50", "p90", "p95", "p99", "p999")


def ci_text(value: float | None, hw: float | None, *, fmt: str = "dur") -> str:
    """``12.3ms ±0.4ms`` (durations) or ``812.1 ±3.2`` (``fmt="num"``); ``–`` when missing."""
    show = short_duration if fmt == "dur" else (lambda x: f"{x:.1f}")
    if value is None:
        return "–"
    return show(value) if hw is None else f"{show(value)} ±{show(hw)}"


@dataclass(frozen=True)
class Measurement:
    """A scenario's overall figures over all entries, with 95% CI half-widths (``*_ci``) over
    replications: throughput and goodput (successful requests/s), latency (seconds), error
    rate (failed, timed out or rejected / completed), utilisation per component (busiest first)
    and the components that cannot keep up (``unstable``, busiest first)."""

    offered_rps: float | None
    users: int | None
    throughput: float
    throughput_ci: float | None
    goodput: float
    goodput_ci: float | None
    error_rate: float
    latency: dict[str, float | None]
    utilisation: dict[str, float]
    unstable: tuple[str, ...]
    replications: int

    @property
    def stable(self) -> bool:
        """No component falls behind."""
        return not self.unstable

    @property
    def bottleneck(self) -> str | None:
        """The busiest component."""
        return next(iter(self.utilisation), None)

    @property
    def bottleneck_utilisation(self) -> float:
        """Utilisation (0..1) of the busiest component."""
        return next(iter(self.utilisation.values()), 0.0)

    @property
    def saturated(self) -> str | None:
        """The first component to saturate here: the busiest unstable one (None when stable)."""
        return self.unstable[0] if self.unstable else None

    def metric(self, name: str) -> tuple[float | None, float | None]:
        """(value, CI half-width) of ``mean``/``p50``/…/``p999`` (s), ``error_rate`` or
        ``throughput``/``goodput`` (requests/s)."""
        if name == "error_rate":
            return self.error_rate, None
        if name in ("throughput", "goodput"):
            return getattr(self, name), getattr(self, f"{name}_ci")
        return self.latency.get(name), self.latency.get(f"{name}_ci")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (seconds, requests/s, fractions)."""
        return {
            "offered_rps": self.offered_rps,
            "users": self.users,
            "throughput": self.throughput,
            "throughput_ci": self.throughput_ci,
            "goodput": self.goodput,
            "goodput_ci": self.goodput_ci,
            "error_rate": self.error_rate,
            "latency": self.latency,
            "bottleneck": self.bottleneck,
            "bottleneck_utilisation": self.bottleneck_utilisation,
            "saturated": self.saturated,
            "unstable": list(self.unstable),
            "utilisation": self.utilisation,
            "replications": self.replications,
        }


@dataclass(frozen=True)
class SweepPoint:
    """One level of a sweep: the axis value (as a number and as written) and its Measurement."""

    value: float
    text: str
    measurement: Measurement


@dataclass(frozen=True)
class Knee:
    """Where the curve bends. ``value`` is on the swept axis, ``capacity_rps`` the most the
    system sustains (requests/s), ``component`` the one that saturates first, ``method`` how it
    was found (``utilisation-law``, ``asymptotes``, ``diminishing-returns``,
    ``none``) and ``reached`` whether a swept level was past it."""

    value: float | None
    capacity_rps: float | None
    component: str | None
    method: str
    reached: bool
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "value": self.value,
            "capacity_rps": self.capacity_rps,
            "component": self.component,
            "method": self.method,
            "reached": self.reached,
            "note": self.note,
        }


@dataclass(frozen=True)
class SweepResult:
    """A sweep: levels in axis order, the knee, and what was run. ``interrupted`` is True when
    Ctrl-C stopped it; ``points`` then hold only the levels that finished."""

    architecture: str
    axis: Axis
    points: tuple[SweepPoint, ...]
    knee: Knee
    workload: dict[str, Any]
    config: dict[str, Any]
    seed: int
    levels: int
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (schema ``archsim.sweep/1``, docs/sweep.md)."""
        return {
            "schema": SWEEP_SCHEMA,
            "architecture": self.architecture,
            "axis": {"kind": self.axis.kind, "name": self.axis.name, "unit": self.axis.unit},
            "seed": self.seed,
            "workload": self.workload,
            "config": self.config,
            "levels": self.levels,
            "interrupted": self.interrupted,
            "knee": self.knee.to_dict(),
            "points": [
                {"value": p.value, "text": p.text, **p.measurement.to_dict()} for p in self.points
            ],
        }

    def to_csv(self) -> str:
        """One row per level: axis value, rates, latency and CIs (s), bottleneck, saturated."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(
            [
                self.axis.name,
                "offered_rps",
                "users",
                "throughput",
                "throughput_ci",
                "goodput",
                "error_rate",
                *(f"{n}_s" for n in _LATENCY),
                *(f"{n}_ci_s" for n in _LATENCY),
                "bottleneck",
                "bottleneck_utilisation",
                "saturated",
            ]
        )
        for p in self.points:
            m = p.measurement
            writer.writerow(
                [
                    p.text,
                    m.offered_rps if m.offered_rps is not None else "",
                    m.users if m.users is not None else "",
                    m.throughput,
                    m.throughput_ci if m.throughput_ci is not None else "",
                    m.goodput,
                    m.error_rate,
                    *(_blank(m.latency[n]) for n in _LATENCY),
                    *(_blank(m.latency[f"{n}_ci"]) for n in _LATENCY),
                    m.bottleneck or "",
                    m.bottleneck_utilisation,
                    m.saturated or "",
                ]
            )
        return buf.getvalue()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        reps = self.points[0].measurement.replications if self.points else 0
        t = Table(
            title=f"{self.architecture}: sweep of {self.axis.label} "
            f"({reps} replications per level, 95% CI)",
            title_justify="left",
        )
        # The title names the swept attribute in full; its column, the attribute alone
        # (product_service.replicas → replicas), so the figures keep the width.
        level = self.axis.name.rsplit(".", 1)[-1]
        for col in (level, "req/s", "errors", "mean", "p50", "p95", "p99", "busiest"):
            t.add_column(col, justify="left" if col == "busiest" else "right")
        for p in self.points:
            m = p.measurement
            busiest = Text(f"{m.bottleneck} {m.bottleneck_utilisation:.0%}")
            if m.saturated:
                busiest = Text(f"{m.saturated} SATURATED", "bold red")
            lat = m.latency
            t.add_row(
                p.text,
                ci_text(m.throughput, m.throughput_ci, fmt="num"),
                f"{m.error_rate:.1%}",
                short_duration(lat["mean"]),
                short_duration(lat["p50"]),
                short_duration(lat["p95"]),
                ci_text(lat["p99"], lat["p99_ci"]),
                busiest,
            )
        yield fit_table(t, console, options, optional=("p50", "errors"))
        yield Text.assemble(("knee: ", "bold"), self.knee.note)
        if self.interrupted:
            yield Text(
                f"interrupted: {len(self.points)} of {self.levels} levels finished", "yellow"
            )


def _blank(x: float | None) -> float | str:
    return "" if x is None else x


@dataclass(frozen=True)
class PlanResult:
    """A capacity plan: the sizing found (``sizing``, against the file's ``file_sizing``),
    monthly costs, the measurements of the file as it is (``baseline``), of the sizing as found
    (``found``) and as re-simulated independently (``verified``). ``feasible`` is False with a
    ``reason`` when no configuration within the limits meets the objectives."""

    architecture: str
    target_rps: float
    slos: tuple[str, ...]
    feasible: bool
    reason: str | None
    file_sizing: Sizing
    sizing: Sizing
    cost_before: float
    cost_after: float
    baseline: Measurement
    found: Measurement | None
    verified: Measurement | None
    evaluations: int
    log: tuple[str, ...]
    config: dict[str, Any]

    def changes(self) -> dict[str, dict[str, int]]:
        """Attributes that differ from the file, per component: ``{replicas: 3, workers: 2}``."""
        out: dict[str, dict[str, int]] = {}
        for cid, (r, w) in self.sizing.items():
            r0, w0 = self.file_sizing[cid]
            attrs = ({"replicas": r} if r != r0 else {}) | ({"workers": w} if w != w0 else {})
            if attrs:
                out[cid] = attrs
        return out

    def profile_yaml(self) -> str:
        """The changes as a profile file for ``--profile`` (section ``components``)."""
        head = [
            f"# archsim plan for {self.architecture}: {self.target_rps:g} req/s, "
            f"{', '.join(self.slos)}",
            f"# monthly cost {self.cost_before:g} -> {self.cost_after:g}"
            + ("" if self.feasible else f"; NOT FEASIBLE: {self.reason}"),
        ]
        body = yaml.safe_dump({"components": self.changes()}, sort_keys=True)
        return "\n".join(head) + "\n" + body

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (schema ``archsim.plan/1``, docs/plan.md)."""

        def m(x: Measurement | None) -> dict[str, Any] | None:
            return x.to_dict() if x is not None else None

        return {
            "schema": PLAN_SCHEMA,
            "architecture": self.architecture,
            "target_rps": self.target_rps,
            "slos": list(self.slos),
            "feasible": self.feasible,
            "reason": self.reason,
            "changes": self.changes(),
            "sizing": {c: {"replicas": r, "workers": w} for c, (r, w) in self.sizing.items()},
            "cost_before": self.cost_before,
            "cost_after": self.cost_after,
            "baseline": m(self.baseline),
            "found": m(self.found),
            "verified": m(self.verified),
            "evaluations": self.evaluations,
            "log": list(self.log),
            "config": self.config,
        }

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        title = f"{self.architecture}: plan for {self.target_rps:g} req/s, {', '.join(self.slos)}"
        t = Table(title=title, title_justify="left")
        for col in ("component", "replicas", "workers", "monthly cost"):
            t.add_column(col, justify="left" if col == "component" else "right")
        for cid, attrs in self.changes().items():
            r0, w0 = self.file_sizing[cid]
            r, w = self.sizing[cid]
            t.add_row(
                cid,
                f"{r0} → {r}" if "replicas" in attrs else str(r),
                f"{w0} → {w}" if "workers" in attrs else str(w),
                "",
            )
        t.add_row("total", "", "", f"{self.cost_before:g} → {self.cost_after:g}", style="bold")
        yield fit_table(t, console, options)
        runs = [("as in the file", self.baseline), ("verified", self.verified)]
        if self.verified is None:
            runs[1] = ("best found", self.found)
        s = Table(title="objectives (overall, 95% CI)", title_justify="left")
        for col in ("measure", "objective", *(label for label, _ in runs)):
            s.add_column(col, justify="left" if col == "measure" else "right")
        for slo in self.slos:
            name = slo.split("<")[0]
            cells = [_measured(name, x) for _, x in runs]
            s.add_row(name, slo[len(name) :], *cells)
        s.add_row("req/s", f"{self.target_rps:g}", *(_rate(x) for _, x in runs))
        s.add_row("busiest", "", *(_busiest(x) for _, x in runs))
        yield fit_table(s, console, options)
        if self.feasible:
            yield Text.assemble(
                ("meets the objectives", "bold green"),
                f" after {self.evaluations} simulated configurations; apply with --profile",
            )
        else:
            yield Text.assemble(
                ("no configuration within the limits can: ", "bold red"), self.reason or ""
            )


def _measured(name: str, m: Measurement | None) -> str:
    if m is None:
        return "–"
    value, hw = m.metric(name)
    if name == "error_rate":
        return "–" if value is None else f"{value:.2%}"
    return ci_text(value, hw)


def _rate(m: Measurement | None) -> str:
    return "–" if m is None else ci_text(m.throughput, m.throughput_ci, fmt="num")


def _busiest(m: Measurement | None) -> Text:
    if m is None:
        return Text("–")
    if m.saturated:
        return Text(f"{m.saturated} SATURATED", "bold red")
    return Text(f"{m.bottleneck} {m.bottleneck_utilisation:.0%}")
