"""A broker drawn as a record whose fields are its topics: ``kafka:plays``, ``kafka:catalog``.

Rule events.topic_port (docs/behaviour.md, "Events"): when a broker is drawn with ports
(``kafka [shape=record, label="{Kafka|<plays> play-events|<catalog> catalog-changes}"]``) and
its publishers name their events (``playback -> kafka:plays [label="TrackPlayed"]``), a
subscription drawn to one port that names no events takes the events published to that port,
not every event on the broker (``indexer -> kafka:catalog [label="consumes"]`` takes
``TrackPublished`` only). A port whose publishers name no events (their event is derived from
the resource later) leaves its subscriptions as they are (``topic-port``, info).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from archsim.errors import Severity
from archsim.model.checks import Reader
from archsim.model.dot.ast import Attr, DotEdge, DotGraph
from archsim.model.kinds import Kind, Relation

__all__ = ["events_by_port"]


def events_by_port(
    graph: DotGraph,
    relations: list[Relation | None],
    carried: dict[int, tuple[str, ...]],
    kinds: Mapping[str, tuple[Kind, str]],
    reader: Reader,
) -> None:
    """Give each subscription drawn to a broker's port the events published to that port (the
    rule above), in ``carried`` by edge index, saying so."""
    published: dict[tuple[str, str], dict[str, None] | None] = {}
    for index, edge in enumerate(graph.edges):
        if relations[index] is not Relation.PUBLISHES_TO or edge.target_port is None:
            continue
        if kinds[edge.target][0] is not Kind.BROKER:
            continue
        key = (edge.target, edge.target_port)
        names = _named(edge, carried.get(index, ()))
        known = published.setdefault(key, {})
        if not names or known is None:
            published[key] = None  # one publisher's event is derived later: leave the port
        else:
            known.update(dict.fromkeys(names))
    if not published:
        return
    for index, edge in enumerate(graph.edges):
        if relations[index] is not Relation.SUBSCRIBES_TO or edge.target_port is None:
            continue
        events = published.get((edge.target, edge.target_port))
        if not events or carried.get(index) or "events" in edge.attrs or "event" in edge.attrs:
            continue
        carried[index] = tuple(events)
        # what it is read as, written out (a copy: a statement's edges share one attrs dict),
        # so the model written back (archsim fmt), which keeps no ports, reads the same
        said = Attr("events", ",".join(events), edge.location)
        graph.edges[index] = dataclasses.replace(edge, attrs={**edge.attrs, "events": said})
        listed = ", ".join(f"'{e}'" for e in events)
        reader.report(
            Severity.INFO,
            f"{edge.source} subscribes to port '{edge.target_port}' of {edge.target}: it takes "
            f"what is published there ({listed}), not every event on {edge.target}",
            edge.location,
            f'write events="…" on the edge to say which events {edge.source} takes',
            "topic-port",
        )


def _named(edge: DotEdge, carried: tuple[str, ...]) -> tuple[str, ...]:
    """The events a publish edge names: its ``events``/``event`` attribute, else its label's."""
    for key in ("events", "event"):
        if key in edge.attrs:
            return tuple(e.strip() for e in edge.attrs[key].value.split(",") if e.strip())
    return carried
