"""Calibration acceptance figures on this machine (issue 6): measure the seed's generated stack,
calibrate the model, then check the calibrated prediction against a second load level and the
saturation knee of a stepped open-model run.

    python benchmarks/bench_calibration.py [--calibrate-rps 80] [--host-rps 500]
                                           [--second-rps 160] [--steps 100:2100:200]

Calibration: the 80 req/s run in detail, plus a shorter 500 req/s run for the shared host's and
each process's CPU per request as curves of the rate (``archsim calibrate --measured low
--measured high``; ``--no-curves`` leaves the processes' out, ``--fit-wait`` adds the wait for a
core). The check levels (160, 320) and the stepped run are measured separately and only
compared with. ``--keep DIR`` keeps the runs; ``--reuse DIR`` fits and compares them again
without a stack (seconds, not minutes).

Targets: every entry's predicted mean and p95 latency at the second level within 25% of the
measured values; predicted saturation throughput within 25% of the measured knee (the highest
throughput a stepped --rps run achieves). Prints the figures; exits 1 when a target is missed.
The stack is started on loopback in a temporary directory and always stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from archsim.codegen import render
from archsim.codegen.locustfile import render_locustfile
from archsim.loadtest.calibrate import calibrate, profile_yaml
from archsim.loadtest.compare import compare, sim_config_of, workload_of
from archsim.loadtest.runner import LoadSpec, run_locust
from archsim.loadtest.steps import StepResult, compare_knee, parse_rates, run_steps
from archsim.model import apply_overrides, load
from archsim.runtime import launcher
from archsim.sim import Workload, simulate
from archsim.sim.analytic import saturation

# a load test: password hashing lowered (as archsim loadtest --up does, with its warning)
LOAD_TEST_ENV = {**os.environ, "ARCHSIM_PBKDF2_ROUNDS": "1000"}

ROOT = Path(__file__).resolve().parent.parent
#: issue 6's target (bench_trace_calibration.py uses it); issue 16's is --tolerance (15%)
TOLERANCE = 0.25


def _probe() -> float:
    """Seconds of a fixed pure-Python workload, best of three: the machine's speed just before
    a run (on a shared virtual machine it moved 1.5x within an hour, docs/calibrate.md)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i % 7
        best = min(best, time.perf_counter() - start)
    return best


def _measure(stack: Path, text: str, arch_name: str, out: Path, **spec: float) -> dict:
    probe = _probe()
    result = run_locust(stack, text, LoadSpec(**spec), out, architecture=arch_name)
    result["bench_probe_s"] = probe  # kept beside the run for --reuse
    (out / "summary.json").write_text(json.dumps(result, indent=1))
    steal = (result.get("host") or {}).get("steal_ratio")
    print(
        f"  {out.name}: {spec.get('rps', 0):g} req/s, probe {probe * 1e3:.1f} ms"
        + ("" if steal is None else f", stolen CPU {steal:.1%}"),
        file=sys.stderr,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / "topology.dot")
    parser.add_argument("--calibrate-rps", type=float, default=80.0)
    # issue 16: two levels other than the calibration level
    parser.add_argument("--levels", default="160,320", help="comma-separated check levels, req/s")
    parser.add_argument(
        "--relative",
        action="store_true",
        help="steps first; then calibrate at 8%%, host at 50%%, check at 16%% and 32%% of the knee",
    )
    parser.add_argument(
        "--fit-wait", action="store_true", help="also fit host_wait (the wait for a core)"
    )
    parser.add_argument(
        "--no-curves",
        action="store_true",
        help="leave out each process's CPU per request as a curve of the rate (cpu_power)",
    )
    parser.add_argument("--tolerance", type=float, default=0.15, help="target, relative")
    # a shorter run nearer the knee, only for the shared host's CPU per request (calibrate
    # --measured low --measured high): CPU per request falls with load on this machine
    parser.add_argument("--host-rps", type=float, default=500.0)
    parser.add_argument("--host-duration", type=float, default=45.0)
    # 90 s, not 40 s: the rarest entries (sign-up, login through the gateway) then get ~60
    # requests per window instead of ~25, and their measured p95 stops moving ±40% run to run.
    parser.add_argument("--duration", type=float, default=90.0, help="seconds per level")
    # up to well past the knee; stepping stops after two saturated steps (archsim loadtest --steps)
    parser.add_argument("--steps", default="100:2100:200")
    parser.add_argument("--step-duration", type=float, default=20.0)
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs' files here")
    parser.add_argument(
        "--fit-check", action="store_true", help="also compare at the calibration level itself"
    )
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="fit and compare the runs kept earlier with --keep in this directory (no stack)",
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # a run takes ~10 min: show each step as it ends
    arch = load(args.model).architecture
    if args.reuse:
        runs, second, steps = _reuse(args.reuse)
    else:
        runs, second, steps = _measure_all(arch, args)
    return _report(arch, args, runs, second, steps)


