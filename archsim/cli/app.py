"""The Typer application: global options and the registry of command groups.

Each command group lives in its own module with a ``register(app)`` function; this module
only wires them together, so adding a command never touches another command's code.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import typer

from archsim import __version__
from archsim.cli import (
    analyze_commands,
    capacity_commands,
    compare_commands,
    dashboard_commands,
    loadtest_commands,
    model_commands,
    render_commands,
    simulate_commands,
    stack_commands,
    trace_commands,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="archsim",
    help=(
        "Architecture-as-code: check, draw, simulate, generate and load-test a system "
        "described in Graphviz DOT.\n\nStart with: archsim inspect topology.dot"
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"archsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Architecture-as-code simulator and topology toolkit."""


for _group in (
    model_commands,
    analyze_commands,
    render_commands,
    simulate_commands,
    stack_commands,
    capacity_commands,
    loadtest_commands,
    compare_commands,
    dashboard_commands,
    trace_commands,
):
    _group.register(app)


def _terminated(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (``timeout``, a CI runner, ``kill``) unwinds like Ctrl-C, so the cleanup of a
    # running command happens: a load test stops its Locust, ``loadtest --up`` its stack.
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point (also ``python -m archsim``: usage lines say ``archsim``)."""
    signal.signal(signal.SIGTERM, _terminated)
    app(prog_name="archsim")
