"""Predicted vs measured: rebuild the simulation of a measured run (same users and think time or
same arrival rate, same mix, same duration and warm-up) and put both side by side per entry and
per component, with relative errors and whether the measurement is inside the prediction's CI.

Pure: ``check_measured``, ``workload_of`` and ``compare`` take data and return data.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from archsim.errors import Location, ScenarioError
from archsim.loadtest.summary import SCHEMA
from archsim.model import Architecture
from archsim.narrow import fit_table
from archsim.sim import SimConfig, SimulationResult, Workload
from archsim.sim.results import short_duration
from archsim.sim.workload import parse_think

__all__ = [
    "COMPARE_SCHEMA",
    "Comparison",
    "check_measured",
    "compare",
    "read_measured",
    "sim_config_of",
    "workload_of",
]

COMPARE_SCHEMA = "archsim.compare/1"
_LATENCY = ("mean", "p50", "p95", "p99")


def read_measured(path: Path) -> dict[str, Any]:
    """The measured run (``summary.json`` of ``archsim loadtest``) at ``path`` as a JSON object;
    ScenarioError (located) when it cannot be read, is not JSON or not an object."""
    hint = "give the summary.json that archsim loadtest wrote"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(
            f"cannot read the measured run: {exc.strerror}",
            Location(str(path)),
            hint=hint,
            code="bad-measured",
        ) from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"the measured run is not JSON: {exc.msg}",
            Location(str(path), exc.lineno, exc.colno),
            hint=hint,
            code="bad-measured",
        ) from None
    if not isinstance(doc, dict):
        raise ScenarioError(
            "the measured run is not a JSON object", Location(str(path)), code="bad-measured"
        )
    return doc


def check_measured(arch: Architecture, measured: Mapping[str, Any], source: str = "run") -> None:
    """ScenarioError unless ``measured`` is a load-test summary of this architecture."""
    if measured.get("schema") != SCHEMA:
        raise ScenarioError(
            f"{source} is not an archsim load-test summary (schema {measured.get('schema')!r})",
            hint="give the summary.json that archsim loadtest wrote",
            code="bad-measured",
        )
    name = measured.get("architecture")
    known = {e.id for e in arch.behaviour.entries}
    foreign = sorted(set(measured.get("endpoints", {})) - known)
    if name != arch.name or foreign:
        why = f"'{name}'" if name != arch.name else f"entries it lacks: {', '.join(foreign[:3])}"
        raise ScenarioError(
            f"{source} was measured on another architecture ({why}), not on '{arch.name}'",
            hint="compare a run with the model its stack was generated from",
            code="wrong-architecture",
        )


def workload_of(measured: Mapping[str, Any]) -> Workload:
    """The simulator's workload for a measured run: same users and think time, or same rate."""
    w = measured["workload"]
    if w["type"] == "closed":
        return Workload(rps=None, users=int(w["users"]), think=parse_think(str(w["think"])))
    return Workload(rps=float(w["rps"]), arrivals=str(w.get("arrivals", "poisson")))


def sim_config_of(measured: Mapping[str, Any], replications: int = 5, seed: int = 1) -> SimConfig:
    """Simulated duration and warm-up equal to the run's."""
    return SimConfig(
        duration=float(measured["duration_s"]),
        warmup=float(measured["warmup_s"]),
        replications=replications,
        seed=seed,
    )


def _rel(predicted: float | None, measured: float | None) -> float | None:
    if predicted is None or measured is None or measured == 0:
        return None
    return (predicted - measured) / measured


def _inside(predicted: float | None, ci: float | None, measured: float | None) -> bool | None:
    if predicted is None or measured is None:
        return None
    return abs(measured - predicted) <= (ci or 0.0)


def _row(m: Mapping[str, Any], p: Mapping[str, Any], thr_m: float, thr_p: float) -> dict:
    row: dict[str, Any] = {
        "throughput": {"measured": thr_m, "predicted": thr_p, "rel_error": _rel(thr_p, thr_m)}
    }
    for key in _LATENCY:
        pv, ci = p.get(key), p.get(f"{key}_ci")
        row[key] = {
            "measured": m.get(key),
            "predicted": pv,
            "ci": ci,
            "rel_error": _rel(pv, m.get(key)),
            "inside_ci": _inside(pv, ci, m.get(key)),
        }
    return row


