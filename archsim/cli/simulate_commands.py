"""``archsim simulate``: predict latency, throughput and saturation of an architecture."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import MofNCompleteColumn
from rich.table import Table

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

# The simulation core is imported inside the command: importing it here would slow every
# archsim command's start-up.
if TYPE_CHECKING:
    from archsim.model import Architecture
    from archsim.sim import SimulationResult, Workload
    from archsim.sim.analytic import Solution

__all__ = ["register"]


class Method(StrEnum):
    """How to predict: simulate, solve analytically, or both side by side."""

    SIM = "sim"
    ANALYTIC = "analytic"
    BOTH = "both"


def _side_by_side(result: SimulationResult) -> list[Table]:
    from archsim.sim.results import short_duration

    analytic = result.analytic
    method = analytic.method if analytic is not None else ""
    t = Table(title=f"analytic ({method}) vs simulated", title_justify="left")
    for col in ("entry", "analytic mean", "simulated mean (95% CI)"):
        t.add_column(col, justify="left" if col == "entry" else "right")
    u = Table(title="utilisation: analytic vs simulated", title_justify="left")
    for col in ("component", "analytic", "simulated (95% CI)"):
        u.add_column(col, justify="left" if col == "component" else "right")
    if analytic is None:
        return [t, u]
    for eid, a in analytic.entries.items():
        s = result.entries.get(eid)
        if s:
            hw = s.latency.mean_ci
            sim = short_duration(s.latency.mean) + (f" ±{short_duration(hw)}" if hw else "")
            t.add_row(eid, short_duration(a.latency_mean), sim)
    for cid, station in analytic.components.items():
        c = result.components[cid]
        if station.utilisation > 0 or c.utilisation > 0:
            hw = c.utilisation_ci
            sim = f"{c.utilisation:.1%}" + (f" ±{hw:.1%}" if hw else "")
            u.add_row(cid, f"{station.offered_load:.1%}", sim)
    return [t, u]


def _analytic_table(solution: Solution) -> list[Table]:
    from archsim.sim.results import short_duration

    e = Table(title=f"analytic: {solution.method}", title_justify="left")
    for col in ("entry", "req/s", "mean"):
        e.add_column(col, justify="left" if col == "entry" else "right")
    for eid, v in solution.entries.items():
        e.add_row(eid, f"{v.throughput:.1f}", short_duration(v.latency_mean))
    c = Table(title="components (offered load)", title_justify="left")
    for col in ("component", "load", "req/s", "queue", "state"):
        c.add_column(col, justify="left" if col in ("component", "state") else "right")
    for cid, s in sorted(solution.components.items(), key=lambda kv: -kv[1].offered_load):
        state = "[bold red]UNSTABLE[/]" if s.unstable else "[green]ok[/]"
        c.add_row(
            cid,
            f"{s.offered_load:.1%}",
            f"{s.throughput:.1f}",
            f"{s.queue_mean:.2f}",
            state,
        )
    return [e, c]


def _print_analytic(arch: Architecture, workload: Workload, as_json: bool) -> None:
    """``--method analytic``: the solution as JSON (schema ``archsim.simulation/1``) or as
    tables."""
    from archsim.sim import SCHEMA, solve

    solution = solve(arch, workload)
    if as_json:
        print_json(
            {
                "schema": SCHEMA,
                "architecture": arch.name,
                "method": "analytic",
                "workload": workload.describe(),
                "analytic": solution.to_dict(),
            }
        )
        return
    for table in _analytic_table(solution):
        console.print(table)


def simulate_cmd(
    file: Annotated[
        Path, typer.Argument(help="Architecture file (Graphviz DOT).", show_default=False)
    ],
    rps: Annotated[float | None, typer.Option(help="Open workload: requests per second.")] = None,
    users: Annotated[int | None, typer.Option(help="Closed workload: concurrent users.")] = None,
    think: Annotated[
        str,
        typer.Option(help="Think time per user: 1s (exponential), const(1s), uniform(0.5s,1.5s)."),
    ] = "1s",
    arrivals: Annotated[str, typer.Option(help="Open arrivals: poisson or constant.")] = "poisson",
    ramp: Annotated[
        str | None,
        typer.Option(help="Rate over time: 0s=50,30s=200 (linear) or step:0s=50,20s=100."),
    ] = None,
    mix: Annotated[
        str | None,
        typer.Option(help="Entry mix, e.g. 'GET /api/products/{id}=5,POST /api/orders=1'."),
    ] = None,
    duration: Annotated[str, typer.Option(help="Simulated time per replication.")] = "60s",
    warmup: Annotated[str, typer.Option(help="Warm-up to discard: a duration or mser5.")] = "5s",
    replications: Annotated[
        int, typer.Option(help="Independent replications (95% CIs across them).")
    ] = 5,
    precision: Annotated[
        str | None,
        typer.Option(
            help="Add replications until the mean's CI half-width is within this, e.g. 2%."
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same output.")
    ] = 1,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override an attribute: comp.attr=value, a->b.attr=value, attr=value."
        ),
    ] = None,
    fail: Annotated[
        list[str] | None, typer.Option(help="Fail a component in a window: comp@30s..60s.")
    ] = None,
    slow: Annotated[
        list[str] | None, typer.Option(help="Slow a component down: comp@10s..20s:x5.")
    ] = None,
    profile: Annotated[
        Path | None, typer.Option(help="Profile file (YAML: components, links, graph).")
    ] = None,
    balancing: Annotated[
        str, typer.Option(help="Replica balancing: round_robin or least_outstanding.")
    ] = "round_robin",
    method: Annotated[
        Method, typer.Option(help="sim, analytic or both side by side.")
    ] = Method.SIM,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (archsim.simulation/1).")
    ] = False,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="Write per-entry and per-component rows to this CSV file."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report with plots.")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option(help="Parallel replications (default: all cores).")
    ] = None,
) -> None:
    """Simulate an architecture under load: latency per endpoint, utilisation per component,
    which station saturates first, and what happens when something slows down or fails.

    Example: archsim simulate topology.dot --rps 200 --duration 60s --replications 5
    """
    from archsim.sim import simulate
    from archsim.sim.report import render_report
    from archsim.sim.scenario import prepare

    options.exclusive(rps, users, cli=True)  # before reading the file
    arch = load_or_exit(file, quiet=as_json).architecture
    profile_data = read_profile(profile) if profile is not None else None
    arch = prepare(arch, set_ or [], profile_data, str(profile) if profile else "profile")
    workload = options.workload(
        arch, rps=rps, users=users, think=think, mix=mix, arrivals=arrivals, ramp=ramp, cli=True
    )
    cfg = options.sim_config(
        duration=duration,
        warmup_=warmup,
        replications=replications,
        seed=seed,
        precision=precision,
        balancing=balancing,
        fault_windows=options.faults(fail or (), slow or ()),
        cli=True,
    )
    cfg.check(arch)
    if method is Method.ANALYTIC:
        _print_analytic(arch, workload, as_json)
        return
    with progress_bar("simulating", MofNCompleteColumn(), "replications", quiet=as_json) as bar:
        task = bar.add_task("sim", total=cfg.replications)
        result = simulate(
            arch,
            workload,
            cfg,
            jobs=jobs,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if csv_out is not None:
        write_atomic(csv_out, result.to_csv())
    if report is not None:
        write_atomic(report, render_report(result))
    if as_json:
        data = result.to_dict()
        if method is not Method.BOTH:
            data["analytic"] = None
        print_json(data)
        return
    console.print(result)
    if method is Method.BOTH:
        for table in _side_by_side(result):
            console.print(table)
    for path, what in ((csv_out, "CSV"), (report, "report")):
        if path is not None:
            err_console.print(f"[dim]{what} written to {path}[/]")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the application."""
    app.command("simulate")(handle_errors(simulate_cmd))
