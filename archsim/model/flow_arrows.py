"""Arrows drawn the way events flow: ``kafka -> shipping_worker``.

Many drawings point the arrow from a broker to its consumers, in the direction the events
travel, where archsim's relation reads the other way (``shipping_worker subscribes to kafka``).
Read literally, such an edge would make the broker call its consumer, or make the consumer a
broker. The rule (docs/behaviour.md, "Arrows drawn as events flow"): an edge from a component
named like a broker to one named like a service or an external system, that states no relation
or states ``subscribes to`` / ``publishes to``, is read as the target subscribing to the source.
A one-word free label on it (``OrderShipped``) names the event it takes.
"""

from __future__ import annotations

import dataclasses
import re

from archsim.errors import Severity
from archsim.model import attributes as A
from archsim.model.checks import Reader
from archsim.model.dot.ast import DotEdge, DotGraph
from archsim.model.kinds import Kind, Relation, kind_from_names, names_protocol
from archsim.model.resolve import node_names

__all__ = ["read_flow_arrows"]

_TURNED = frozenset({None, Relation.SUBSCRIBES_TO, Relation.PUBLISHES_TO})
_CONSUMERS = frozenset({Kind.SERVICE, Kind.EXTERNAL})
_EVENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:\-]*")


def read_flow_arrows(
    graph: DotGraph, labelled: dict[int, tuple[Relation | None, str]], reader: Reader
) -> dict[int, tuple[str, ...]]:
    """Turn each broker-to-consumer edge of ``graph`` round (in place) and read it as
    ``subscribes to``; return the events free labels on those edges name, by edge index."""
    carried: dict[int, tuple[str, ...]] = {}
    for index, edge in enumerate(graph.edges):
        rel, label = labelled[index]
        if rel not in _TURNED or not _drawn_as_flow(graph, edge):
            continue
        graph.edges[index] = dataclasses.replace(
            edge,
            source=edge.target,
            target=edge.source,
            source_port=edge.target_port,
            target_port=edge.source_port,
        )
        labelled[index] = (Relation.SUBSCRIBES_TO, label)
        free = rel is None and bool(label) and not names_protocol(label)
        if free and _EVENT_NAME.fullmatch(label) and not {"event", "events"} & edge.attrs.keys():
            carried[index] = (label,)
        reader.report(
            Severity.INFO,
            f"{edge.source} -> {edge.target} is drawn the way events flow; read as "
            f"'{edge.target} subscribes to {edge.source}'"
            + (f", taking the event '{label}'" if index in carried else ""),
            edge.location,
            f'write {edge.target} -> {edge.source} [relation="subscribes to"] to say so',
            "flow-arrow",
        )
    return carried


def _drawn_as_flow(graph: DotGraph, edge: DotEdge) -> bool:
    """True when the edge runs from a broker to a consumer by their names (or ``kind=``)."""
    if edge.source not in graph.nodes or edge.target not in graph.nodes:
        return False
    return _named_kind(graph, edge.source) is Kind.BROKER and (
        _named_kind(graph, edge.target) in _CONSUMERS
    )


def _named_kind(graph: DotGraph, node_id: str) -> Kind | None:
    """The kind a node's ``kind=`` attribute, or else its names and shape, say."""
    explicit = graph.nodes[node_id].attrs.get("kind")
    if explicit is not None:
        try:
            kind: Kind | None = A.NODE_ATTRIBUTES["kind"].parse(explicit.value)
            return kind
        except ValueError:
            return None  # reported with the other attributes
    return kind_from_names(node_id, *node_names(graph, node_id))[0]
