"""``archsim generate``, ``up``, ``down``, ``status`` and ``logs``: a runnable stack."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from archsim.cli.common import console, err_console, fail, handle_errors, load_or_exit, print_json
from archsim.model import apply_overrides

# The code generator and the runtime are imported inside the commands that use them: importing
# them here would slow every archsim command's start-up.

__all__ = ["register"]

DirArg = Annotated[Path, typer.Argument(help="Directory of a generated stack.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
_STYLE = {"ready": "green", "starting": "yellow", "pending": "dim", "failed": "red",
          "stopped": "red", "unhealthy": "yellow"}  # fmt: skip


def generate(
    file: Annotated[Path, typer.Argument(help="Architecture file (Graphviz DOT).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write.")],
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override an attribute, e.g. cache.hit_ratio=0.9."),
    ] = None,
    pretend: Annotated[
        bool, typer.Option(help="Show what would be written; write nothing.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Overwrite generated files edited by hand.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate a runnable FastAPI stack from an architecture.

    Every application component becomes a FastAPI service whose handlers run the model's steps;
    infrastructure runs on the vendored runtime. Regenerating is safe: handlers.py files and
    config/settings.json are created once and never overwritten.

    Example: archsim generate topology.dot -o shop/
    """
    from archsim.codegen import FileAction, apply_writes, plan_writes, render

    started = time.perf_counter()
    arch = load_or_exit(file, quiet=as_json).architecture
    if overrides:
        arch = apply_overrides(arch, overrides)
    from archsim.model.dataflow import derive_dataflow

    plan = plan_writes(output, render(arch, source=file.name))
    written = [] if pretend else apply_writes(plan, force=force)
    elapsed = time.perf_counter() - started
    warnings = list(derive_dataflow(arch).warnings)  # calls whose inputs cannot be derived
    if as_json:
        print_json({**plan.to_dict(), "written": written, "pretend": pretend,
                    "warnings": warnings, "seconds": round(elapsed, 3)})  # fmt: skip
        return
    for warning in warnings:
        err_console.print(f"[yellow]warning[/]: {warning}", highlight=False)
    counts = ", ".join(f"{plan.count(a)} {a.value}" for a in FileAction if plan.count(a))
    verb = "would write" if pretend else "wrote"
    for path, action in plan.actions.items():
        if action in (FileAction.CREATE, FileAction.UPDATE, FileAction.CONFLICT) and pretend:
            console.print(f"  {action.value:8} {path}")
    console.print(f"{verb} {len(plan.files)} files to {output} ({counts}) in {elapsed:.2f}s")
    if not pretend:
        console.print(f"next: archsim up {output}")


def _table(instances: list[Any], title: str = "stack") -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("service", "instance", "role", "port", "state"):
        table.add_column(column)
    for inst in instances:
        data = inst if isinstance(inst, dict) else inst.to_dict()
        state = data.get("state", "?")
        table.add_row(data["component"], data["instance"], data["role"], str(data["port"]),
                      f"[{_STYLE.get(state, 'white')}]{state}[/]")  # fmt: skip
    return table


def _print_sinks(state: dict[str, Any]) -> None:
    """Where the stack's e-mail can be read (the tour's $SINK)."""
    for inst in state["instances"]:
        if inst.get("role") == "smtp_sink" and inst.get("url"):
            console.print(f"mail sink: {inst['url']}/messages  ({inst['component']})")


def _print_url(directory: Path, which: str) -> None:
    """status --url: one URL on stdout, or a clear error (exit 2)."""
    from archsim.runtime import launcher

    state = launcher.read_state(directory) if (directory / "stack.json").is_file() else None
    if not state:
        fail(f"no running stack in {directory}", f"start it: archsim up {directory}")
    if which == "front":
        console.out(str(state["front_door"]), highlight=False)
        return
    urls = [i["url"] for i in state["instances"] if i["component"] == which and i.get("url")]
    if not urls:
        known = sorted({i["component"] for i in state["instances"]})
        fail(f"no component {which!r} in {directory}", f"one of: front, {', '.join(known)}")
    console.out(urls[0], highlight=False)


def _parse_replicas(values: list[str] | None) -> dict[str, int]:
    replicas: dict[str, int] = {}
    for value in values or []:
        name, sep, count = value.partition("=")
        if not sep or not count.strip().isdigit():
            fail(f"--replicas {value!r} is not SERVICE=N", "e.g. --replicas product_service=2")
        replicas[name.strip()] = int(count)
    return replicas


