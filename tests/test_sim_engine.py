"""Engine behaviour: determinism, overload, events, call protections, faults, workloads."""

from __future__ import annotations

import math
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import simpy

from archsim.errors import ScenarioError
from archsim.model import Architecture, load, read_architecture
from archsim.model.distributions import Constant
from archsim.sim import Fault, SimConfig, Workload, simulate
from archsim.sim.analytic import erlang_c, mmck
from archsim.sim.engine import run_replication
from archsim.sim.scenario import parse_fault, prepare
from archsim.sim.stations import Kernel, Lane
from archsim.sim.stats import (
    BUCKETS,
    Histogram,
    bucket_value,
    confidence_interval,
    mser5_truncation,
    t_quantile,
)
from archsim.sim.workload import parse_mix, parse_ramp

SIM_MODELS = Path(__file__).resolve().parent / "sim_models"


def _arch(body: str) -> Architecture:
    return read_architecture(f'digraph t {{ network_latency="0ms"; {body} }}').architecture


CHAIN = _arch(
    'front [kind="service", service_time="exp(5ms)"]; '
    'back [kind="service", service_time="const(50ms)", workers=100]; '
    'front -> back [label=calls, timeout="30ms", retries=2, backoff="1ms"];'
)


def _cfg(**kw) -> SimConfig:
    base = {"duration": 30.0, "warmup": 2.0, "replications": 2, "seed": 3, "lifecycle": False}
    return SimConfig(**(base | kw))


def test_same_seed_same_output_regardless_of_jobs(seed: Architecture) -> None:
    cfg = SimConfig(duration=10.0, warmup=1.0, replications=3, seed=11)
    one = simulate(seed, Workload(rps=150), cfg, jobs=1).to_dict()
    pooled = simulate(seed, Workload(rps=150), cfg, executor=ThreadPoolExecutor(2)).to_dict()
    assert one == pooled
    other = simulate(
        seed,
        Workload(rps=150),
        SimConfig(duration=10.0, warmup=1.0, replications=3, seed=12),
        jobs=1,
    )
    assert other.to_dict()["entries"] != one["entries"]


def test_seed_result_shape_and_events(seed: Architecture) -> None:
    result = simulate(
        seed, Workload(rps=200), SimConfig(duration=20.0, warmup=2.0, replications=2), jobs=1
    )
    data = result.to_dict()
    assert data["schema"] == "archsim.simulation/1"
    assert set(data["entries"]) == {e.id for e in seed.behaviour.entries}
    assert 0 < data["components"]["product_service"]["utilisation"] < 1
    link = next(
        lk
        for lk in data["links"]
        if lk["source"] == "order_service" and lk["target"] == "payment_service"
    )
    assert link["throughput"] > 0 and link["p99"] > 0.1  # payment provider ~100 ms
    (flow,) = data["events"]
    assert flow["event"] == "OrderPlaced" and flow["consumed"] > 0
    assert flow["delay"]["mean"] > 0.05  # order placed -> email sent passes the email service
    assert data["littles_law"]["relative_error"] < 0.05
    assert data["bottlenecks"][0]["component"] in ("product_service", "user_service")
    total = sum(e["throughput"] for e in data["entries"].values())
    assert total == pytest.approx(200, rel=0.05)


