"""What-ifs from the command line and profile files: ``--set`` overrides, ``--fail`` and
``--slow`` windows. Parsing only; the model re-derives behaviour (``apply_overrides``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from archsim.errors import ScenarioError
from archsim.model import Architecture, apply_overrides, profile_overrides
from archsim.model.quantities import parse_duration
from archsim.sim.config import Fault

__all__ = ["parse_fault", "prepare"]

_FAULT = re.compile(
    r"^\s*([A-Za-z_][\w]*)\s*@\s*([^.]+?)\s*\.\.\s*([^:]+?)\s*(?::\s*x\s*(\S+))?\s*$"
)


def parse_fault(text: str, kind: str) -> Fault:
    """Parse ``comp@30s..60s`` (``--fail``) or ``comp@10s..20s:x5`` (``--slow``)."""
    example = "product_db@30s..60s" if kind == "fail" else "cache@10s..20s:x5"
    match = _FAULT.match(text)
    if not match or (kind == "fail" and match.group(4)):
        raise ScenarioError(
            f"cannot read --{kind} '{text}'",
            hint=f"write component@start..end{'' if kind == 'fail' else ':xFACTOR'}, "
            f"e.g. --{kind} {example}",
            code="bad-fault",
        )
    comp, start, end, factor = match.groups()
    try:
        t0, t1 = parse_duration(start), parse_duration(end)
        x = float(factor) if factor is not None else (5.0 if kind == "slow" else 1.0)
        if not 0 < x <= 1e6:  # refuses nan and inf too
            raise ValueError(f"factor x{factor} must be > 0 and at most 1e6")
    except ValueError as exc:
        raise ScenarioError(
            f"cannot read --{kind} '{text}': {exc}",
            hint=f"e.g. --{kind} {example}",
            code="bad-fault",
        ) from None
    return Fault(component=comp, start=t0, end=t1, kind=kind, factor=x)


def prepare(
    arch: Architecture,
    sets: Iterable[str] = (),
    profile: Mapping[str, Any] | None = None,
    profile_name: str = "profile",
) -> Architecture:
    """``arch`` with a profile's overrides, then ``--set`` overrides, applied (sets win)."""
    overrides: list[Any] = []
    if profile is not None:
        if not isinstance(profile, Mapping):
            raise ScenarioError(
                f"{profile_name}: a profile is a mapping with sections components, links, graph",
                code="bad-profile",
            )
        overrides += profile_overrides(profile, profile_name)
    overrides += list(sets)
    return apply_overrides(arch, overrides)
