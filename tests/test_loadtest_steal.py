"""Stolen CPU time: the share of the machine a hypervisor gave to other guests during a run's
window, read from /proc/stat, kept in summary.json, warned about and named by calibration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archsim.loadtest.calibrate import calibrate
from archsim.loadtest.metrics import machine_times, steal_ratio
from archsim.loadtest.summary import steal_warning
from archsim.model import load

ROOT = Path(__file__).resolve().parent.parent


def _stat(tmp_path: Path, name: str, ticks: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "stat").write_text(f"cpu  {ticks} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n")
    return folder


def test_the_share_stolen_over_a_window(tmp_path: Path):
    # user nice system idle iowait irq softirq steal: 1,000 ticks pass, 120 of them stolen
    before = machine_times(_stat(tmp_path, "a", "500 0 100 1000 0 0 0 50"))
    after = machine_times(_stat(tmp_path, "b", "900 0 200 1380 0 0 0 170"))
    assert before is not None and after is not None
    assert (before.steal, before.total) == (50, 1650)
    assert steal_ratio(before, after) == pytest.approx(0.12)
    assert steal_ratio(after, before) is None and steal_ratio(None, after) is None
    assert machine_times(tmp_path / "nowhere") is None
    assert machine_times(Path("/proc")) is not None  # this machine's, read for real


def test_a_run_that_lost_cpu_is_flagged_and_calibration_says_so():
    assert steal_warning({"host": {"cpus": 2, "steal_ratio": 0.12}}) is not None
    assert "12%" in (steal_warning({"host": {"steal_ratio": 0.12}}) or "")
    assert steal_warning({"host": {"cpus": 2, "steal_ratio": 0.01}}) is None
    assert steal_warning({"host": {"cpus": 2}}) is None  # a run from before it was measured
    seed = load(ROOT / "topology.dot").architecture
    low = json.loads((ROOT / "examples" / "runs" / "low.json").read_text())
    low["host"]["steal_ratio"] = 0.12
    fit = calibrate(seed, low, fit_network=False, fit_spread=False)
    assert "a hypervisor took 12% of its CPU time" in fit.why["host_cores"]
