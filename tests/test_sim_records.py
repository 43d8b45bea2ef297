"""Simulation results are typed records (issue 11, item 4) with dicts only at the JSON edge:
``archsim simulate --json`` on a fixed seed prints, byte for byte, what it printed when the
results were nested dicts (``tests/sim_results/seed-before-records.json``, captured from main
before the change: faults, a slowdown and the analytic solution included)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from archsim.model import load
from archsim.sim import SimConfig, Workload, simulate
from archsim.sim.figures import ComponentFigures, EntryFigures, Latency

ROOT = Path(__file__).resolve().parent.parent
BEFORE = ROOT / "tests" / "sim_results" / "seed-before-records.json"
ARGS = [
    *("--json", "--duration", "5s", "--warmup", "1s", "--replications", "2", "--rps", "200"),
    *("--fail", "payment_service@2s..3s", "--slow", "product_db@3s..4s:x3", "--method", "both"),
]


def test_simulate_json_is_byte_identical_to_the_dict_era_output() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "archsim", "simulate", str(ROOT / "topology.dot"), *ARGS],
        capture_output=True, env=env, timeout=300, check=True, cwd=ROOT,
    ).stdout  # fmt: skip
    assert out == BEFORE.read_bytes()


def test_figures_are_records_read_by_attribute() -> None:
    arch = load(ROOT / "topology.dot").architecture
    result = simulate(arch, Workload(rps=50), SimConfig(duration=3.0, warmup=0.5, replications=2))
    entry = next(iter(result.entries.values()))
    assert isinstance(entry, EntryFigures) and isinstance(entry.latency, Latency)
    assert entry.latency.p99 == entry.to_dict()["latency"]["p99"]
    station = result.components["product_service"]
    assert isinstance(station, ComponentFigures)
    assert station.utilisation == result.to_dict()["components"]["product_service"]["utilisation"]
    assert result.littles_law.lam == result.to_dict()["littles_law"]["lambda"]
