"""``archsim validate``, ``inspect``, ``fmt`` and ``schema``: commands about the model itself."""

from __future__ import annotations

import difflib
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from archsim.cli.common import (
    EXIT_FINDINGS,
    EXIT_INVALID,
    console,
    err_console,
    handle_errors,
    load_or_exit,
    print_diagnostics,
    print_json,
)
from archsim.cli.files import write_atomic
from archsim.cli.inspect_view import inspect_tables
from archsim.errors import ArchsimError, DotSyntaxError, Severity
from archsim.model import Architecture, read_architecture, to_dot
from archsim.model.dot import decode_dot, fix_dot, read_dot_bytes

__all__ = ["register"]

FileArg = Annotated[
    Path, typer.Argument(help="Architecture file (Graphviz DOT).", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class Section(StrEnum):
    """Parts of ``archsim inspect`` output."""

    ALL = "all"
    COMPONENTS = "components"
    LINKS = "links"
    OPERATIONS = "operations"
    ENTRIES = "entries"
    EVENTS = "events"
    LIFECYCLE = "lifecycle"


def validate(
    files: Annotated[list[Path], typer.Argument(help="One or more DOT files.", show_default=False)],
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors (exit 1).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check architecture files and report every problem at once.

    Each problem is printed as file:line:col: severity: message, with a hint. Exit 0 when every
    file is usable, 1 for warnings under --strict, 2 when a file is invalid.

    Example: archsim validate topology.dot
    """
    report, worst = [], 0
    for path in files:
        try:
            result = load_or_exit(path, quiet=as_json)
        except ArchsimError as exc:
            worst = EXIT_INVALID
            if not as_json:
                print_diagnostics(exc.diagnostics)
                err_console.print(f"[bold red]✗[/] {path}: invalid")
            report.append({"file": str(path), "ok": False,
                           "diagnostics": [d.to_dict() for d in exc.diagnostics]})  # fmt: skip
            continue
        arch, diags = result.architecture, result.diagnostics
        warnings = sum(1 for d in diags if d.severity is Severity.WARNING)
        if strict and warnings:
            worst = max(worst, EXIT_FINDINGS)
        report.append({"file": str(path), "ok": not (strict and warnings),
                       "components": len(arch.components), "links": len(arch.links),
                       "diagnostics": [d.to_dict() for d in diags]})  # fmt: skip
        if not as_json:
            console.print(
                f"[green]✓[/] {path}: {len(arch.components)} components, {len(arch.links)} links, "
                f"{len(arch.behaviour.operations)} operations, {len(arch.behaviour.entries)} entry "
                f"points ({warnings} warning{'s' if warnings != 1 else ''})",
                soft_wrap=True,
            )
    if as_json:
        print_json(report)
    raise typer.Exit(worst)


@handle_errors
def inspect(
    file: FileArg,
    as_json: JsonOpt = False,
    section: Annotated[Section, typer.Option(help="Show only one part.")] = Section.ALL,
) -> None:
    """Show what archsim reads from a file and what it derives from it.

    Components by kind (and why), links by relation, operations with their ordered steps, entry
    points with their share of the traffic, event flows and start-up work. --json prints the full
    model (see docs/json.md).

    Example: archsim inspect topology.dot --section operations
    """
    result = load_or_exit(file, quiet=as_json)
    if as_json:
        print_json(_json(result.architecture, section))
        return
    for table in inspect_tables(result.architecture, section.value):
        console.print(table)


def _json(arch: Architecture, section: Section) -> object:
    data = arch.model_dump(mode="json")
    data["schema_version"] = 1
    if section is Section.ALL:
        return data
    behaviour = data["behaviour"]
    key = {"lifecycle": "lifecycles"}.get(section.value, section.value)
    return data[key] if key in data else behaviour[key]


@handle_errors
def fmt(
    file: FileArg,
    check: Annotated[
        bool, typer.Option(help="Only check; exit 1 if the file would change.")
    ] = False,
    fix: Annotated[
        bool, typer.Option(help="Also repair a one-line file whose '//' comment swallows the rest.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of in place.")
    ] = None,
    stdout: Annotated[bool, typer.Option(help="Print the result instead of writing.")] = False,
    diff: Annotated[bool, typer.Option(help="Show a unified diff of the change.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what was done as JSON (file, changed, fixes).")
    ] = False,
) -> None:
    """Rewrite a DOT file canonically, one statement per line, comments kept.

    With --fix, first repair a one-line file whose '//' comments swallow the statements after
    them. Nothing is written when the file has errors.

    Example: archsim fmt --fix topology.dot

    Example: archsim fmt --check --json topology.dot
    """
    original = decode_dot(_read(file), str(file))
    text = original
    changes: list[str] = []
    if fix:
        try:
            read_architecture(text, str(file))
        except DotSyntaxError as exc:
            if not any(d.code == "swallowed-statements" for d in exc.diagnostics):
                raise
            text, changes = fix_dot(text, str(file))
    result = read_architecture(text, str(file))
    print_diagnostics(result.diagnostics)
    formatted = to_dot(result.architecture)
    if as_json:
        _fmt_json(file, original, formatted, changes, check=check, stdout=stdout, output=output)
        return
    for change in changes:
        err_console.print(f"[cyan]fixed[/]: {change}")
    if diff or (check and formatted != original):
        lines = difflib.unified_diff(original.splitlines(True), formatted.splitlines(True),
                                     str(file), f"{file} (formatted)")  # fmt: skip
        console.out("".join(lines), end="")
    if check:
        if formatted != original:
            err_console.print(f"{file}: would be reformatted")
            raise typer.Exit(EXIT_FINDINGS)
        err_console.print(f"{file}: already formatted")
        return
    if stdout:
        console.out(formatted, end="")
        return
    target = output or file
    if target == file and formatted == original:
        err_console.print(f"{file}: already formatted")
        return
    write_atomic(target, formatted)
    err_console.print(f"[green]wrote[/] {target}")


def _fmt_json(file: Path, original: str, formatted: str, changes: list[str], *, check: bool,
              stdout: bool, output: Path | None) -> None:  # fmt: skip
    """fmt --json: the same decisions as the text form, reported as one JSON object."""
    target = output or file
    changed = formatted != original
    written = None
    if not check and not stdout and (changed or target != file):
        write_atomic(target, formatted)
        written = str(target)
    doc: dict[str, object] = {"file": str(file), "changed": changed, "fixes": changes,
                              "written": written, "check": check}  # fmt: skip
    if stdout:
        doc["formatted"] = formatted
    print_json(doc)
    if check and changed:
        raise typer.Exit(EXIT_FINDINGS)


def _read(file: Path) -> bytes:
    try:
        return read_dot_bytes(str(file))
    except OSError as exc:
        raise ArchsimError(f"cannot read {file}: {exc.strerror}", hint="check the path",
                           code="no-file") from None  # fmt: skip


def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Print the JSON Schema of the model (archsim inspect --json).

    Example: archsim schema -o architecture.schema.json
    """
    data = Architecture.model_json_schema(mode="serialization")
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    data["title"] = "archsim architecture"
    text = json.dumps(data, indent=2) + "\n"
    if output:
        write_atomic(output, text)
        err_console.print(f"[green]wrote[/] {output}")
    else:
        print_json(data)


def register(app: typer.Typer) -> None:
    """Add the model commands to the CLI."""
    app.command()(validate)
    app.command()(inspect)
    app.command()(fmt)
    app.command()(schema)
