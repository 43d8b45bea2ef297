"""Calibration from traces (issue 12): measure the seed's generated stack with tracing on at one
load level, calibrate the model from that run's traces alone (``archsim calibrate --traces``),
predict a second level and compare with its measurement — beside the summary-based calibration
of the same first run (``archsim calibrate --measured``), in the same run.

    python benchmarks/bench_trace_calibration.py [--calibrate-rps 80] [--second-rps 160]
                                                 [--duration 25]

Target: every entry's predicted mean and p95 at the second level within 25% of the measured
values. Prints both tables; exits 1 when the trace-based calibration misses a figure. The stack
is started on loopback in a temporary directory (tracing on, 100% sampling) and always stopped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_calibration import TOLERANCE, _measure, _table  # noqa: E402

from archsim.codegen import render  # noqa: E402
from archsim.codegen.locustfile import render_locustfile  # noqa: E402
from archsim.loadtest.calibrate import calibrate  # noqa: E402
from archsim.loadtest.compare import compare, sim_config_of, workload_of  # noqa: E402
from archsim.model import apply_overrides, load  # noqa: E402
from archsim.runtime import launcher  # noqa: E402
from archsim.sim import simulate  # noqa: E402
from archsim.sim.scenario import prepare  # noqa: E402
from archsim.traces import discover, read_spans  # noqa: E402
from archsim.traces.calibrate import fit_traces  # noqa: E402

ENV = {**os.environ, "ARCHSIM_PBKDF2_ROUNDS": "1000", "ARCHSIM_TRACE": "1"}


def main() -> int:
    """Run the benchmark; return the process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=ROOT / "topology.dot")
    ap.add_argument("--calibrate-rps", type=float, default=80.0)
    ap.add_argument("--second-rps", type=float, default=160.0)
    ap.add_argument("--duration", type=float, default=25.0)
    args = ap.parse_args()
    arch = load(args.model).architecture
    text = render_locustfile(arch)
    with tempfile.TemporaryDirectory(prefix="archsim-bench-traces-") as tmp:
        stack = Path(tmp) / "stack"
        for rel, body in render(arch).items():
            path = stack / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
        warmup = 5.0
        common = {"duration": args.duration, "warmup": warmup, "users": 100, "spawn_rate": 100}
        launcher.up(stack, timeout_s=120, env=ENV)
        try:
            t0 = time.time_ns() + int(warmup * 1e9)
            first = _measure(
                stack, text, arch.name, Path(tmp) / "first", rps=args.calibrate_rps, **common
            )
            t1 = time.time_ns()
            time.sleep(2)  # the first run's spans are flushed (once a second)
            second = _measure(
                stack, text, arch.name, Path(tmp) / "second", rps=args.second_rps, **common
            )
        finally:
            launcher.down(stack)
        folder = stack / ".archsim" / "traces"
        spans = [
            s
            for p in sorted(folder.glob("*.jsonl"))
            for s in read_spans(p.read_text(), str(p))
            if t0 <= s.start_ns <= t1
        ]
    found = discover(spans)
    fit = fit_traces(arch, found)
    print(f"traces of the first run: {found.spans} spans, {found.traces} traces")
    print(fit.yaml(f"the {args.calibrate_rps:g} req/s run's traces"))
    from_traces = prepare(arch, [], fit.profile, "traces")
    result = simulate(from_traces, workload_of(second), sim_config_of(second, 3), jobs=2)
    print(f"calibrated from traces at {args.calibrate_rps:g} req/s; "
          f"second level {args.second_rps:g} req/s")  # fmt: skip
    misses = _table(compare(from_traces, second, result, TOLERANCE))
    summary_fit = calibrate(arch, first)
    baseline = apply_overrides(arch, summary_fit.overrides())
    again = simulate(baseline, workload_of(second), sim_config_of(second, 3), jobs=2)
    print("same run, summary-based calibration (calibrate --measured) of the first level:")
    _table(compare(baseline, second, again, TOLERANCE))
    print("PASS" if misses == 0 else f"FAIL: {misses} figures outside ±{TOLERANCE:.0%}")
    return 0 if misses == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