@dataclass(frozen=True)
class Comparison:
    """Per-entry and per-component rows (``measured``, ``predicted``, ``rel_error``, ...)."""

    architecture: str
    workload: dict[str, Any]
    entries: dict[str, dict[str, Any]]
    components: dict[str, dict[str, Any]]
    tolerance: float
    cdf: dict[str, dict[str, list[tuple[float, float]]]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (schema ``archsim.compare/1``)."""
        return {
            "schema": COMPARE_SCHEMA,
            "architecture": self.architecture,
            "workload": self.workload,
            "tolerance": self.tolerance,
            "entries": self.entries,
            "components": self.components,
            "summary": self.summary(),
        }

    def summary(self) -> dict[str, Any]:
        """How many entry means/p95s are within the tolerance, and the worst errors."""
        errs = {
            k: [
                abs(r[k]["rel_error"])
                for r in self.entries.values()
                if r[k]["rel_error"] is not None
            ]
            for k in ("mean", "p95")
        }
        return (
            {f"{k}_within": sum(e <= self.tolerance for e in v) for k, v in errs.items()}
            | {f"{k}_worst": max(v, default=None) for k, v in errs.items()}
            | {"entries": len(self.entries)}
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
                f"{r['throughput']['measured']:.1f}/{r['throughput']['predicted']:.1f}",
                _pair(r["mean"]),
                self._err(r["mean"]),
                _pair(r["p95"]),
                self._err(r["p95"]),
                _pair(r["p99"]),
            )
        yield fit_table(t, console, options, optional=("p99 m/p",))
        c = Table(title="per component (service-side time per request)", title_justify="left")
        for col in ("component", "req/s m/p", "mean m/p", "err", "p95 m/p", "cpu m", "util p"):
            c.add_column(col, justify="left" if col == "component" else "right")
        for cid, r in self.components.items():
            cpu = r.get("cpu_utilisation")
            c.add_row(
                cid,
                f"{r['throughput']['measured']:.1f}/{r['throughput']['predicted']:.1f}",
                _pair(r["mean"]),
                self._err(r["mean"]),
                _pair(r["p95"]),
                "–" if cpu is None else f"{cpu:.0%}",
                f"{r['utilisation']:.0%}",
            )
        yield fit_table(c, console, options)
        s = self.summary()
        yield Text(
            f"entries within ±{self.tolerance:.0%}: mean {s['mean_within']}/{s['entries']}, "
            f"p95 {s['p95_within']}/{s['entries']}",
            "bold",
        )

    def _err(self, cell: Mapping[str, Any]) -> Text:
        e = cell["rel_error"]
        if e is None:
            return Text("–")
        mark = " ✓" if cell.get("inside_ci") else ""
        return Text(f"{e:+.0%}{mark}", "green" if abs(e) <= self.tolerance else "red")


def _pair(cell: Mapping[str, Any]) -> str:
    return f"{short_duration(cell['measured'])}/{short_duration(cell['predicted'])}"


def compare(
    arch: Architecture,
    measured: Mapping[str, Any],
    predicted: SimulationResult,
    tolerance: float = 0.25,
) -> Comparison:
    """Side by side per entry (front-door latency) and per component (service-side latency)."""
    entries: dict[str, dict[str, Any]] = {}
    cdf: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for eid, m in measured["endpoints"].items():
        p = predicted.entries.get(eid)
        if p is None or not m["requests"]:
            continue
        entries[eid] = _row(m, p.latency.to_dict(), m["throughput"], p.throughput)
        entries[eid]["failures"] = {"measured": m["fail_ratio"], "predicted": p.failed_rate}
        cdf[eid] = {"measured": m.get("cdf", []), "predicted": predicted.cdf.get(eid, [])}
    components: dict[str, dict[str, Any]] = {}
    for cid, m in (measured.get("components") or {}).items():
        station = predicted.components.get(cid)
        if station is None or not m.get("requests"):
            continue
        row = _row(m["latency"], station.latency.to_dict(), m["throughput"], station.throughput)
        row["cpu_utilisation"] = m.get("cpu_utilisation")
        row["utilisation"] = station.utilisation
        components[cid] = row
    missing = [e.id for e in arch.behaviour.entries if e.id not in measured["endpoints"]]
    if not entries:
        close = difflib.get_close_matches(next(iter(measured["endpoints"]), ""), missing, n=1)
        raise ScenarioError(
            "the measured run and the simulation have no entry in common",
            hint=f"did you mean '{close[0]}'?" if close else "run archsim loadtest on this model",
            code="wrong-architecture",
        )
    return Comparison(
        architecture=arch.name,
        workload=dict(measured["workload"]),
        entries=entries,
        components=components,
        tolerance=tolerance,
        cdf=cdf,
    )


