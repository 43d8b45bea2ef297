"""Labels that say what is done with the data (docs/behaviour.md, "Labels"): ``read``,
``upsert``, ``append events`` agree with the store or log they point at, so they are read by
its kind without a warning; and an event store is the log its projections subscribe to."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_queries import relation

from archsim.model import Relation, load, read_architecture

SHAPES = Path(__file__).parent / "model_shapes"


def _codes(text: str) -> dict[str, str]:
    """Each diagnostic's code by the edge its message starts with or names."""
    result = read_architecture(text, "data.dot")
    return {d.code: d.message for d in result.diagnostics}


@pytest.mark.parametrize(
    "label", ["read", "reads", "upsert", "SELECT", "update order status", "Lookup user", "search"]
)
def test_a_verb_of_data_to_a_database_is_read_by_its_kind_without_a_warning(label: str) -> None:
    text = f'digraph g {{ api -> db [label="{label}"]; db [shape=cylinder]; }}'
    codes = _codes(text)
    assert "free-label" not in codes and "data-label" in codes
    assert relation(read_architecture(text).architecture, "api", "db") is Relation.STORES_IN


def test_other_free_text_to_a_database_still_warns() -> None:
    # a phrase that is no verb of data may be a relation misread: the warning stays
    codes = _codes('digraph g { api -> db [label="nightly sync"]; db [shape=cylinder]; }')
    assert "free-label" in codes and "data-label" not in codes


def test_a_verb_of_data_to_a_service_is_no_data_label() -> None:
    codes = _codes('digraph g { web [kind=client]; web -> api [label="read"]; }')
    assert "data-label" not in codes


def test_the_corpus_warns_less_and_reads_the_same() -> None:
    # real drawings of the repository's corpus with such labels: same links, fewer warnings
    for name, source, target in [
        ("cqrs-event-sourcing", "proj", "readdb"),
        ("rag-chatbot", "embedder", "vectordb"),
        ("ride-hailing", "Trip Service", "Trips DB"),
    ]:
        result = load(SHAPES / f"{name}.dot")
        assert relation(result.architecture, source, target) is Relation.STORES_IN
        edge = f"{source} -> {target}"
        assert not [d for d in result.diagnostics if d.code == "free-label" and edge in d.message]
        assert [d for d in result.diagnostics if d.code == "data-label" and edge in d.message]


BANK = """digraph bank {
  client [label="Mobile Banking App"];
  cmdapi [label="Command API"]; handler [label="Account Command Handler"];
  es [label="EventStoreDB", shape=cylinder];
  proj [label="Balance Projection"]; readdb [label="Read Model (MongoDB)", shape=cylinder];
  qapi [label="Query API"]; fraud [label="Fraud Detection Service"];
  client -> cmdapi [label="POST /transfers"]; client -> qapi [label="GET /balances"];
  cmdapi -> handler; handler -> es [label="append events"];
  es -> proj [label="subscribe"]; es -> fraud [label="subscribe"];
  proj -> readdb [label="upsert"]; qapi -> readdb [label="read"];
}
"""


def test_an_event_store_is_the_log_its_projections_subscribe_to() -> None:
    result = read_architecture(BANK, "bank.dot")
    arch = result.architecture
    assert arch.by_id["es"].kind.value == "broker"
    assert relation(arch, "handler", "es") is Relation.PUBLISHES_TO
    assert relation(arch, "proj", "es") is Relation.SUBSCRIBES_TO
    assert relation(arch, "fraud", "es") is Relation.SUBSCRIBES_TO
    # the projection does its work: what it consumes is written to the read model
    assert arch.by_id["proj"].kind.value == "service"
    consumed = [op for op in arch.behaviour.operations_of("proj") if op.kind.value == "consume"]
    assert consumed and any(s.target == "readdb" for op in consumed for s in op.steps)
    assert not [d for d in result.diagnostics if d.code in ("free-label", "unused-link")
                and "append events" in d.message]  # fmt: skip


