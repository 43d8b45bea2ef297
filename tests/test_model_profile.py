"""What-ifs: overrides and profile files change the model and its derived behaviour."""

from __future__ import annotations

import pytest

from archsim.errors import ScenarioError
from archsim.model import apply_overrides, parse_override, profile_overrides


def test_component_link_and_graph_overrides_apply_and_rederive(seed):
    changed = apply_overrides(
        seed,
        [
            "payment_provider.service_time=exp(400ms)",
            "order_service->payment_service.timeout=750ms",
            "network_latency=1ms",
            "cache.hit_ratio=0.95",
        ],
    )
    assert changed.component("payment_provider").service_time.mean == pytest.approx(0.4)
    call = changed.behaviour.operation("order_service", "create_order").steps[3]
    assert call.target == "payment_service" and call.policy.timeout == pytest.approx(0.75)
    assert call.latency == pytest.approx(0.001)
    get = changed.behaviour.operation("product_service", "get_product").steps[1]
    assert get.hit_ratio == pytest.approx(0.95)
    assert seed.component("payment_provider").service_time.mean == pytest.approx(0.1)  # unchanged


@pytest.mark.parametrize(
    ("override", "fragment", "hint"),
    [
        ("paymnt_provider.replicas=2", "unknown component", "payment_provider"),
        ("cache.replica=2", "not an attribute", "replicas"),
        ("cache.replicas=-2", "invalid replicas on component 'cache'", None),
        ("a->b.timeout=1s", "unknown link", None),
        ("nonsense", "cannot read override", "component.attribute=value"),
    ],
)
def test_bad_overrides_are_scenario_errors_with_hints(seed, override, fragment, hint):
    with pytest.raises(ScenarioError) as info:
        apply_overrides(seed, [override])
    assert fragment in info.value.message
    if hint:
        assert hint in (info.value.hint or "")


def test_profile_mapping_becomes_overrides(seed):
    overrides = profile_overrides(
        {
            "components": {"product_service": {"replicas": 3}},
            "links": {"api_gateway->auth_service": {"retries": 2}},
            "graph": {"default_timeout": "2s"},
        }
    )
    assert ("component", "product_service", "replicas", "3") in overrides
    changed = apply_overrides(seed, overrides)
    assert changed.component("product_service").replicas == 3
    assert changed.default_timeout == 2.0
    with pytest.raises(ScenarioError, match="unknown section"):
        profile_overrides({"component": {}})


def test_parse_override_scopes():
    assert parse_override("a.b=1") == ("component", "a", "b", "1")
    assert parse_override("a -> b.timeout=1s") == ("link", "a->b", "timeout", "1s")
    assert parse_override("network_latency=1ms") == ("graph", "", "network_latency", "1ms")
