"""Arrows drawn the way things flow: events from a broker, answers back to a person.

**To a person.** C4 and hand drawings show what a system sends back to its users
(``email_system -> customer [label="Sends e-mails to"]``). A traffic source is where requests
come from; such an edge says nothing archsim simulates, and read as a link it would make the
person a component that takes requests. The rule: an edge into a person or client that sends
requests itself (its id is such a word — ``customer``, ``users``, ``browser`` — or its label
says ``[Person]``; it keeps no data: sock-shop's ``user`` stores in ``user-db``), from one
that is not, is left out of the model (``to-person``, info).

**Drawn backwards.** ``db -> orders [dir=back]`` draws the arrow from ``orders`` to ``db``
(authors use it to keep a rank order): written from a store (named like a database or cache) to
something that is not, the edge is read the way its arrow points (``back-arrow``, info); written
the other way, ``dir=back`` only shows the data coming back, and the written order stays.

**From a broker.** ``kafka -> shipping_worker``.

Many drawings point the arrow from a broker to its consumers, in the direction the events
travel, where archsim's relation reads the other way (``shipping_worker subscribes to kafka``).
Read literally, such an edge would make the broker call its consumer, or make the consumer a
broker. The rule (docs/behaviour.md, "Arrows drawn as events flow"): an edge from a component
named like a broker to one named like a service, a gateway or an external system, that states
no relation or states ``subscribes to`` / ``publishes to``, is read as the target subscribing
to the source.
A one-word free label on it (``OrderShipped``) names the event it takes.

**From a store.** ``legacy_db -> importer``: an arrow from a database (drawn as a cylinder or
named like one) to a service that states no relation shows the data flowing out, the way the
service reads it. Read literally, it made the database a traffic source calling the service.
It is read as ``importer stores in legacy_db`` (``store-arrow``, info); a change-data-capture
connector (Debezium) keeps its arrow (``archsim.model.cdc``).
"""

from __future__ import annotations

import dataclasses
import re

from archsim.errors import Severity
from archsim.model.cdc import CDC_WORDS
from archsim.model.checks import Reader
from archsim.model.dot.ast import Attr, DotEdge, DotGraph
from archsim.model.event_labels import label_events
from archsim.model.kinds import (
    CLIENT_WORDS,
    OBSERVER_WORDS,
    Kind,
    Relation,
    kind_from_names,
    name_has,
)
from archsim.model.relation_words import names_protocol, normalise_relation
from archsim.model.resolve import explicit_kind, node_names

__all__ = [
    "drop_arrows_to_people",
    "drop_observer_arrows",
    "read_flow_arrows",
    "read_store_arrows",
    "turn_back_arrows",
]

_TURNED = frozenset({None, Relation.SUBSCRIBES_TO, Relation.PUBLISHES_TO})
# a WebSocket gateway subscribes to the pub/sub it pushes to clients from
_CONSUMERS = frozenset({Kind.SERVICE, Kind.EXTERNAL, Kind.GATEWAY})


def read_flow_arrows(
    graph: DotGraph, labelled: list[tuple[Relation | None, str]], reader: Reader
) -> dict[int, tuple[str, ...]]:
    """Turn each broker-to-consumer edge of ``graph`` round (in place) and read it as
    ``subscribes to``; return the events free labels on those edges name, by edge index."""
    carried: dict[int, tuple[str, ...]] = {}
    for index, edge in enumerate(graph.edges):
        rel, label = labelled[index]
        if rel not in _TURNED or not _drawn_as_flow(graph, edge):
            continue
        labelled[index] = (Relation.SUBSCRIBES_TO, label or Relation.SUBSCRIBES_TO.label)
        free = rel is None and bool(label) and not names_protocol(label)
        if free and not {"event", "events"} & edge.attrs.keys() and label_events(label):
            carried[index] = label_events(label)
        # what it is read as, written out: the model written back (archsim fmt) reads the same
        said = {"relation": Attr("relation", Relation.SUBSCRIBES_TO.label, edge.location)}
        if index in carried:
            said["events"] = Attr("events", ",".join(carried[index]), edge.location)
        graph.edges[index] = _turned(edge, {**edge.attrs, **said})
        reader.report(
            Severity.INFO,
            f"{edge.source} -> {edge.target} is drawn the way events flow; read as "
            f"'{edge.target} subscribes to {edge.source}'"
            + (f", taking {_listed(carried[index])}" if index in carried else ""),
            edge.location,
            f'write {edge.target} -> {edge.source} [relation="subscribes to"] to say so',
            "flow-arrow",
        )
    return carried


