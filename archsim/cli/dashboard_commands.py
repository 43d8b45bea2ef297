"""``archsim dashboard``: a live local web page for a running generated stack."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from archsim.api import options
from archsim.cli.common import console, fail, handle_errors, load_or_exit

__all__ = ["register", "run_dashboard"]

DEFAULT_PORT = 8470

ModelOpt = Annotated[
    Path | None,
    typer.Option(help="Architecture the stack was generated from (default: the file its "
                 "generated files name, looked for here, in DIR and beside DIR)."),
]  # fmt: skip
HostOpt = Annotated[
    str, typer.Option(help="Address to listen on (another than 127.0.0.1 exposes the page).")
]
PortOpt = Annotated[int, typer.Option(help="Port to listen on (0: any free port).")]
RefreshOpt = Annotated[str, typer.Option(help="How often the page and the figures refresh.")]
WindowOpt = Annotated[str, typer.Option(help="Span the rates are measured over.")]


def run_dashboard(
    directory: Path,
    model: Path | None = None,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    refresh: str = "2s",
    window: str = "10s",
) -> None:
    """Load the model, render its diagram and serve the dashboard until Ctrl-C."""
    from archsim.dashboard import find_model
    from archsim.dashboard.server import Dashboard, serve
    from archsim.render import render
    from archsim.runtime import launcher

    refresh_s = options.seconds(refresh, "--refresh", allow_zero=False)
    window_s = options.seconds(window, "--window", allow_zero=False)
    if not (directory / "stack.json").is_file():
        fail(f"{directory} is not a generated stack (no stack.json)",
             "generate one first: archsim generate topology.dot -o DIR")  # fmt: skip
    if not 0 <= port <= 65535:
        fail(f"--port {port} is not a port number", "give 1-65535, or 0 for any free port")
    path = model or find_model(directory)
    if path is None:
        fail(f"cannot tell which architecture file {directory} was generated from",
             f"name it: archsim dashboard {directory} --model topology.dot")  # fmt: skip
    arch = load_or_exit(path).architecture
    made_from = launcher.load_manifest(directory).get("architecture")
    if made_from and made_from != arch.name:
        fail(
            f"the stack in {directory} was generated from '{made_from}', not from "
            f"'{arch.name}' ({path})",
            "give the model the stack was generated from (--model)",
        )
    svg = render(arch, "svg").decode("utf-8")
    if launcher.status(directory) is None:
        console.print(f"[yellow]no stack is running in {directory}[/] — the page shows it "
                      f"down until you start it: archsim up {directory}")  # fmt: skip
    board = Dashboard(arch, directory, refresh_s=refresh_s, window_s=window_s)

    def ready(url: str) -> None:
        console.print(f"dashboard of {arch.name}: [bold]{url}[/]  (Ctrl-C to stop)")

    try:
        asyncio.run(serve(board, svg, host, port, ready))
    except OSError as exc:
        fail(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            "another program holds the port: pick one with --port (0: any free port)",
        )
    except KeyboardInterrupt:
        console.print("dashboard stopped")


def dashboard(
    directory: Annotated[Path, typer.Argument(help="Directory of a generated stack.")],
    model: ModelOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = DEFAULT_PORT,
    refresh: RefreshOpt = "2s",
    window: WindowOpt = "10s",
) -> None:
    """Serve a live web page of a running stack: its diagram with every component and link
    annotated with measured throughput, error ratio and p95 (from /metrics) beside the model's
    prediction at the measured arrival rate, coloured where they part; a load test's progress.

    The page works offline (no external assets) and listens on 127.0.0.1 unless --host says
    otherwise.

    Example: archsim dashboard shop/ --model topology.dot
    """
    run_dashboard(directory, model, host, port, refresh, window)


def register(app: typer.Typer) -> None:
    """Add the dashboard command to the app."""
    app.command("dashboard")(handle_errors(dashboard))
