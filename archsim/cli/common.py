"""What every command shares: the consoles, error rendering and exit codes.

Exit codes: 0 success, 1 the command ran and found problems it was asked to flag (``--check``,
``--fail-on``, thresholds), 2 the input is unusable (bad file, bad arguments).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, TimeElapsedColumn

from archsim.errors import ArchsimError, Diagnostic, Severity
from archsim.model import LoadResult, load

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INVALID",
    "console",
    "err_console",
    "fail",
    "handle_errors",
    "load_or_exit",
    "print_diagnostics",
    "print_json",
    "progress_bar",
]

EXIT_FINDINGS = 1
EXIT_INVALID = 2

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}

P = ParamSpec("P")
R = TypeVar("R")


def print_diagnostics(diagnostics: Iterable[Diagnostic], *, show_info: bool = False) -> None:
    """Print ``file:line:col: severity: message`` lines with hints, to stderr."""
    if not err_console.is_terminal:
        # No colour and no wrapping off a terminal: the same lines, written directly. Rich
        # spent 0.3 ms on each (30 s of a 100,000-link file's 50,000 duplicate warnings).
        out = err_console.file
        for diag in diagnostics:
            if diag.severity is Severity.INFO and not show_info:
                continue
            where = str(diag.location)
            out.write(f"{where}: " if where else "")
            out.write(f"{diag.severity.value}: {diag.message}\n")
            if diag.hint:
                out.write(f"  hint: {diag.hint}\n")
        out.flush()
        return
    for diag in diagnostics:
        if diag.severity is Severity.INFO and not show_info:
            continue
        style, where = _STYLE[diag.severity], str(diag.location)
        prefix = f"{escape(where)}: " if where else ""
        err_console.print(f"{prefix}[{style}]{diag.severity.value}[/]: {escape(diag.message)}")
        if diag.hint:
            err_console.print(f"  [dim]hint:[/] {escape(diag.hint)}")


def fail(message: str, hint: str | None = None, code: int = EXIT_INVALID) -> NoReturn:
    """Print one error (and hint) and exit with ``code``."""
    err_console.print(f"[bold red]error[/]: {escape(message)}")
    if hint:
        err_console.print(f"  [dim]hint:[/] {escape(hint)}")
    raise typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Render ArchsimError once (all its diagnostics) and exit 2; never show a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ArchsimError as exc:
            print_diagnostics(exc.diagnostics)
            errors = sum(1 for d in exc.diagnostics if d.severity is Severity.ERROR)
            if errors > 1:
                err_console.print(f"[bold red]{errors} errors[/]")
            raise typer.Exit(EXIT_INVALID) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper


def load_or_exit(path: Path, *, quiet: bool = False) -> LoadResult:
    """Load a model; errors are raised for ``handle_errors``, warnings printed unless quiet."""
    result = load(path)
    if not quiet:
        print_diagnostics(result.diagnostics)
    return result


def print_json(data: Any) -> None:
    """Write JSON to stdout exactly (no Rich markup or wrapping)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def progress_bar(*columns: str | ProgressColumn, quiet: bool = False) -> Progress:
    """A transient progress bar on stderr: ``columns``, a bar and the elapsed time; hidden when
    ``quiet`` (``--json``) or when stderr is not a terminal."""
    head, tail = columns[:1], columns[1:]
    return Progress(
        *head,
        BarColumn(),
        *tail,
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet or not err_console.is_terminal,
    )
