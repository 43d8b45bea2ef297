"""A database's write time (node attribute write_time): writes hold it for their commit, reads
for its service_time — in the model's steps, the simulator, the analytic solver, and what
calibration fits from operations that read and operations that write."""

from __future__ import annotations

import math

import pytest

from archsim.loadtest.fit import database_times
from archsim.loadtest.measured import MeasuredRun
from archsim.model import StepAction, read_architecture
from archsim.model.rate_curve import at_rate
from archsim.sim import SimConfig, Workload, simulate, solve

SHOP = """digraph shop {
  network_latency="0ms";
  api [kind=service, service_time="exp(1ms)", workers=4, mix="get_api:3,create_api:1"];
  db [kind=database, service_time="exp(1ms)", write_time="exp(6ms)", workers=2];
  api -> db [label="stores in"];
}"""


def _shop(text: str = SHOP):
    return read_architecture(text, "shop.dot").architecture


def _query(arch, operation: str):
    (step,) = [s for s in arch.behaviour.operation("api", operation).steps
               if s.action is StepAction.QUERY]  # fmt: skip
    return step


def test_a_write_takes_the_write_time_and_a_read_the_service_time():
    arch = _shop()
    assert _query(arch, "create_api").service_time.mean == pytest.approx(0.006)
    assert _query(arch, "get_api").service_time is None  # the database's service_time
    plain = _shop(SHOP.replace(', write_time="exp(6ms)"', ""))
    assert _query(plain, "create_api").service_time is None
    # a curve on the database scales its writes too
    curved = at_rate(_shop(SHOP.replace("workers=2", "workers=2, cpu_power=0.5, cpu_at=10")), 40.0)
    assert _query(curved, "create_api").service_time.mean == pytest.approx(0.003)


def test_the_database_is_as_busy_as_its_reads_and_writes_say():
    # 40 req/s, 3 reads to 1 write: the database is busy 30 · 1 ms + 10 · 6 ms = 0.09 s/s
    arch = _shop()
    db = solve(arch, Workload(rps=40.0)).components["db"]
    assert db.utilisation == pytest.approx(0.09 / 2)
    cfg = SimConfig(duration=300.0, warmup=10.0, replications=4, seed=3, lifecycle=False)
    result = simulate(arch, Workload(rps=40.0), cfg, jobs=2)
    sim_db = result.components["db"]
    assert abs(sim_db.utilisation - 0.045) <= 2 * sim_db.utilisation_ci
    writes = result.entries["POST /apis"].latency.mean
    reads = result.entries["GET /apis/{id}"].latency.mean
    assert writes - reads == pytest.approx(0.005, rel=0.2)  # the commit's extra 5 ms


def _run(ops: dict[str, tuple[float, float]]) -> MeasuredRun:
    """A measured run of api: per operation (requests, mean latency s)."""
    return MeasuredRun.from_dict({
        "endpoints": {},
        "window_s": 10.0,
        "components": {"api": {
            "requests": sum(n for n, _ in ops.values()), "cpu_s": 1.0, "instances": 1,
            "ops": {k: {"requests": n, "latency": {"mean": m}} for k, (n, m) in ops.items()},
        }},
    })  # fmt: skip


def test_calibration_tells_the_writes_commit_from_the_reads():
    arch = _shop()
    # 1 ms of CPU each; reads leave 0.5 ms for the database, writes 4.5 ms
    run = _run({"get_api": (600, 0.0015), "list_apis": (200, 0.0015), "create_api": (100, 0.0055)})
    db = database_times(arch, run, {"api": 0.001})["db"]
    assert (db.read_s, db.write_s) == (pytest.approx(0.0005), pytest.approx(0.0045))
    # writes alone (no reading operation measured): one time for every query, as before
    only = database_times(arch, _run({"create_api": (100, 0.0055)}), {"api": 0.001})["db"]
    assert only.write_s is None and math.isclose(only.read_s, 0.0045)


def test_a_write_time_off_a_database_is_ignored_with_a_warning():
    text = SHOP.replace('service_time="exp(1ms)", workers=4', 'write_time="2ms", workers=4', 1)
    read = read_architecture(text, "shop.dot")
    assert any("write_time of 'api' is ignored" in d.message for d in read.diagnostics)