def _reuse(base: Path) -> tuple[tuple[dict, dict], list[dict], dict]:
    """The runs a previous ``--keep`` wrote: calibration level, check levels, steps."""
    first = json.loads((base / "calibrate" / "summary.json").read_text())
    high = json.loads((base / "host" / "summary.json").read_text())
    levels = sorted(base.glob("level-*/summary.json"), key=lambda p: float(p.parent.name[6:]))
    if not levels and (base / "second" / "summary.json").exists():  # kept before --levels
        levels = [base / "second" / "summary.json"]
    checks = [json.loads(p.read_text()) for p in levels]
    steps = json.loads((base / "steps" / "steps.json").read_text())
    return (first, high), checks, steps


def _measure_all(arch, args) -> tuple[tuple[dict, dict], list[dict], dict]:
    """Start the architecture's stack, measure the levels and the steps, stop the stack."""
    text = render_locustfile(arch)
    with tempfile.TemporaryDirectory(prefix="archsim-bench-") as tmp:
        work = args.keep or Path(tmp)
        stack = Path(tmp) / "stack"
        for rel, body in render(arch).items():
            path = stack / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
        launcher.up(stack, timeout_s=120, env=LOAD_TEST_ENV)
        try:
            return _runs(arch, args, stack, text, work)
        finally:
            launcher.down(stack)


def _runs(arch, args, stack: Path, text: str, work: Path) -> tuple[tuple[dict, dict], list, dict]:
    """The runs in order: with ``--relative`` the steps first, each level a share of the knee."""
    common = {"duration": args.duration, "warmup": 5.0, "users": 100, "spawn_rate": 100}
    rates = (args.calibrate_rps, args.host_rps, parse_rates(args.levels))
    steps = _steps(arch, args, stack, text, work) if args.relative else None
    if steps is not None:
        knee = steps["knee"]["throughput"]
        rates = (0.08 * knee, 0.5 * knee, [0.16 * knee, 0.32 * knee])
        print(f"  knee {knee:.0f} req/s → levels {rates}", file=sys.stderr)
    first = _measure(stack, text, arch.name, work / "calibrate", rps=rates[0], **common)
    host = common | {"duration": args.host_duration, "users": 200, "spawn_rate": 200}
    high = _measure(stack, text, arch.name, work / "host", rps=rates[1], **host)
    checks = [
        _measure(stack, text, arch.name, work / f"level-{rps:g}", rps=rps, **common)
        for rps in rates[2]
    ]
    return (first, high), checks, steps or _steps(arch, args, stack, text, work)


def _steps(arch, args, stack: Path, text: str, work: Path) -> dict:
    """The stepped run (``loadtest --steps``), kept as ``steps/steps.json``."""
    spec = LoadSpec(duration=args.step_duration, warmup=4.0, users=300, spawn_rate=300)

    def shown(step: StepResult) -> None:
        print(f"  step {step.offered_rps:g} req/s → {step.goodput:.0f}", file=sys.stderr)

    steps = run_steps(
        stack,
        text,
        spec,
        parse_rates(args.steps),
        work / "steps",
        architecture=arch.name,
        on_step=shown,
    )
    (work / "steps" / "steps.json").write_text(json.dumps(steps, indent=1))
    return steps


