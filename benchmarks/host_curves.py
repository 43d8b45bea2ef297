"""The host's busy cores against the rate: which curve through the calibration and host runs
foretells the stepped runs (issue 16: the knee).

    python benchmarks/host_curves.py KEPT_DIR

Reads what ``bench_calibration.py --keep KEPT_DIR`` wrote (``round-N/calibrate``,
``round-N/host``, ``steps*/step-*``; no stack is started). Each round's two runs give two points
(front-door requests/s, cores busy: every process of the stack and the load generator, as
``archsim.loadtest.host_fit.host_point`` counts them) above the idle CPU measured before the
load. Through them, three curves:

- ``power``: ``A · X ** p`` with ``p`` kept in 0.5–1, what ``calibrate`` fits (``host_cpu``,
  ``host_cpu_power``);
- ``power, free``: the same with ``p`` as the two points say;
- ``line``: ``a + b · X``, a fixed cost while the load runs and a cost per request.

For every step of the stepped runs the table prints the measured busy cores beside each
curve's, and each curve's knee (where it fills the machine's cores) beside the measured knee and
the busy cores there. A curve that foretells the steps is one the model could use.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from archsim.loadtest.host_fit import POWER_RANGE, host_point, log_slope
from archsim.loadtest.measured import MeasuredRun

Curve = Callable[[float], float]  # requests/s → cores busy above the idle CPU


def _run(path: Path) -> MeasuredRun:
    return MeasuredRun.from_dict(json.loads(path.read_text()))


def curves(low: MeasuredRun, high: MeasuredRun) -> tuple[float, dict[str, Curve]]:
    """(idle cores, the curves by name) through two runs' points above the idle CPU."""
    background = sum(low.idle_cpu.values())
    (x1, y1), (x2, y2) = (host_point(m) for m in (low, high))
    y1, y2 = y1 - background, y2 - background
    slope, _, _ = log_slope([(x1, y1), (x2, y2)])
    kept = min(max(slope, POWER_RANGE[0]), POWER_RANGE[1])
    b = (y2 - y1) / (x2 - x1)

    def power(p: float) -> Curve:
        return lambda x: y2 * (x / x2) ** p  # through the busier point, as host_fit does

    return background, {
        f"power {kept:.2f}": power(kept),
        f"power {slope:.2f}, free": power(slope),
        "line": lambda x: y1 + b * (x - x1),
    }


def knee(curve: Curve, cores: float, background: float) -> float:
    """Requests/s where the curve fills ``cores`` (bisection over 1–100,000 req/s)."""
    lo, hi = 1.0, 1e5
    if curve(hi) + background < cores:
        return math.inf
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if curve(mid) + background < cores else (lo, mid)
    return lo


def _steps(base: Path) -> list[tuple[str, list[dict]]]:
    found = []
    for d in sorted(base.glob("steps*")):
        if (d / "steps.json").exists():
            found.append((d.name, json.loads((d / "steps.json").read_text())["steps"]))
    return found


def main() -> int:
    """Print, per round, each curve against the stepped runs' busy cores and knees."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kept", type=Path, help="the directory given to bench_calibration --keep")
    args = ap.parse_args()
    rounds = sorted(args.kept.glob("round-*")) or [args.kept]
    stepped = _steps(args.kept)
    if not stepped or not (rounds[0] / "host" / "summary.json").exists():
        print(f"{args.kept}: no round-N/host and steps*/steps.json here", file=sys.stderr)
        return 1
    for base in rounds:
        low, high = _run(base / "calibrate" / "summary.json"), _run(base / "host" / "summary.json")
        cores = low.host_cpus or 2
        background, fitted = curves(low, high)
        points = ", ".join(f"{x:.0f} req/s {y:.2f}" for x, y in map(host_point, (low, high)))
        print(f"{base.name}: {points} cores busy; idle {background:.2f} of {cores}")
        for name, steps in stepped:
            print(f"  {name}: offered, served, cores measured | " + " | ".join(fitted))
            for s in steps:
                rate = s["goodput"]
                got = f"{s.get('host_cores', 0.0):.2f}" if s.get("host_cores") else "  – "
                cells = " | ".join(f"{c(rate) + background:5.2f}" for c in fitted.values())
                print(f"    {s['offered_rps']:6.0f} {rate:6.0f}   {got} | {cells}")
            best = max(steps, key=lambda s: s["goodput"])
            at = best.get("host_cores") or 0.0
            busy = f" ({at:.2f} cores busy there)" if at else ""
            print(f"    knee measured {best['goodput']:.0f} req/s{busy}")
            for label, c in fitted.items():
                line = f"    {label:>20}: fills {cores} cores at {knee(c, cores, background):.0f}"
                if at:
                    line += f", {at:.2f} at {knee(c, at, background):.0f}"
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