def up(
    directory: DirArg,
    replicas: Annotated[
        list[str] | None, typer.Option(help="Instances of a service, e.g. product_service=2.")
    ] = None,
    emulate: Annotated[
        bool, typer.Option(help="Handlers spend their modelled service time (ARCHSIM_EMULATE=1).")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for readiness.")] = 90.0,
    hash_rounds: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="PBKDF2 rounds for passwords (default the OWASP minimum, 600,000); "
            "lower only for load tests.",
        ),
    ] = None,
    trace: Annotated[
        bool,
        typer.Option(
            "--trace",
            help="Services emit OpenTelemetry traces (ARCHSIM_TRACE=1): OTLP/HTTP to "
            "OTEL_EXPORTER_OTLP_ENDPOINT when set, else OTLP-JSON files in DIR/.archsim/traces.",
        ),
    ] = False,
    dashboard: Annotated[
        bool, typer.Option("--dashboard", help="Then serve the live dashboard (archsim dashboard).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Start a generated stack: infrastructure first, then services in dependency order.

    Each process gets a free loopback port; up waits until every one is ready, shows a live
    status table and prints the front-door URL. State: DIR/.archsim/state.json.

    Example: archsim up shop/ --replicas product_service=2
    """
    from archsim.runtime import launcher
    from archsim.runtime.auth import OWASP_PBKDF2_ROUNDS, ROUNDS_ENV, rounds_warning

    env = dict(os.environ)
    if emulate:
        env["ARCHSIM_EMULATE"] = "1"
    if hash_rounds is not None:
        env[ROUNDS_ENV] = str(hash_rounds)
    warning = rounds_warning(int(env.get(ROUNDS_ENV) or OWASP_PBKDF2_ROUNDS))
    if warning:
        err_console.print(f"[yellow]warning:[/] {warning}")
    if trace:
        env["ARCHSIM_TRACE"] = "1"
    counts = _parse_replicas(replicas)
    try:
        with Live(console=err_console, transient=as_json, refresh_per_second=8) as live:
            state = launcher.up(directory, replicas=counts, timeout_s=timeout, env=env,
                                progress=lambda insts: live.update(_table(insts)))  # fmt: skip
    except launcher.StackError as exc:
        err_console.line()
        fail(exc.message, exc.hint)
    err_console.line()
    if as_json:
        print_json(state)
        return
    console.print(f"front door: [bold]{state['front_door']}[/]")
    _print_sinks(state)
    console.print(f"stop with: archsim down {directory}")
    if dashboard:  # serves until Ctrl-C; the stack keeps running
        from archsim.cli.dashboard_commands import run_dashboard

        run_dashboard(directory)


def down(directory: DirArg = Path("."), as_json: JsonOpt = False) -> None:
    """Stop a running stack gracefully (SIGTERM, then SIGKILL to the process groups).

    Example: archsim down shop/
    """
    from archsim.runtime import launcher

    stopped = launcher.down(directory)
    if as_json:
        print_json({"stopped": stopped})
    elif stopped:
        console.print(f"stopped {len(stopped)} processes")
    else:
        console.print(f"nothing running in {directory}")


def status(
    directory: DirArg = Path("."),
    as_json: JsonOpt = False,
    url: Annotated[
        str | None,
        typer.Option(
            help="Print only a URL, for scripts: 'front' (the front door) or a "
            "component id (its first instance)."
        ),
    ] = None,
) -> None:
    """Show the processes of a stack and whether each is ready (exit 1 if not running or any
    instance is not ready; 2 if DIR is not a generated stack).

    Example: archsim status shop/

    Example: FRONT=$(archsim status shop --url front)
    """
    from archsim.runtime import launcher

    if url is not None:
        _print_url(directory, url)
        return

    if not (directory / "stack.json").is_file():
        fail(
            f"{directory} is not a generated stack (no stack.json)",
            "generate one first: archsim generate topology.dot -o DIR",
        )
    state = launcher.status(directory)
    if state is None:
        if as_json:
            print_json({"running": False})
        else:
            console.print(f"not running: {directory} (start it with archsim up {directory})")
        raise typer.Exit(1)
    if as_json:
        print_json(state)
    else:
        console.print(_table(state["instances"], title=f"{state['stack']}"))
        console.print(f"front door: {state['front_door']}")
        _print_sinks(state)
        if state["phase"] != "up":
            planned, missing = len(state.get("planned", [])), len(state["missing"])
            doing = "still starting" if state["phase"] == "starting" else "did not finish"
            console.print(
                f"[red]not ready[/]: archsim up {doing}: {planned - missing} of {planned} "
                f"processes started (missing: {', '.join(state['missing'][:8])})"
            )
            if state["phase"] == "incomplete":
                console.print(f"stop what is left with: archsim down {directory}")
    if state["phase"] != "up" or any(i["state"] != "ready" for i in state["instances"]):
        raise typer.Exit(1)


def logs(
    service: Annotated[str, typer.Argument(help="Component id (all its instances).")],
    directory: Annotated[Path, typer.Option("--dir", "-d", help="Stack directory.")] = Path("."),
    lines: Annotated[int, typer.Option("--lines", "-n", help="Lines per instance.")] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON document: each instance's log records.")
    ] = False,
) -> None:
    """Print the last log lines of a service's instances (JSON lines).

    Example: archsim logs order_service -d shop/ -n 20

    Example: archsim logs order_service -d shop/ --json
    """
    from archsim.runtime import launcher

    folder = directory / launcher.STATE_DIR / "logs"
    files = sorted(folder.glob(f"{service}-*.log"))
    if not files:
        known = sorted({p.stem.rsplit("-", 1)[0] for p in folder.glob("*.log")})
        hint = f"services with logs: {', '.join(known)}" if known else "start it: archsim up DIR"
        fail(f"no logs for {service!r} in {folder}", hint)
    tails = {path: path.read_text(errors="replace").splitlines()[-lines:] for path in files}
    if as_json:
        print_json({"service": service, "instances": [
            {"instance": path.stem, "log": str(path), "records": [_record(x) for x in tail]}
            for path, tail in tails.items()]})  # fmt: skip
        return
    for path, tail in tails.items():
        err_console.print(f"[dim]==> {path} <==[/]")
        for line in tail:
            console.out(line, highlight=False)


def _record(line: str) -> Any:
    """A log line as data: the JSON record, or {"raw": line} for output that is not JSON."""
    try:
        return json.loads(line)
    except ValueError:
        return {"raw": line}


def register(app: typer.Typer) -> None:
    """Add the stack commands to the app."""
    for command in (generate, up, down, status, logs):
        app.command(command.__name__)(handle_errors(command))
