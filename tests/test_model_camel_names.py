"""CamelCase ids and labels (``OrderDB``, ``EVCache``, ``APIGateway``) read by their words, and
a front end drawn into a gateway read as a traffic source (docs/behaviour.md, "Kinds").

Found by drawing architectures nobody on the team drew: ids such as ``OrderDB`` and
``EventBus`` read as services, so every edge to them was a ``calls``.
"""

from __future__ import annotations

import pytest

from archsim.model import Architecture, Kind, Relation, read_architecture
from archsim.model.kinds import kind_from_names, name_words


def _arch(text: str) -> Architecture:
    return read_architecture(text, "camel.dot").architecture


def _kinds(arch: Architecture) -> dict[str, Kind]:
    return {c.id: c.kind for c in arch.components}


def _relation(arch: Architecture, source: str, target: str) -> Relation:
    (link,) = [lk for lk in arch.links if (lk.source, lk.target) == (source, target)]
    return link.relation


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("OrderDB", Kind.DATABASE),
        ("UserCache", Kind.CACHE),
        ("EVCache", Kind.CACHE),
        ("EventBus", Kind.BROKER),
        ("PaymentQueue", Kind.BROKER),
        ("OrdersTopic", Kind.BROKER),
        ("AuthSvc", Kind.AUTH),
        ("APIGateway", Kind.GATEWAY),
        ("S3Bucket", Kind.DATABASE),
        ("LoadBalancer", Kind.LOAD_BALANCER),
        ("ConfigServer", Kind.CONFIG),
        ("ServiceRegistry", Kind.REGISTRY),
        ("OrderService", Kind.SERVICE),
        ("BillingWorker", Kind.SERVICE),
    ],
)
def test_a_camel_case_name_is_read_by_its_words(name: str, kind: Kind) -> None:
    assert kind_from_names(name, None, None)[0] is kind


@pytest.mark.parametrize(
    ("name", "kind", "key"),
    [
        ("RabbitMQ", Kind.BROKER, "rabbitmq"),
        ("MongoDB", Kind.DATABASE, "mongodb"),
        ("PostgreSQL", Kind.DATABASE, "postgresql"),
        ("DynamoDB", Kind.DATABASE, "dynamodb"),
        ("ElastiCache", Kind.CACHE, "elasticache"),
        ("MySQL", Kind.DATABASE, "mysql"),
        ("OAuth", Kind.AUTH, "oauth"),
        ("NATS", Kind.BROKER, "nats"),
        ("EventBridge", Kind.BROKER, "eventbridge"),
    ],
)
def test_a_product_name_keeps_its_meaning_and_is_the_reason(
    name: str, kind: Kind, key: str
) -> None:
    assert kind_from_names(name, None, None) == (kind, f"name contains '{key}'")


@pytest.mark.parametrize("name", ["GraphQL", "PgBouncer", "iOS", "macOS"])
def test_a_product_name_no_rule_knows_says_nothing_when_split(name: str) -> None:
    # split, its parts are no rule's words either: still a service, as before
    assert kind_from_names(name, None, None)[0] is Kind.SERVICE


def test_acronyms_end_before_the_next_word() -> None:
    assert name_words("EVCache APIGateway S3Bucket Route53") == [
        "ev", "cache", "api", "gateway", "s3", "bucket", "route53",
    ]  # fmt: skip


def test_camel_case_ids_give_the_relations_of_their_kinds() -> None:
    arch = _arch("""
        digraph c {
          Web -> OrderService;
          OrderService -> OrderDB;
          OrderService -> UserCache;
          OrderService -> EventBus;
        }
    """)
    kinds = _kinds(arch)
    assert (kinds["OrderDB"], kinds["UserCache"], kinds["EventBus"]) == (
        Kind.DATABASE, Kind.CACHE, Kind.BROKER,
    )  # fmt: skip
    assert _relation(arch, "OrderService", "OrderDB") is Relation.STORES_IN
    assert _relation(arch, "OrderService", "UserCache") is Relation.CACHES_IN
    assert _relation(arch, "OrderService", "EventBus") is Relation.PUBLISHES_TO
    # the order service reads through its cache and publishes what it writes, as if spelt out
    entries = {e.id for e in arch.behaviour.entries}
    assert {"GET /orders/{id}", "GET /orders", "POST /orders"} <= entries
    assert any(f.broker == "EventBus" for f in arch.behaviour.events)


