"""Round 3 of the drawing shapes: scheduled jobs (rule entry.schedule), route labels on calls,
dead-letter links labelled by what fails, a cylinder nothing writes, a cache beside a database.

Each test is a small DOT snippet drawn as its author would; docs/behaviour.md states the rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archsim.model import Architecture, Kind, load, read_architecture


def _arch(text: str) -> Architecture:
    return read_architecture(text, "shape.dot").architecture


def _share(arch: Architecture, component: str) -> float:
    return sum(e.weight for e in arch.behaviour.entries if e.hops[0] == component)


# -- rule entry.schedule --------------------------------------------------------------------


def test_a_nightly_batch_job_nothing_calls_is_a_side_door_over_its_writes():
    arch = _arch(
        'digraph g { web -> api [label="calls"]; api -> db [label="stores in"]; '
        'report [label="Report generator\\n(nightly)"]; '
        'report -> db [label="reads"]; report -> reports [label="writes"]; '
        "reports [shape=cylinder]; }"
    )
    entries = [e for e in arch.behaviour.entries if e.hops[0] == "report"]
    assert entries, "the job never runs"
    assert {e.method for e in entries} == {"POST"}  # its run: the write, not a read
    assert _share(arch, "report") == pytest.approx(0.05)
    assert "scheduled job (named 'nightly')" in entries[0].reason
    # the run writes its results
    op = next(o for o in arch.behaviour.operations if o.ref == entries[0].target)
    assert "reports" in {s.target for s in op.steps}


def test_a_schedule_attribute_makes_a_job_whatever_its_name():
    arch = _arch(
        'digraph g { web -> api; api -> db [label="stores in"]; '
        'scorer [schedule="every 5m"]; scorer -> db [label="stores in"]; }'
    )
    reasons = {e.reason for e in arch.behaviour.entries if e.hops[0] == "scorer"}
    assert reasons and all('schedule="every 5m"' in r for r in reasons)
    assert _share(arch, "scorer") == pytest.approx(0.05)


def test_a_schedule_word_on_a_called_service_is_no_job():
    # "Daily deals" is a service users call, not a cron
    arch = _arch(
        'digraph g { web -> deals; deals [label="Daily deals"]; deals -> db [label="stores in"]; }'
    )
    assert {e.hops[0] for e in arch.behaviour.entries} == {"deals"}
    assert _share(arch, "deals") == pytest.approx(1.0)
    assert not any("scheduled" in e.reason for e in arch.behaviour.entries)


def test_a_cron_job_is_no_front_door_beside_services_users_reach():
    # no client: the fallback finds api and the cron job; the job takes only its side share
    arch = _arch(
        'digraph g { api -> db [label="stores in"]; '
        'cleanup [label="CronJob: cleanup"]; cleanup -> db [label="stores in"]; }'
    )
    assert _share(arch, "api") == pytest.approx(0.95)
    assert _share(arch, "cleanup") == pytest.approx(0.05)
    assert arch.component("cleanup").kind is Kind.SERVICE


# -- rule service.route ---------------------------------------------------------------------


def _calls(arch: Architecture, component: str, name: str) -> list[tuple[str | None, str | None]]:
    op = next(o for o in arch.behaviour.operations if o.component == component and o.name == name)
    return [(s.target, s.operation) for s in op.steps if s.action.value == "call"]


def test_a_route_label_on_a_call_calls_that_route_and_creates_it_on_the_callee():
    arch = _arch(
        'digraph g { web -> orders; orders -> orders_db [label="stores in"]; '
        'orders -> monolith [label="GET /customers/{id}"]; '
        'monolith -> oracle [label="JDBC"]; oracle [shape=cylinder]; }'
    )
    assert ("monolith", "get_customer") in _calls(arch, "orders", "create_order")
    op = next(o for o in arch.behaviour.operations if o.name == "get_customer")
    assert (op.component, op.method, op.path, op.rule) == (
        "monolith",
        "GET",
        "/customers/{id}",
        "service.route",
    )
    assert op.weight == 0  # only its callers reach it: not in the monolith's request mix
    assert [(s.action.value, s.target) for s in op.steps] == [
        ("compute", None),
        ("query", "oracle"),
    ]
    assert not any(e.operation.operation == "get_customer" for e in arch.behaviour.entries)


def test_a_route_the_callee_already_offers_is_called_and_not_added_twice():
    arch = _arch(
        'digraph g { web -> shop; shop -> db [label="stores in"]; '
        'shop -> users [label="POST /v1/users"]; users -> users_db [label="stores in"]; '
        'shop -> catalog [label="GET /catalogs"]; catalog -> cat_db [label="stores in"]; }'
    )
    # POST /v1/users is the users service's create_user; GET /catalogs the catalog's list
    calls = _calls(arch, "shop", "create_shop")
    assert ("users", "create_user") in calls and ("catalog", "list_catalogs") in calls
    names = [o.name for o in arch.behaviour.operations if o.component in ("users", "catalog")]
    assert len(names) == len(set(names))
    assert "service.route" not in {o.rule for o in arch.behaviour.operations}


def test_a_route_the_stack_could_not_call_keeps_the_default_operation():
    # two parameters (/customers/{id}/orders/{oid}): the stack's calls fill in one id only
    arch = _arch(
        'digraph g { web -> a; a -> a_db [label="stores in"]; '
        'a -> b [label="GET /customers/{id}/orders/{oid}"]; b -> b_db [label="stores in"]; }'
    )
    assert ("b", "get_b") in _calls(arch, "a", "create_a")


# -- dead-letter links labelled by what fails ------------------------------------------------


@pytest.mark.parametrize("label", ["on failure", "on error", "failed messages", "after 3 retries"])
def test_a_publish_labelled_by_what_fails_is_a_dead_letter_link(label: str):
    text = (
        'digraph g { web -> orders; orders -> db [label="stores in"]; '
        'orders -> kafka [label="OrderPlaced"]; kafka -> mailer [label="OrderPlaced"]; '
        f'mailer [error_rate=0.02]; mailer -> parking [label="{label}"]; '
        'parking [label="Parking lot", kind=broker]; }'
    )
    result = read_architecture(text, "shape.dot")
    codes = {d.code for d in result.diagnostics}
    assert "free-label" not in codes
    assert {"failure-label", "dead-letter"} <= codes
    handler = next(o for o in result.architecture.behaviour.operations if o.component == "mailer")
    publish = next(s for s in handler.steps if s.action.value == "publish")
    # the parking lot takes what fails (the mailer's error rate), not every notification
    assert (publish.target, publish.p) == ("parking", pytest.approx(0.02))


def test_a_publish_with_another_label_to_a_plain_broker_is_every_event():
    arch = _arch(
        'digraph g { web -> orders; orders -> db [label="stores in"]; '
        'orders -> kafka [label="OrderPlaced"]; }'
    )
    op = next(o for o in arch.behaviour.operations if o.name == "create_order")
    assert next(s for s in op.steps if s.action.value == "publish").p == 1.0


# -- a cylinder is a store whatever its links -----------------------------------------------


def test_a_cylinder_that_only_links_out_is_a_store_its_reader_reads():
    result = read_architecture(
        "digraph g { web -> api; api -> orders_db; orders_db [shape=cylinder]; "
        'legacy [label="Legacy records", shape=cylinder]; '
        'legacy -> importer [label="nightly export"]; importer -> orders_db; }',
        "shape.dot",
    )
    arch = result.architecture
    assert arch.component("legacy").kind is Kind.DATABASE  # before: a client sending requests
    assert not any(e.hops[0] == "importer" and "legacy" in e.reason for e in arch.behaviour.entries)
    links = {(lk.source, lk.target): lk.relation.label for lk in arch.links}
    assert links[("importer", "legacy")] == "stores in"
    assert "store-arrow" in {d.code for d in result.diagnostics}
    assert "free-label" not in {d.code for d in result.diagnostics}


def test_a_database_drawn_into_a_cdc_connector_keeps_its_arrow():
    arch = _arch(
        'digraph g { web -> orders; orders -> pg [label="stores in"]; pg [shape=cylinder]; '
        'pg -> debezium; debezium -> kafka; kafka -> search [label="subscribes to"]; '
        'search -> es [label="stores in"]; }'
    )
    assert not any(
        lk.source == "debezium" and lk.relation.label == "stores in" for lk in arch.links
    )
    assert ("debezium", "pg") not in {(lk.source, lk.target) for lk in arch.links}


# -- a Redis called a cache beside a database stays a cache (cache-aside) -------------------


def test_a_redis_called_cache_beside_a_database_is_a_cache_in_front_of_it():
    arch = _arch(
        'digraph g { web -> catalog; catalog -> pg; pg [label="PostgreSQL", shape=cylinder]; '
        'catalog -> redis; redis [label="Cache (redis)", shape=cylinder]; }'
    )
    assert arch.component("redis").kind is Kind.CACHE
    get = next(o for o in arch.behaviour.operations if o.name == "get_catalog")
    # cache-aside: the cache first, the database on a miss
    assert [s.action.value for s in get.steps][1:] == ["cache_get"]
    miss = get.steps[1].on_miss
    assert [(s.action.value, s.target) for s in miss][:1] == [("query", "pg")]


# -- tests/model_shapes/payments-outbox.dot: undirected, an outbox relay, a PSP callback ------

SHAPES = Path(__file__).resolve().parent / "model_shapes"


def test_the_undirected_payments_sketch_reads_its_outbox_callback_and_nightly_job():
    result = load(SHAPES / "payments-outbox.dot")
    arch = result.architecture
    assert "undirected" in {d.code for d in result.diagnostics}
    share = {e.id: e.weight for e in arch.behaviour.entries}
    # the shopper's edge says POST /payments: that is the request it sends, nothing else
    assert share["POST /payments"] == pytest.approx(0.90)
    # Adyen's callback is a side door at checkout's writes; the nightly reconciliation a job
    assert share["POST /checkouts"] == pytest.approx(0.05)
    assert share["POST /recons"] == pytest.approx(0.05)
    # the outbox relay is a connector: each payment written publishes, the relay serves nothing
    assert not arch.behaviour.operations_of("outbox_relay")
    (flow,) = arch.behaviour.events
    assert flow.event == "PaymentAuthorised" and flow.consumers
    assert {p.operation for p in flow.publishers} >= {"create_payment"}


def test_a_client_route_label_sends_only_that_request():
    arch = _arch(
        'digraph g { app -> api [label="GET /recommendations"]; '
        'api -> scores [label="stores in"]; }'
    )
    assert [(e.id, e.weight) for e in arch.behaviour.entries] == [("GET /recommendations", 1.0)]


def test_the_same_request_at_one_door_from_two_sources_is_one_entry():
    # a webhook into the front door the traffic source also reaches: one POST /orders
    arch = _arch(
        'digraph g { web -> orders; orders -> db [label="stores in"]; '
        'stripe -> orders [label="webhooks"]; stripe [label="Stripe"]; }'
    )
    ids = [e.id for e in arch.behaviour.entries]
    assert len(ids) == len(set(ids))
    assert sum(e.weight for e in arch.behaviour.entries) == pytest.approx(1.0)


# -- tests/model_shapes/bff-gateway.dot: icons, a BFF per client, rate limits ----------------


def test_a_node_drawn_as_an_icon_is_named_by_its_xlabel_or_its_image():
    arch = _arch(
        'digraph g { node [shape=none, label=""]; web [xlabel="Browser"]; '
        'n1 [image="icons/kong-logo.png"]; n2 [xlabel="orders"]; '
        'n3 [image="./img/postgres.svg"]; web -> n1; n1 -> n2 [label="routes to"]; '
        "n2 -> n3; }"
    )
    assert arch.component("n1").kind is Kind.GATEWAY  # "kong": its icon's file name
    assert arch.component("n3").kind is Kind.DATABASE  # "postgres"
    assert arch.component("n2").label == "orders"
    assert {op.resource for op in arch.behaviour.operations_of("n2")} == {"order"}


def test_route_prefixes_on_a_gateway_keep_one_bff_per_client_apart():
    arch = load(SHAPES / "bff-gateway.dot").architecture
    routes = [(op.method, op.path) for op in arch.behaviour.operations_of("api_gateway")]
    assert len(routes) == len(set(routes))  # before: a route-clash error between the two BFFs
    paths = {path for _, path in routes}
    assert "/web/api/catalogs/{id}" in paths and "/mobile/api/catalogs/{id}" in paths
    # the partner API calls the routes its edges name
    create = next(o for o in arch.behaviour.operations_of("partner_api"))
    called = {(s.target, s.operation) for s in create.steps if s.action.value == "call"}
    assert called == {("orders", "create_order"), ("catalog", "list_catalog_items")}
    # a drawn accounts service beside Keycloak's accounts: Keycloak keeps user accounts
    signup = [o.path for o in arch.behaviour.operations_of("keycloak") if o.rule == "auth.accounts"]
    assert signup == ["/user_accounts", "/user_accounts/login"]


def test_a_rate_on_a_label_is_read_like_a_protocol():
    result = read_architecture(
        'digraph g { web -> gw [label="HTTPS (1000 req/min)"]; '
        'partner -> gw [label="mTLS, 100 req/s burst 20"]; gw [label="Kong gateway"]; '
        'gw -> api [label="routes to"]; api -> db [label="stores in"]; }',
        "shape.dot",
    )
    codes = [d.code for d in result.diagnostics]
    assert "free-label" not in codes and codes.count("protocol-label") == 2


# -- tests/model_shapes/eks-deployment.dot: nested deployment nodes, strict, a CronJob -------


def test_a_front_end_calling_routes_forwards_those_routes_only():
    result = load(SHAPES / "eks-deployment.dot")
    arch = result.architecture
    assert arch.component("storefront").kind is Kind.GATEWAY  # a storefront is a front end
    share = {e.id: e.weight for e in arch.behaviour.entries}
    assert share == pytest.approx(
        {"POST /api/orders": 0.475, "GET /api/stock/{id}": 0.475, "POST /reports": 0.05}
    )
    assert "cron" in next(e.reason for e in arch.behaviour.entries if e.id == "POST /reports")
    # strict digraph: the pair drawn twice is one edge, as Graphviz draws it; no warning
    assert "duplicate-link" not in {d.code for d in result.diagnostics}
    assert arch.component("orders").group == "cluster_ns_shop"  # four clusters deep


def test_a_gateways_rate_limit_cache_takes_a_counter_write_per_request():
    result = read_architecture(
        'digraph g { web -> kong; kong [label="Kong gateway"]; '
        'kong -> api [label="routes to"]; api -> db [label="stores in"]; '
        'kong -> redis [label="rate limiting"]; }',
        "shape.dot",
    )
    codes = {d.code for d in result.diagnostics}
    assert "unused-link" not in codes and "free-label" not in codes  # before: both
    for op in result.architecture.behaviour.operations_of("kong"):
        actions = [(s.action.value, s.target) for s in op.steps]
        assert ("cache_set", "redis") in actions
        assert actions[-1][0] == "call"  # counted, then forwarded
    # a cache a gateway uses for anything else is still said to be unused
    other = read_architecture(
        'digraph g { web -> kong; kong [label="Kong gateway"]; '
        'kong -> api [label="routes to"]; api -> db [label="stores in"]; kong -> redis; }',
        "shape.dot",
    )
    assert "unused-link" in {d.code for d in other.diagnostics}


def test_inspect_gives_each_reason_of_a_component_that_is_two_doors():
    from archsim.cli.inspect_view import _entries

    arch = load(SHAPES / "payments-outbox.dot").architecture
    caption = str(_entries(arch).caption)
    line = caption.replace("\n", " ")
    assert "shopper (POST /payments)" in line and "adyen calls it from outside" in line
