"""``archsim render``: draw the architecture as SVG, PNG, self-contained HTML or styled DOT."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from archsim.cli.common import err_console, handle_errors, load_or_exit, print_json
from archsim.cli.files import write_atomic
from archsim.errors import ScenarioError
from archsim.model import Interaction
from archsim.render import OUTPUT_FORMATS, Overlay, SceneOptions, ThemeName, parse_overlay, render

__all__ = ["register"]


class Direction(StrEnum):
    """Layout direction: left-to-right or top-down."""

    LR = "LR"
    TB = "TB"


def _read_overlays(paths: list[Path]) -> Overlay:
    overlay = Overlay()
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read overlay {path}: {exc.strerror}",
                                hint="pass a file written by simulate --json or analyze --json",
                                code="no-file") from None  # fmt: skip
        overlay = overlay.merge(parse_overlay(text, str(path)))
    return overlay


@handle_errors
def render_command(
    file: Annotated[
        Path, typer.Argument(help="Architecture file (Graphviz DOT).", show_default=False)
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Output file: .svg, .png, .html or .dot.", show_default=False
        ),
    ],
    direction: Annotated[Direction, typer.Option(help="Left-to-right or top-down.")] = Direction.LR,
    theme: Annotated[ThemeName, typer.Option(help="Colour theme.")] = ThemeName.LIGHT,
    hide: Annotated[
        list[Interaction],
        typer.Option(help="Hide links of an interaction (repeatable), e.g. --hide infra."),
    ] = [],  # noqa: B006 - Typer reads the default; it is never mutated
    overlay: Annotated[
        list[Path],
        typer.Option(
            help="Results to draw over the diagram: simulate --json (utilisation, "
            "throughput, p99) or analyze --json (findings). Repeatable."
        ),
    ] = [],  # noqa: B006
    legend: Annotated[bool, typer.Option(help="Draw the legend.")] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what was written as JSON (output, format, bytes).")
    ] = False,
) -> None:
    """Draw the architecture with Graphviz layout: a style per kind, clusters as boxes, links
    styled by interaction (sync solid, async dashed, data dotted, infra faint), a legend;
    overlays colour components by utilisation and mark findings.

    Example: archsim render topology.dot -o topology.svg --overlay results.json

    Example: archsim render topology.dot -o topology.html --json
    """
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in OUTPUT_FORMATS:
        raise ScenarioError(f"cannot tell the format of {output}",
                            hint=f"end the file name with .{', .'.join(OUTPUT_FORMATS)}",
                            code="bad-format")  # fmt: skip
    options = SceneOptions(direction=direction.value, theme=theme, hide=frozenset(hide),
                           overlay=_read_overlays(overlay), legend=legend)  # fmt: skip
    arch = load_or_exit(file, quiet=as_json).architecture
    with err_console.status(f"laying out {len(arch.components)} components…"):
        data = render(arch, fmt, options)
    write_atomic(output, data)
    if as_json:
        print_json({"output": str(output), "format": fmt, "bytes": len(data),
                    "components": len(arch.components)})  # fmt: skip
        return
    err_console.print(f"[green]wrote[/] {output} ({len(data):,} bytes)")


def register(app: typer.Typer) -> None:
    """Add ``archsim render`` to the CLI."""
    app.command("render")(render_command)
