"""Overlays: results drawn over the diagram — simulation utilisation and link metrics, findings.

Contracts: ``archsim.simulation/1`` (``components.<id>.utilisation`` 0..1, >1 unstable;
``links[*]`` with ``source``, ``target``, ``relation``, ``throughput`` calls/s, ``p99`` s) and
``archsim.analysis/1`` (``findings[*]`` with ``rule``, ``severity``, ``components``, ``message``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from archsim.errors import ScenarioError, Severity
from archsim.model.relation_words import normalise_relation

__all__ = ["ANALYSIS_SCHEMA", "SIMULATION_SCHEMA", "LinkMetrics", "Overlay", "parse_overlay"]

SIMULATION_SCHEMA = "archsim.simulation/1"
ANALYSIS_SCHEMA = "archsim.analysis/1"
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class LinkMetrics:
    """Measured or simulated traffic on one link: calls/s and 99th percentile latency (s)."""

    throughput: float | None
    p99: float | None


@dataclass
class Overlay:
    """Everything overlays add; several overlays merge into one."""

    utilisation: dict[str, float] = field(default_factory=dict)
    unstable: set[str] = field(default_factory=set)  # flagged unstable whatever the utilisation
    links: dict[tuple[str, str, str], LinkMetrics] = field(default_factory=dict)
    findings: dict[str, list[tuple[Severity, str]]] = field(default_factory=dict)

    def worst(self, component: str) -> Severity | None:
        """The most severe finding naming ``component``, if any."""
        found = self.findings.get(component)
        return max((s for s, _ in found), key=_RANK.__getitem__) if found else None

    def merge(self, other: Overlay) -> Overlay:
        """A new overlay with both contents (``other`` wins on conflicts)."""
        findings = {k: list(v) for k, v in self.findings.items()}
        for comp, items in other.findings.items():
            findings.setdefault(comp, []).extend(items)
        return Overlay({**self.utilisation, **other.utilisation}, self.unstable | other.unstable,
                       {**self.links, **other.links}, findings)  # fmt: skip


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"overlay {where}: expected a number, got {value!r}")
    return float(value)


def _simulation(data: dict[str, Any], source: str) -> Overlay:
    out = Overlay()
    comps = data.get("components", {})
    if not isinstance(comps, dict):
        raise ScenarioError(f"{source}: 'components' must be an object keyed by component id")
    for cid, stats in comps.items():
        if isinstance(stats, dict) and stats.get("utilisation") is not None:
            rho = _number(stats["utilisation"], f"components.{cid}.utilisation")
            out.utilisation[cid] = rho if rho is not None else 0.0
            if stats.get("unstable") is True or (rho is not None and rho > 1):
                out.unstable.add(cid)
    links = data.get("links", [])
    if not isinstance(links, list):
        raise ScenarioError(f"{source}: 'links' must be a list")
    for i, link in enumerate(links):
        try:
            relation = normalise_relation(str(link["relation"]))  # "stores in" or "stores_in"
            rel = relation.value if relation is not None else str(link["relation"])
            key = (str(link["source"]), str(link["target"]), rel)
        except (KeyError, TypeError):
            raise ScenarioError(f"{source}: links[{i}] needs source, target and relation") from None
        out.links[key] = LinkMetrics(_number(link.get("throughput"), f"links[{i}].throughput"),
                                     _number(link.get("p99"), f"links[{i}].p99"))  # fmt: skip
    return out


def _analysis(data: dict[str, Any], source: str) -> Overlay:
    out = Overlay()
    for i, finding in enumerate(data.get("findings", [])):
        try:
            severity = Severity(finding["severity"])
            text = f"{finding['rule']}: {finding.get('message', '')}"
            comps = list(finding["components"])
        except (KeyError, TypeError, ValueError):
            raise ScenarioError(
                f"{source}: findings[{i}] needs rule, severity (error|warning|info), components"
            ) from None
        for comp in comps:
            out.findings.setdefault(str(comp), []).append((severity, text))
    return out


def parse_overlay(text: str, source: str) -> Overlay:
    """Read simulation or analysis JSON (picked by its ``schema``); ScenarioError if neither."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{source}: not JSON ({exc.msg} at line {exc.lineno})",
            hint="pass the output of archsim simulate --json or analyze --json",
            code="bad-overlay",
        ) from None
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema == SIMULATION_SCHEMA:
        return _simulation(data, source)
    if schema == ANALYSIS_SCHEMA:
        return _analysis(data, source)
    raise ScenarioError(
        f"{source}: unknown overlay schema {schema!r}",
        hint=f"expected '{SIMULATION_SCHEMA}' (archsim simulate --json) or "
        f"'{ANALYSIS_SCHEMA}' (archsim analyze --json)",
        code="bad-overlay",
    )
