"""What relation each edge states: read from its ``relation`` or ``label`` attribute, an
unknown relation reported; an edge that states none (no label, a protocol such as ``REST``,
other free text) is read by the kinds of its ends and told so (``read_by_target``)."""

from __future__ import annotations

from archsim.errors import Severity
from archsim.model.checks import Reader
from archsim.model.dead_letters import says_failure
from archsim.model.dot.ast import Attr, DotEdge
from archsim.model.event_labels import event_phrase, label_events
from archsim.model.kinds import Kind, Relation, all_past, target_kind_of
from archsim.model.naming import a_kind
from archsim.model.relation_words import (
    agrees_with,
    misspells_relation,
    names_protocol,
    normalise_relation,
    suggest_relation,
)

__all__ = ["mistyped", "read_by_target", "read_relations", "report_unknown_relation"]


def _relation(edge: DotEdge, reader: Reader) -> tuple[Relation | None, str]:
    """The relation an edge states and its label text; (None, text) when it states none: no
    label, a protocol (``REST``) or other free text (the loader then reads it by its target)."""
    attr = edge.attrs.get("relation") or edge.attrs.get("label")
    if attr is None:
        return None, ""
    relation = normalise_relation(attr.value)
    label = edge.attrs["label"].value if "label" in edge.attrs else attr.value
    if relation is None and "relation" in edge.attrs:
        report_unknown_relation(edge, attr, reader)
    return relation, label  # a label that reads like a typo is judged once kinds are known


def read_relations(edges: list[DotEdge], reader: Reader) -> list[tuple[Relation | None, str]]:
    """``_relation`` of each edge; once per statement (its edges share the attrs dict: a
    chain of 40 calls) unless it reported something, which is reported per edge."""
    out: list[tuple[Relation | None, str]] = []
    attrs: dict[str, Attr] | None = None
    last: tuple[Relation | None, str] = (None, "")
    for edge in edges:
        if edge.attrs is not attrs:
            last = _relation(edge, reader)
            # an unknown relation is reported per edge: read it again at the next one
            attrs = None if last[0] is None and "relation" in edge.attrs else edge.attrs
        out.append(last)
    return out


def mistyped(label: str, target: Kind) -> bool:
    """A label that looks like a typo of a relation the target could take (``subscibes to`` a
    broker); near one it could not (``send message`` to a service is not ``sends messages``,
    publishing to a broker) it is free text."""
    near = misspells_relation(label)
    relation = normalise_relation(near) if near else None
    wants = target_kind_of(relation) if relation else None
    return relation is not None and wants in (None, target)


def report_unknown_relation(edge: DotEdge, attr: Attr, reader: Reader) -> None:
    """An error for a relation no rule knows, with the closest known one."""
    close = suggest_relation(attr.value)
    known = ", ".join(r.label for r in Relation)
    reader.error(
        f"unknown relation '{attr.value}' on {edge.source} -> {edge.target}",
        attr.location,
        f"did you mean '{close}'?" if close else f"use one of: {known}",
        "unknown-relation",
    )


def read_by_target(
    edge: DotEdge, rel: Relation, kinds: tuple[Kind, Kind], label: str, reader: Reader
) -> tuple[str, ...]:
    """Say how an edge that states no relation is read (``kinds``: of its source and target);
    the events a free-text label on a publish/subscribe edge names (``OrderPlaced``)."""
    spread = rel is Relation.DISTRIBUTES_TO
    who, kind = (edge.source, kinds[0]) if spread else (edge.target, kinds[1])
    how = f"read as '{rel.label}' because {who} is {a_kind(kind.value)}"
    if rel is Relation.SUBSCRIBES_TO:  # only a label of taking reads so (relation_for_label)
        how += f" and '{label.split()[0]}' takes from it"
    fix = f'write [relation="{rel.label}"] (the label stays) to say so'
    if not label:
        message, severity, code = (
            f"{edge.source} -> {edge.target} has no label; {how}",
            Severity.INFO,
            "unlabelled",
        )
    elif says_failure(label) and rel in (Relation.PUBLISHES_TO, Relation.SUBSCRIBES_TO):
        message, severity, code = (  # a dead-letter link (archsim.model.dead_letters)
            f"{edge.source} -> {edge.target} is labelled with what fails ('{label}'); {how}",
            Severity.INFO,
            "failure-label",
        )
    elif names_protocol(label):
        message, severity, code = (
            f"{edge.source} -> {edge.target} is labelled with a protocol ('{label}'); {how}",
            Severity.INFO,
            "protocol-label",
        )
    elif kinds[0] is Kind.CLIENT and rel is Relation.CALLS:
        message, severity, code = (  # C4's "Views account balances using": what users do
            f"{edge.source} -> {edge.target} is labelled with what its users do ('{label}'); "
            f"{edge.source} is a traffic source, so it sends {edge.target} requests",
            Severity.INFO,
            "request-label",
        )
    elif agrees_with(label, rel):
        message, severity, code = (  # "read", "upsert" to a database; "append" to a log
            f"{edge.source} -> {edge.target} is labelled with what it does with the data "
            f"('{label}'); {how}",
            Severity.INFO,
            "data-label",
        )
    else:
        message, severity, code = (
            f"label '{label}' on {edge.source} -> {edge.target} names no relation; {how}",
            Severity.WARNING,
            "free-label",
        )
    events: tuple[str, ...] = ()
    pubsub = rel in (Relation.PUBLISHES_TO, Relation.SUBSCRIBES_TO)
    free = code in ("free-label", "data-label")  # "append OrderPlaced" carries it too
    if free and pubsub and not {"event", "events"} & edge.attrs.keys():
        events = label_events(label)
    if events:
        named = ", ".join(f"'{e}'" for e in events)
        s = "s" if len(events) > 1 else ""
        if all_past(events) or event_phrase(label)[0] is rel:
            # an event's name in the past tense, or a verb that agrees with the target's kind
            # ("emits PlayEvent" to a broker), says what the edge carries, as a protocol says
            # how: the relation is the target's kind's, nothing was misread (SendMessage may be)
            message, severity, code = (
                f"{edge.source} -> {edge.target} is labelled with the event{s} it carries "
                f"({named}); {how}",
                Severity.INFO,
                "event-label",
            )
        else:
            message += f", carrying the event{s} {named}"
    reader.report(severity, message, edge.location, fix, code)
    return events
