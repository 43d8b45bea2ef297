"""Run the rules over a model: ``analyze(arch, config) -> AnalysisReport`` (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from archsim.analysis import availability, coupling, data, interactions
from archsim.analysis.availability import Blast, BlastRadius
from archsim.analysis.context import DEFAULT_MAX_CHAIN_DEPTH, AnalysisConfig, Context
from archsim.analysis.critical_path import CriticalPath, critical_paths
from archsim.analysis.findings import (
    FILE_CHAIN_ATTR,
    FILE_DISABLE_ATTR,
    FILE_SEVERITY_ATTR,
    IGNORE_ATTR,
    SEVERITY_RANK,
    Finding,
    Rule,
    parse_levels,
    parse_rule_list,
)
from archsim.analysis.jsontext import dumps_indented, encode_indented
from archsim.errors import ArchsimError, InvalidModelError, Location, Severity
from archsim.model import Architecture

__all__ = ["RULES", "SCHEMA", "AnalysisReport", "analyze", "rule"]

SCHEMA = "archsim.analysis/1"

#: Every rule, in report order.
RULES: tuple[Rule, ...] = (
    *availability.RULES,
    *coupling.RULES,
    *data.RULES,
    *interactions.RULES,
)
_BY_ID = {r.id: r for r in RULES}


def rule(rule_id: str) -> Rule:
    """The rule with this id (KeyError if none)."""
    return _BY_ID[rule_id]


@dataclass(frozen=True)
class AnalysisReport:
    """Findings (worst first), critical paths and the blast radius of every component."""

    architecture: str
    file: str | None
    findings: tuple[Finding, ...]
    critical_paths: tuple[CriticalPath, ...]
    blast: BlastRadius = field(repr=False, compare=False)
    disabled: tuple[str, ...] = ()

    @property
    def worst(self) -> Severity | None:
        """The most severe finding's severity, or None when there is none."""
        return self.findings[0].severity if self.findings else None

    def at_or_above(self, level: Severity) -> list[Finding]:
        """Findings at least as severe as ``level``."""
        return [f for f in self.findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK[level]]

    def blast_radius(self) -> Iterator[Blast]:
        """Components whose loss fails or degrades at least one entry route, in file order."""
        return iter(self.blast)

    def to_dict(self, blast_of: str | None = None) -> dict[str, Any]:
        """The JSON document (schema ``archsim.analysis/1``); ``blast_of`` narrows the blast
        radius to one component."""
        blasts = [self.blast.of(blast_of)] if blast_of else list(self.blast)
        return {
            "schema": SCHEMA,
            "architecture": self.architecture,
            "file": self.file,
            "findings": [f.to_dict() for f in self.findings],
            "blast_radius": {b.component: b.to_dict() for b in blasts},
            "critical_paths": [p.to_dict() for p in self.critical_paths],
            "disabled": list(self.disabled),
        }

    def to_json(self, blast_of: str | None = None) -> str:
        """``to_dict`` as indented JSON text, the same text as ``json.dumps(doc, indent=2,
        ensure_ascii=False)`` in a fraction of the time (60 MB at 2,000 components)."""
        return dumps_indented(self.to_dict(blast_of))

    def to_json_bytes(self, blast_of: str | None = None) -> bytes:
        """``to_json`` encoded as UTF-8, built without the intermediate str (for writing out)."""
        return encode_indented(self.to_dict(blast_of))


def _file_settings(arch: Architecture) -> tuple[frozenset[str], dict[str, Severity], int | None]:
    where = Location(arch.file)
    try:
        disabled = parse_rule_list(arch.attrs.get(FILE_DISABLE_ATTR, ""), _BY_ID, FILE_DISABLE_ATTR)
        levels = parse_levels([arch.attrs.get(FILE_SEVERITY_ATTR, "")], _BY_ID, FILE_SEVERITY_ATTR)
        depth_text = arch.attrs.get(FILE_CHAIN_ATTR)
        depth = int(depth_text) if depth_text is not None else None
        if depth is not None and depth < 1:
            raise ValueError
    except ArchsimError as exc:
        raise InvalidModelError(exc.message, where, exc.hint, code=exc.code) from None
    except ValueError:
        raise InvalidModelError(
            f"{FILE_CHAIN_ATTR} must be a whole number ≥ 1", where, f'e.g. {FILE_CHAIN_ATTR}="4"'
        ) from None
    return disabled, levels, depth


def _ignored(arch: Architecture) -> dict[str, frozenset[str]]:
    out = {}
    for comp in arch.components:
        text = comp.attrs.get(IGNORE_ATTR)
        if text is None:
            continue
        names = frozenset(r.strip() for r in text.split(",") if r.strip())
        if "all" not in names:
            try:
                parse_rule_list(text, _BY_ID, f"{IGNORE_ATTR} on {comp.id}")
            except ArchsimError as exc:
                line, col = (comp.source.line, comp.source.col) if comp.source else (0, 0)
                raise InvalidModelError(
                    exc.message, Location(arch.file, line, col), exc.hint, code=exc.code
                ) from None
        out[comp.id] = names
    return out


def analyze(arch: Architecture, config: AnalysisConfig | None = None) -> AnalysisReport:
    """Run every enabled rule; file settings apply first, then ``config`` (the run's)."""
    config = config or AnalysisConfig()
    file_disabled, file_levels, file_depth = _file_settings(arch)
    disabled = (file_disabled | config.disable) - config.enable
    levels = {**file_levels, **config.severity}
    depth = config.max_chain_depth or file_depth or DEFAULT_MAX_CHAIN_DEPTH
    ignored = _ignored(arch)
    ctx = Context(arch, config, max_chain_depth=depth)
    findings: list[tuple[int, int, Finding]] = []
    for order, r in enumerate(RULES):
        if r.id in disabled:
            continue
        for finding in r.check(ctx):
            if any(r.id in ignored.get(c, ()) or "all" in ignored.get(c, ())
                   for c in finding.components):  # fmt: skip
                continue
            if r.id in levels:
                finding = replace(finding, severity=levels[r.id])
            findings.append((-SEVERITY_RANK[finding.severity], order, finding))
    findings.sort(key=lambda t: (t[0], t[1]))
    return AnalysisReport(
        architecture=arch.name,
        file=arch.file,
        findings=tuple(f for _, _, f in findings),
        critical_paths=tuple(critical_paths(arch, ctx.ops)),
        blast=ctx.blast,
        disabled=tuple(r.id for r in RULES if r.id in disabled),
    )
