"""``archsim discover``: an architecture from traces (OTLP JSON, Jaeger JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from archsim.cli.common import console, err_console, handle_errors, print_json
from archsim.cli.files import write_atomic
from archsim.errors import Location

if TYPE_CHECKING:
    from archsim.traces import Span

__all__ = ["read_trace_files", "register"]

_SUFFIXES = (".json", ".jsonl", ".ndjson")


def _files(paths: list[Path]) -> list[Path]:
    from archsim.traces import TraceFormatError

    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)
            if not found:
                raise TraceFormatError(
                    "the folder holds no .json or .jsonl files",
                    Location(str(path)),
                    "give trace files, or a folder of them (a stack's .archsim/traces)",
                    code="bad-traces",
                )
            out.extend(found)
        else:
            out.append(path)
    return out


def read_trace_files(paths: list[Path]) -> list[Span]:
    """Every span of the given files and folders (TraceFormatError naming the file)."""
    from archsim.traces import TraceFormatError, read_spans

    spans = []
    for path in _files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise TraceFormatError(
                f"cannot read the traces file: {reason}",
                Location(str(path)),
                "give OTLP JSON or Jaeger JSON files (UTF-8)",
                code="bad-traces",
            ) from None
        spans.extend(read_spans(text, str(path)))
    return spans


def discover_cmd(
    traces: Annotated[
        list[Path], typer.Argument(help="Trace files (OTLP JSON or Jaeger JSON) or folders.")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the architecture DOT here.")
    ] = None,
    name: Annotated[str, typer.Option(help="The graph's name in the DOT file.")] = "discovered",
    as_json: Annotated[bool, typer.Option("--json", help="Print what was found as JSON.")] = False,
) -> None:
    """Discover an architecture from traces: components (services, databases, caches,
    brokers, externals), links with their relations, operations with their steps in the
    order seen and their probabilities, rates as weights.

    Reads OTLP JSON (the collector's file exporter, `archsim up --trace`) and Jaeger JSON (the
    UI's download, /api/traces). Says what it could not classify. The DOT it writes loads in
    every archsim command.

    Example: archsim discover shop/.archsim/traces -o discovered.dot
    """
    from archsim.model.loader import read_architecture
    from archsim.traces import discover, to_dot

    spans = read_trace_files(traces)
    found = discover(spans)
    text = to_dot(found, name)
    read_architecture(text, str(output) if output else "<discovered>")  # it must load
    if output is not None:
        write_atomic(output, text)
    if as_json:
        print_json({**found.to_dict(), "output": str(output) if output else None})
        return
    if output is None:
        typer.echo(text, nl=False)  # the DOT as it is: no wrapping to the terminal's width
        return
    requests = sum(1 for c in found.components if c.kind not in ("database", "cache", "broker"))
    console.print(
        f"{found.spans} spans in {found.traces} traces ({found.window_s:.1f} s): "
        f"{len(found.components)} components ({requests} that serve or call), "
        f"{len(found.links)} links, {len(found.operations)} operations → {output}",
        soft_wrap=True,
    )
    for client in found.clients:  # a load generator: seen, and no component of the system
        err_console.print(f"client: {client.describe()}", markup=False, soft_wrap=True)
    for text_line in found.unclassified:
        err_console.print(f"[yellow]unclassified:[/] {text_line}", markup=True)
    for note in found.notes:
        err_console.print(f"note: {note}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``discover`` to the application."""
    app.command("discover")(handle_errors(discover_cmd))
