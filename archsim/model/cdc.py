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

from collections.abc import Sequence
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


def _events(database: str, publish: Link) -> tuple[str, ...]:
    if publish.events:
        return publish.events
    camel = "".join(p.capitalize() for p in database.replace("-", "_").split("_") if p)
    return (f"{camel}Changed",)


def captures(arch: Architecture) -> list[Capture]:
    """Every database -> (connector ->) broker capture in ``arch``, in file order of the links
    they start from. Only a link with a database at one end starts one: the databases' links
    are read from the architecture's link indexes, not found by a pass over every link (a
    million at the largest files, three passes a load)."""
    finder = _Finder(arch)
    found: list[tuple[Link, list[Capture]]] = []
    seen: set[int] = set()  # a link between two databases is in both one's and the other's
    for comp in arch.components:
        if comp.kind is not Kind.DATABASE:
            continue
        for link in arch.links_from(comp.id) + arch.links_to(comp.id):
            if id(link) not in seen:
                seen.add(id(link))
                if made := finder.started_by(link):
                    found.append((link, made))
    if len(found) > 1:  # most files have none or one: no positions needed
        place = {id(link): i for i, link in enumerate(arch.links)}
        found.sort(key=lambda item: place[id(item[0])])
    return [capture for _, made in found for capture in made]


class _Finder:
    """The captures a database's link starts; whether a name says CDC is read once per
    component and per label (every writer's ``stores in`` asks about the writer)."""

    def __init__(self, arch: Architecture) -> None:
        self.arch = arch
        self.kinds = {c.id: c.kind for c in arch.components}
        self.named: dict[str, bool] = {}
        self.labels: dict[str, bool] = {}

    def says_cdc(self, link: Link, other: str) -> bool:
        """True when ``other`` (a component at one end of ``link``) or the link's label names
        a connector."""
        named = self.named.get(other)
        if named is None:
            comp = self.arch.component(other)
            named = self.named[other] = bool(name_has(comp.id, comp.label, CDC_WORDS))
        if named:
            return True
        labelled = self.labels.get(link.label)
        if labelled is None:
            labelled = self.labels[link.label] = bool(name_has("", link.label, CDC_WORDS))
        return labelled

    def started_by(self, link: Link) -> list[Capture]:
        """The captures ``link`` starts: none, one, or one per broker its connector publishes
        to."""
        kinds, db, other = self.kinds, link.source, link.target
        if kinds.get(db) is not Kind.DATABASE:
            # a connector drawn reading the database: "debezium -> postgres [label='reads WAL']"
            db, other = link.target, link.source
            if kinds.get(db) is not Kind.DATABASE:
                return []
        elif kinds.get(other) is Kind.BROKER:
            return [Capture(db, None, link, (link,), _events(db, link))]
        if kinds.get(other) in _NOT_CONNECTORS:
            return []
        # a connector publishes: the names are read only for the few that do (every writer of
        # a database is asked about, and most publish nothing)
        pubs = self.arch.links_from(other, Relation.PUBLISHES_TO)
        if not pubs or not self.says_cdc(link, other):
            return []
        return [Capture(db, other, pub, (link, pub), _events(db, pub)) for pub in pubs]


def connectors(arch: Architecture, found: Sequence[Capture] | None = None) -> set[str]:
    """The components that are a capture's connector: infrastructure, not code of the system.
    ``found``: ``captures(arch)``, when the caller has them."""
    found = captures(arch) if found is None else found
    return {c.connector for c in found if c.connector is not None}