def read_store_arrows(
    graph: DotGraph, labelled: list[tuple[Relation | None, str]], reader: Reader
) -> None:
    """Turn each database-to-service edge that states no relation round (in place) and read
    it as ``stores in``: the service reads its data there (the rule above)."""
    for index, edge in enumerate(graph.edges):
        rel, label = labelled[index]
        if rel is not None or not _drawn_from_store(graph, edge, label):
            continue
        labelled[index] = (Relation.STORES_IN, label or Relation.STORES_IN.label)
        said = {"relation": Attr("relation", Relation.STORES_IN.label, edge.location)}
        graph.edges[index] = _turned(edge, {**edge.attrs, **said})
        reader.report(
            Severity.INFO,
            f"{edge.source} -> {edge.target} runs from a database to a service, the way its "
            f"data flows; read as '{edge.target} stores in {edge.source}'",
            edge.location,
            f'write {edge.target} -> {edge.source} [relation="stores in"] to say so',
            "store-arrow",
        )


def _drawn_from_store(graph: DotGraph, edge: DotEdge, label: str) -> bool:
    """True when the edge runs from a database to a service (not a CDC connector)."""
    if edge.source not in graph.nodes or edge.target not in graph.nodes:
        return False
    if _named_kind(graph, edge.source) is not Kind.DATABASE:
        return False
    if _named_kind(graph, edge.target) is not Kind.SERVICE:
        return False
    names = node_names(graph, edge.target)[0]
    return not name_has(edge.target, names, CDC_WORDS) and not name_has("", label, CDC_WORDS)


def _listed(events: tuple[str, ...]) -> str:
    names = ", ".join(f"'{e}'" for e in events)
    return f"the event{'s' if len(events) > 1 else ''} {names}"


def _drawn_as_flow(graph: DotGraph, edge: DotEdge) -> bool:
    """True when the edge runs from a broker to a consumer by their names (or ``kind=``)."""
    if edge.source not in graph.nodes or edge.target not in graph.nodes:
        return False
    return _named_kind(graph, edge.source) is Kind.BROKER and (
        _named_kind(graph, edge.target) in _CONSUMERS
    )


def _named_kind(graph: DotGraph, node_id: str) -> Kind | None:
    """The kind a node's ``kind=`` attribute, or else its names and shape, say."""
    node = graph.nodes[node_id]
    if "kind" in node.attrs:
        return explicit_kind(node)
    return kind_from_names(node_id, *node_names(graph, node_id))[0]


def turn_back_arrows(graph: DotGraph, reader: Reader) -> None:
    """Turn round (in place) each edge drawn with ``dir=back`` whose written order makes a
    store act: Graphviz draws its arrow from the target to the source, and ``db -> orders
    [dir=back]`` (written so to keep the database below) means ``orders -> db``. Written the
    other way (``orders -> db [dir=back, label="reads"]``, the arrow showing the data come
    back), the written order already reads right and stays."""
    for index, edge in enumerate(graph.edges):
        drawn = edge.attrs.get("dir")
        if drawn is None or drawn.value.strip().lower() != "back":
            continue
        if edge.source not in graph.nodes or edge.target not in graph.nodes:
            continue
        stores = (_named_kind(graph, edge.source), _named_kind(graph, edge.target))
        if stores[0] not in _STORES or stores[1] in _STORES:
            continue
        # the arrow now points the way it is drawn: without dir=back, written out as it reads
        graph.edges[index] = _turned(edge, {k: a for k, a in edge.attrs.items() if k != "dir"})
        reader.report(
            Severity.INFO,
            f"{edge.source} -> {edge.target} is drawn with dir=back (the arrow points at "
            f"{edge.source}); read as {edge.target} -> {edge.source}",
            drawn.location,
            f"write {edge.target} -> {edge.source} without dir=back to say so",
            "back-arrow",
        )


_STORES = frozenset({Kind.DATABASE, Kind.CACHE})


def _turned(edge: DotEdge, attrs: dict[str, Attr]) -> DotEdge:
    """``edge`` the other way round, with ``attrs`` (a copy: a statement's edges share one)."""
    return dataclasses.replace(
        edge,
        source=edge.target,
        target=edge.source,
        source_port=edge.target_port,
        target_port=edge.source_port,
        attrs=attrs,
    )


