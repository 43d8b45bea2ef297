"""``archsim loadtest``, ``archsim compare``, ``archsim calibrate``: measure a generated stack
with Locust, put the measurement beside the simulator's prediction, and fit the model to it."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archsim.cli.common import (
    EXIT_FINDINGS,
    console,
    duration_option,
    err_console,
    handle_errors,
    load_or_exit,
    print_json,
)
from archsim.cli.files import read_profile, write_atomic
from archsim.errors import Location, ScenarioError
from archsim.model.quantities import parse_probability

# The load-test, simulation and code-generation cores are imported inside the commands that use
# them: importing them here would cost every archsim command ~0.3 s of start-up.
if TYPE_CHECKING:
    from archsim.loadtest.thresholds import ThresholdResult

__all__ = ["register"]


def _read_measured(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(
            f"cannot read the measured run: {exc.strerror}",
            Location(str(path)),
            hint="give the summary.json that archsim loadtest wrote",
            code="bad-measured",
        ) from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"the measured run is not JSON: {exc.msg}",
            Location(str(path), exc.lineno, exc.colno),
            hint="give the summary.json that archsim loadtest wrote",
            code="bad-measured",
        ) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            "the measured run is not a JSON object", Location(str(path)), code="bad-measured"
        )
    return data


def _endpoint_table(summary: dict[str, Any]) -> Table:
    from archsim.sim.results import short_duration

    w = summary["workload"]
    load = f"{w['users']} users" if w["type"] == "closed" else f"{w['rps']:g} req/s (open)"
    t = Table(
        title=f"{summary['architecture']}: {load}, {summary['window_s']:g}s measured "
        f"after {summary['warmup_s']:g}s warm-up",
        title_justify="left",
    )
    t.add_column("entry", no_wrap=True)
    for col in ("requests", "fail", "req/s", "mean", "p50", "p95", "p99", "p99.9"):
        t.add_column(col, justify="right")
    rows = [*summary["endpoints"].items(), ("all", summary["total"])]
    for name, e in rows:
        t.add_row(
            name,
            str(e["requests"]),
            f"{e['fail_ratio']:.1%}",
            f"{e['throughput']:.1f}",
            *(short_duration(e[k]) for k in ("mean", "p50", "p95", "p99", "p999")),
            style="bold" if name == "all" else None,
        )
    return t


def _component_table(summary: dict[str, Any]) -> Table:
    from archsim.sim.results import short_duration

    t = Table(title="inside the stack (from /metrics and CPU time)", title_justify="left")
    for col in ("component", "req/s", "mean", "p95", "CPU", "CPU/request"):
        t.add_column(col, justify="left" if col == "component" else "right")
    for cid, c in summary["components"].items():
        lat = c.get("latency") or {}
        t.add_row(
            cid,
            f"{c['throughput']:.1f}" if c["requests"] else "–",
            short_duration(lat.get("mean")),
            short_duration(lat.get("p95")),
            f"{c['cpu_utilisation']:.0%}",
            short_duration(c.get("cpu_per_request_s")),
        )
    return t


def _threshold_lines(results: list[ThresholdResult]) -> None:
    for r in results:
        mark = "[green]✓[/]" if r.ok else "[bold red]✗[/]"
        console.print(f"{mark} {r.threshold.text}  (measured {r.describe()})", highlight=False)


def loadtest_cmd(
    stack: Annotated[
        Path, typer.Argument(help="Directory of a generated stack.", show_default=False)
    ],
    model: Annotated[
        Path | None,
        typer.Option(help="Architecture the stack was generated from (renders the locustfile)."),
    ] = None,
    users: Annotated[int, typer.Option(help="Closed: concurrent users; open: user pool.")] = 20,
    spawn_rate: Annotated[float, typer.Option(help="Users started per second.")] = 20.0,
    duration: Annotated[str, typer.Option(help="Length of the run (includes warm-up).")] = "60s",
    warmup: Annotated[str, typer.Option(help="Start of the run left out of the figures.")] = "5s",
    rps: Annotated[
        float | None, typer.Option(help="Open model: constant arrival rate (requests/s).")
    ] = None,
    arrivals: Annotated[str, typer.Option(help="Open model: poisson or constant.")] = "poisson",
    think: Annotated[
        str, typer.Option(help="Closed model think time: 1s (exponential), const(1s), ...")
    ] = "1s",
    processes: Annotated[
        int, typer.Option("--processes", "--workers", help="Locust worker processes.")
    ] = 1,
    seed: Annotated[int | None, typer.Option(help="Seed of the users' random choices.")] = None,
    up: Annotated[bool, typer.Option("--up", help="Start the stack first, stop it after.")] = False,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for CSVs, report.html, summary.json.")
    ] = Path("loadtest-results"),
    check: Annotated[
        list[str] | None,
        typer.Option(help="Threshold, e.g. p99<300ms, fail_ratio<1%, 'GET /users:p95<50ms'."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json.")] = False,
) -> None:
    """Load-test a running generated stack with Locust (headless, in its own process): per
    entry requests, failures, throughput and latency percentiles, and per-service figures
    from /metrics. Thresholds (--check) set the exit code: 1 when one is violated.

    Example: archsim loadtest ./stack --model topology.dot --users 20 --check p99<300ms
    """
    from archsim.codegen.locustfile import render_locustfile
    from archsim.loadtest.runner import LoadSpec, run_locust, running_stack, stack_architecture
    from archsim.loadtest.thresholds import evaluate, parse_threshold
    from archsim.sim.results import short_duration
    from archsim.sim.workload import parse_think

    thresholds = [parse_threshold(text) for text in check or ()]
    spec = LoadSpec(
        users=users,
        spawn_rate=spawn_rate,
        duration=duration_option(duration, "--duration"),
        warmup=duration_option(warmup, "--warmup"),
        rps=rps,
        arrivals=arrivals,
        think=parse_think(think),
        processes=processes,
        seed=seed,
    )
    spec.check()
    if model is not None:
        arch = load_or_exit(model, quiet=as_json).architecture
        text, name = render_locustfile(arch, source=model.name), arch.name
    elif (stack / "locustfile.py").is_file():
        # The locustfile archsim generate wrote; the manifest names the architecture it is for.
        text, name = (stack / "locustfile.py").read_text(), stack_architecture(stack)
    else:
        raise ScenarioError(
            f"no locustfile in {stack} and no --model to render one",
            hint=f"regenerate the stack (archsim generate writes one) or add --model {stack}.dot",
            code="no-model",
        )
    with (
        running_stack(stack, up),
        Progress(
            TextColumn("[bold]load[/]"),
            BarColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=as_json or not err_console.is_terminal,
        ) as bar,
    ):
        task = bar.add_task("starting Locust", total=spec.duration)

        def live(elapsed: float, stats: dict[str, float]) -> None:
            text = "warming up" if elapsed < spec.warmup else "measuring"
            if stats:
                text += f"  {stats['requests']:.0f} requests, {stats['failures']:.0f} failed, "
                text += f"{stats['rps']:.0f} req/s"
            bar.update(task, completed=elapsed, description=text)

        summary = run_locust(stack, text, spec, out, architecture=name, live=live)
    results = evaluate(thresholds, summary["endpoints"], summary["total"])
    summary["thresholds"] = [r.to_dict() for r in results]
    write_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    if as_json:
        print_json(summary)
    else:
        console.print(_endpoint_table(summary))
        if summary["components"]:
            console.print(_component_table(summary))
        lag = summary.get("open_model")
        if lag and lag["count"] and lag["late"] / lag["count"] > 0.01:
            err_console.print(
                f"[yellow]warning[/]: {lag['late'] / lag['count']:.1%} of requests left late "
                f"(max {short_duration(lag['max_s'])}): the user pool was busy; raise --users"
            )
        _threshold_lines(results)
        err_console.print(f"[dim]results in {out} (summary.json, report.html, locust_*.csv)[/]")
    if any(not r.ok for r in results):
        raise typer.Exit(EXIT_FINDINGS)


def compare_cmd(
    model: Annotated[Path, typer.Argument(help="Architecture file (DOT).", show_default=False)],
    measured: Annotated[
        Path, typer.Option(help="summary.json of archsim loadtest.", show_default=False)
    ],
    profile: Annotated[
        Path | None, typer.Option(help="Profile to apply first (e.g. from archsim calibrate).")
    ] = None,
    replications: Annotated[int, typer.Option(help="Simulation replications.")] = 5,
    seed: Annotated[int, typer.Option(help="Simulation seed.")] = 1,
    tolerance: Annotated[str, typer.Option(help="Relative error counted as a match.")] = "25%",
    report: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report with plots.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Simulate the measured run's workload (same users and think time, or same arrival rate;
    same mix and duration) and show predicted vs measured per entry and per component.

    Example: archsim compare topology.dot --measured run/summary.json --report compare.html
    """
    from archsim.loadtest.compare import check_measured, compare, sim_config_of, workload_of
    from archsim.loadtest.report import render_compare_report
    from archsim.sim import simulate

    arch = load_or_exit(model, quiet=as_json).architecture
    data = _read_measured(measured)
    check_measured(arch, data, str(measured))
    arch = _with_profile(arch, profile)
    try:
        tol = parse_probability(tolerance)
    except ValueError as exc:
        raise ScenarioError(f"--tolerance: {exc}", hint="e.g. 25%", code="bad-option") from None
    workload, cfg = workload_of(data), sim_config_of(data, replications, seed)
    cfg.check(arch)
    workload.check()
    busy = err_console.is_terminal and not as_json
    with err_console.status("simulating the measured workload") if busy else nullcontext():
        result = simulate(arch, workload, cfg)
    comparison = compare(arch, data, result, tol)
    if report is not None:
        write_atomic(report, render_compare_report(comparison))
    if as_json:
        print_json(comparison.to_dict())
        return
    console.print(comparison)
    if report is not None:
        err_console.print(f"[dim]report written to {report}[/]")


