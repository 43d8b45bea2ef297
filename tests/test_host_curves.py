"""benchmarks/host_curves.py: the curves it puts beside a stepped run are the model's own
(its ``power`` curve fills the cores where ``calibrate``'s host does) and pass through the runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from archsim.loadtest.host_fit import host_fit, host_point
from archsim.loadtest.measured import MeasuredRun

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from host_curves import curves, knee

RUNS = Path(__file__).resolve().parent.parent / "examples" / "runs"


def _run(name: str) -> MeasuredRun:
    return MeasuredRun.from_dict(json.loads((RUNS / name).read_text()))


def test_the_kept_power_curve_is_calibrates_host_and_every_curve_passes_through_both_runs():
    low, high = _run("low.json"), _run("high.json")
    background, fitted = curves(low, high)
    host = host_fit([low, high])
    power = next(c for name, c in fitted.items() if not name.endswith("free") and "power" in name)
    assert knee(power, host.cpus, background) == pytest.approx(host.host_bound_rps, rel=1e-6)
    for run in (low, high):
        rate, busy = host_point(run)
        for curve in fitted.values():
            assert curve(rate) + background == pytest.approx(busy, rel=1e-6)
    assert knee(fitted["line"], host.cpus, background) < knee(power, host.cpus, background)