def drop_observer_arrows(graph: DotGraph, reader: Reader) -> None:
    """Leave out of ``graph`` (in place) each edge from a tool that watches or scales the
    system (Prometheus scraping, an autoscaler, a tracing UI: named so, and nothing links to
    it), saying so: read as requests, they would make it a traffic source sending a share of
    the load straight to what it watches."""
    tools = {n for n in graph.nodes if _is_observer(graph, n)}
    if not tools:
        return
    _drop_telemetry(graph, tools, reader)
    watched = {edge.target for edge in graph.edges}
    observers = tools - watched
    if not observers:
        return
    kept = []
    for edge in graph.edges:
        if edge.source in observers:
            reader.report(
                Severity.INFO,
                f"{edge.source} -> {edge.target}: {edge.source} watches or scales the system "
                f"(its name says so); what it does is not a request, so the edge is left out",
                edge.location,
                f'set kind="client" on {edge.source} if it does send requests',
                "observer-edge",
            )
            continue
        kept.append(edge)
    graph.edges[:] = kept
    linked = {e.source for e in kept} | {e.target for e in kept}
    # in file order: ``observers`` is a set, whose order changes with the string hash seed
    for node_id in [n for n in graph.nodes if n in observers and n not in linked]:
        reader.report(
            Severity.INFO,
            f"{node_id} is left out of the model: it only watches or scales the system",
            graph.nodes[node_id].location,
            f'set kind="…" on {node_id} to keep it',
            "observer-edge",
        )
        del graph.nodes[node_id]  # nothing left to simulate: no process in the stack either
        for sub in graph.subgraphs:
            if node_id in sub.nodes:
                sub.nodes.remove(node_id)


def _drop_telemetry(graph: DotGraph, tools: set[str], reader: Reader) -> None:
    """Leave out each edge into a monitoring or tracing tool that states no relation (spans,
    metrics or logs pushed to Jaeger, Datadog): exporting telemetry is not a request, and read
    as ``calls`` it would put a synchronous hop on every request. An edge that states one
    (``sends via``) is kept: its author said what it is."""
    kept = []
    for edge in graph.edges:
        if _not_telemetry(edge, tools):
            kept.append(edge)
        else:
            reader.report(
                Severity.INFO,
                f"{edge.source} -> {edge.target}: {edge.target} watches the system (its name "
                f"says so); what {edge.source} sends it is telemetry, not a request, so the "
                f"edge is left out",
                edge.location,
                f'write [relation="calls"] on the edge, or kind="service" on {edge.target}, '
                f"if it is a request",
                "observer-edge",
            )
    graph.edges[:] = kept


def _not_telemetry(edge: DotEdge, tools: set[str]) -> bool:
    """True for an edge not into a tool, between tools, or stating its relation."""
    if edge.target not in tools or edge.source in tools:
        return True
    stated = edge.attrs.get("relation") or edge.attrs.get("label")
    return stated is not None and normalise_relation(stated.value) is not None


def _is_observer(graph: DotGraph, node_id: str) -> bool:
    if node_id not in graph.nodes or "kind" in graph.nodes[node_id].attrs:
        return False
    return name_has(node_id, node_names(graph, node_id)[0], OBSERVER_WORDS) is not None


def drop_arrows_to_people(graph: DotGraph, reader: Reader) -> None:
    """Leave out of ``graph`` (in place) each edge into a person who sends requests, from a
    component that is not one (the rule above), saying so."""
    senders = {edge.source for edge in graph.edges}
    person: dict[str, bool] = {}  # by node: asked twice per edge (1,000,000 edges: 0.4 s)
    for node_id in senders:
        person[node_id] = _is_person(graph, node_id, senders)
    kept = []
    for edge in graph.edges:
        if person.get(edge.target, False) and not person[edge.source]:
            reader.report(
                Severity.INFO,
                f"{edge.source} -> {edge.target} goes to a person who sends requests: what "
                f"{edge.target} receives is not simulated, so the edge is left out of the model",
                edge.location,
                "nothing to do; remove the edge to silence this",
                "to-person",
            )
            continue
        kept.append(edge)
    graph.edges[:] = kept


def _is_person(graph: DotGraph, node_id: str, senders: set[str]) -> bool:
    if node_id not in graph.nodes or node_id not in senders or "kind" in graph.nodes[node_id].attrs:
        return False
    label, _ = node_names(graph, node_id)
    if label is not None and _C4_PERSON.search(label):
        return True
    if _SEPARATORS.sub(" ", node_id.lower()).strip() not in CLIENT_WORDS:
        return False
    # a person sends requests; sock-shop's "user" keeps data in user-db: a service
    return not any(
        edge.source == node_id and _named_kind(graph, edge.target) in _DATA for edge in graph.edges
    )


_DATA = frozenset({Kind.DATABASE, Kind.CACHE, Kind.BROKER})


# C4's element type in a label: "Customer\n[Person]", "<b>Customer</b><br/>[Person]".
_C4_PERSON = re.compile(r"\[\s*person\b", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s_\-]+")
