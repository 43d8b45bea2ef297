"""Pictures and code: ``render`` and ``generate``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archsim.api._base import FilePath, Source, _arch
from archsim.errors import ScenarioError

if TYPE_CHECKING:
    from archsim.codegen import WritePlan

__all__ = ["Generated", "generate", "render"]


@dataclass(frozen=True)
class Generated:
    """What ``generate`` decided per file (``plan``) and which files it wrote."""

    plan: WritePlan
    written: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    pretend: bool = False

    @property
    def root(self) -> Path:
        """The stack's directory."""
        return self.plan.root

    def to_dict(self) -> dict[str, Any]:
        """The document ``archsim generate --json`` prints (without its timing)."""
        return {
            **self.plan.to_dict(),
            "written": list(self.written),
            "pretend": self.pretend,
            "warnings": list(self.warnings),
        }


def render(
    source: Source,
    fmt: str | None = None,
    *,
    output: FilePath | None = None,
    direction: str = "LR",
    theme: str = "light",
    hide: Sequence[str] = (),
    overlay: Sequence[FilePath] = (),
    legend: bool = True,
) -> bytes:
    """Draw a model (``archsim render``): the bytes of an ``svg``, ``png``, ``html`` or styled
    ``dot`` file. ``fmt`` defaults to ``output``'s suffix (then ``svg``); with ``output`` the
    file is written too. ``overlay`` takes files of ``simulate``/``analyze`` ``--json``;
    ``hide`` interactions (``"infra"``, ``"data"``, …)."""
    from archsim.atomic import write_atomic
    from archsim.model import Interaction
    from archsim.render import OUTPUT_FORMATS, Overlay, SceneOptions, ThemeName, parse_overlay
    from archsim.render import render as draw

    if fmt is None:
        fmt = Path(output).suffix.lower().lstrip(".") if output is not None else "svg"
    if fmt not in OUTPUT_FORMATS:
        raise ScenarioError(
            f"cannot render the format {fmt!r}",
            hint=f"one of: {', '.join(OUTPUT_FORMATS)}",
            code="bad-format",
        )
    layers = Overlay()
    for path in overlay:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(
                f"cannot read overlay {path}: {exc.strerror}",
                hint="pass a file written by simulate --json or analyze --json",
                code="no-file",
            ) from None
        layers = layers.merge(parse_overlay(text, str(path)))
    options = SceneOptions(
        direction=direction,
        theme=ThemeName(theme),
        hide=frozenset(Interaction(h) for h in hide),
        overlay=layers,
        legend=legend,
    )
    data = draw(_arch(source), fmt, options)
    if output is not None:
        write_atomic(Path(output), data)
    return data


def generate(
    source: Source,
    output: FilePath,
    *,
    sets: Sequence[str] = (),
    pretend: bool = False,
    force: bool = False,
) -> Generated:
    """Generate a runnable FastAPI stack from a model into ``output`` (``archsim generate``).

    Regenerating is safe: handlers.py files and config/settings.json are created once and
    never overwritten; hand-edited generated files are conflicts unless ``force``. ``pretend``
    decides without writing."""
    from archsim.codegen import apply_writes, plan_writes
    from archsim.codegen import render as render_code
    from archsim.model import apply_overrides
    from archsim.model.dataflow import derive_dataflow

    arch = _arch(source)
    if sets:
        arch = apply_overrides(arch, list(sets))
    name = Path(source).name if isinstance(source, str | os.PathLike) else None
    plan = plan_writes(Path(output), render_code(arch, source=name))
    written = () if pretend else tuple(apply_writes(plan, force=force))
    return Generated(plan, written, tuple(derive_dataflow(arch).warnings), pretend)
