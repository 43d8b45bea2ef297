"""``archsim loadtest``: measure a generated stack with Locust, one run or a stepped one that
finds the saturation knee (``compare_commands`` puts the results beside the model)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from archsim.api import options
from archsim.cli.common import (
    EXIT_FINDINGS,
    console,
    err_console,
    handle_errors,
    load_or_exit,
    print_json,
    progress_bar,
)
from archsim.cli.files import write_atomic
from archsim.errors import ScenarioError
from archsim.narrow import fit_table

# The load-test, simulation and code-generation cores are imported inside the commands that use
# them: importing them here would cost every archsim command ~0.3 s of start-up.
if TYPE_CHECKING:
    from archsim.loadtest.thresholds import ThresholdResult

__all__ = ["register"]


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
    steps: Annotated[
        str | None,
        typer.Option(
            help="Open model, stepped to find the saturation knee: rates 100,300,500 or "
            "100:1500:200; --duration is per step; writes steps.json."
        ),
    ] = None,
    allow_failures: Annotated[
        bool,
        typer.Option(
            "--allow-failures", help="Exit 0 even when more than 1% of the requests failed."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json.")] = False,
) -> None:
    """Load-test a running generated stack with Locust (headless, in its own process): per
    entry requests, failures, throughput and latency percentiles, and per-service figures
    from /metrics. Thresholds (--check) set the exit code: 1 when one is violated, and 1 when
    more than 1% of the requests failed (a warning names the failing entries and their most
    frequent error) unless --allow-failures.
    --steps raises the arrival rate step by step until the stack saturates and records the
    knee in steps.json (compare it with the model: archsim compare MODEL --measured steps.json).

    Example: archsim loadtest ./stack --model topology.dot --users 20 --check p99<300ms

    Example: archsim loadtest ./stack --steps 100:1500:200 --duration 20s --users 300
    """
    from archsim.loadtest.stack_state import LOAD_TEST_ROUNDS, running_stack
    from archsim.loadtest.thresholds import parse_threshold

    thresholds = [parse_threshold(text) for text in check or ()]
    spec = options.load_spec(
        users=users,
        spawn_rate=spawn_rate,
        duration=duration,
        warmup_=warmup,
        rps=rps,
        arrivals=arrivals,
        think=think,
        processes=processes,
        seed=seed,
        cli=True,
    )
    rates = _rates(steps, rps, thresholds)
    text, name = _locustfile(stack, model, quiet=as_json)
    if up:
        _hash_warning(LOAD_TEST_ROUNDS)
    with (
        running_stack(stack, up),
        progress_bar("[bold]load[/]", "{task.description}", quiet=as_json) as bar,
    ):
        if rates:
            _stepped_run(stack, text, name, spec, rates, out, bar, as_json)
            return
        summary = _single_run(stack, text, name, spec, out, bar)
    _report_run(summary, thresholds, out, as_json, allow_failures)


def _hash_warning(rounds: int) -> None:
    """Say so when the stack hashes passwords below the OWASP minimum (a load-test setting)."""
    import os

    from archsim.runtime.auth import ROUNDS_ENV, rounds_warning

    warning = rounds_warning(int(os.environ.get(ROUNDS_ENV) or rounds))
    if warning:
        err_console.print(f"[yellow]warning:[/] {warning}")


def _rates(steps: str | None, rps: float | None, thresholds: list[Any]) -> list[float]:
    """The stepped run's rates, or [] for a single run; ScenarioError for clashing options."""
    from archsim.loadtest.steps import parse_rates

    if steps is None:
        return []
    if rps is not None:
        raise ScenarioError(
            "--steps and --rps both set the arrival rate",
            hint="give one: --rps 200 for one run, --steps 100,300,500 to step",
            code="bad-option",
        )
    if thresholds:
        raise ScenarioError(
            "--check applies to a single run, not to a stepped one",
            hint="check a single run at the rate you care about: --rps R --check ...",
            code="bad-option",
        )
    return parse_rates(steps)


def _locustfile(stack: Path, model: Path | None, quiet: bool) -> tuple[str, str | None]:
    """The locustfile's text and the architecture it drives: from --model, else the stack's."""
    from archsim.codegen.locustfile import render_locustfile
    from archsim.loadtest.stack_state import stack_architecture

    if model is not None:
        arch = load_or_exit(model, quiet=quiet).architecture
        return render_locustfile(arch, source=model.name), arch.name
    if (stack / "locustfile.py").is_file():
        # The locustfile archsim generate wrote; the manifest names the architecture it is for.
        return (stack / "locustfile.py").read_text(), stack_architecture(stack)
    raise ScenarioError(
        f"no locustfile in {stack} and no --model to render one",
        hint=f"regenerate the stack (archsim generate writes one) or add --model {stack}.dot",
        code="no-model",
    )