def _table(comparison, tolerance: float) -> int:
    """Print predicted vs measured mean and p95 per entry; the number of figures outside."""
    print(
        f"{'entry':28} {'mean m':>9} {'mean p':>9} {'err':>6} {'p95 m':>9} {'p95 p':>9} {'err':>6}"
    )
    misses = 0
    for eid, row in comparison.entries.items():
        m, p = row.mean, row.p95
        bad = [abs(c.rel_error or 0) > tolerance for c in (m, p)]
        misses += sum(bad)
        print(
            f"{eid:28} {m.measured * 1e3:8.2f}m {m.predicted * 1e3:8.2f}m "
            f"{m.rel_error:+6.0%} {p.measured * 1e3:8.2f}m {p.predicted * 1e3:8.2f}m "
            f"{p.rel_error:+6.0%}{'  MISS' if any(bad) else ''}"
        )
    s = comparison.summary()
    print(
        f"entries within {tolerance:.0%}: mean {s.mean_within}/{s.entries}, "
        f"p95 {s.p95_within}/{s.entries}"
    )
    return misses


def _rate(run: dict) -> float:
    return float(run["workload"].get("rps") or run["total"]["throughput"])


def _stolen(*runs: dict) -> str:
    """The hypervisor's share of the machine's CPU in each run (calibration, host, check)."""
    shares = [(r.get("host") or {}).get("steal_ratio") for r in runs]
    if all(s is None for s in shares):
        return ""
    return " (stolen CPU: " + ", ".join("?" if s is None else f"{s:.1%}" for s in shares) + ")"


def _knee(arch) -> float:
    """Predicted saturation throughput (req/s): where the busiest station reaches 100%."""
    return saturation(arch, Workload(rps=1.0))[0]


def _one_run(arch, first: dict, knee: float) -> None:
    """Diagnostic, not a target: the host fitted to the calibration run alone."""
    fit = calibrate(arch, first, fit_network=False, fit_spread=False)
    predicted = _knee(apply_overrides(arch, fit.overrides()))
    print(
        f"diagnostic (not the target): host fitted to the {_rate(first):g} req/s run alone "
        f"predicts the knee at {predicted:.0f} req/s ({(predicted - knee) / knee:+.0%})"
    )


def _report(arch, args, runs: tuple[dict, dict], checks: list[dict], steps: dict) -> int:
    """Calibrate on the first run (and the host on both), compare with the second level and
    the knee; print; exit code."""
    first, high = runs
    tol = args.tolerance
    fit = calibrate(arch, first, more=[high], fit_wait=args.fit_wait, fit_curves=not args.no_curves)
    print(profile_yaml(fit, f"the {_rate(first):g} req/s run (host: also {_rate(high):g})"))
    Console(width=110).print(fit)
    calibrated = apply_overrides(arch, fit.overrides())
    if args.fit_check:
        print(f"fit check: the calibration level itself ({_rate(first):g} req/s), not a target")
        again = simulate(calibrated, workload_of(first), sim_config_of(first, 3), jobs=2)
        _table(compare(calibrated, first, again, tol), tol)
    misses = 0
    for check in checks:
        result = simulate(calibrated, workload_of(check), sim_config_of(check, 3), jobs=2)
        comparison = compare(calibrated, check, result, tol)
        print(
            f"calibrated at {_rate(first):g} req/s; check level {_rate(check):g} req/s"
            + _stolen(first, high, check)
        )
        misses += _table(comparison, tol)
    knees = compare_knee(calibrated, steps, tol)
    Console(width=110).print(knees)
    knee, knee_err = knees.measured.throughput, knees.rel_error
    if not knees.measured.reached:
        print("  note: no step saturated; the measured knee is only a floor")
    _one_run(arch, first, knee)
    ok = misses == 0 and bool(knees.within)
    print(
        "PASS"
        if ok
        else f"FAIL: {misses} latency figures and "
        f"{'no' if abs(knee_err) <= tol else 'the'} knee outside ±{tol:.0%}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