def test_overload_is_reported_not_raised(seed: Architecture) -> None:
    result = simulate(
        seed, Workload(rps=1500), SimConfig(duration=20.0, warmup=2.0, replications=1), jobs=1
    )
    assert "product_service" in result.unstable
    series = result.components["product_service"].queue_series
    assert series[-1] > series[len(series) // 4] > 0  # the queue grows
    assert not result.components["cache"].unstable


def test_timeouts_and_retries() -> None:
    # back always takes 50 ms > 30 ms timeout: every attempt times out, 3 attempts per call
    result = simulate(CHAIN, Workload(rps=20), _cfg(), jobs=1)
    (entry,) = result.entries.values()
    assert entry.timeout_rate == 1.0
    assert result.components["back"].throughput == pytest.approx(3 * 20, rel=0.1)
    assert entry.latency.mean > 3 * 0.030


def test_circuit_breaker_fails_fast() -> None:
    arch = prepare(CHAIN, ["front->back.breaker=3", "front->back.retries=0"])
    result = simulate(arch, Workload(rps=20), _cfg(), jobs=1)
    (entry,) = result.entries.values()
    assert entry.error_rate > 0.5  # most calls never reach back: breaker open
    assert result.components["back"].throughput < 10


def test_circuit_breaker_closes_after_the_target_recovers() -> None:
    # back fails 5-10 s; the breaker (3 failures, reset 1 s) fast-fails without counting or
    # retrying, so its half-open trial after recovery succeeds and closes it (as the runtime
    # client does): errors stay within the window plus one breaker_reset
    arch = load(SIM_MODELS / "breaker_recovery.dot").architecture
    cfg = _cfg(faults=(Fault("back", 5.0, 10.0),))
    result = simulate(arch, Workload(rps=50), cfg, jobs=1)
    (entry,) = result.entries.values()
    assert entry.error_rate == pytest.approx(5 / 28, abs=1.2 / 28)
    assert result.components["back"].throughput > 50 * 21 / 28  # calls succeed again


def test_a_breaker_per_caller_instance_and_target() -> None:
    # back always fails and an open breaker stays open for the whole run: each instance of gw
    # lets `breaker` failures through to back, then fails fast. The gateway's three routes are
    # three call steps to back, sharing their instance's breaker (as one ServiceClient per
    # process does): back sees 2 instances x 3 failures = 6 requests (9 with a breaker per
    # call step, 3 with one for the whole component).
    arch = _arch(
        'gw [kind="gateway", service_time="exp(1ms)", replicas=2]; '
        'back [kind="service", service_time="exp(1ms)", error_rate="1"]; '
        'back_db [kind="database"]; back -> back_db [label="stores in"]; '
        'gw -> back [label="routes to", breaker=3, breaker_reset="1000s"];'
    )
    calls = {s.operation for op in arch.behaviour.operations for s in op.steps if s.policy}
    assert len(calls) == 3  # three distinct call steps from gw to back
    rec = run_replication(arch, Workload(rps=2), _cfg(duration=60.0, warmup=0.0), 0)
    assert rec["components"]["back"]["completions"] == 6
    link = next(lk for lk in rec["links"] if lk["target"] == "back")
    assert link["failed"] == link["count"] > 60  # the rest failed fast at the caller


def test_rejected_calls_give_their_thread_back() -> None:
    # back is M/M/1/1: Erlang B rejects a/(1+a) of the calls; each rejected frame at front
    # (concurrency=threads) must release its thread, or front stalls after 4 rejections
    arch = load(SIM_MODELS / "threads_rejected.dot").architecture
    result = simulate(arch, Workload(rps=50), _cfg(), jobs=1)
    (entry,) = result.entries.values()
    blocking, _, _ = mmck(50, 100, 1, 1)
    assert entry.rejection_rate == pytest.approx(blocking, abs=0.05)
    assert result.components["front"].throughput == pytest.approx(50, rel=0.05)
    assert not result.components["front"].unstable


def test_error_rates_propagate() -> None:
    arch = prepare(
        CHAIN, ["back.service_time=const(1ms)", "back.error_rate=0.5", "front->back.retries=0"]
    )
    result = simulate(arch, Workload(rps=50), _cfg(), jobs=1)
    (entry,) = result.entries.values()
    assert entry.error_rate == pytest.approx(0.5, abs=0.05)


def test_fail_and_slow_windows() -> None:
    arch = prepare(CHAIN, ["back.service_time=const(1ms)", "front->back.retries=0"])
    failed = simulate(arch, Workload(rps=50), _cfg(faults=(Fault("back", 10.0, 20.0),)), jobs=1)
    (entry,) = failed.entries.values()
    assert entry.error_rate == pytest.approx(10 / 28, abs=0.05)
    slow = simulate(
        arch, Workload(rps=50), _cfg(faults=(Fault("back", 10.0, 20.0, "slow", 50.0),)), jobs=1
    )
    (entry,) = slow.entries.values()
    assert entry.timeout_rate == pytest.approx(10 / 28, abs=0.05)  # 50 ms > 30 ms timeout


def test_threads_hold_the_worker_across_calls() -> None:
    body = (
        'front [kind="service", service_time="const(1ms)", concurrency="{c}", workers=2]; '
        'back [kind="service", service_time="const(20ms)", workers=50]; '
        "front -> back [label=calls];"
    )
    asynchronous = simulate(_arch(body.format(c="async")), Workload(rps=50), _cfg(), jobs=1)
    threads = simulate(_arch(body.format(c="threads")), Workload(rps=50), _cfg(), jobs=1)
    # async: 1 ms of CPU per request; threads: the thread waits for back's 20 ms too
    assert asynchronous.components["front"].utilisation == pytest.approx(0.025, abs=0.005)
    assert threads.components["front"].utilisation == pytest.approx(0.525, abs=0.05)


def test_replicas_and_balancing() -> None:
    arch = _arch('s [kind="service", service_time="exp(10ms)", replicas=3];')
    for balancing in ("round_robin", "least_outstanding"):
        result = simulate(arch, Workload(rps=150), _cfg(balancing=balancing), jobs=1)
        assert result.components["s"].utilisation == pytest.approx(0.5, abs=0.05)
    assert result.analytic is not None
    assert result.analytic.components["s"].offered_load == pytest.approx(0.5)


def test_database_connection_pool_and_cache(seed: Architecture) -> None:
    arch = prepare(seed, ["product_service->cache.hit_ratio=1"])
    result = simulate(
        arch, Workload(rps=100, mix=(("GET /products/{id}", 1.0),)), _cfg(lifecycle=True), jobs=1
    )
    assert result.components["product_db"].throughput == 0
    assert result.components["cache"].throughput == pytest.approx(100, rel=0.1)


def test_closed_workload_and_constant_arrivals() -> None:
    arch = _arch('s [kind="service", service_time="const(10ms)"];')
    closed = simulate(arch, Workload(users=1, think=Constant(value_s=0.09)), _cfg(), jobs=1)
    (entry,) = closed.entries.values()
    assert entry.throughput == pytest.approx(10, rel=0.02)  # one user: 100 ms per cycle
    constant = simulate(arch, Workload(rps=50, arrivals="constant"), _cfg(), jobs=1)
    (entry,) = constant.entries.values()
    assert entry.latency.p999 == pytest.approx(0.010, rel=0.01)  # never waits


def test_ramp_changes_the_rate_over_time() -> None:
    arch = _arch('s [kind="service", service_time="exp(1ms)"];')
    points, steps = parse_ramp("step:0s=10,15s=100")
    result = simulate(arch, Workload(ramp=points, ramp_steps=steps), _cfg(warmup=0.0), jobs=1)
    series = result.series.throughput
    assert sum(series[:20]) / 20 == pytest.approx(10, rel=0.3)
    assert sum(series[-20:]) / 20 == pytest.approx(100, rel=0.2)


def test_precision_adds_replications_and_mser5_picks_a_warmup(seed: Architecture) -> None:
    result = simulate(
        seed,
        Workload(rps=100),
        SimConfig(duration=10.0, warmup="mser5", replications=2, precision=0.05),
        jobs=2,
    )
    mean, hw = result.mean_latency
    assert result.replications >= 3 and hw / mean <= 0.05
    assert 0 <= result.warmup <= 5.0


@pytest.mark.parametrize(
    ("workload", "cfg"),
    [
        (Workload(rps=-1), SimConfig()),
        (Workload(rps=0), SimConfig()),
        (Workload(users=0), SimConfig()),
        (Workload(rps=10), SimConfig(duration=0)),
        (Workload(rps=10), SimConfig(duration=10, warmup=10)),
        (Workload(rps=10), SimConfig(replications=0)),
        (Workload(rps=10), SimConfig(duration=60, faults=(Fault("s", 30, 90),))),
        (Workload(rps=10), SimConfig(faults=(Fault("nope", 1, 2),))),
        (Workload(rps=10), SimConfig(faults=(Fault("s", 1, 2, "slow", 0),))),
    ],
)
def test_impossible_parameters_raise_scenario_error(workload: Workload, cfg: SimConfig) -> None:
    arch = _arch('s [kind="service"];')
    with pytest.raises(ScenarioError):
        simulate(arch, workload, cfg, jobs=1)


def test_parsers(seed: Architecture) -> None:
    assert parse_fault("product_db@30s..60s", "fail") == Fault("product_db", 30.0, 60.0)
    assert parse_fault("cache@10s..20s:x5", "slow").factor == 5.0
    for bad in ("cache", "cache@10s", "cache@1x..2s", "cache@1s..2s:x5"):
        with pytest.raises(ScenarioError):
            parse_fault(bad, "fail")
    assert parse_mix("GET /api/products/{id}=5, POST /api/orders=1", seed)[0][1] == 5.0
    with pytest.raises(ScenarioError, match="did you mean"):
        parse_mix("GET /api/product/{id}=1", seed)
    with pytest.raises(ScenarioError, match="unknown component"):
        prepare(seed, ["nosuch.workers=2"])
    assert parse_ramp("0s=5,10s=20") == (((0.0, 5.0), (10.0, 20.0)), False)


def _wakes(in_lane: bool) -> list[tuple[str, float | None]]:
    """40 wakes due in order (some at the same time) through a lane, or all on the heap,
    among 40 wakes at random times on the heap; what ran, in order."""
    kernel, ran = Kernel(simpy.Environment(), random.Random(1), 0.0), []
    lane, rng = Lane(kernel), random.Random(2)
    for t in sorted(round(rng.uniform(0, 10), 1) for _ in range(40)):
        if in_lane:
            lane.push((t, kernel.seq(), ran.append, ("lane", t)))
        else:
            kernel.later(t, ran.append, ("lane", t))
        kernel.later(round(rng.uniform(0, 10), 1), ran.append, ("heap", None))
    kernel.run(11.0)
    return ran


def test_lane_runs_wakes_in_the_heaps_order() -> None:
    """Wakes in a lane run in the order they would on the heap alone: by time, then sequence."""
    ran = _wakes(in_lane=True)
    assert len(ran) == 80 and ran == _wakes(in_lane=False)


def test_histogram_grows_both_ways() -> None:
    """Values arriving below and above the buckets kept so far land in their own buckets."""
    picks = [1500, 1400, 1600, 900, 900, 2200, 5, 1, BUCKETS - 1, 1400]
    h = Histogram()
    for i in picks:
        h.add(bucket_value(i))  # a bucket's middle: no doubt which bucket it is
    h.add(0.0)  # below 100 ns: bucket 0
    h.add(1e9)  # beyond the last bucket: the last
    expected: dict[int, int] = {}
    for i in sorted([*picks, 0, BUCKETS - 1]):
        expected[i] = expected.get(i, 0) + 1
    assert h.sparse() == expected and list(h.sparse()) == sorted(expected)
    assert h.count == len(picks) + 2 and h.quantile(0.0) == 0.0
    assert Histogram().sparse() == {} and Histogram().quantile(0.5) == 0.0


def test_statistics_helpers() -> None:
    h = Histogram()
    for i in range(1, 10001):
        h.add(i / 1000)
    assert h.quantile(0.5) == pytest.approx(5.0, rel=0.006)
    assert h.quantile(0.999) == pytest.approx(9.99, rel=0.006)
    assert t_quantile(9) == pytest.approx(2.262, abs=0.002)
    assert t_quantile(2) == pytest.approx(4.303, abs=0.001)
    mean, hw = confidence_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and hw == pytest.approx(2.484, abs=0.01)
    assert math.isnan(confidence_interval([1.0])[1])
    series = [10.0] * 100 + [1.0] * 900
    assert 95 <= mser5_truncation(series) <= 105
    assert erlang_c(1, 0.8) == pytest.approx(0.8)
    block, _, _ = mmck(90, 100, 1, 5)
    assert block == pytest.approx(0.9**5 * 0.1 / (1 - 0.9**6))
