"""Predicted vs measured: rebuild the simulation of a measured run (same users and think time or
same arrival rate, same mix, same duration and warm-up) and put both side by side per entry and
per component, with relative errors and whether the measurement is inside the prediction's CI.

Pure: ``check_measured``, ``workload_of`` and ``compare`` take data and return data; the rows
are records of ``archsim.loadtest.comparison``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archsim.errors import Location, ScenarioError
from archsim.loadtest.comparison import (
    COMPARE_SCHEMA,
    CdfPair,
    Comparison,
    ComponentRow,
    EntryRow,
    FailureCell,
    LatencyCell,
    ThroughputCell,
)
from archsim.loadtest.summary import SCHEMA
from archsim.model import Architecture
from archsim.sim import SimConfig, SimulationResult, Workload
from archsim.sim.figures import Latency
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


def _cell(measured: float | None, predicted: float | None, ci: float | None) -> LatencyCell:
    return LatencyCell(
        measured, predicted, ci, _rel(predicted, measured), _inside(predicted, ci, measured)
    )


def _cells(
    m: Mapping[str, Any], p: Latency
) -> tuple[LatencyCell, LatencyCell, LatencyCell, LatencyCell]:
    """Mean, p50, p95 and p99 cells of measured figures ``m`` (s) beside predicted ``p``."""
    return (
        _cell(m.get("mean"), p.mean, p.mean_ci),
        _cell(m.get("p50"), p.p50, p.p50_ci),
        _cell(m.get("p95"), p.p95, p.p95_ci),
        _cell(m.get("p99"), p.p99, p.p99_ci),
    )


def _throughput(measured: float, predicted: float) -> ThroughputCell:
    return ThroughputCell(measured, predicted, _rel(predicted, measured))


def compare(
    arch: Architecture,
    measured: Mapping[str, Any],
    predicted: SimulationResult,
    tolerance: float = 0.25,
) -> Comparison:
    """Side by side per entry (front-door latency) and per component (service-side latency)."""
    entries: dict[str, EntryRow] = {}
    cdf: dict[str, CdfPair] = {}
    for eid, m in measured["endpoints"].items():
        p = predicted.entries.get(eid)
        if p is None or not m["requests"]:
            continue
        mean, p50, p95, p99 = _cells(m, p.latency)
        entries[eid] = EntryRow(
            throughput=_throughput(m["throughput"], p.throughput),
            mean=mean,
            p50=p50,
            p95=p95,
            p99=p99,
            failures=FailureCell(m["fail_ratio"], p.failed_rate),
        )
        cdf[eid] = CdfPair(m.get("cdf", []), predicted.cdf.get(eid, []))
    components: dict[str, ComponentRow] = {}
    for cid, m in (measured.get("components") or {}).items():
        station = predicted.components.get(cid)
        if station is None or not m.get("requests"):
            continue
        mean, p50, p95, p99 = _cells(m["latency"], station.latency)
        components[cid] = ComponentRow(
            throughput=_throughput(m["throughput"], station.throughput),
            mean=mean,
            p50=p50,
            p95=p95,
            p99=p99,
            cpu_utilisation=m.get("cpu_utilisation"),
            utilisation=station.utilisation,
        )
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
