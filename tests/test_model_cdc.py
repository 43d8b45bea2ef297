"""Rule events.cdc's captures: found from the databases' links, reported in file order."""

from __future__ import annotations

from archsim.model import read_architecture
from archsim.model.cdc import captures, connectors

# Databases declared in the reverse of the order their captures are drawn in; a link between
# two databases (in both one's links and the other's); a connector drawn reading its database.
_TEXT = """digraph g {
  zdb [shape=cylinder]; ydb [shape=cylinder]; xdb [shape=cylinder];
  a -> xdb [label="stores in"]; b -> ydb [label="stores in"]; c -> zdb [label="stores in"];
  xdb -> ydb [label="replicates to"];
  xdb -> debezium; debezium -> kafka [label="publishes to"];
  debezium -> nats [label="publishes to", event=XChanged];
  ydb -> rabbit [label=CDC];
  wal_reader -> zdb [label="reads WAL"]; wal_reader -> kafka [label="publishes to"];
  w -> kafka [label="subscribes to"]; v -> nats [label="subscribes to"];
  u -> rabbit [label="subscribes to"];
  w -> wdb [label="stores in"]; wdb [shape=cylinder];
  kafka [kind=broker]; nats [kind=broker]; rabbit [kind=broker];
}"""


def test_captures_come_in_the_order_of_the_links_that_start_them() -> None:
    arch = read_architecture(_TEXT, "cdc.dot").architecture
    found = [(c.database, c.connector, c.publish.target, c.events) for c in captures(arch)]
    assert found == [
        ("xdb", "debezium", "kafka", ("XdbChanged",)),
        ("xdb", "debezium", "nats", ("XChanged",)),
        ("ydb", None, "rabbit", ("YdbChanged",)),
        ("zdb", "wal_reader", "kafka", ("ZdbChanged",)),
    ]
    assert connectors(arch) == {"debezium", "wal_reader"}
    # each capture's writers publish the change: a's write reaches kafka and nats
    (write,) = [op for op in arch.behaviour.operations_of("a") if op.kind.value == "write"]
    assert [(s.target, s.event) for s in write.steps if s.event] == [
        ("kafka", "XdbChanged"),
        ("nats", "XChanged"),
    ]


def test_a_file_without_databases_has_no_captures() -> None:
    arch = read_architecture("digraph g { a -> b; b -> q [label=publishes]; }").architecture
    assert captures(arch) == []
