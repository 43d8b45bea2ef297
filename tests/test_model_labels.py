"""Edges labelled the way people label them: protocols (``REST``, ``JDBC``), other words for a
relation (``consumes``, ``cache``, ``read/write``), free text (an event name), ``type=`` as the
kind, product names (Zuul, Keycloak). Each is read by a written rule and said so; a typo of a
relation stays an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from archsim.errors import InvalidModelError
from archsim.model import Kind, Relation, load
from archsim.model.loader import read_architecture
from archsim.model.naming import plural, singular

HERE = Path(__file__).resolve().parent
LABELS = HERE / "model_shapes" / "protocol-labels.dot"


def _relation(arch, source: str, target: str) -> Relation:
    pair = (source, target)
    return next(link.relation for link in arch.links if (link.source, link.target) == pair)


def test_protocols_and_other_words_are_read_by_rule() -> None:
    result = load(LABELS)
    arch = result.architecture
    assert _relation(arch, "zuul", "movies") is Relation.CALLS  # REST: by the target's kind
    assert _relation(arch, "recommendations", "reviews") is Relation.CALLS  # gRPC
    assert _relation(arch, "movies", "moviedb") is Relation.STORES_IN  # JDBC: a database
    assert _relation(arch, "movies", "redis") is Relation.CACHES_IN  # "cache"
    assert _relation(arch, "users", "userdb") is Relation.STORES_IN  # "read/write"
    assert _relation(arch, "recommendations", "kafka") is Relation.SUBSCRIBES_TO  # "consumes"
    assert _relation(arch, "movies", "eureka") is Relation.REGISTERS_WITH  # "register"
    assert _relation(arch, "movies", "configsrv") is Relation.READS_FROM  # "config"
    link = next(lk for lk in arch.links if (lk.source, lk.target) == ("zuul", "movies"))
    assert link.label == "REST"  # the label stays for the drawing
    codes = {d.code for d in result.diagnostics}
    assert "protocol-label" in codes and "unknown-relation" not in codes


def test_an_event_name_on_a_publish_edge_is_the_event_it_carries() -> None:
    result = load(LABELS)
    arch = result.architecture
    link = next(lk for lk in arch.links if (lk.source, lk.target) == ("reviews", "kafka"))
    assert link.relation is Relation.PUBLISHES_TO and link.events == ("ReviewPosted",)
    # a past-tense event name says what the edge carries, as a protocol says how: info, not a
    # free-label warning (it was one before: nothing in it can be misread)
    said = next(d for d in result.diagnostics if "ReviewPosted" in d.message)
    assert said.code == "event-label" and said.severity.value == "info"
    assert 'relation="publishes to"' in (said.hint or "")
    flows = {flow.event: flow for flow in arch.behaviour.events}
    assert "ReviewPosted" in flows
    consumers = {ref.component for ref in flows["ReviewPosted"].consumers}
    assert consumers == {"recommendations"}


def test_product_names_and_a_gateway_that_calls() -> None:
    arch = load(LABELS).architecture
    assert arch.component("zuul").kind is Kind.GATEWAY  # "Zuul Edge Server"
    assert arch.component("eureka").kind is Kind.REGISTRY
    paths = {entry.path for entry in arch.behaviour.entries}
    assert "/api/movies/{id}" in paths and all(e.hops[0] == "zuul" for e in arch.behaviour.entries)
    ops = {op.name for op in arch.behaviour.operations_of("movies")}
    assert "get_movie" in ops  # movies → movie, not "movy"


@pytest.mark.parametrize(
    ("label", "relation"),
    [("HTTPS", Relation.CALLS), ("Kafka", Relation.PUBLISHES_TO), ("SQL", Relation.STORES_IN)],
)
def test_a_protocol_label_is_read_by_the_target(label: str, relation: Relation) -> None:
    target = {Relation.CALLS: "b", Relation.PUBLISHES_TO: "bus [shape=parallelogram, kind=broker]",
              Relation.STORES_IN: "b_db [shape=cylinder]"}[relation]  # fmt: skip
    name = target.split()[0]
    edge = f'a -> {name} [label="{label}"]'
    text = f'digraph g {{ a -> a_db [label="stores in"]; {target}; {edge}; }}'
    assert _relation(read_architecture(text).architecture, "a", name) is relation


def test_a_typo_of_a_relation_or_an_unknown_relation_attribute_is_an_error() -> None:
    with pytest.raises(InvalidModelError, match="did you mean 'subscribes to'"):
        read_architecture('digraph g { a; bus [kind=broker]; a -> bus [label="subscibes to"]; }')
    with pytest.raises(InvalidModelError, match="unknown relation 'talks'"):
        read_architecture('digraph g { a; b; a -> b [relation="talks"]; }')


def test_a_camel_case_name_is_a_name_not_a_typo() -> None:
    # SQS's API name is close to "sends messages", but a CamelCase word is a name: read by the
    # target's kind (a queue is a broker), and on a publish edge it is the event carried
    text = 'digraph g { a -> db; queue [label="SQS queue"]; a -> queue [label="SendMessage"]; }'
    result = read_architecture(text)
    assert _relation(result.architecture, "a", "queue") is Relation.PUBLISHES_TO
    (said,) = [d for d in result.diagnostics if "SendMessage" in d.message]
    assert said.code == "free-label" and "carrying the event 'SendMessage'" in said.message
    # a verb first (an API's name) or a noun stays a warning; a past tense is the event's name
    for label, code in (("Notification", "free-label"), ("NotificationSent", "event-label"),
                        ("order.created", "event-label"), ("NewsFeed", "free-label"),
                        ("AccountOpened, MoneyDeposited", "event-label")):  # fmt: skip
        text = f'digraph g {{ a -> db; queue [kind=broker]; a -> queue [label="{label}"]; }}'
        codes = {d.code for d in read_architecture(text).diagnostics}
        assert code in codes and {"free-label", "event-label"} - {code} & codes == set(), label
    with pytest.raises(InvalidModelError, match="did you mean 'publishes to'"):
        read_architecture(
            'digraph g { a -> db; queue [kind=broker]; a -> queue [label="send mesages"]; }'
        )


def test_a_delivery_word_on_a_flow_arrow_takes_every_event() -> None:
    text = (
        'digraph g { gw -> a [label="routes to"]; a -> db; q [kind=broker]; '
        'a -> q [label="OrderPlaced"]; q -> worker [label="trigger"]; worker -> db; }'
    )
    arch = read_architecture(text).architecture
    handlers = [op for op in arch.behaviour.operations_of("worker") if op.triggers]
    assert [op.triggers for op in handlers] == [("OrderPlaced",)]


def test_type_names_a_kind_or_a_layer() -> None:
    text = (
        "digraph g { api [type=application]; q [type=broker]; pay [type=external]; "
        'x [type=gizmo]; api -> q [label="publishes to"]; api -> pay; api -> x; }'
    )
    result = read_architecture(text)
    arch = result.architecture
    assert arch.component("q").kind is Kind.BROKER
    assert arch.component("pay").kind is Kind.EXTERNAL
    warned = [d for d in result.diagnostics if d.code == "unknown-type"]
    assert [d.message.split("'")[3] for d in warned] == ["x"]


def test_plurals_of_words_ending_in_ie() -> None:
    assert [singular(w) for w in ("movies", "cookies", "parties", "categories")] == [
        "movie", "cookie", "party", "category"
    ]  # fmt: skip
    assert plural("movie") == "movies"


@pytest.mark.parametrize(
    ("label", "events"),
    [
        ("AccountOpened, MoneyDeposited", ("AccountOpened", "MoneyDeposited")),
        ("order.placed / order.paid", ("order.placed", "order.paid")),
        ("OrderPlaced and OrderPaid", ("OrderPlaced", "OrderPaid")),
        ("OrderPlaced", ("OrderPlaced",)),
        ("read and write", ()),  # words, not names of events
    ],
)
def test_a_label_listing_events_carries_each(label: str, events: tuple[str, ...]) -> None:
    from archsim.model.kinds import events_named

    assert events_named(label) == events


def test_events_listed_on_publish_and_flow_edges_reach_their_consumers() -> None:
    result = load(HERE / "model_shapes" / "cqrs-event-sourcing.dot")
    flows = {(f.event, f.broker): f for f in result.architecture.behaviour.events}
    assert set(flows) == {("AccountOpened", "es"), ("MoneyDeposited", "es")}
    fraud = [str(c) for c in flows[("MoneyDeposited", "es")].consumers]
    assert any(c.startswith("fraud.") for c in fraud)  # its arrow named only MoneyDeposited
    assert not any(str(c).startswith("fraud.") for c in flows[("AccountOpened", "es")].consumers)


@pytest.mark.parametrize("verb", ["produce", "emit", "enqueue"])
def test_verbs_of_publishing_are_publishes_to(verb: str) -> None:
    text = f'digraph g {{ a -> db; kafka; a -> kafka [label="{verb}"]; }}'
    assert _relation(read_architecture(text).architecture, "a", "kafka") is Relation.PUBLISHES_TO


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("Key Vault", Kind.CONFIG),
        ("AWS Secrets Manager", Kind.CONFIG),
        ("Application Insights", Kind.EXTERNAL),
        ("Blob Storage", Kind.DATABASE),
        ("S3 bucket", Kind.DATABASE),
    ],
)
def test_cloud_products_have_the_kind_they_are(label: str, kind: Kind) -> None:
    text = f'digraph g {{ gw -> app [label="routes to"]; app -> x; x [label="{label}"]; }}'
    assert read_architecture(text).architecture.component("x").kind is kind


@pytest.mark.parametrize("label", ["proxy_pass", "upstream", "reverse proxy"])
def test_how_a_proxy_hands_a_request_on_is_a_protocol_label(label: str) -> None:
    # nginx's directive on its edge to the app: the balancer distributes, with no warning
    text = f'digraph g {{ nginx -> app [label="{label}"]; app -> app_db [label="stores in"]; }}'
    result = read_architecture(text)
    assert _relation(result.architecture, "nginx", "app") is Relation.DISTRIBUTES_TO
    codes = {d.code for d in result.diagnostics if "nginx -> app" in d.message}
    assert codes == {"protocol-label"}
