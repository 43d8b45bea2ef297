"""The model: ``validate``, ``inspect`` and ``analyze``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archsim.api._base import FilePath, Source, _arch
from archsim.errors import ArchsimError, Diagnostic, ScenarioError
from archsim.model import load

if TYPE_CHECKING:
    from archsim.analysis import AnalysisReport

__all__ = ["analyze", "inspect", "validate"]

#: ``inspect`` sections: the command's ``--section`` values.
_SECTIONS = ("all", "components", "links", "operations", "entries", "events", "lifecycle")


def validate(path: FilePath) -> list[Diagnostic]:
    """Every problem of the architecture file at ``path`` (``archsim validate``), errors
    included: an invalid file gives its error diagnostics instead of raising. Usable when no
    diagnostic has ``severity`` ``ERROR``."""
    try:
        return list(load(Path(path)).diagnostics)
    except ArchsimError as exc:
        return list(exc.diagnostics)


def inspect(source: Source, section: str = "all") -> Any:
    """What archsim reads from a model and derives from it, as ``archsim inspect --json``
    prints it: the whole model (``schema_version`` 1), or one ``section`` of it (components,
    links, operations, entries, events, lifecycle)."""
    if section not in _SECTIONS:
        raise ScenarioError(
            f"no section {section!r}", hint=f"one of: {', '.join(_SECTIONS)}", code="bad-option"
        )
    data = _arch(source).model_dump(mode="json")
    data["schema_version"] = 1
    if section == "all":
        return data
    key = {"lifecycle": "lifecycles"}.get(section, section)
    return data[key] if key in data else data["behaviour"][key]


def analyze(
    source: Source,
    *,
    disable: Sequence[str] = (),
    enable: Sequence[str] = (),
    severity: Mapping[str, str] | None = None,
    max_chain_depth: int | None = None,
) -> AnalysisReport:
    """Design risks of a model and each entry's critical path (``archsim analyze``).

    ``disable``/``enable`` name rules (``archsim analyze --list-rules``); ``severity`` re-grades
    rules (``{"hub": "error"}``). ``report.blast.of(component)`` is ``--blast``."""
    from archsim.analysis import RULES, AnalysisConfig, parse_levels, parse_rule_list
    from archsim.analysis import analyze as run

    ids = [r.id for r in RULES]
    rules = [] if severity is None else [f"{k}={v}" for k, v in severity.items()]
    config = AnalysisConfig(
        disable=parse_rule_list(",".join(disable), ids, "disable"),
        enable=parse_rule_list(",".join(enable), ids, "enable"),
        severity=parse_levels(rules, ids, "severity"),
        max_chain_depth=max_chain_depth,
    )
    return run(_arch(source), config)
