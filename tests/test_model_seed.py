"""The seed architecture loads into the model the commission describes (DESIGN.md)."""

from __future__ import annotations

from archsim.model import Architecture, Kind, OpKind, Relation, StepAction, load


def test_seed_has_17_components_and_29_links_without_warnings(seed_path):
    result = load(seed_path)
    assert len(result.architecture.components) == 17
    assert len(result.architecture.links) == 29
    assert [d for d in result.diagnostics if d.severity.value != "info"] == []


def test_seed_kinds_are_all_resolved(seed: Architecture):
    kinds = {c.id: c.kind for c in seed.components}
    assert kinds == {
        "api_gateway": Kind.GATEWAY,
        "user_service": Kind.SERVICE,
        "product_service": Kind.SERVICE,
        "order_service": Kind.SERVICE,
        "payment_service": Kind.SERVICE,
        "notification_service": Kind.SERVICE,
        "auth_service": Kind.AUTH,
        "config_service": Kind.CONFIG,
        "user_db": Kind.DATABASE,
        "product_db": Kind.DATABASE,
        "order_db": Kind.DATABASE,
        "service_registry": Kind.REGISTRY,
        "message_broker": Kind.BROKER,
        "load_balancer": Kind.LOAD_BALANCER,
        "cache": Kind.CACHE,
        "payment_provider": Kind.EXTERNAL,
        "email_service": Kind.EXTERNAL,
    }


def test_seed_relations_are_all_resolved_and_counted(seed: Architecture):
    counts: dict[Relation, int] = {}
    for link in seed.links:
        counts[link.relation] = counts.get(link.relation, 0) + 1
    assert counts == {
        Relation.ROUTES_TO: 4,
        Relation.REGISTERS_WITH: 5,
        Relation.CALLS: 3,
        Relation.PUBLISHES_TO: 1,
        Relation.SUBSCRIBES_TO: 1,
        Relation.SENDS_VIA: 1,
        Relation.INTEGRATES_WITH: 1,
        Relation.VALIDATES_WITH: 1,
        Relation.USES: 1,
        Relation.READS_FROM: 3,
        Relation.STORES_IN: 3,
        Relation.CACHES_IN: 2,
        Relation.DISTRIBUTES_TO: 3,
    }


def _steps(seed: Architecture, component: str, op: str) -> list[str]:
    return [s.describe() for s in seed.behaviour.operation(component, op).steps]


def test_create_order_takes_the_steps_design_md_describes(seed: Architecture):
    assert _steps(seed, "order_service", "create_order") == [
        "compute",
        "call user_service.get_user",
        "call product_service.get_product",
        "call payment_service.create_payment",
        "write order_db",
        "publish OrderPlaced to message_broker",
    ]
    assert _steps(seed, "payment_service", "create_payment") == [
        "compute",
        "call payment_provider.request",
    ]


def test_get_product_is_a_read_through_cache(seed: Architecture):
    op = seed.behaviour.operation("product_service", "get_product")
    cache_get = op.steps[1]
    assert cache_get.action is StepAction.CACHE_GET and cache_get.target == "cache"
    assert cache_get.hit_ratio == 0.8
    assert [s.action for s in cache_get.on_miss] == [StepAction.QUERY, StepAction.CACHE_SET]
    assert cache_get.on_miss[0].target == "product_db" and cache_get.on_miss[0].mode == "read"
    create = [
        s.describe() for s in seed.behaviour.operation("product_service", "create_product").steps
    ]
    assert create == ["compute", "write product_db", "cache delete cache [products:list]"]


def test_user_service_offers_login_through_auth(seed: Architecture):
    names = [op.name for op in seed.behaviour.operations_of("user_service")]
    assert names == ["get_user", "list_users", "create_user", "login"]
    assert _steps(seed, "user_service", "login")[-1] == "call auth_service.issue_token"


def test_notification_service_only_consumes_order_placed(seed: Architecture):
    ops = seed.behaviour.operations_of("notification_service")
    assert [(op.name, op.kind, op.trigger) for op in ops] == [
        ("on_order_placed", OpKind.CONSUME, "OrderPlaced")
    ]
    assert [s.describe() for s in ops[0].steps] == ["compute", "call email_service.send"]
    (flow,) = seed.behaviour.events
    assert flow.event == "OrderPlaced" and flow.broker == "message_broker"
    assert [str(p) for p in flow.publishers] == ["order_service.create_order"]
    assert [str(c) for c in flow.consumers] == ["notification_service.on_order_placed"]


def test_gateway_requests_validate_the_token_then_route(seed: Architecture):
    op = seed.behaviour.operation("api_gateway", "get_product")
    assert op.path == "/api/products/{id}"
    assert [s.describe() for s in op.steps] == [
        "compute",
        "call auth_service.validate_token",
        "call product_service.get_product",
    ]


def test_entries_split_traffic_over_lb_targets_then_routes_then_mix(seed: Architecture):
    entries = {e.id: e for e in seed.behaviour.entries}
    assert abs(sum(e.weight for e in entries.values()) - 1) < 1e-9
    # The LB splits equally over its 3 targets; the gateway equally over its 4 routes.
    via_gateway = sum(e.weight for e in entries.values() if "api_gateway" in e.hops)
    assert abs(via_gateway - 1 / 3) < 1e-9
    orders = sum(e.weight for e in entries.values() if e.target.component == "order_service")
    assert abs(orders - 1 / 12) < 1e-9
    # Inside product_service the default mix is get:list:create = 6:3:1.
    get = entries["GET /api/products/{id}"]
    assert get.hops == ("load_balancer", "api_gateway", "product_service")
    assert abs(get.weight - 1 / 3 * 1 / 4 * 0.6) < 1e-9
    assert abs(entries["GET /products/{id}"].weight - 1 / 3 * 0.6) < 1e-9


def test_startup_reads_config_and_registers_not_per_request(seed: Architecture):
    lifecycle = seed.behaviour.lifecycle("order_service")
    assert lifecycle is not None
    assert [s.describe() for s in lifecycle.startup] == [
        "call config_service.get_config",
        "call service_registry.register",
    ]
    assert [t.name for t in lifecycle.periodic] == ["heartbeat", "discovery"]
    per_request = {
        s.target for op in seed.behaviour.operations for s in op.steps if s.target is not None
    }
    assert "config_service" not in per_request and "service_registry" not in per_request
