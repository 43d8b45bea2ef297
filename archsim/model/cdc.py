"""Change data capture: a database whose changes a connector publishes to a broker.

Rule events.cdc (docs/behaviour.md, "Events"): a database drawn into a broker, directly
(``postgres -> kafka [label=CDC]``) or through a connector named like one (Debezium, DMS, CDC,
a change stream, a binlog or WAL reader: ``postgres -> debezium -> kafka``), publishes its
changes there. Every write to that database publishes the event — the connector link's
``event=``/``events=``, else ``<Database>Changed`` — so its consumers subscribe as usual. The
connector itself is infrastructure, not our code: it gets no operations, and the links it is
drawn with are the writes' path, not unused links.

Pure: ``archsim.model.events.publications`` adds the writes' publications.
"""

from __future__ import annotations

from dataclasses import dataclass

from archsim.model.architecture import Architecture, Link
from archsim.model.kinds import Kind, Relation, name_has

__all__ = ["CDC_WORDS", "Capture", "captures", "connectors"]

#: Words that name a change-data-capture connector (in its id or label, or the edge's label).
CDC_WORDS = (
    "debezium", "cdc", "change data capture", "change stream", "change streams", "changefeed",
    "change feed", "binlog", "wal", "oplog", "dms", "maxwell", "kafka connect",
    # a transactional outbox's relay: polls or tails the outbox table, publishes each row
    "outbox", "outbox relay", "message relay", "polling publisher", "transaction log tailing",
)  # fmt: skip

#: Kinds a connector cannot be: it is drawn between a database and a broker.
_NOT_CONNECTORS = (Kind.DATABASE, Kind.BROKER, Kind.CLIENT, Kind.CACHE)


@dataclass(frozen=True, slots=True)
class Capture:
    """One database's changes reaching one broker: over ``publish``, through ``connector``."""

    database: str
    connector: str | None
    publish: Link  # the link into the broker (connector -> broker, or database -> broker)
    drawn: tuple[Link, ...]  # every link the capture is drawn with
    events: tuple[str, ...]

    def writers(self, arch: Architecture) -> list[str]:
        """The components that store in the database (each publishes the change), file order."""
        return [
            link.source
            for link in arch.links_to(self.database, Relation.STORES_IN)
            if link.source != self.connector
        ]


def _says_cdc(arch: Architecture, link: Link, other: str) -> bool:
    comp = arch.component(other)
    return bool(name_has(comp.id, comp.label, CDC_WORDS) or name_has("", link.label, CDC_WORDS))


def _events(arch: Architecture, database: str, publish: Link) -> tuple[str, ...]:
    if publish.events:
        return publish.events
    camel = "".join(p.capitalize() for p in database.replace("-", "_").split("_") if p)
    return (f"{camel}Changed",)


def captures(arch: Architecture) -> list[Capture]:
    """Every database -> (connector ->) broker capture in ``arch``, in file order."""
    kinds = {c.id: c.kind for c in arch.components}
    out: list[Capture] = []
    for link in arch.links:
        db, other = link.source, link.target
        if kinds.get(db) is not Kind.DATABASE:
            # a connector drawn reading the database: "debezium -> postgres [label='reads WAL']"
            db, other = link.target, link.source
            if kinds.get(db) is not Kind.DATABASE or kinds.get(other) in _NOT_CONNECTORS:
                continue
            if not _says_cdc(arch, link, other):
                continue
        if kinds.get(other) is Kind.BROKER and db == link.source:
            out.append(Capture(db, None, link, (link,), _events(arch, db, link)))
        elif kinds.get(other) not in _NOT_CONNECTORS and _says_cdc(arch, link, other):
            for pub in arch.links_from(other, Relation.PUBLISHES_TO):
                out.append(Capture(db, other, pub, (link, pub), _events(arch, db, pub)))
    return out


def connectors(arch: Architecture) -> set[str]:
    """The components that are a capture's connector: infrastructure, not code of the system."""
    return {c.connector for c in captures(arch) if c.connector is not None}
