"""The links the edges say: an edge's attributes typed and checked, then a validated ``Link``;
edges that read alike share one reading (and a copy of its first link), and repeated links
are merged once read (``merged_links``)."""

from __future__ import annotations

from typing import Any

from archsim.model import attributes as A
from archsim.model.architecture import Link, SourceRef
from archsim.model.checks import Reader, RepeatedLink
from archsim.model.component_attributes import attrs_as_written
from archsim.model.dot.ast import Attr, DotEdge
from archsim.model.kinds import Relation
from archsim.model.records import build, replacer

__all__ = ["EdgeReadings", "merged_links", "read_link"]


class _Reading:
    """A clean reading of a link's attributes: typed values, explicit keys, attributes as
    written; ``template``: the first link built from it that passed validation."""

    __slots__ = ("explicit", "raw", "template", "values")

    def __init__(self, values: dict[str, Any], explicit: tuple[str, ...], raw: dict[str, str]):
        self.values, self.explicit, self.raw = values, explicit, raw
        self.template: Link | None = None


# A link that reads as one validated differs from it only in where it is (ends, place,
# comments): a copy with those set, unvalidated (any string and position is valid).
_like = replacer(Link, "source", "target", "attrs", "comments", "source_ref")
_at = replacer(SourceRef, "line", "col")


class EdgeReadings:
    """The readings of the links read so far, by what decides them: the attributes as written
    (keys and values), relation, label and events carried. A reading that reported nothing is
    kept and reused (a chain of 40 calls shares its statement's attrs; a file repeats a few
    labels); one that reported something is read, and reported, per edge. ``seen``: the keys
    of the links built, to know a repeated edge."""

    __slots__ = ("attrs", "clean", "content", "seen")

    def __init__(self) -> None:
        self.attrs: dict[str, Attr] | None = None  # the attrs dict ``content`` is of
        self.content: tuple[tuple[str, str], ...] = ()
        self.clean: dict[tuple[Any, ...], _Reading] = {}
        self.seen: set[tuple[str, str, Relation]] = set()


def _read_edge(
    edge: DotEdge, reader: Reader, carried: tuple[str, ...]
) -> tuple[dict[str, Any], tuple[str, ...], dict[str, str]]:
    """An edge's typed values (with the events it names or carries), explicit keys and
    attributes as written."""
    values = reader.typed(edge.attrs, A.EDGE_ATTRIBUTES, f"{edge.source} -> {edge.target}")
    values.pop("relation", None)
    named = ([values["event"]] if "event" in values else []) + list(values.get("events", carried))
    values["events"] = tuple(dict.fromkeys(named))
    explicit = tuple(k for k in edge.attrs if k in A.EDGE_ATTRIBUTES)
    return values, explicit, attrs_as_written(edge.attrs)


def read_link(
    edge: DotEdge,
    relation: Relation,
    label: str,
    reader: Reader,
    carried: tuple[str, ...] = (),
    readings: EdgeReadings | None = None,
) -> Link | RepeatedLink | None:
    """The link an edge says (None when it is invalid, reported). An edge that reads as a link
    already validated (``readings``) is a copy of it with its own ends, place and comments; a
    ``RepeatedLink`` when it also repeats a link built and names no event: only its key and
    place matter (``check_links`` warns, ``merged_links`` drops it)."""
    reading = None
    if readings is None:
        values, explicit, raw = _read_edge(edge, reader, carried)
    else:
        if readings.attrs is not edge.attrs:  # once per statement: its edges share the dict
            readings.attrs = edge.attrs
            readings.content = tuple([(k, a.value) for k, a in edge.attrs.items()])
        how = (readings.content, relation, label, carried)
        reading = readings.clean.get(how)
        if reading is None:
            reported = len(reader.diagnostics)
            values, explicit, raw = _read_edge(edge, reader, carried)
            if len(reader.diagnostics) == reported:
                reading = readings.clean[how] = _Reading(values, explicit, raw)
        elif (template := reading.template) is not None:
            key = (edge.source, edge.target, relation)
            if key in readings.seen:
                if not template.events:
                    return RepeatedLink(edge.source, edge.target, relation)
            else:
                readings.seen.add(key)
            place = _at(template.source_ref, edge.location.line, edge.location.col)
            raw = dict(reading.raw)  # each link has its own, as validation gives it
            return _like(template, edge.source, edge.target, raw, edge.comments, place)
        else:
            values, explicit, raw = reading.values, reading.explicit, reading.raw
    try:
        link = build(
            Link,
            source=edge.source,
            target=edge.target,
            relation=relation,
            label=label,
            explicit=explicit,
            attrs=raw,  # validation copies it: each link has its own
            comments=edge.comments,
            source_ref={"line": edge.location.line, "col": edge.location.col},
            **values,
        )
    except ValueError as exc:
        reader.error(f"{edge.source} -> {edge.target}: {exc}", edge.location, code="bad-attribute")
        return None
    if readings is not None:
        readings.seen.add((edge.source, edge.target, relation))
        if reading is not None:
            reading.template = link
    return link


def merged_links(links: list[Link | RepeatedLink]) -> tuple[Link, ...]:
    """Each link once, by (source, target, relation); the first wins, with every event."""
    unique: dict[tuple[str, str, Relation], Link] = {}
    for link in links:
        if isinstance(link, RepeatedLink):  # no events: nothing to merge
            continue
        first = unique.setdefault((link.source, link.target, link.relation), link)  # link.key
        if first is not link and link.events:
            # The same pair linked once per event (minishop's routing keys): one link, all events.
            merged = tuple(dict.fromkeys(first.events + link.events))
            attrs = dict(first.attrs)  # as written back by ``archsim fmt``: one edge, all events
            attrs["events"] = ",".join(e for e in merged if e != first.event)
            explicit = first.explicit + (() if "events" in first.explicit else ("events",))
            unique[link.key] = first.model_copy(
                update={"events": merged, "attrs": attrs, "explicit": explicit}
            )
    return tuple(unique.values())