def test_an_unlabelled_arrow_from_a_worker_into_a_camel_case_bus_publishes() -> None:
    # the rule for unlabelled edges into a broker: a publish (a label starting with a word of
    # taking, "fetch jobs", would make it a subscription); so the worker is a producer
    arch = _arch("digraph c { Web -> OrderService; BillingWorker -> EventBus; }")
    assert _kinds(arch)["EventBus"] is Kind.BROKER
    assert _relation(arch, "BillingWorker", "EventBus") is Relation.PUBLISHES_TO
    assert _kinds(arch)["BillingWorker"] is Kind.SERVICE
    taking = _arch(
        'digraph c { Web -> BillingWorker; BillingWorker -> EventBus [label="fetch jobs"]; }'
    )
    assert _relation(taking, "BillingWorker", "EventBus") is Relation.SUBSCRIBES_TO


NETFLIX_EDGE = """
    digraph G {
      "Mobile App" -> "Zuul Edge" [label="HTTPS"];
      "Web UI" -> "Zuul Edge" [label="HTTPS"];
      "Zuul Edge" -> "API Service" [label="routes"];
      "API Service" -> "Recommendations" [label="gRPC"];
      "Recommendations" -> "EVCache" [label="reads"];
      "Recommendations" -> "Cassandra" [label="reads"];
      "Cassandra" [shape=cylinder];
      "EVCache" [shape=box3d];
    }
"""


def test_a_front_end_that_calls_only_the_gateway_is_a_traffic_source() -> None:
    arch = _arch(NETFLIX_EDGE)
    kinds = _kinds(arch)
    assert kinds["Web UI"] is Kind.CLIENT and kinds["Mobile App"] is Kind.CLIENT
    assert kinds["Zuul Edge"] is Kind.GATEWAY
    web = next(c for c in arch.components if c.id == "Web UI")
    assert "Zuul Edge" in web.kind_reason
    # both sources send to the Zuul edge; the Web UI forwards nothing, so it has no operations
    assert all(e.hops[0] == "Zuul Edge" for e in arch.behaviour.entries)
    assert not [o for o in arch.behaviour.operations if o.component == "Web UI"]
    # Netflix's EVCache is a cache: 'reads' on the edge to it is read by its kind
    assert kinds["EVCache"] is Kind.CACHE
    assert _relation(arch, "Recommendations", "EVCache") is Relation.CACHES_IN


def test_a_front_end_that_calls_a_service_still_forwards_to_it() -> None:
    # beside a gateway, a service among the targets keeps the Web UI the front door of it
    arch = _arch("""
        digraph G {
          "Web UI" -> "API Gateway";
          "Web UI" -> search;
          "API Gateway" -> orders [label="routes to"];
        }
    """)
    assert _kinds(arch)["Web UI"] is Kind.GATEWAY


@pytest.mark.parametrize("front", ["CDN", "CloudFront", "Azure Front Door", "Web BFF"])
def test_a_cdn_or_bff_in_front_of_a_gateway_still_forwards(front: str) -> None:
    arch = _arch(f"""
        digraph G {{
          "{front}" -> "API Gateway";
          "API Gateway" -> orders [label="routes to"];
        }}
    """)
    assert _kinds(arch)[front] is Kind.GATEWAY


def test_a_front_end_something_links_to_is_no_traffic_source() -> None:
    arch = _arch("""
        digraph G {
          Browser -> "Web UI";
          "Web UI" -> "API Gateway";
          "API Gateway" -> orders [label="routes to"];
        }
    """)
    kinds = _kinds(arch)
    assert kinds["Browser"] is Kind.CLIENT and kinds["Web UI"] is not Kind.CLIENT