SERVERLESS = """digraph todo {
  User [shape=oval]; APIGW [label="Amazon API Gateway"]; Authorizer [label="Cognito User Pool"];
  CreateTodo [label="createTodo Lambda"]; Todos [label="DynamoDB todos table", shape=cylinder];
  Stream [label="DynamoDB Streams"]; Notifier [label="notify Lambda"]; SES [label="Amazon SES"];
  User -> APIGW [label="REST /todos"]; APIGW -> Authorizer [label="authorize JWT"];
  APIGW -> CreateTodo [label="POST /todos"]; CreateTodo -> Todos [label="PutItem"];
  Todos -> Stream [label="change stream"]; Stream -> Notifier [label="trigger"];
  Notifier -> SES [label="SendEmail"];
}
"""


def test_a_serverless_drawing_reads_without_a_warning() -> None:
    # a transport with a route, a verb asked of auth, an API call's name: each agrees with
    # the relation its target's kind gives; DynamoDB Streams is the stream its trigger reads
    result = read_architecture(SERVERLESS, "todo.dot")
    assert [d.code for d in result.diagnostics if d.severity.value == "warning"] == []
    arch = result.architecture
    assert arch.by_id["Stream"].kind.value == "broker"
    assert relation(arch, "Notifier", "Stream") is Relation.SUBSCRIBES_TO
    assert relation(arch, "APIGW", "Authorizer") is Relation.VALIDATES_WITH
    codes = {d.code for d in result.diagnostics}
    assert {"protocol-label", "data-label"} <= codes


def test_a_database_copied_to_another_is_info_not_an_unused_link() -> None:
    text = (
        'digraph g { web [kind=client]; web -> app; app -> primary [label="writes"];'
        " primary [shape=cylinder]; replica [shape=cylinder];"
        ' primary -> replica [label="async replication"]; }'
    )
    result = read_architecture(text)
    codes = {d.code for d in result.diagnostics if "replica" in d.message}
    assert codes == {"protocol-label", "store-to-store"}


FEDERATION = """digraph federation {
  web [label="Web Client"]; router [label="Apollo Router"];
  users [label="Users Subgraph"]; products [label="Products Subgraph"];
  usersdb [shape=cylinder]; productsdb [shape=cylinder];
  web -> router [label="GraphQL"];
  router -> users [label="subgraph fetch"]; router -> products [label="subgraph fetch"];
  users -> usersdb; products -> productsdb;
}
"""


def test_a_graphql_router_is_a_gateway_over_its_subgraphs() -> None:
    # before, "Apollo Router" was a service with one action calling every subgraph
    result = read_architecture(FEDERATION, "federation.dot")
    arch = result.architecture
    assert arch.by_id["router"].kind.value == "gateway"
    reached = {e.target.component for e in arch.behaviour.entries}
    assert reached == {"users", "products"}
    assert not [d for d in result.diagnostics if d.code == "free-label"]


@pytest.mark.parametrize("label", ["HSET/HGET", "ZADD / ZRANGE", "GET/SET", "INCR + EXPIRE"])
def test_redis_commands_on_an_edge_are_a_protocol_label(label: str) -> None:
    edge = f'cart -> r [label="{label}"]'
    text = f"digraph g {{ web [kind=client]; web -> cart; {edge}; r [kind=cache]; }}"
    codes = {d.code for d in read_architecture(text).diagnostics if "cart -> r" in d.message}
    assert codes == {"protocol-label"}


def test_what_users_do_on_a_traffic_sources_edge_is_no_warning() -> None:
    # C4's descriptions on a person's edges: whatever they say, the person sends requests
    text = (
        'digraph g { customer [label="Banking Customer\\n[Person]"]; api; api -> db;'
        ' db [shape=cylinder]; customer -> api [label="Views balances and makes payments using"]; }'
    )
    result = read_architecture(text)
    (said,) = [d for d in result.diagnostics if "customer -> api" in d.message]
    assert said.code == "request-label" and said.severity.value == "info"
    assert relation(result.architecture, "customer", "api") is Relation.CALLS