def calibrate_cmd(
    model: Annotated[Path, typer.Argument(help="Architecture file (DOT).", show_default=False)],
    measured: Annotated[
        Path, typer.Option(help="summary.json of archsim loadtest.", show_default=False)
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Profile YAML to write.")] = Path(
        "calibrated.profile.yaml"
    ),
    shared_host: Annotated[
        bool,
        typer.Option(
            help="Also give the front door the shared host's CPU share per request "
            "(a capacity bound for stacks whose processes share few cores)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fit as JSON.")] = False,
) -> None:
    """Fit per-component service times (and hit ratios, network latency and worker counts
    where the data identify them) to a measured run; write a profile for --profile.

    Example: archsim calibrate topology.dot --measured run/summary.json -o cal.profile.yaml
    """
    from archsim.loadtest.calibrate import calibrate, profile_yaml
    from archsim.loadtest.compare import check_measured

    arch = load_or_exit(model, quiet=as_json).architecture
    data = _read_measured(measured)
    check_measured(arch, data, str(measured))
    fit = calibrate(arch, data, host=shared_host)
    write_atomic(output, profile_yaml(fit, source=str(measured)))
    if as_json:
        print_json(fit.to_dict())
        return
    console.print(fit)
    err_console.print(
        f"[dim]profile written to {output}; use it: archsim simulate {model} --profile {output}[/]"
    )


def _with_profile(arch: Any, profile: Path | None) -> Any:
    if profile is None:
        return arch
    from archsim.sim.scenario import prepare

    data = read_profile(profile)
    return prepare(arch, [], data, str(profile))


def register(app: typer.Typer) -> None:
    """Add ``loadtest``, ``compare`` and ``calibrate`` to the application."""
    app.command("loadtest")(handle_errors(loadtest_cmd))
    app.command("compare")(handle_errors(compare_cmd))
    app.command("calibrate")(handle_errors(calibrate_cmd))
