"""Drawings in styles the seed does not have: arrows drawn the way events flow (broker ->
consumer), ids that say nothing (``api``, ``b``) beside labels that do, and verbs on edges. Each
is read by a written rule (docs/behaviour.md) and said so; what cannot be read is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from archsim.errors import InvalidModelError
from archsim.model import Relation, load
from archsim.model.loader import read_architecture
from archsim.model.naming import resource_of

IOT = Path(__file__).resolve().parent / "model_shapes" / "iot-telemetry.dot"


def _links(arch) -> set[tuple[str, str, Relation]]:
    return {(lk.source, lk.target, lk.relation) for lk in arch.links}


def test_an_arrow_from_a_broker_to_a_service_is_a_subscription() -> None:
    result = read_architecture(
        """digraph flow {
          api [label="Orders API"]; kafka [label="Kafka"]; worker [label="Shipping worker"];
          db [shape=cylinder];
          api -> db; api -> kafka [label="OrderPlaced"]; kafka -> worker;
        }"""
    )
    arch = result.architecture
    assert ("worker", "kafka", Relation.SUBSCRIBES_TO) in _links(arch)
    assert arch.component("kafka").kind.value == "broker"
    assert arch.component("worker").kind.value == "service"
    handler = [op for op in arch.behaviour.operations_of("worker") if op.kind.value == "consume"]
    assert [op.triggers for op in handler] == [("OrderPlaced",)]
    said = [d for d in result.diagnostics if d.code == "flow-arrow"]
    assert len(said) == 1 and "worker subscribes to kafka" in said[0].message
    assert said[0].location.line == 4


def test_a_flow_arrow_names_its_event_and_a_subscribe_label_turns_too() -> None:
    arch = load(IOT).architecture
    links = _links(arch)
    assert ("ingest", "mqtt", Relation.SUBSCRIBES_TO) in links  # mqtt -> ingest [subscribe]
    assert ("alerts", "mqtt", Relation.SUBSCRIBES_TO) in links  # drawn the usual way
    assert arch.component("ingest").kind.value == "service"  # not a second broker
    assert ("alerts", "mail", Relation.SENDS_VIA) in links  # "send email"
    one_event = read_architecture(
        """digraph g { a; bus [kind=broker]; b;
          a -> bus [relation="publishes to", event=Paid]; bus -> b [label="Paid"]; }"""
    ).architecture
    consume = next(op for op in one_event.behaviour.operations_of("b") if op.triggers)
    assert consume.triggers == ("Paid",)


def test_an_arrow_from_a_broker_to_a_database_is_not_turned() -> None:
    result = read_architecture(
        'digraph g { a; kafka; es [label="Elasticsearch", shape=cylinder]; '
        "a -> kafka; kafka -> es; }"
    )
    assert "flow-arrow" not in {d.code for d in result.diagnostics}
    assert ("kafka", "es", Relation.STORES_IN) in _links(result.architecture)


@pytest.mark.parametrize(
    ("component_id", "label", "resource"),
    [
        ("api", "Orders API", "order"),
        ("b", "Payment Service", "payment"),
        ("svc2", "Inventory (Go)", "inventory"),
        ("s1", "<<b>Catalog</b><br/>:8080>", "catalog"),
        ("order_service", "Billing", "order"),  # an id that names a resource keeps it
        ("api", "API", "api"),  # a label that says nothing either
    ],
)
def test_an_id_that_says_nothing_takes_the_resource_from_its_label(
    component_id: str, label: str, resource: str
) -> None:
    assert resource_of(component_id, label) == resource


def test_generic_ids_get_paths_from_their_labels() -> None:
    arch = read_architecture(
        'digraph g { gw [kind=gateway]; a [label="Order Service"]; b [label="Payment Service"];'
        ' gw -> a [relation="routes to"]; a -> b; }'
    ).architecture
    paths = {op.path for op in arch.behaviour.operations_of("a")}
    assert paths == {"/orders"}  # no database: one action, named after the label
    assert any(op.path == "/payments" for op in arch.behaviour.operations_of("b"))


def test_two_services_serving_one_resource_behind_one_gateway_is_an_error() -> None:
    with pytest.raises(InvalidModelError) as caught:
        read_architecture(
            'digraph g { gw [kind=gateway]; a [label="Order Service"]; order_service;'
            ' gw -> a [relation="routes to"]; gw -> order_service [relation="routes to"]; }'
        )
    (clash,) = [d for d in caught.value.diagnostics if d.code == "route-clash"]
    assert "'a'" in clash.message and "'order_service'" in clash.message
    assert clash.hint is not None and "resource=" in clash.hint


def test_two_copies_behind_a_load_balancer_are_told_to_become_replicas() -> None:
    # an undirected file in the classic style: two numbered app servers behind HAProxy
    text = (
        'graph wp { lb [label="HAProxy"]; wp1 [label="WordPress 1"]; wp2 [label="WordPress 2"];'
        ' db [shape=cylinder, label="MySQL"]; lb -- wp1; lb -- wp2; wp1 -- db; wp2 -- db; }'
    )
    with pytest.raises(InvalidModelError) as caught:
        read_architecture(text)
    (clash,) = [d for d in caught.value.diagnostics if d.code == "route-clash"]
    assert clash.hint is not None and "replicas=2" in clash.hint
    # the fix the hint names loads: one node with two replicas behind the balancer
    fixed = read_architecture(
        'graph wp { lb [label="HAProxy"]; wp1 [label="WordPress", replicas=2];'
        ' db [shape=cylinder, label="MySQL"]; lb -- wp1; wp1 -- db; }'
    ).architecture
    assert fixed.by_id["wp1"].replicas == 2
    assert {e.method for e in fixed.behaviour.entries} >= {"GET", "POST"}


def test_a_producer_nothing_calls_is_a_side_door_for_its_publishing_requests() -> None:
    arch = load(IOT).architecture
    doors = {e.hops[0] if e.hops else e.target.component for e in arch.behaviour.entries}
    assert doors == {"ui", "sensors"}
    (produce,) = [e for e in arch.behaviour.entries if e.target.component == "sensors"]
    assert produce.method == "POST" and produce.weight == pytest.approx(0.05)
    assert "producer" in produce.reason
    assert sum(e.weight for e in arch.behaviour.entries) == pytest.approx(1.0)
    # a service that also subscribes is a consumer, not a producer: no door of its own
    assert "ingest" not in doors and "alerts" not in doors


def test_a_producer_is_no_side_door_when_it_is_the_only_door() -> None:
    arch = read_architecture(
        'digraph g { job [label="Nightly job"]; bus [kind=broker]; w; db [shape=cylinder];'
        ' job -> bus [relation="publishes to"]; w -> bus [relation="subscribes to"];'
        " w -> db; }"
    ).architecture
    entries = arch.behaviour.entries
    assert {e.target.component for e in entries} == {"job", "w"}  # rule d: both, equally
    assert all("producer" not in e.reason for e in entries)


C4 = Path(__file__).resolve().parent / "model_shapes" / "c4-banking.dot"


def test_a_c4_container_diagram_reads_its_descriptions() -> None:
    result = load(C4)
    arch = result.architecture
    links = _links(arch)
    assert ("apiapp", "db", Relation.STORES_IN) in links  # "Reads from and writes to\n[JDBC]"
    assert ("apiapp", "email", Relation.SENDS_VIA) in links  # "Sends e-mail using\n[SMTP]"
    assert ("spa", "apiapp", Relation.CALLS) in links  # "Makes API calls to\n[JSON/HTTPS]"
    assert {d.code for d in result.diagnostics} >= {"to-person"}
    assert not [d for d in result.diagnostics if d.severity.value == "warning"]


def test_what_a_system_sends_back_to_a_person_is_left_out() -> None:
    arch = load(C4).architecture
    assert arch.component("customer").kind.value == "client"
    assert not [lk for lk in arch.links if lk.target == "customer"]
    doors = {e.hops[0] for e in arch.behaviour.entries}
    assert doors == {"spa", "mobile"}  # apps a person uses forward to the API application
    assert {arch.component(d).kind.value for d in doors} == {"gateway"}


def test_a_service_named_user_that_keeps_data_is_no_person() -> None:
    arch = read_architecture(
        'digraph g { front [label="Front End"]; user; user_db [shape=cylinder];'
        ' front -> user [label="calls"]; user -> user_db; }'
    ).architecture
    assert ("front", "user", Relation.CALLS) in _links(arch)
    assert arch.component("user").kind.value == "service"


@pytest.mark.parametrize(
    ("label", "relation"),
    [
        ("Makes API calls to\\n[JSON/HTTPS]", Relation.CALLS),
        ("Reads from and writes to\\n[JDBC]", Relation.STORES_IN),
        ("Sends e-mails to", Relation.SENDS_VIA),
        ("send email", Relation.SENDS_VIA),
    ],
)
def test_descriptions_name_their_relation(label: str, relation: Relation) -> None:
    from archsim.model.relation_words import misspells_relation, normalise_relation

    assert normalise_relation(label) is relation
    assert misspells_relation("subscibes to") == "subscribes to"  # a typo is still one


RIDES = Path(__file__).resolve().parent / "model_shapes" / "ride-hailing.dot"


def test_nodes_drawn_only_through_edges_are_components_and_a_typo_is_still_an_error() -> None:
    result = load(RIDES)
    arch = result.architecture
    assert {"Dispatch Service", "Surge Model", "Rider App"} <= {c.id for c in arch.components}
    implicit = [d for d in result.diagnostics if d.code == "undeclared"]
    assert implicit and all(d.severity.value == "info" for d in implicit)
    assert ("Dispatch Service", "Event Bus", Relation.SUBSCRIBES_TO) in _links(arch)
    assert arch.component("Push Notifications").kind.value == "external"  # "FCM / APNs"
    with pytest.raises(InvalidModelError) as caught:
        read_architecture(
            'digraph g { user_service [label="Users"]; user_db [label="DB"]; other [label="x"];'
            ' user_servce -> user_db [label="stores in"]; }'
        )
    assert [d.code for d in caught.value.diagnostics] == ["undeclared"]
