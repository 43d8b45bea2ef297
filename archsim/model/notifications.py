"""A store that notifies a function of its changes: S3's ``ObjectCreated`` into a Lambda.

Rule events.notify (docs/behaviour.md, "Events"): an edge from a database (an S3 bucket, a
table) to a service, that states no relation and whose label names an event in the past tense
(``ObjectCreated event``, ``s3:ObjectCreated:*``, ``on ObjectCreated``, ``ItemInserted
notification``), says the store tells the service of each change: every write to the store
publishes that event, and the service consumes it. Read as a data flow (rule store-arrow) the
service read the bucket and the event's name was lost; the function it triggers never ran.

It is read as change data capture (``archsim.model.cdc``) through a broker the store's
notifications go through, ``<store>_events``, added to the model (a real bucket hands its
notifications to an internal queue too): ``store -> <store>_events [events=ObjectCreated]``
and ``service -> <store>_events [relation="subscribes to", events=ObjectCreated]``
(``store-notification``, info). Pure: the graph is changed in place before relations are read.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache

from archsim.errors import Severity
from archsim.model.checks import Reader
from archsim.model.dot.ast import Attr, DotEdge, DotGraph, DotNode
from archsim.model.kinds import Kind, Relation, events_named, kind_from_names, names_past_event
from archsim.model.relation_words import normalise_relation
from archsim.model.resolve import explicit_kind, node_names

__all__ = ["notified_event", "read_store_notifications"]

# What a label adds around the event's name: "on …", "… event", "S3 event: …", "s3:…:*".
_AROUND = re.compile(
    r"^\s*(?:on\s+|(?:s3|dynamodb|blob|storage)?\s*(?:events?|notifications?|triggers?)\s*:\s*)?"
    r"(?:s3:)?(?P<name>[A-Za-z][A-Za-z0-9_.\-]*?)(?::\*)?"
    r"(?:\s+(?:events?|notifications?|triggers?))?\s*$",
    re.IGNORECASE,
)
_TAKERS = frozenset({Kind.SERVICE})


@lru_cache(maxsize=4096)
def notified_event(label: str) -> str | None:
    """The event a store-to-service label names (``ObjectCreated event`` → ``ObjectCreated``,
    ``s3:ObjectCreated:*`` → ``ObjectCreated``), or None when it names none in the past tense."""
    found = _AROUND.match(label)
    if found is None:
        return None
    name = found.group("name")
    named = events_named(name)
    return name if len(named) == 1 and names_past_event(name) else None


def read_store_notifications(graph: DotGraph, reader: Reader) -> None:
    """Read each store-to-service edge labelled with an event (the rule above) as the store's
    notification, in place, saying so."""
    for index, edge in enumerate(list(graph.edges)):
        event = _notification(graph, edge)
        if event is None:
            continue
        broker = _broker_for(graph, edge)
        here = edge.location
        events = Attr("events", event, here)
        graph.edges[index] = dataclasses.replace(
            edge,
            target=broker,
            target_port=None,
            attrs={
                **edge.attrs,
                "relation": Attr("relation", "publishes to", here),
                "events": events,
            },
        )
        graph.edges.append(
            dataclasses.replace(
                edge,
                source=edge.target,
                target=broker,
                source_port=None,
                target_port=None,
                attrs={
                    "relation": Attr("relation", Relation.SUBSCRIBES_TO.label, here),
                    "events": events,
                },
                own_keys=("relation", "events"),
                comments=(),
            )
        )
        reader.report(
            Severity.INFO,
            f"{edge.source} -> {edge.target} is labelled with the event {edge.source} notifies "
            f"('{event}'); read as: each write to {edge.source} publishes {event} to {broker}, "
            f"and {edge.target} consumes it",
            edge.location,
            f'write [relation="stores in"] on the edge if {edge.target} reads {edge.source}',
            "store-notification",
        )


def _notification(graph: DotGraph, edge: DotEdge) -> str | None:
    """The event a store-to-service edge that states no relation names, or None."""
    label = edge.attrs.get("label")
    if label is None or "relation" in edge.attrs or label.is_html:
        return None
    if edge.source not in graph.nodes or edge.target not in graph.nodes:
        return None
    # the label first: a regex per label, where the ends' kinds are a name lookup each
    event = notified_event(label.value)
    if event is None or normalise_relation(label.value) is not None:
        return None
    if _kind(graph, edge.source) is not Kind.DATABASE or _kind(graph, edge.target) not in _TAKERS:
        return None
    return event


def _broker_for(graph: DotGraph, edge: DotEdge) -> str:
    """The id of the store's notification broker, added to ``graph`` the first time."""
    broker = f"{edge.source}_events"
    if broker not in graph.nodes:
        here = edge.location
        graph.nodes[broker] = DotNode(
            id=broker,
            location=here,
            attrs={
                "kind": Attr("kind", Kind.BROKER.value, here),
                "label": Attr("label", f"{edge.source} notifications", here),
            },
            own_keys=("kind", "label"),
            declared=False,
        )
    return broker


def _kind(graph: DotGraph, node_id: str) -> Kind:
    return (
        explicit_kind(graph.nodes[node_id])
        or kind_from_names(node_id, *node_names(graph, node_id))[0]
    )
