"""Findings, rules and their configuration: what a check reports and how users tune it.

Rules are switched off or re-graded like a linter's: per file with the graph attributes
``analyze_disable="rule1,rule2"`` and ``analyze_severity="rule=info,..."``, per component with
``analyze_ignore="rule"`` (or ``"all"``), and per run with ``AnalysisConfig`` (in
``archsim.analysis.context``, which the rules read).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archsim.errors import ScenarioError, Severity

if TYPE_CHECKING:
    from archsim.analysis.context import Context

__all__ = [
    "FILE_DISABLE_ATTR",
    "FILE_SEVERITY_ATTR",
    "IGNORE_ATTR",
    "SEVERITY_RANK",
    "Finding",
    "Rule",
    "parse_levels",
    "parse_rule_list",
]

FILE_DISABLE_ATTR = "analyze_disable"
FILE_SEVERITY_ATTR = "analyze_severity"
FILE_CHAIN_ATTR = "analyze_max_chain_depth"
IGNORE_ATTR = "analyze_ignore"

#: Higher is worse; used for sorting and for ``--fail-on``.
SEVERITY_RANK: dict[Severity, int] = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One design risk: which rule, how bad, which components, why it matters, how to fix it."""

    rule: str
    severity: Severity
    components: tuple[str, ...]
    message: str
    why: str
    fix: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of schema ``archsim.analysis/1``."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "components": list(self.components),
            "message": self.message,
            "why": self.why,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class Rule:
    """A named check with a default severity, its catalogue origin and a generic why/fix."""

    id: str
    severity: Severity
    title: str
    source: str
    why: str
    fix: str
    check: Callable[[Context], Iterable[Finding]] = field(repr=False, compare=False)

    def finding(
        self, components: Iterable[str], message: str, *, why: str | None = None,
        fix: str | None = None,
    ) -> Finding:  # fmt: skip
        """A finding of this rule at its default severity (the runner re-grades it)."""
        return Finding(self.id, self.severity, tuple(components), message,
                       why or self.why, fix or self.fix)  # fmt: skip


def _levels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        rule, sep, level = part.partition("=")
        if not sep:
            raise ValueError(f"'{part.strip()}' is not rule=level")
        out[rule.strip()] = level.strip().lower()
    return out


def parse_rule_list(text: str, known: Iterable[str], where: str) -> frozenset[str]:
    """``"a, b"`` → {"a", "b"}; unknown rule ids raise ScenarioError with a 'did you mean'."""
    rules = frozenset(r.strip() for r in text.split(",") if r.strip())
    for rule in rules:
        _check_rule(rule, known, where)
    return rules


def parse_levels(items: Iterable[str], known: Iterable[str], where: str) -> dict[str, Severity]:
    """``["rule=info", "a=error,b=warning"]`` → {rule: Severity}; bad names raise ScenarioError."""
    out: dict[str, Severity] = {}
    for item in items:
        try:
            pairs = _levels(item)
        except ValueError as exc:
            raise ScenarioError(f"{where}: {exc}", hint="e.g. hub-like=info") from None
        for rule, level in pairs.items():
            _check_rule(rule, known, where)
            try:
                out[rule] = Severity(level)
            except ValueError:
                raise ScenarioError(
                    f"{where}: unknown severity '{level}' for {rule}",
                    hint="use error, warning or info (or disable the rule)",
                ) from None
    return out


def _check_rule(rule: str, known: Iterable[str], where: str) -> None:
    names = list(known)
    if rule in names:
        return
    close = difflib.get_close_matches(rule, names, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'?" if close else "see: archsim analyze --list-rules"
    raise ScenarioError(f"{where}: unknown rule '{rule}'", hint=hint, code="unknown-rule")
