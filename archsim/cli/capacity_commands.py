"""``archsim sweep`` and ``archsim plan``: curves over load and the cheapest sizing for an SLO."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import MofNCompleteColumn, Progress

from archsim.api import options
from archsim.cli.common import (
    console,
    err_console,
    handle_errors,
    load_or_exit,
    print_json,
    progress_bar,
)
from archsim.cli.files import read_profile, write_atomic
from archsim.errors import ScenarioError
from archsim.model import Architecture

# The capacity and simulation cores (and Dask) are imported inside the commands that use them:
# importing them here would slow every archsim command's start-up.
if TYPE_CHECKING:
    from archsim.capacity.axis import Axis
    from archsim.sim import SimConfig

__all__ = ["register"]

_EXIT_INTERRUPTED = 130

File = Annotated[Path, typer.Argument(help="Architecture file (Graphviz DOT).", show_default=False)]
Sets = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override an attribute: comp.attr=value (a range sweeps it)."),
]
ProfileOpt = Annotated[
    Path | None, typer.Option("--profile", help="Profile file (YAML: components, links, graph).")
]
Think = Annotated[str, typer.Option(help="Think time per user: 1s, const(1s), …")]
Mix = Annotated[str | None, typer.Option(help="Entry mix, e.g. 'GET /api/products/{id}=5'.")]
Duration = Annotated[str, typer.Option(help="Simulated time per replication.")]
Warmup = Annotated[str, typer.Option(help="Warm-up to discard: a duration or mser5.")]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed gives the same output.")]
Jobs = Annotated[int | None, typer.Option(help="Local worker processes (default: all cores).")]
Scheduler = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (tcp://host:8786), or 'local' for a LocalCluster."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _config(duration: str, warmup: str, replications: int, seed: int) -> SimConfig:
    return options.sim_config(
        duration=duration, warmup_=warmup, replications=replications, seed=seed, cli=True
    )


def _model(file: Path, sets: list[str], profile: Path | None, quiet: bool) -> Architecture:
    from archsim.sim.scenario import prepare

    arch = load_or_exit(file, quiet=quiet).architecture
    data: Any = read_profile(profile) if profile is not None else None
    return prepare(arch, sets, data, str(profile) if profile else "profile")


def _single(text: str | None, option: str, default: float) -> float:
    """A fixed --rps/--users value (the swept one's placeholder when it is a range)."""
    from archsim.capacity.axis import is_range

    if text is None or is_range(text):
        return default
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(
            f"{option} must be a number or a range, got '{text}'",
            hint=f"e.g. {option} 500 or {option} 100..2000:step=100",
            code="bad-workload",
        ) from None
    if not value > 0:
        raise ScenarioError(f"{option} must be > 0, got {text}", code="bad-workload")
    return value


def _bar(quiet: bool) -> Progress:
    return progress_bar("{task.description}", MofNCompleteColumn(), "replications", quiet=quiet)


def _axis(rps: str | None, users: str | None, sets: list[str]) -> tuple[Axis, list[str]]:
    """The one swept axis, and the ``--set`` overrides that stay fixed."""
    from archsim.capacity import parse_axis
    from archsim.capacity.axis import is_range

    axes: list[Axis] = []
    fixed = []
    for text in sets:
        name, sep, value = text.partition("=")
        if sep and is_range(value.strip()):
            axes.append(parse_axis("set", value.strip(), name.strip()))
        else:
            fixed.append(text)
    for kind, given in (("rps", rps), ("users", users)):
        if given is not None and is_range(given):
            axes.append(parse_axis(kind, given))
    if len(axes) != 1:
        raise ScenarioError(
            "give exactly one range to sweep" if axes else "nothing to sweep",
            hint="e.g. --rps 100..3000:step=100, --users 10..200:points=20, "
            "or --rps 500 --set payment_service.replicas=1..6",
            code="bad-axis",
        )
    return axes[0], fixed


def sweep_cmd(
    file: File,
    rps: Annotated[
        str | None, typer.Option(help="Rate (req/s), or the swept range: 100..3000:step=100.")
    ] = None,
    users: Annotated[
        str | None, typer.Option(help="Closed workload: users, or a range: 10..200:points=20.")
    ] = None,
    think: Think = "1s",
    mix: Mix = None,
    set_: Sets = None,
    profile: ProfileOpt = None,
    duration: Duration = "5s",
    warmup: Warmup = "1s",
    replications: Annotated[int, typer.Option(help="Replications per level.")] = 5,
    seed: Seed = 1,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    as_json: AsJson = False,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="Write one row per level to this CSV file (-: stdout)."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write an HTML report: latency and utilisation vs load.")
    ] = None,
) -> None:
    """Simulate the architecture at every level of a range (load, users or any attribute):
    throughput and latency percentiles with CIs, the saturation knee, and the first component
    to saturate at each level. Ctrl-C keeps the levels that finished.

    Example: archsim sweep topology.dot --rps 100..2000:step=100 --report sweep.html
    """
    from archsim.capacity import open_executor, sweep
    from archsim.capacity.report import render_sweep_report
    from archsim.sim import Workload
    from archsim.sim.workload import parse_mix, parse_think

    if rps is not None and users is not None:
        raise ScenarioError(
            "give either --rps (open) or --users (closed), not both",
            hint="e.g. --rps 100..2000:step=100, or --users 10..200:points=20",
            code="bad-workload",
        )
    axis, fixed = _axis(rps, users, set_ or [])
    arch = _model(file, fixed, profile, as_json)
    workload = Workload(
        rps=None if users is not None else _single(rps, "--rps", 100.0),
        users=None if users is None else int(_single(users, "--users", 1.0)),
        think=parse_think(think),
        mix=parse_mix(mix, arch) if mix else None,
    )
    cfg = _config(duration, warmup, replications, seed)
    cfg.check(arch)
    with open_executor(jobs, scheduler) as backend, _bar(as_json) as bar:
        task = bar.add_task(f"sweeping {axis.name}", total=len(axis.values) * replications)
        result = sweep(
            arch,
            axis,
            workload,
            cfg,
            backend.executor,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if csv_out is not None:
        write_atomic(csv_out, result.to_csv())
    if report is not None:
        write_atomic(report, render_sweep_report(result))
    if as_json:
        print_json(result.to_dict())
    elif str(csv_out) != "-":
        console.print(result)
        for path, what in ((csv_out, "CSV"), (report, "report")):
            if path is not None:
                err_console.print(f"[dim]{what} written to {path}[/]")
    if result.interrupted:
        err_console.print("[yellow]interrupted: kept the levels that finished[/]")
        raise typer.Exit(_EXIT_INTERRUPTED)


def plan_cmd(
    file: File,
    target_rps: Annotated[float, typer.Option(help="Load to plan for (requests/s).")],
    slo: Annotated[
        str, typer.Option(help="Objectives: p99<300ms, mean/p50/p95/p99/p999, error_rate<1%.")
    ],
    scale: Annotated[str, typer.Option(help="What to change: replicas, workers or both.")] = (
        "replicas"
    ),
    max_replicas: Annotated[int, typer.Option(help="Most replicas per component.")] = 10,
    max_workers: Annotated[int, typer.Option(help="Most workers per replica.")] = 64,
    only: Annotated[
        list[str] | None, typer.Option(help="Scale only these components (repeatable).")
    ] = None,
    fixed: Annotated[
        list[str] | None, typer.Option(help="Never scale these components (repeatable).")
    ] = None,
    max_evaluations: Annotated[int, typer.Option(help="Most configurations to simulate.")] = 60,
    mix: Mix = None,
    set_: Sets = None,
    profile: ProfileOpt = None,
    duration: Duration = "5s",
    warmup: Warmup = "1s",
    replications: Annotated[
        int, typer.Option(help="Replications per configuration (verification: twice, >= 6).")
    ] = 3,
    seed: Seed = 1,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the profile (YAML) here, for --profile."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Find the cheapest replica (and worker) counts per component that meet the objectives at
    the target load, verify them by re-simulating, and print the changes as a profile file.
    Exit 1 when no configuration within the limits can.

    Example: archsim plan topology.dot --target-rps 2000 --slo "p99<300ms" -o plan.yaml
    """
    from archsim.capacity import Limits, open_executor, parse_slos, plan
    from archsim.sim import Workload
    from archsim.sim.workload import parse_mix

    slos = parse_slos(slo)
    arch = _model(file, set_ or [], profile, as_json)
    base = Workload(mix=parse_mix(mix, arch) if mix else None)
    limits = Limits(
        max_replicas=max_replicas,
        max_workers=max_workers,
        scale=scale,
        only=tuple(only or ()),
        fixed=tuple(fixed or ()),
        max_evaluations=max_evaluations,
    )
    cfg = _config(duration, warmup, replications, seed)
    with open_executor(jobs, scheduler) as backend, _bar(as_json) as bar:
        task = bar.add_task("planning", total=None)

        def progress(phase: str, done: int, total: int) -> None:
            bar.update(task, description=f"planning: {phase}", completed=done, total=total)

        result = plan(
            arch,
            target_rps,
            slos,
            workload=base,
            config=cfg,
            limits=limits,
            executor=backend.executor,
            progress=progress,
        )
    if output is not None and result.feasible:
        write_atomic(output, result.profile_yaml())
    if as_json:
        print_json(result.to_dict() | {"profile": result.profile_yaml()})
    else:
        console.print(result)
        if result.feasible:
            console.print()
            console.print(result.profile_yaml(), markup=False, highlight=False, end="")
            if output is not None:
                err_console.print(
                    f"[dim]profile written to {output}; apply it with "
                    f"archsim simulate {file} --profile {output} --rps {target_rps:g}[/]"
                )
    if not result.feasible:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``sweep`` and ``plan`` to the application."""
    app.command("sweep")(handle_errors(sweep_cmd))
    app.command("plan")(handle_errors(plan_cmd))
