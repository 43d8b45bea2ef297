"""Calibration from traces (issue 12): measure the seed's generated stack with tracing on at one
load level, calibrate the model from that run's traces alone (``archsim calibrate --traces``),
predict a second level and compare with its measurement — beside the summary-based calibration
of the same first run (``archsim calibrate --measured``), in the same run.

    python benchmarks/bench_trace_calibration.py [--calibrate-rps 80] [--second-rps 160]
                                                 [--duration 25] [--keep DIR | --reuse DIR]

Target: every entry's predicted mean and p95 at the second level within 25% of the measured
values. Prints both tables and the fit check at the calibration level itself (both fits, not a
target); exits 1 when the trace-based calibration misses a figure. The stack is started on
loopback in a temporary directory (tracing on, 100% sampling) and always stopped. The traces
used are those whose root started inside the first run's measurement window (after its
warm-up, as the load test measured). The host's load average is printed before and after each
level: other work on a shared machine shows up as latency in both levels alike.
``--keep DIR`` keeps both runs and the spans; ``--reuse DIR`` fits and compares them again
without a stack.
"""

from __future__ import annotations

import argparse
import json
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
from archsim.traces.hops import hop_gaps  # noqa: E402
from archsim.traces.tune import calibrate_traces  # noqa: E402

ENV = {**os.environ, "ARCHSIM_PBKDF2_ROUNDS": "1000", "ARCHSIM_TRACE": "1"}


def main() -> int:
    """Run the benchmark; return the process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=ROOT / "topology.dot")
    ap.add_argument("--calibrate-rps", type=float, default=80.0)
    ap.add_argument("--second-rps", type=float, default=160.0)
    ap.add_argument("--duration", type=float, default=25.0)
    ap.add_argument("--keep", type=Path, default=None, help="keep the runs and spans here")
    ap.add_argument(
        "--reuse", type=Path, default=None, help="fit the runs kept with --keep (no stack)"
    )
    args = ap.parse_args()
    arch = load(args.model).architecture
    if args.reuse:
        first, second, spans = _reuse(args.reuse)
    else:
        first, second, spans = _measure_all(arch, args)
    return _report(arch, args, first, second, spans)


def _reuse(base: Path) -> tuple[dict, dict, list]:
    """The runs and the first run's spans a previous ``--keep`` wrote."""
    first = json.loads((base / "first" / "summary.json").read_text())
    second = json.loads((base / "second" / "summary.json").read_text())
    path = base / "spans.otlp.jsonl"
    return first, second, _in_window(read_spans(path.read_text(), str(path)), first)


def _in_window(spans: list, run: dict) -> list:
    """The spans of the traces that started inside ``run``'s measurement window (after its
    warm-up, as the load test measured): whole traces, never a trace cut in two."""
    t0 = (run["started_at"] + run["warmup_s"]) * 1e9
    t1 = t0 + run["window_s"] * 1e9
    began: dict[str, int] = {}
    for s in spans:
        began[s.trace_id] = min(began.get(s.trace_id, s.start_ns), s.start_ns)
    return [s for s in spans if t0 <= began[s.trace_id] <= t1]


def _measure_all(arch, args) -> tuple[dict, dict, list]:
    """Start the traced stack, measure both levels, stop it; the first run's spans."""
    text = render_locustfile(arch)
    with tempfile.TemporaryDirectory(prefix="archsim-bench-traces-") as tmp:
        work = args.keep or Path(tmp)
        stack = Path(tmp) / "stack"
        for rel, body in render(arch).items():
            path = stack / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
        warmup = 5.0
        common = {"duration": args.duration, "warmup": warmup, "users": 100, "spawn_rate": 100}
        launcher.up(stack, timeout_s=120, env=ENV)
        try:
            print(f"load average before: {os.getloadavg()[0]:.2f}")  # other work on the host
            first = _measure(
                stack, text, arch.name, work / "first", rps=args.calibrate_rps, **common
            )
            time.sleep(2)  # the first run's spans are flushed (once a second)
            print(f"load average after the first level: {os.getloadavg()[0]:.2f}")
            second = _measure(
                stack, text, arch.name, work / "second", rps=args.second_rps, **common
            )
            print(f"load average after the second level: {os.getloadavg()[0]:.2f}")
        finally:
            launcher.down(stack)
        folder = stack / ".archsim" / "traces"
        lines = [
            line
            for p in sorted(folder.glob("*.jsonl"))
            for line in p.read_text().splitlines()
            if line.strip()
        ]
        text_all = "\n".join(lines)
        spans = _in_window(read_spans(text_all, str(folder)), first)
        if args.keep:
            (work / "spans.otlp.jsonl").write_text(text_all + "\n")
    return first, second, spans


def _times(raw, fit, summary: dict) -> None:
    """Service times side by side: from the summary (CPU per request), from the traces (the
    spans' exclusive time, the gap of the calls a component answered, and the tuned time with
    the on-path share of the gap kept)."""
    print(f"{'component':22} {'summary (CPU)':>30} {'exclusive':>10} {'gap in':>9} {'traces':>30}")
    ours = fit.profile.get("components", {})
    theirs = summary.get("components", {})
    for cid in sorted(set(ours) | set(theirs)):
        mean = raw.times.get(cid, (None,))[0]
        gap = raw.outside.get(cid)
        excl = f"{(mean - gap) * 1e3:9.3f}m" if mean is not None and gap is not None else ""
        print(
            f"{cid:22} {theirs.get(cid, {}).get('service_time', '')!s:>30} {excl:>10} "
            f"{'' if gap is None else f'{gap * 1e3:8.3f}m':>9} "
            f"{ours.get(cid, {}).get('service_time', '')!s:>30}"
        )
    print(f"graph: summary {summary.get('graph')}; traces {fit.profile.get('graph')}")
    why = fit.calibration.why
    print(f"traces, on_path: {why.get('on_path')}; cv: {why.get('cv')}")


def _report(arch, args, first: dict, second: dict, spans: list) -> int:
    """Fit from the spans and from the summary of the first run; compare both at the second."""
    found = discover(spans)
    fit = calibrate_traces(arch, spans)
    print(f"traces of the first run: {found.spans} spans, {found.traces} traces")
    print(fit.yaml(f"the {args.calibrate_rps:g} req/s run's traces"))
    from_traces = prepare(arch, [], fit.profile, "traces")
    result = simulate(from_traces, workload_of(second), sim_config_of(second, 3), jobs=2)
    print(f"calibrated from traces at {args.calibrate_rps:g} req/s; "
          f"second level {args.second_rps:g} req/s")  # fmt: skip
    misses = _table(compare(from_traces, second, result, TOLERANCE), TOLERANCE)
    summary_fit = calibrate(arch, first)
    baseline = apply_overrides(arch, summary_fit.overrides())
    again = simulate(baseline, workload_of(second), sim_config_of(second, 3), jobs=2)
    print("same run, summary-based calibration (calibrate --measured) of the first level:")
    _table(compare(baseline, second, again, TOLERANCE), TOLERANCE)
    _times(fit_traces(arch, found, hop_gaps(spans)), fit, summary_fit.profile())
    for name, model in (("traces", from_traces), ("summary", baseline)):
        level = simulate(model, workload_of(first), sim_config_of(first, 3), jobs=2)
        print(f"fit check, {name}-based, at the calibration level itself (not a target):")
        _table(compare(model, first, level, TOLERANCE), TOLERANCE)
    print("PASS" if misses == 0 else f"FAIL: {misses} figures outside ±{TOLERANCE:.0%}")
    return 0 if misses == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