def _live(bar: Progress, spec: Any, prefix: str = "") -> Callable[[float, dict[str, float]], None]:
    task = bar.add_task(prefix + "starting Locust", total=spec.duration)

    def live(elapsed: float, stats: dict[str, float]) -> None:
        text = prefix + ("warming up" if elapsed < spec.warmup else "measuring")
        if stats:
            text += f"  {stats['requests']:.0f} requests, {stats['failures']:.0f} failed, "
            text += f"{stats['rps']:.0f} req/s"
        bar.update(task, completed=elapsed, description=text)

    return live


def _single_run(
    stack: Path, text: str, name: str | None, spec: Any, out: Path, bar: Progress
) -> dict[str, Any]:
    from archsim.loadtest.runner import run_locust

    return run_locust(stack, text, spec, out, architecture=name, live=_live(bar, spec))


def _report_run(
    summary: dict[str, Any], thresholds: list[Any], out: Path, as_json: bool, allow: bool
) -> None:
    from archsim.loadtest.failures import failure_warning
    from archsim.loadtest.summary import steal_warning
    from archsim.loadtest.thresholds import evaluate
    from archsim.sim.results import short_duration

    results = evaluate(thresholds, summary["endpoints"], summary["total"])
    summary["thresholds"] = [r.to_dict() for r in results]
    write_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    if as_json:
        print_json(summary)
    else:
        console.print(fit_table(_endpoint_table(summary), console, optional=("p50", "p99.9")))
        if summary["components"]:
            console.print(fit_table(_component_table(summary), console))
        lag = summary.get("open_model")
        if lag and lag["count"] and lag["late"] / lag["count"] > 0.01:
            err_console.print(
                f"[yellow]warning[/]: {lag['late'] / lag['count']:.1%} of requests left late "
                f"(max {short_duration(lag['max_s'])}): the user pool was busy; raise --users"
            )
        stolen = steal_warning(summary)
        if stolen:
            err_console.print(f"[yellow]warning[/]: {stolen}", highlight=False)
        _threshold_lines(results)
        err_console.print(f"[dim]results in {out} (summary.json, report.html, locust_*.csv)[/]")
    warning = failure_warning(summary)
    if warning:  # said on stderr even with --json: a failing run must never pass unnoticed
        err_console.print(f"[bold yellow]warning[/]: {warning}", highlight=False)
        if not allow:
            err_console.print("[dim]exit 1: pass --allow-failures to accept failed requests[/]")
    if any(not r.ok for r in results) or (warning and not allow):
        raise typer.Exit(EXIT_FINDINGS)


def _stepped_run(
    stack: Path,
    text: str,
    name: str | None,
    spec: Any,
    rates: list[float],
    out: Path,
    bar: Progress,
    as_json: bool,
) -> None:
    from archsim.loadtest.steps import run_steps

    def live(rate: float) -> Callable[[float, dict[str, float]], None]:
        return _live(bar, spec, f"{rate:g} req/s ({rates.index(rate) + 1}/{len(rates)}): ")

    def on_step(step: Any) -> None:
        if not as_json:
            mark = "  saturated" if step.saturated else ""
            err_console.print(
                f"[dim]{step.offered_rps:g} req/s offered → {step.goodput:.0f} served, "
                f"{step.fail_ratio:.1%} failed{mark}[/]"
            )

    doc = run_steps(stack, text, spec, rates, out, architecture=name, live=live, on_step=on_step)
    write_atomic(out / "steps.json", json.dumps(doc, indent=2) + "\n")
    if as_json:
        print_json(doc)
        return
    console.print(fit_table(_steps_table(doc), console))
    err_console.print(f"[dim]steps in {out}/step-*/; knee and figures in {out}/steps.json[/]")


def _steps_table(doc: dict[str, Any]) -> Table:
    t = Table(title=f"{doc['architecture']}: stepped open-model run", title_justify="left")
    for col in ("offered", "served", "fail", "mean", "p95", "busiest (CPU)"):
        t.add_column(col, justify="right")
    for s in doc["steps"]:
        t.add_row(
            f"{s['offered_rps']:g}",
            f"{s['goodput']:.0f}" + (" [yellow]saturated[/]" if s["saturated"] else ""),
            f"{s['fail_ratio']:.1%}",
            f"{s['mean'] * 1e3:.1f} ms" if s["mean"] is not None else "–",
            f"{s['p95'] * 1e3:.1f} ms" if s["p95"] is not None else "–",
            f"{s['busiest']} ({s['busiest_cpu']:.0%})" if s["busiest"] else "–",
        )
    knee = doc["knee"]
    floor = "" if knee["reached"] else "≥ "
    t.caption = f"knee: {floor}{knee['throughput']:.0f} req/s (at {knee['offered_rps']:g} offered)"
    if not knee["reached"]:
        t.caption += "; no step saturated — step higher to find it"
    if doc.get("interrupted"):
        t.caption += " (interrupted: the steps that finished)"
    t.caption_justify = "left"
    return t


def register(app: typer.Typer) -> None:
    """Add ``loadtest`` to the application."""
    app.command("loadtest")(handle_errors(loadtest_cmd))
