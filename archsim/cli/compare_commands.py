"""``archsim compare`` and ``archsim calibrate``: put a measured run beside the simulator's
prediction of it, and fit the model to it."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from archsim.api import options
from archsim.cli.common import (
    console,
    err_console,
    handle_errors,
    load_or_exit,
    print_json,
)
from archsim.cli.files import read_profile, write_atomic
from archsim.errors import ScenarioError

# The load-test and simulation cores are imported inside the commands that use them: importing
# them here would cost every archsim command ~0.3 s of start-up.

__all__ = ["register"]

_STEPS_SCHEMA = "archsim.steps/1"  # archsim.loadtest.steps.STEPS_SCHEMA, without importing it


def _read_measured(path: Path) -> dict[str, Any]:
    from archsim.loadtest.compare import read_measured  # lazily: see above

    return read_measured(path)


def compare_cmd(
    model: Annotated[Path, typer.Argument(help="Architecture file (DOT).", show_default=False)],
    measured: Annotated[
        Path,
        typer.Option(
            help="summary.json of archsim loadtest, steps.json of loadtest --steps, or traces "
            "(OTLP JSON / Jaeger JSON files, or a folder of them: archsim up --trace).",
            show_default=False,
        ),
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
    allow_failures: Annotated[
        bool,
        typer.Option("--allow-failures", help="Use a run with more than 5% failed requests."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Simulate the measured run's workload (same users and think time, or same arrival rate;
    same mix and duration) and show predicted vs measured per entry and per component. Given
    the steps.json of a stepped run, compare the predicted saturation throughput (and its
    bottleneck) with the measured knee instead. A run with more than 5% failed requests is
    refused (exit 2, naming the failing entries) unless --allow-failures.

    Example: archsim compare topology.dot --measured run/summary.json --report compare.html

    Example: archsim compare topology.dot --measured steps/steps.json --profile cal.profile.yaml

    Example: archsim compare topology.dot --measured shop/.archsim/traces
    """
    from archsim.loadtest.compare import check_measured, compare, sim_config_of, workload_of
    from archsim.loadtest.failures import check_failures
    from archsim.loadtest.report import render_compare_report
    from archsim.sim import simulate

    arch = load_or_exit(model, quiet=as_json).architecture
    data = _traces_as_run(arch, measured) if _is_traces(measured) else _read_measured(measured)
    tol = options.fraction(tolerance, "--tolerance", eg="25%") or 0.0
    if data.get("schema") == _STEPS_SCHEMA:
        _compare_knee(arch, data, measured, profile, tol, report, as_json)
        return
    check_measured(arch, data, str(measured))
    check_failures(data, str(measured), allow=allow_failures)
    arch = _with_profile(arch, profile)
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


def _compare_knee(
    arch: Any,
    data: dict[str, Any],
    measured: Path,
    profile: Path | None,
    tol: float,
    report: Path | None,
    as_json: bool,
) -> None:
    from archsim.loadtest.steps import check_steps, compare_knee

    if report is not None:
        raise ScenarioError(
            "--report plots a single run; a stepped run is compared as a table",
            hint="drop --report, or compare one step: --measured DIR/step-RATE/summary.json",
            code="bad-option",
        )
    check_steps(arch, data, str(measured))
    comparison = compare_knee(_with_profile(arch, profile), data, tol)
    if as_json:
        print_json(comparison.to_dict())
    else:
        console.print(comparison)


