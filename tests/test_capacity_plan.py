"""Plans on the seed: a verified sizing that meets the SLO at the target load and applies as a
profile; and a clear "no configuration within the limits can" when none does."""

from __future__ import annotations

import pytest
import yaml

from archsim.capacity import Limits, open_executor, parse_slos, plan, sizing_cost
from archsim.capacity.runner import Scenario, run_scenarios
from archsim.errors import ScenarioError
from archsim.model import Architecture
from archsim.sim import SimConfig, Workload
from archsim.sim.scenario import prepare

CFG = SimConfig(duration=5.0, warmup=1.0, replications=3, seed=1)


@pytest.fixture(scope="module")
def seed_plan(seed: Architecture):  # type: ignore[no-untyped-def]
    with open_executor(jobs=2) as backend:
        return plan(seed, 2000, parse_slos("p99<300ms"), config=CFG, executor=backend.executor)


def test_plan_meets_the_slo_at_the_target_and_is_verified(seed_plan) -> None:  # type: ignore[no-untyped-def]
    result = seed_plan
    assert result.feasible and result.reason is None
    assert not result.baseline.stable  # the seed as written cannot take 2,000 req/s
    v = result.verified
    assert v is not None and v.stable and v.replications == 6
    assert v.latency["p99"] < 0.3 and v.throughput > 0.95 * 2000
    assert result.cost_after > result.cost_before
    assert set(result.changes()) >= {"product_service", "user_service"}
    assert "verified with 6 new replications" in result.log


def test_plan_profile_applies_and_meets_the_slo_again(seed: Architecture, seed_plan) -> None:  # type: ignore[no-untyped-def]
    profile = yaml.safe_load(seed_plan.profile_yaml())
    assert profile == {"components": seed_plan.changes()}
    arch = prepare(seed, [], profile)
    for cid, (r, w) in seed_plan.sizing.items():
        assert (arch.component(cid).replicas, arch.component(cid).workers) == (r, w)
    cfg = SimConfig(duration=5.0, warmup=1.0, replications=3, seed=99)
    (m,) = run_scenarios([Scenario(arch, Workload(rps=2000))], cfg).measurements
    assert m is not None and m.stable and m.latency["p99"] < 0.3


def test_one_replica_fewer_anywhere_fails(seed: Architecture, seed_plan) -> None:  # type: ignore[no-untyped-def]
    # The plan is a local minimum of cost: taking one replica off any component it grew
    # breaks the objective (or the stability) at the target load.
    grown = [cid for cid, attrs in seed_plan.changes().items() if "replicas" in attrs]
    scenarios = []
    for cid in grown:
        r, _ = seed_plan.sizing[cid]
        sets = [f"{c}.replicas={rr}" for c, (rr, _) in seed_plan.sizing.items() if c != cid]
        scenarios.append(
            Scenario(prepare(seed, [*sets, f"{cid}.replicas={r - 1}"]), Workload(rps=2000))
        )
    with open_executor(jobs=2) as backend:
        outcome = run_scenarios(scenarios, CFG, backend.executor)
    for cid, m in zip(grown, outcome.measurements, strict=True):
        assert m is not None
        assert not m.stable or m.latency["p99"] >= 0.3, cid
    assert seed_plan.cost_after == sizing_cost(seed, seed_plan.sizing)


def test_no_configuration_within_the_limits(seed: Architecture) -> None:
    result = plan(seed, 2000, parse_slos("p99<300ms"), config=CFG, limits=Limits(max_replicas=1))
    assert not result.feasible and result.verified is None
    # user_service and product_service carry the same load on the seed (170% each): either
    # may be named as the one that stays overloaded
    assert "--max-replicas" in result.reason
    assert any(c in result.reason for c in ("product_service", "user_service"))


def test_latency_floor_cannot_be_bought_with_replicas(seed: Architecture) -> None:
    result = plan(seed, 300, parse_slos("p99<50ms"), config=CFG)
    assert not result.feasible
    assert "more replicas cannot help" in result.reason
    assert "p99" in result.reason


def test_external_components_are_never_scaled(seed: Architecture) -> None:
    result = plan(
        seed,
        200,
        parse_slos("p99<300ms"),
        config=CFG,
        limits=Limits(fixed=("payment_provider",)),
    )
    assert result.feasible
    assert "payment_provider" not in result.changes()
    assert "email_service" not in result.changes()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"limits": Limits(scale="cpus")}, "--scale"),
        ({"limits": Limits(only=("product_servce",))}, "unknown component"),
    ],
)
def test_bad_plan_parameters(seed: Architecture, kwargs: dict, fragment: str) -> None:
    with pytest.raises(ScenarioError) as err:
        plan(seed, 100, parse_slos("p99<1s"), config=CFG, **kwargs)
    assert fragment in err.value.message
