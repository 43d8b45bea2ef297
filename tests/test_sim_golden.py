"""A fixed seed gives the same JSON, byte for byte, as the recorded run (issue 17).

The files in ``tests/sim_golden/`` are ``simulate(...).to_dict()`` of the scenarios below,
recorded from main before the simulator's hot path was reworked for speed: a faster engine must
execute the same steps with the same random draws in the same order. A change that means to
alter what is simulated (a model rule, a new step) re-records them on purpose:

    ARCHSIM_RECORD_GOLDEN=1 PYTHONPATH=$PWD python3 -m pytest -q tests/test_sim_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from archsim.model import Architecture, load, read_architecture
from archsim.sim import Fault, SimConfig, Workload, simulate
from archsim.sim.workload import parse_think

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "sim_golden"
MODELS = Path(__file__).resolve().parent / "sim_models"

# Protections the seed does not exercise: timeouts that fire, retries with backoff, a breaker.
CHAIN = """digraph chain { network_latency="1ms";
  front [kind="service", service_time="exp(5ms)", replicas=2];
  back [kind="service", service_time="exp(20ms)", workers=2, error_rate="0.05"];
  side [kind="service", service_time="exp(2ms)", error_rate="0.3"];
  front -> back [label=calls, timeout="80ms", retries=2, backoff="2ms"];
  front -> side [label=calls, breaker="3", breaker_reset="50ms"];
}"""


def _seed() -> Architecture:
    return load(ROOT / "topology.dot").architecture


def _failing_orders() -> Architecture:
    text = (ROOT / "topology.dot").read_text().replace(
        'order_service -> order_db [label="stores in"];',
        'order_service -> order_db [label="stores in", error_rate="0.3"];',
    )
    return read_architecture(text).architecture


def _file(name: str) -> Architecture:
    return load(MODELS / name).architecture


SCENARIOS: dict[str, Any] = {
    "seed-open": lambda: (_seed(), Workload(rps=200), SimConfig(15.0, 2.0, 2, seed=7)),
    "seed-closed": lambda: (
        _seed(),
        Workload(rps=None, users=40, think=parse_think("200ms")),
        SimConfig(12.0, 2.0, 1, seed=3),
    ),
    "seed-faults-ramp": lambda: (
        _seed(),
        Workload(ramp=((0.0, 100.0), (10.0, 400.0))),
        SimConfig(
            12.0,
            1.0,
            1,
            seed=5,
            balancing="least_outstanding",
            faults=(Fault("cache", 3.0, 5.0), Fault("product_db", 6.0, 9.0, "slow", 5.0)),
        ),
    ),
    "seed-overload": lambda: (_seed(), Workload(rps=1500), SimConfig(6.0, 1.0, 1, seed=2)),
    "seed-saga": lambda: (_failing_orders(), Workload(rps=100), SimConfig(10.0, 1.0, 1, seed=5)),
    "seed-mser5": lambda: (_seed(), Workload(rps=150), SimConfig(10.0, "mser5", 1, seed=9)),
    "chain-protections": lambda: (
        read_architecture(CHAIN).architecture,
        Workload(rps=30),
        SimConfig(20.0, 1.0, 2, seed=4, lifecycle=False),
    ),
    "tandem": lambda: (_file("tandem.dot"), Workload(rps=80), SimConfig(30.0, 2.0, 2, seed=1)),
    "mm1k": lambda: (_file("mm1k.dot"), Workload(rps=95), SimConfig(30.0, 2.0, 1, seed=1)),
    "mmc": lambda: (_file("mmc.dot"), Workload(rps=80), SimConfig(30.0, 2.0, 1, seed=1)),
}


def _json(name: str) -> str:
    arch, workload, cfg = SCENARIOS[name]()
    result = simulate(arch, workload, cfg, jobs=1, analytic=False)
    return json.dumps(result.to_dict(), sort_keys=True, indent=1) + "\n"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fixed_seed_gives_the_recorded_json(name: str) -> None:
    path = GOLDEN / f"{name}.json"
    text = _json(name)
    if os.environ.get("ARCHSIM_RECORD_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name}: the simulation's output changed for a fixed seed"