def calibrate_cmd(
    model: Annotated[Path, typer.Argument(help="Architecture file (DOT).", show_default=False)],
    measured: Annotated[
        list[Path] | None,
        typer.Option(
            help="summary.json of archsim loadtest; repeat with runs at other rates: the "
            "shared host's and each process's CPU per request then follow the rate (the "
            "first run is fitted in detail).",
            show_default=False,
        ),
    ] = None,
    traces: Annotated[
        list[Path] | None,
        typer.Option(
            help="Fit to traces instead (OTLP JSON or Jaeger JSON files or folders): "
            "exclusive times of server spans, db/cache times, hit ratios, call probabilities.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Profile YAML to write.")] = Path(
        "calibrated.profile.yaml"
    ),
    allow_failures: Annotated[
        bool,
        typer.Option("--allow-failures", help="Fit a run with more than 5% failed requests."),
    ] = False,
    fit_wait: Annotated[
        bool,
        typer.Option(
            "--fit-wait",
            help="Also fit host_wait (each compute step's wait for a core on the shared host) "
            "to the busiest --measured run, at twice the first's rate or more.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fit as JSON.")] = False,
) -> None:
    """Fit per-component service times (and hit ratios, network latency, the shared host and
    worker counts where the data identify them) to a measured run; write a profile for
    --profile. A second run at a higher rate separates the host's per-request CPU from what it
    spends anyway, and shows how each process's CPU per request falls with the rate, so the
    predicted saturation is not taken from low-load costs alone. A run
    with more than 5% failed requests is refused (exit 2) unless --allow-failures.

    Example: archsim calibrate topology.dot --measured run/summary.json -o cal.profile.yaml

    Example: archsim calibrate topology.dot --measured low/summary.json --measured high/summary.json

    Example: archsim calibrate topology.dot --measured low/summary.json --measured high/summary.json
    --fit-wait

    Example: archsim calibrate topology.dot --traces shop/.archsim/traces -o cal.profile.yaml
    """
    from archsim.loadtest.calibrate import calibrate, profile_yaml
    from archsim.loadtest.compare import check_measured
    from archsim.loadtest.failures import check_failures

    if (measured is None) == (traces is None):
        raise ScenarioError(
            "calibrate needs one measurement: --measured or --traces",
            hint="--measured run/summary.json (archsim loadtest) or --traces DIR (archsim up "
            "--trace)",
            code="bad-measured",
        )
    arch = load_or_exit(model, quiet=as_json).architecture
    if traces is not None:
        _calibrate_traces(arch, model, traces, output, as_json)
        return
    assert measured is not None
    runs = []
    for path in measured:
        data = _read_measured(path)
        check_measured(arch, data, str(path))
        check_failures(data, str(path), allow=allow_failures)
        runs.append(data)
    if fit_wait and len(runs) < 2:
        raise ScenarioError(
            "--fit-wait needs a second --measured run at a higher rate: the wait for a core "
            "does not show at the calibration level",
            hint="add --measured high/summary.json, a run at about three quarters of the knee",
            code="bad-measured",
        )
    fit = calibrate(arch, runs[0], more=runs[1:], fit_wait=fit_wait)
    write_atomic(output, profile_yaml(fit, source=" + ".join(str(p) for p in measured)))
    if as_json:
        print_json(fit.to_dict())
        return
    console.print(fit)
    err_console.print(
        f"[dim]profile written to {output}; use it: archsim simulate {model} --profile {output}[/]"
    )


def _calibrate_traces(
    arch: Any, model: Path, traces: list[Path], output: Path, as_json: bool
) -> None:
    from archsim.cli.trace_commands import read_trace_files
    from archsim.traces.tune import calibrate_traces

    fit = calibrate_traces(arch, read_trace_files(traces))
    write_atomic(output, fit.yaml(" + ".join(str(p) for p in traces)))
    if as_json:
        print_json(fit.to_dict())
        return
    for name, mean in sorted(fit.fitted.items()):
        console.print(f"{name}: exclusive {mean:.3f} ms", soft_wrap=True)
    for text in fit.skipped:
        err_console.print(f"skipped: {text}", markup=False)
    err_console.print(
        f"[dim]profile written to {output}; use it: archsim simulate {model} --profile {output}[/]"
    )


def _is_traces(path: Path) -> bool:
    """A folder, a JSON-lines file, or JSON that is OTLP or Jaeger rather than a summary."""
    if path.is_dir() or path.suffix in (".jsonl", ".ndjson"):
        return True
    try:
        head = path.read_text(encoding="utf-8")[:4096]
    except (OSError, UnicodeDecodeError):
        return False  # _read_measured says why
    return '"resourceSpans"' in head or '"resource_spans"' in head or '"traceID"' in head


def _traces_as_run(arch: Any, path: Path) -> dict[str, Any]:
    from archsim.cli.trace_commands import read_trace_files
    from archsim.traces.measured import summary_from_traces

    return summary_from_traces(arch, read_trace_files([path]))


def _with_profile(arch: Any, profile: Path | None) -> Any:
    if profile is None:
        return arch
    from archsim.sim.scenario import prepare

    data = read_profile(profile)
    return prepare(arch, [], data, str(profile))


def register(app: typer.Typer) -> None:
    """Add ``compare`` and ``calibrate`` to the application."""
    app.command("compare")(handle_errors(compare_cmd))
    app.command("calibrate")(handle_errors(calibrate_cmd))
