"""Shapes that real architectures have: traffic sources, front ends that call, kinds that follow
what a component does, entry rules with their reasons, weights, event chains, names.

Each rule of docs/behaviour.md has a test on a small DOT snippet (written in different styles:
quoted ids, defaults, ``{a b} -> c``, HTML labels); the corpus of real architectures and the
seed are checked as a whole at the end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archsim.errors import InvalidModelError
from archsim.model import Architecture, Kind, Relation, load, read_architecture

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "examples" / "architectures").glob("*.dot"))


def _arch(text: str) -> Architecture:
    return read_architecture(text, "shape.dot").architecture


def _doors(arch: Architecture) -> set[str]:
    return {entry.hops[0] for entry in arch.behaviour.entries}


# -- 1. traffic sources -------------------------------------------------------------------


def test_a_node_nothing_links_to_that_only_calls_is_a_client_and_its_target_the_entry():
    arch = _arch(
        "digraph g { Browser -> orders [label=calls]; "
        'orders -> orders_db [label="stores in"]; inventory -> inv_db [label="stores in"]; }'
    )
    assert arch.component("Browser").kind is Kind.CLIENT
    assert "traffic source" in arch.component("Browser").kind_reason
    # the client's target gets the traffic, not the component nothing calls (inventory)
    assert _doors(arch) == {"orders"}
    assert not arch.behaviour.operations_of("Browser")  # a client serves nothing
    assert all("Browser" in e.reason for e in arch.behaviour.entries)


def test_a_client_named_like_one_may_route_but_a_named_client_that_is_called_is_not():
    arch = _arch(
        'digraph g { node [shape=box]; "Mobile App" -> gw [label="routes to"]; '
        'gw -> api [label="routes to"]; api -> db [label="stores in"]; }'
    )
    assert arch.component("Mobile App").kind is Kind.CLIENT
    assert "named like a client" in arch.component("Mobile App").kind_reason
    assert _doors(arch) == {"gw"}
    called = _arch('digraph g { a -> users [label=calls]; users -> db [label="stores in"]; }')
    assert called.component("users").kind is Kind.SERVICE


def test_client_weights_are_the_mix_and_clients_share_equally():
    arch = _arch(
        "digraph g { lg -> a [label=calls, weight=0.6]; lg -> b [label=calls]; "
        'web -> a [label=calls]; a -> a_db [label="stores in"]; '
        'b -> b_db [label="stores in"]; }'
    )
    share: dict[str, float] = {}
    for entry in arch.behaviour.entries:
        share[entry.hops[0]] = share.get(entry.hops[0], 0) + entry.weight
    # two clients, half each; lg sends 0.6 to a and the rest (0.4) to the unweighted b
    assert share["a"] == pytest.approx(0.5 * 0.6 + 0.5)
    assert share["b"] == pytest.approx(0.5 * 0.4)


# -- 6. weights --------------------------------------------------------------------------------


def test_unweighted_routes_take_the_remaining_share_equally():
    arch = _arch(
        'digraph g { gw -> a [label="routes to", weight=0.1]; gw -> b [label="routes to", '
        'weight=0.6]; gw -> c [label="routes to"]; gw -> d [label="routes to"]; '
        + " ".join(f'{x} -> {x}_db [label="stores in"];' for x in "abcd")
        + " }"
    )
    share: dict[str, float] = {}
    for entry in arch.behaviour.entries:
        share[entry.target.component] = share.get(entry.target.component, 0) + entry.weight
    assert share == pytest.approx({"a": 0.1, "b": 0.6, "c": 0.15, "d": 0.15})


def test_weights_that_leave_nothing_for_the_unweighted_warn_and_count_as_the_mean():
    result = read_architecture(
        'digraph g { lb -> a [label="distributes to", weight=0.5]; '
        'lb -> b [label="distributes to", weight=0.7]; lb -> c [label="distributes to"]; '
        + " ".join(f'{x} -> {x}_db [label="stores in"];' for x in "abc")
        + " }"
    )
    warning = next(d for d in result.diagnostics if d.code == "weights-overfull")
    assert "unweighted c;" in warning.message
    share: dict[str, float] = {}
    for entry in result.architecture.behaviour.entries:
        share[entry.target.component] = share.get(entry.target.component, 0) + entry.weight
    assert share == pytest.approx({"a": 0.5 / 1.8, "b": 0.7 / 1.8, "c": 0.6 / 1.8})


def test_a_client_that_uses_the_identity_provider_signs_in_there():
    arch = _arch(
        "digraph g { spa -> gw [label=calls]; spa -> idp [label=uses]; "
        'gw -> cat [label="routes to"]; cat -> idp [label="validates with"]; '
        'cat -> cat_db [label="stores in"]; }'
    )
    assert arch.component("idp").kind is Kind.AUTH
    signin = [e for e in arch.behaviour.entries if e.hops[0] == "idp"]
    # cat checks idp's tokens and nothing logs in: idp keeps the accounts (rule auth.accounts)
    assert [e.target.operation for e in signin] == ["create_account", "login"]
    unchecked = _arch(
        "digraph g { spa -> gw [label=calls]; spa -> idp [label=uses]; "
        'gw -> cat [label="routes to"]; idp [kind=auth]; cat -> cat_db [label="stores in"]; }'
    )
    signin = [e for e in unchecked.behaviour.entries if e.hops[0] == "idp"]
    assert [e.target.operation for e in signin] == ["issue_token"]


# -- 2. entry rules ------------------------------------------------------------------------


def test_a_load_balancer_nothing_calls_is_the_front_door(seed):
    assert _doors(seed) == {"load_balancer"}
    assert "load balancer" in seed.behaviour.entries[0].reason


def test_a_gateway_that_calls_its_services_forwards_like_routes_to():
    arch = _arch(
        'digraph g { gw [kind=gateway]; gw -> users [label="calls"]; gw -> orders [label="calls"];'
        ' users -> u_db [label="stores in"]; orders -> o_db [label="stores in"]; }'
    )
    paths = {e.path for e in arch.behaviour.entries}
    assert "/api/users/{id}" in paths and "/api/orders" in paths
    assert _doors(arch) == {"gw"}
    assert "gateway" in arch.behaviour.entries[0].reason


def test_a_front_end_named_so_that_only_calls_is_a_gateway():
    arch = _arch(
        "digraph g { client -> WebUI [label=calls]; "
        "WebUI [label=<<b>WebUI</b><br/>JSP frontend>]; "
        "{WebUI} -> Persistence [label=calls]; "
        "Persistence [label=<<b>Persistence</b><br/>JPA, second-level cache>]; "
        'Persistence -> DB [label="stores in"]; }'
    )
    assert arch.component("WebUI").kind is Kind.GATEWAY
    # "cache" in its label, but it stores in a database: it does work, so it is a service
    assert arch.component("Persistence").kind is Kind.SERVICE
    assert _doors(arch) == {"WebUI"}
    assert all(e.path.startswith("/api/") for e in arch.behaviour.entries)


def test_nginx_that_calls_is_a_front_end_not_a_load_balancer():
    arch = _arch(
        'digraph g { wrk [shape=oval]; wrk -> nginx:in [label="calls"]; '
        'nginx:out -> "text-service" [label="calls"]; "text-service" -> tdb [label="stores in"]; }'
    )
    assert arch.component("nginx").kind is Kind.GATEWAY
    assert "forwards" in arch.component("nginx").kind_reason
    assert _doors(arch) == {"nginx"}


def test_a_gateway_routing_to_a_gateway_sees_its_routes_without_a_second_prefix():
    arch = _arch(
        'digraph g { users -> ui [label=calls]; ui -> gw [label="routes to"]; '
        'gw -> orders [label="routes to"]; orders -> db [label="stores in"]; ui [kind=gateway]; }'
    )
    assert _doors(arch) == {"ui"}
    assert {e.hops for e in arch.behaviour.entries} == {("ui", "gw", "orders")}
    assert all(e.path.startswith("/api/orders") for e in arch.behaviour.entries)


def test_fallback_entries_are_services_nothing_calls():
    arch = _arch('digraph g { api -> api_db [label="stores in"]; }')
    assert _doors(arch) == {"api"}
    assert "nothing sends it requests" in arch.behaviour.entries[0].reason


def test_zero_entry_points_is_a_validate_error_with_a_hint():
    with pytest.raises(InvalidModelError) as info:
        _arch('digraph g { worker -> q [label="subscribes to"]; }')
    error = next(d for d in info.value.diagnostics if d.code == "no-entries")
    assert "no entry points" in error.message
    assert "calls" in (error.hint or "") and "routes to" in (error.hint or "")


def test_two_front_doors_with_the_same_request_name_the_door():
    arch = _arch(
        "digraph g { web -> gw1 [label=calls]; app -> gw2 [label=calls]; "
        'gw1 -> cat [label="routes to"]; gw2 -> cat [label="routes to"]; '
        'cat -> db [label="stores in"]; }'
    )
    ids = [e.id for e in arch.behaviour.entries]
    assert len(ids) == len(set(ids))
    assert any(i.endswith("via gw2") for i in ids)


# -- 3. kinds follow what a component does ------------------------------------------------------


def test_an_email_service_that_subscribes_is_a_consumer_not_external():
    arch = _arch(
        'digraph g { web -> orders [label=calls]; orders -> bus [label="publishes to"]; '
        '"email-service" [label="Email Service"]; "email-service" -> bus [label="subscribes to"];'
        ' "email-service" -> smtp [label="sends via"]; orders -> odb [label="stores in"]; }'
    )
    email = arch.component("email-service")
    assert email.kind is Kind.SERVICE
    assert "subscribes to" in email.kind_reason
    assert any(op.kind.value == "consume" for op in arch.behaviour.operations_of("email-service"))


def test_a_config_named_service_that_a_gateway_routes_to_is_a_service():
    arch = _arch(
        'digraph g { gw -> "ts-config-service" [label="routes to"]; '
        '"ts-config-service" -> cfg_db [label="stores in"]; }'
    )
    assert arch.component("ts-config-service").kind is Kind.SERVICE


# -- 4. events --------------------------------------------------------------------------------


def _flows(arch: Architecture) -> dict[str, tuple[set[str], set[str]]]:
    return {
        f.event: ({str(r) for r in f.publishers}, {r.component for r in f.consumers})
        for f in arch.behaviour.events
    }


def test_a_consumer_that_publishes_emits_its_events_a_chain():
    arch = _arch(
        'digraph g { web -> orders [label=calls]; orders -> odb [label="stores in"]; '
        'orders -> bus [label="publishes to"]; '
        '{fraud stock} -> bus [label="subscribes to"]; '
        '{fraud stock} -> checks [label="publishes to"]; '
        'agg -> checks [label="subscribes to"]; agg -> done [label="publishes to"]; '
        'mailer -> done [label="subscribes to"]; mailer -> smtp [label="sends via"]; }'
    )
    flows = _flows(arch)
    assert flows["OrderPlaced"][1] == {"fraud", "stock"}
    assert flows["FraudCreated"] == ({"fraud.on_order_placed"}, {"agg"})
    assert flows["AggCreated"][1] == {"mailer"}  # three hops after the request
    mailer = arch.behaviour.operations_of("mailer")[0]
    assert [s.describe() for s in mailer.steps][-1] == "call smtp.send"


def test_a_consumer_never_takes_its_own_events_and_a_loop_ends_where_it_closes():
    # the Kafka orders shape: the orders service publishes and subscribes on one topic; the
    # aggregator's verdict goes back to that topic
    arch = _arch(
        'digraph g { Browser -> orders [label=calls]; orders -> topic [label="publishes to"]; '
        'orders -> topic [label="subscribes to"]; fraud -> topic [label="subscribes to"]; '
        'fraud -> checks [label="publishes to"]; agg -> checks [label="subscribes to"]; '
        'agg -> topic [label="publishes to"]; }'
    )
    flows = _flows(arch)
    assert "orders" not in flows["OrderPlaced"][1]  # its own event
    assert flows["AggCreated"][1] == {"orders", "fraud"}
    # fraud handles the verdict but does not publish again: that would loop forever
    assert flows["FraudCreated"][0] == {"fraud.on_order_placed"}
    assert flows["OrderPlaced"][0] == {"orders.create_order"}


def test_the_events_a_subscription_takes_can_be_set_on_the_link():
    arch = _arch(
        "digraph g { web -> a [label=calls]; web -> b [label=calls]; "
        'a -> bus [label="publishes to", event="order.created"]; '
        'b -> bus [label="publishes to", event="user.created"]; '
        'mail -> bus [label="subscribes to", events="order.created"]; }'
    )
    flows = _flows(arch)
    assert flows["order.created"][1] == {"mail"}
    assert flows["user.created"][1] == set()
    names = [op.name for op in arch.behaviour.operations_of("mail")]
    assert names == ["on_order_created"]  # dotted event, identifier handler name


def test_one_edge_per_event_between_one_pair_is_one_link_with_all_its_events():
    result = read_architecture(
        "digraph g { c -> cart [label=calls]\n"
        'cart -> mq [label="publishes to" event="cart.checkout"]\n'
        'o -> mq [label="subscribes to" event="cart.checkout"]\n'
        'o -> mq [label="publishes to" event="order.created"]\n'
        'o -> mq [label="subscribes to" event="payment.done"]\n'
        'p -> mq [label="subscribes to" event="order.created"]\n'
        'p -> mq [label="publishes to" event="payment.done"] }'
    )
    assert not [d for d in result.diagnostics if d.code == "duplicate-link"]
    arch = result.architecture
    sub = arch.links_from("o", Relation.SUBSCRIBES_TO)
    assert sub[0].events == ("cart.checkout", "payment.done")
    flows = _flows(arch)
    assert flows["order.created"][1] == {"p"}
    assert flows["payment.done"][1] == {"o"}
    # o publishes order.created when a checkout comes, not when the payment it caused comes back
    assert "o.on_cart_checkout" in flows["order.created"][0]
    assert "o.on_payment_done" not in flows["order.created"][0]


# -- 5. names --------------------------------------------------------------------------------


def test_names_are_pluralised_once():
    arch = _arch(
        'digraph g { b -> "orders-service" [label=calls]; '
        '"orders-service" -> db [label="stores in"]; }'
    )
    paths = {op.path for op in arch.behaviour.operations_of("orders-service")}
    assert "/orders" in paths and "/orders/{id}" in paths
    assert "get_order" in {op.name for op in arch.behaviour.operations_of("orders-service")}


# -- 7. logging in through the front door (issue 14) -------------------------------------------


def test_sign_up_and_login_routes_are_public_and_skip_the_token_check(seed):
    gateway = {op.name: op for op in seed.behaviour.operations_of("api_gateway")}
    for name in ("login", "create_user"):
        assert gateway[name].public
        assert not [s for s in gateway[name].steps if s.operation == "validate_token"]
    for name in ("get_user", "list_users", "create_order"):
        assert not gateway[name].public
        assert gateway[name].steps[1].operation == "validate_token"
    forward = {op.name: op for op in seed.behaviour.operations_of("load_balancer")}
    assert forward["api_gateway__login"].public  # a proxy in front keeps the flag


# -- 8. DOT details seen in the corpus ----------------------------------------------------


def test_nodes_first_seen_in_the_edges_of_a_styled_subgraph_are_declared():
    arch = _arch(
        "digraph g { a [label=A]; b [label=B]; u -> a [label=calls]; "
        "a -> b [label=calls]; subgraph cluster_data { node [shape=cylinder]; "
        'edge [label="stores in"]; a -> a_db; b -> b_db; } }'
    )
    assert arch.component("a_db").kind is Kind.DATABASE
    # outside such a subgraph: a typo when close to a declared id, else a node of its own
    with pytest.raises(InvalidModelError):
        _arch("digraph g { a_svc [label=A]; b_svc [label=B]; c_svc [label=C]; "
              "a_svc -> b_svc [label=calls]; b_svc -> c_svx [label=calls]; }")  # fmt: skip
    own = _arch("digraph g { a [label=A]; b [label=B]; c [label=C]; a -> b [label=calls]; "
                'b -> c [label=calls]; c -> dd [label="stores in"]; }')  # fmt: skip
    assert own.component("dd").kind is Kind.DATABASE


# -- the corpus and the seed -------------------------------------------------------------------


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_every_corpus_file_has_entries_none_on_a_client_and_every_client_target_an_entry(path):
    arch = load(path).architecture
    entries = arch.behaviour.entries
    assert entries
    doors = _doors(arch)
    clients = {c.id for c in arch.of_kind(Kind.CLIENT)}
    assert not doors & clients
    targets = {link.target for link in arch.links if link.source in clients}
    assert targets <= doors
    assert sum(e.weight for e in entries) == pytest.approx(1.0)
    assert all(e.reason for e in entries)


def test_the_seeds_entries_are_what_they_were_before_these_rules(seed):
    expected = json.loads((ROOT / "tests" / "model_shapes" / "seed_entries.json").read_text())
    got = [e.model_dump(mode="json", exclude={"reason"}) for e in seed.behaviour.entries]
    assert got == expected


def test_an_aws_serverless_drawing() -> None:
    # CDN -> API Gateway -> Lambdas; DynamoDB and an S3 bucket; SQS's SendMessage feeding a
    # worker through an arrow labelled "trigger"; SNS to SES (tests/model_shapes/serverless-aws.dot)
    result = load(ROOT / "tests" / "model_shapes" / "serverless-aws.dot")
    arch = result.architecture
    kinds = {c.id: c.kind for c in arch.components}
    assert kinds["cloudfront"] is Kind.GATEWAY  # a CDN forwards what it is asked
    assert kinds["s3"] is Kind.DATABASE and kinds["queue"] is Kind.BROKER
    assert _doors(arch) == {"cloudfront"}
    assert {e.hops[1] for e in arch.behaviour.entries} == {"apigw"}
    worker = {op.name: op for op in arch.behaviour.operations_of("fn_worker")}
    assert worker["on_send_message"].triggers == ("SendMessage",)  # the event orders publishes
    assert not [d for d in result.diagnostics if d.severity.value == "error"]


def test_a_chat_drawing_with_records_and_a_websocket_gateway() -> None:
    # tests/model_shapes/chat-records.dot: record ports, "wss", a pub/sub drawn towards the
    # gateway that subscribes to it, "send message" to a service (not "sends messages")
    result = load(ROOT / "tests" / "model_shapes" / "chat-records.dot")
    arch = result.architecture
    kinds = {c.id: c.kind for c in arch.components}
    assert kinds["ws"] is Kind.GATEWAY and kinds["redis_pubsub"] is Kind.BROKER
    assert kinds["clients"] is Kind.CLIENT and _doors(arch) == {"ws"}
    links = {(lk.source, lk.target): lk.relation for lk in arch.links}
    assert links[("ws", "redis_pubsub")] is Relation.SUBSCRIBES_TO  # turned round
    assert links[("ws", "msg")] is Relation.CALLS
    assert links[("msg", "cassandra")] is Relation.STORES_IN  # "write"
    codes = {d.code for d in result.diagnostics}
    assert "flow-arrow" in codes and "unknown-relation" not in codes


def test_a_kubernetes_drawing() -> None:
    # tests/model_shapes/kubernetes.dot: Services balance over their Deployments' pods, a call
    # through a Service reaches the workload behind it, the HPA and Prometheus send no requests
    result = load(ROOT / "tests" / "model_shapes" / "kubernetes.dot")
    arch = result.architecture
    kinds = {c.id: c.kind for c in arch.components}
    assert kinds["svc_web"] is Kind.LOAD_BALANCER and kinds["svc_api"] is Kind.LOAD_BALANCER
    assert kinds["cm"] is Kind.CONFIG and kinds["pg"] is Kind.DATABASE
    assert "hpa" not in kinds and "prom" not in kinds  # left out: they watch, not serve
    links = {(lk.source, lk.target): lk.relation for lk in arch.links}
    assert links[("svc_web", "web")] is Relation.DISTRIBUTES_TO
    assert _doors(arch) == {"ingress"}
    (create_web,) = [op for op in arch.behaviour.operations_of("web") if op.name == "create_web"]
    calls = [(s.target, s.operation) for s in create_web.steps if s.target]
    assert calls == [("svc_api", "api__get_api")]  # through the Service to the api's read
    assert next(op.resource for op in arch.behaviour.operations_of("api")) == "api"
    said = [d for d in result.diagnostics if d.code == "observer-edge"]
    assert len(said) == 4  # two edges, two components


# -- drawings users bring (session 10): task queues, routes on edges, banks, pipelines --------

SHAPES = ROOT / "tests" / "model_shapes"


def test_routes_protocol_lists_and_a_protocol_with_a_call_name_are_protocol_labels() -> None:
    result = read_architecture(
        'digraph g { web -> gw [label="HTTPS, mTLS"]; gw -> orders [label="GET /orders"]; '
        'gw -> billing [label="/billing"]; orders -> stock [label="gRPC: ReserveStock"]; '
        'orders -> s3 [label="PUT object"]; orders -> db; billing -> db; stock -> db; '
        'gw -> kc [label=JWT]; gw [label="API Gateway"]; s3 [label="S3 bucket"]; '
        "kc [label=Keycloak]; }",
        "routes.dot",
    )
    codes = {d.code for d in result.diagnostics}
    assert "free-label" not in codes and "protocol-label" in codes
    links = {(lk.source, lk.target): lk.relation for lk in result.architecture.links}
    assert links[("gw", "orders")] is Relation.CALLS
    assert links[("orders", "s3")] is Relation.STORES_IN
    # "event: OrderPlaced" names an event, not a protocol: still said to be free text
    said = read_architecture('digraph g { a -> q [label="event: OrderPlaced"]; q [label=SQS]; }')
    assert "free-label" in {d.code for d in said.diagnostics}


def test_a_celery_worker_drawn_from_its_redis_broker_takes_every_task() -> None:
    # tests/model_shapes/django-celery.dot: "redis -> celery_worker [label=tasks]" names how
    # the work arrives, not an event called "tasks"; before, the worker consumed nothing
    arch = load(SHAPES / "django-celery.dot").architecture
    kinds = {c.id: c.kind for c in arch.components}
    assert kinds["redis"] is Kind.BROKER and kinds["nginx"] is Kind.LOAD_BALANCER
    assert kinds["celery_beat"] is Kind.SERVICE and kinds["browser"] is Kind.CLIENT
    (handler,) = [op for op in arch.behaviour.operations_of("celery_worker") if op.triggers]
    assert set(handler.triggers) == {"ItemCreated", "CeleryBeatCreated"}  # django: items
    assert [s.target for s in handler.steps if s.target] == ["smtp", "postgres"]
    assert _doors(arch) == {"nginx", "celery_beat"}  # beat: a producer side door


def test_a_graphql_gateway_with_grpc_and_route_labels() -> None:
    result = load(SHAPES / "graphql-shop.dot")
    arch = result.architecture
    assert _doors(arch) == {"GraphQLGateway"}
    assert {e.hops[1] for e in arch.behaviour.entries} == {
        "ProductService", "OrderService", "UserService", "ReviewService"}  # fmt: skip
    warned = [d for d in result.diagnostics if d.severity.value == "warning"]
    assert [d.code for d in warned] == ["free-label"]  # only "cache-aside": not a protocol


def test_an_open_banking_api_with_a_mainframe_core_and_an_accounts_api() -> None:
    # tests/model_shapes/open-banking.dot: Apigee in front, an OAuth server that introspects
    # tokens, an "Accounts API" of the bank's own, a mainframe core (z/OS, CICS)
    result = load(SHAPES / "open-banking.dot")
    arch = result.architecture
    kinds = {c.id: c.kind for c in arch.components}
    assert kinds["apigee"] is Kind.GATEWAY and kinds["oauth-server"] is Kind.AUTH
    assert kinds["core-banking"] is Kind.EXTERNAL  # a system of record: called, not generated
    assert kinds["tpp-app"] is Kind.CLIENT
    paths = [(op.method, op.path) for op in arch.behaviour.operations_of("apigee")]
    assert len(paths) == len(set(paths))
    assert ("POST", "/api/bank_accounts") in paths and ("POST", "/api/accounts") in paths
    # without resource= the Accounts API serves account, and the OAuth server's sign-up keeps
    # user accounts (once two handlers of POST /api/accounts, then a route-clash error)
    text = (SHAPES / "open-banking.dot").read_text().replace(', resource="bank_account"', "")
    arch = read_architecture(text, "open-banking.dot").architecture
    paths = [(op.method, op.path) for op in arch.behaviour.operations_of("apigee")]
    assert len(paths) == len(set(paths))
    assert ("POST", "/api/accounts") in paths and ("POST", "/api/user_accounts") in paths
    signup = [o for o in arch.behaviour.operations_of("oauth-server") if o.name == "create_account"]
    assert [(o.path, o.resource) for o in signup] == [("/user_accounts", "user_account")]


def test_two_services_of_one_resource_behind_a_validating_gateway_clash() -> None:
    # the route's token check comes first; the clash is about where it forwards
    with pytest.raises(InvalidModelError) as caught:
        _arch(
            'digraph g { gw -> auth [label="validates with"]; '
            'gw -> orders [label="routes to"]; gw -> order_service [label="routes to"]; '
            'orders -> db1 [label="stores in"]; order_service -> db2 [label="stores in"]; }'
        )
    assert "route-clash" in {d.code for d in caught.value.diagnostics}


def test_a_video_pipeline_in_html_labels() -> None:
    arch = load(SHAPES / "video-pipeline.dot").architecture
    kinds = {c.id: c.kind for c in arch.components}
    assert kinds["transcode_queue"] is Kind.BROKER and kinds["raw_bucket"] is Kind.DATABASE
    assert {c.id for c in arch.of_kind(Kind.CLIENT)} == {"viewer", "creator"}
    for worker in ("transcoder", "thumbnailer"):
        (handler,) = [op for op in arch.behaviour.operations_of(worker) if op.triggers]
        assert handler.triggers == ("VideoUploaded",)
    links = {(lk.source, lk.target): lk.relation for lk in arch.links}
    assert links[("catalog_api", "catalog_db")] is Relation.STORES_IN  # "query"


def test_a_fan_out_with_a_redrive_job() -> None:
    result = load(SHAPES / "notifications-fanout.dot")
    arch = result.architecture
    links = {(lk.source, lk.target): lk.relation for lk in arch.links}
    assert links[("redrive", "sns")] is Relation.PUBLISHES_TO  # "republish" is no typo
    assert links[("analytics", "notif_events")] is Relation.SUBSCRIBES_TO  # turned round
    takes = {
        c: {e for op in arch.behaviour.operations_of(c) for e in op.triggers}
        for c in ("email_worker", "sms_worker", "push_worker", "analytics")
    }
    assert all("OrderShipped" in takes[w] for w in ("email_worker", "sms_worker", "push_worker"))
    assert takes["analytics"] == {"NotificationSent"}


def test_a_search_index_by_its_name_and_a_team_drawing_without_labels() -> None:
    arch = _arch(
        'digraph g { a -> es; es [label="Elasticsearch"]; b -> ch; ch [label=ClickHouse]; }'
    )
    assert arch.component("es").kind is Kind.DATABASE
    assert arch.component("ch").kind is Kind.DATABASE
    result = load(SHAPES / "team-clusters.dot")
    arch = result.architecture
    assert _doors(arch) == {"edge_proxy"}
    writers = {lk.source for lk in arch.links if lk.target == "maindb"}
    assert writers == {"listings", "checkout", "billing"}
    (indexing,) = [op for op in arch.behaviour.operations_of("indexer") if op.triggers]
    assert [s.target for s in indexing.steps if s.target] == ["es"]


def test_a_publish_to_a_dead_letter_queue_takes_the_share_that_fails() -> None:
    # before, email_worker dead-lettered every notification and the redrive job sent each
    # one a second time
    result = load(SHAPES / "notifications-fanout.dot")
    arch = result.architecture

    def dlq_p(a: Architecture) -> list[float]:
        ops = a.behaviour.operations_of("email_worker")
        return [s.p for op in ops for s in op.steps if s.target == "dlq"]

    assert dlq_p(arch) == [0.0]  # email_worker's error_rate: none drawn
    assert "dead-letter" in {d.code for d in result.diagnostics}
    text = (
        "digraph g { w -> q [label=consumes]; a -> q; a -> d; w -> dead [p=0.3]; "
        "v -> q [label=consumes]; v -> DeadLetterQueue; v [error_rate=0.02]; d [shape=cylinder]; "
        "q [label=SQS]; dead [label=DLQ]; }"
    )
    arch = _arch(text)
    steps = {
        op.component: s.p
        for c in ("w", "v")
        for op in arch.behaviour.operations_of(c)
        for s in op.steps
        if s.target in ("dead", "DeadLetterQueue")
    }
    assert steps == {"w": 0.3, "v": 0.02}  # the file's p wins; else the error_rate


@pytest.mark.parametrize("path", sorted(SHAPES.glob("*.dot")), ids=lambda p: p.stem)
def test_every_operation_name_is_an_identifier(path: Path) -> None:
    # the generated handlers are functions of these names; open-banking's gateway forwarded
    # 'accounts-api__create_account', and its generated app did not compile
    arch = load(path).architecture
    names = [op.name for c in arch.components for op in arch.behaviour.operations_of(c.id)]
    assert names and all(name.isidentifier() for name in names)


def test_a_rails_monolith_whose_sidekiq_fetches_jobs_from_a_kind_broker_redis() -> None:
    # tests/model_shapes/rails-sidekiq.dot: "Sidekiq -> Redis (jobs) [label="fetch jobs"]"
    # was a publish (Sidekiq a producer with 5% of the requests, the jobs consumed by nobody);
    # kind=broker on a Redis drew a kind-conflict warning about a cache it is not
    result = load(SHAPES / "rails-sidekiq.dot")
    arch = result.architecture
    links = {(lk.source, lk.target): lk.relation for lk in arch.links}
    assert links[("Sidekiq", "Redis (jobs)")] is Relation.SUBSCRIBES_TO
    assert links[("Rails (Puma)", "Redis (jobs)")] is Relation.PUBLISHES_TO
    assert _doors(arch) == {"AWS ALB", "Rails (Puma)"}  # Rails: Stripe's webhooks
    (job,) = [op for op in arch.behaviour.operations_of("Sidekiq") if op.triggers]
    assert [s.target for s in job.steps if s.target] == ["Postgres", "Elasticsearch"]
    assert "kind-conflict" not in {d.code for d in result.diagnostics}
    assert arch.component("Elasticsearch").kind is Kind.DATABASE


def test_a_redis_drawn_as_its_services_only_store_is_its_database() -> None:
    # team-clusters' cart and rails-sidekiq's leaderboard keep their data in Redis only; read
    # as caches in front of nothing, the cart's reads vanished (an unused-link warning)
    arch = load(SHAPES / "team-clusters.dot").architecture
    assert arch.component("cart_store").kind is Kind.DATABASE
    assert {op.name for op in arch.behaviour.operations_of("cart")} >= {"get_cart", "list_carts"}
    board = load(SHAPES / "rails-sidekiq.dot").architecture
    assert board.component("Redis (scores)").kind is Kind.DATABASE
    assert board.component("Memcached").kind is Kind.CACHE  # in front of Postgres
    # a service with a database of its own keeps its Redis as a cache; so does a node the
    # file calls a cache, or an edge that says "caches in"
    for text in (
        "digraph g { a -> pg; a -> r; pg [shape=cylinder]; r [label=Redis, shape=cylinder]; }",
        'digraph g { a -> r; r [label="Cache (redis)", shape=cylinder]; }',
        'digraph g { a -> r [label="caches in"]; r [label=Redis, shape=cylinder]; }',
    ):
        assert _arch(text).component("r").kind is Kind.CACHE, text
    said = read_architecture('digraph g { a -> r; r [label="Redis (primary store)"]; }')
    assert said.architecture.component("r").kind is Kind.DATABASE
    assert "primary-store" in {d.code for d in said.diagnostics}


def test_an_external_systems_webhooks_are_a_side_door_of_writes() -> None:
    # before: "Stripe calls Rails" was an unused-link warning whose hint was to fold the work
    # into Stripe's time; the requests a provider sends in are entries (rule entry.webhook)
    result = read_architecture(
        'digraph g { u -> web [label=calls]; web -> db [label="stores in"]; '
        'web -> stripe [label="integrates with"]; stripe -> billing [label=webhooks]; '
        'billing -> bdb [label="stores in"]; stripe [label=Stripe]; }',
        "hooks.dot",
    )
    arch = result.architecture
    hooks = [e for e in arch.behaviour.entries if e.hops[0] == "billing"]
    assert [(e.method, e.path) for e in hooks] == [("POST", "/billings")]
    assert sum(e.weight for e in hooks) == pytest.approx(0.05)
    assert "webhook" in hooks[0].reason
    assert "unused-link" not in {d.code for d in result.diagnostics}


def test_a_captured_databases_writes_publish_its_changes() -> None:
    # before: "postgres -> debezium -> kafka -> search_sync" was two unused-link warnings and
    # search_sync had no handler (rule events.cdc)
    result = load(SHAPES / "cdc-search.dot")
    arch = result.architecture
    codes = {d.code for d in result.diagnostics}
    assert "unused-link" not in codes and "free-label" not in codes
    assert not arch.behaviour.operations_of("debezium")  # the connector is not our code
    published = {
        (op.component, s.target, s.event)
        for op in arch.behaviour.operations
        for s in op.steps
        if s.action.value == "publish"
    }
    assert published == {
        ("catalog", "kafka", "PostgresChanged"),
        ("reviews", "review_topic", "ReviewChanged"),  # the edge's event=, straight from mongo
    }
    takes = {
        c: {e for op in arch.behaviour.operations_of(c) for e in op.triggers}
        for c in ("search_sync", "recommender")
    }
    assert takes == {"search_sync": {"PostgresChanged"}, "recommender": {"ReviewChanged"}}
    # a connector drawn reading the database, and a database nobody writes: no capture to run
    arch = _arch(
        'digraph g { a -> db [label="stores in"]; cdc -> db [label="reads WAL"]; '
        'cdc -> q [label=publishes]; w -> q [label=consumes]; w -> wdb [label="stores in"]; '
        "db [shape=cylinder]; q [label=Kafka]; }"
    )
    (write,) = [op for op in arch.behaviour.operations_of("a") if op.kind.value == "write"]
    assert [s.event for s in write.steps if s.event] == ["DbChanged"]
    unwritten = read_architecture(
        "digraph g { db -> debezium -> kafka -> w; w -> wdb; db [kind=database]; "
        "wdb [shape=cylinder]; }"
    )
    assert "unused-link" in {d.code for d in unwritten.diagnostics}


def test_a_framework_named_app_serves_its_domain_not_the_framework() -> None:
    # before: django served /djangos and "Rails (Puma)" /rails_pumas
    for name in ("django-celery.dot", "rails-sidekiq.dot"):
        arch = load(SHAPES / name).architecture
        app = "django" if name.startswith("django") else "Rails (Puma)"
        paths = {op.path for op in arch.behaviour.operations_of(app) if op.path}
        assert "/items" in paths, name
    cases = {
        'flask [label="Flask blog"]; flask -> db': "blog",  # the label's domain
        "spring_boot_app -> orders_db": "order",  # its primary database's name
        "express -> postgres": "item",  # neither says one
        "app -> db; app [label=Django]": "item",  # a role id, a framework label
        "order_service -> db": "order",  # other ids as before
        "worker -> db": "worker",
    }
    for body, resource in cases.items():
        app = body.split()[0]
        stores = "db [shape=cylinder]; orders_db [shape=cylinder]; postgres [shape=cylinder]"
        arch = _arch(f"digraph g {{ {body}; u -> {app}; {stores}; }}")
        assert {op.resource for op in arch.behaviour.operations_of(app)} == {resource}, body
    # two framework-named apps behind one gateway keep their ids' names: no route clash
    arch = _arch(
        'digraph g { u -> gw; gw [kind=gateway]; gw -> django [label="routes to"]; '
        'gw -> flask [label="routes to"]; django -> d1; flask -> d2; d1 [shape=cylinder]; '
        "d2 [shape=cylinder]; }"
    )
    assert {op.resource for op in arch.behaviour.operations_of("flask")} == {"flask"}


def test_an_ml_stack_keeps_its_model_registry_as_a_store() -> None:
    # before: "MLflow model registry" was a service registry: the model server and the trainer
    # registered with it and sent heartbeats; "gRPC Predict" was a free-label warning
    result = load(SHAPES / "ml-inference.dot")
    arch = result.architecture
    assert arch.component("registry").kind is Kind.DATABASE
    assert not arch.behaviour.lifecycles
    links = {(lk.source, lk.target): lk.relation for lk in arch.links}
    assert links[("trainer", "registry")] is Relation.STORES_IN
    said = [d for d in result.diagnostics if "gRPC Predict" in d.message]
    assert [d.code for d in said] == ["protocol-label"]
    assert _arch("digraph g { a -> r; r [label=Eureka]; }").component("r").kind is Kind.REGISTRY


def test_a_strangler_fig_proxy_splits_the_monolith_and_the_new_services() -> None:
    arch = load(SHAPES / "strangler-fig.dot").architecture
    reached = {e.target.component for e in arch.behaviour.entries}
    assert reached == {"monolith", "orders", "payments"}
    # "Legacy monolith (Java EE)" over "Oracle DB" names no domain: items, not /monoliths
    # (and the route the new orders service calls it by, rule service.route: customers)
    assert {op.resource for op in arch.behaviour.operations_of("monolith")} == {"item", "customer"}
