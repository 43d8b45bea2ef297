"""From DOT text to a checked Architecture: the model's front door.

``read_architecture`` collects every problem in one pass and raises ``InvalidModelError`` with
all of them when any is an error; warnings come back beside the model. Pure: no disk access
(``load`` reads a file and is the only function here that does I/O).
"""

from __future__ import annotations

import difflib
import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archsim.errors import Diagnostic, InvalidModelError, Location, Severity
from archsim.model import attributes as A
from archsim.model.accounts import implied_stores
from archsim.model.architecture import Architecture, Component, Group, Link, SourceRef
from archsim.model.behaviour import Behaviour
from archsim.model.checks import (
    Reader,
    RepeatedLink,
    check_declarations,
    check_links,
    pick_graph,
)
from archsim.model.clashes import (
    check_account_clashes,
    check_name_clashes,
    check_route_clashes,
)
from archsim.model.cycles import check_cycles
from archsim.model.dead_letters import check_dead_letters, says_failure
from archsim.model.derive import derive_behaviour
from archsim.model.dot import MAX_INPUT_BYTES, check_size, decode_dot, parse_dot, read_dot_bytes
from archsim.model.dot.ast import Attr, DotDocument, DotEdge, DotGraph, DotNode
from archsim.model.entries import check_entries, sibling_groups
from archsim.model.flow_arrows import (
    drop_arrows_to_people,
    drop_observer_arrows,
    read_flow_arrows,
    read_store_arrows,
    turn_back_arrows,
)
from archsim.model.host_attributes import check_host, host_of
from archsim.model.kinds import (
    Kind,
    Layer,
    Relation,
    events_named,
    kind_from_names,
    misspells_relation,
    names_past_event,
    names_protocol,
    normalise_relation,
    suggest_relation,
    target_kind_of,
)
from archsim.model.naming import a_kind
from archsim.model.rate_curve import check_curve
from archsim.model.records import build, replacer
from archsim.model.references import check_references
from archsim.model.resolve import (
    read_data_reads,
    relation_for_label,
    resolve_kinds,
    shown_label,
)
from archsim.model.unused import check_unused_links
from archsim.model.weights import check_weights

__all__ = ["LoadResult", "load", "read_architecture", "read_graph"]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """A loaded architecture and the warnings found on the way."""

    architecture: Architecture
    diagnostics: tuple[Diagnostic, ...] = ()


def _label(attrs: dict[str, Attr], default: str) -> str:
    """The label as written: an HTML label keeps its outer ``<…>`` so readers can tell."""
    attr = shown_label(attrs)  # an icon's xlabel or image name when its label is empty
    if attr is None:
        return default
    return f"<{attr.value}>" if attr.is_html else attr.value


def _raw(attrs: dict[str, Attr]) -> dict[str, str]:
    return {k: a.value for k, a in attrs.items()}


def _relation(edge: DotEdge, reader: Reader) -> tuple[Relation | None, str]:
    """The relation an edge states and its label text; (None, text) when it states none: no
    label, a protocol (``REST``) or other free text (the loader then reads it by its target)."""
    attr = edge.attrs.get("relation") or edge.attrs.get("label")
    if attr is None:
        return None, ""
    relation = normalise_relation(attr.value)
    label = edge.attrs["label"].value if "label" in edge.attrs else attr.value
    if relation is None and "relation" in edge.attrs:
        _unknown_relation(edge, attr, reader)
    return relation, label  # a label that reads like a typo is judged once kinds are known


def _relations(edges: list[DotEdge], reader: Reader) -> list[tuple[Relation | None, str]]:
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


def _mistyped(label: str, target: Kind) -> bool:
    """A label that looks like a typo of a relation the target could take (``subscibes to`` a
    broker); near one it could not (``send message`` to a service is not ``sends messages``,
    publishing to a broker) it is free text."""
    near = misspells_relation(label)
    relation = normalise_relation(near) if near else None
    wants = target_kind_of(relation) if relation else None
    return relation is not None and wants in (None, target)


def _unknown_relation(edge: DotEdge, attr: Attr, reader: Reader) -> None:
    close = suggest_relation(attr.value)
    known = ", ".join(r.label for r in Relation)
    reader.error(
        f"unknown relation '{attr.value}' on {edge.source} -> {edge.target}",
        attr.location,
        f"did you mean '{close}'?" if close else f"use one of: {known}",
        "unknown-relation",
    )


def _read_by_target(
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
    else:
        message, severity, code = (
            f"label '{label}' on {edge.source} -> {edge.target} names no relation; {how}",
            Severity.WARNING,
            "free-label",
        )
    events: tuple[str, ...] = ()
    pubsub = rel in (Relation.PUBLISHES_TO, Relation.SUBSCRIBES_TO)
    if code == "free-label" and pubsub and not {"event", "events"} & edge.attrs.keys():
        events = events_named(label)
    if events:
        named = ", ".join(f"'{e}'" for e in events)
        s = "s" if len(events) > 1 else ""
        if names_past_event(label):
            # an event's name in the past tense says what the edge carries, as a protocol says
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


def _names_kind(text: str) -> bool:
    """True when a ``type`` value names a kind (``broker``, ``database``, ``service``)."""
    if text.strip().lower().replace(" ", "_") in {k.value for k in Kind}:
        return True
    return kind_from_names("", text, None)[0] is not Kind.SERVICE


def _component(
    node: DotNode, kind: tuple[Kind, str], group: str | None, reader: Reader
) -> Component | None:
    values = reader.typed(node.attrs, A.NODE_ATTRIBUTES, f"'{node.id}'")
    check_curve(node, values, reader)
    if "write_time" in values and kind[0] is not Kind.DATABASE:
        reader.warn(f"write_time of '{node.id}' is ignored: only a database has writes",
                    node.attrs["write_time"].location, "give the time to service_time",
                    "ignored-attribute")  # fmt: skip
    defaults = A.KIND_DEFAULTS[kind[0]]
    layer = None
    if "type" in node.attrs:
        try:
            layer = Layer(node.attrs["type"].value.strip().lower())
        except ValueError:
            if not _names_kind(node.attrs["type"].value):
                reader.warn(
                    f"type '{node.attrs['type'].value}' of '{node.id}' is neither a layer "
                    "('application', 'technology') nor a kind; the layer is left unset",
                    node.attrs["type"].location,
                    f"use kind= for the kind ({', '.join(k.value for k in Kind)})",
                    code="unknown-type",
                )
    label = _label(node.attrs, node.id)
    explicit = tuple(k for k in node.attrs if k in A.NODE_ATTRIBUTES)
    try:
        return Component(
            id=node.id,
            label=label,
            kind=kind[0],
            kind_reason=kind[1],
            layer=layer,
            group=group,
            service_time=values.get("service_time", defaults.service_time),
            workers=values.get("workers", defaults.workers),
            replicas=values.get("replicas", A.DEFAULT_REPLICAS),
            concurrency=values.get("concurrency", defaults.concurrency),
            connections=values.get("connections", A.DEFAULT_CONNECTIONS),
            queue_limit=values.get("queue_limit"),
            timeout=values.get("timeout"),
            retries=values.get("retries"),
            error_rate=values.get("error_rate", 0.0),
            hit_ratio=values.get("hit_ratio"),
            latency=values.get("latency", 0.0),
            cost=values.get("cost", defaults.cost),
            mix=values.get("mix"),
            operation_time=values.get("operation_time"),
            write_time=values.get("write_time"),
            cpu_power=values.get("cpu_power", 1.0),
            cpu_at=values.get("cpu_at"),
            resource=values.get("resource"),
            explicit=explicit,
            attrs=_raw(node.attrs),
            comments=node.comments,
            source={"line": node.location.line, "col": node.location.col},
        )
    except ValueError as exc:  # pydantic range checks the parsers above already mostly cover
        reader.error(f"'{node.id}': {exc}", node.location, code="bad-attribute")
        return None


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


class _EdgeReadings:
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
    return values, explicit, _raw(edge.attrs)


def _link(
    edge: DotEdge,
    relation: Relation,
    label: str,
    reader: Reader,
    carried: tuple[str, ...] = (),
    readings: _EdgeReadings | None = None,
) -> Link | RepeatedLink | None:
    """The link an edge says (None when it is invalid, reported). An edge that reads as a link
    already validated (``readings``) is a copy of it with its own ends, place and comments; a
    ``RepeatedLink`` when it also repeats a link built and names no event: only its key and
    place matter (``check_links`` warns, ``_merged`` drops it)."""
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


@contextmanager
def _paused_gc() -> Iterator[None]:
    # Loading builds tens of thousands of long-lived objects and no cycles worth collecting;
    # the cyclic GC's repeated passes over the growing heap cost a quarter of the time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            _to_oldest_generation()
            gc.enable()


def _to_oldest_generation() -> None:
    # What loading built lives as long as the model. Left in the young generation, all of it
    # is traversed by the first collection after the collector is back on (0.1-0.4 s at
    # 10,000 links, ~1 s at 100,000); freeze + unfreeze moves it to the oldest generation in
    # one step instead. Skipped when something else keeps objects frozen: unfreezing would
    # release theirs.
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def read_architecture(text: str, file: str | None = None) -> LoadResult:
    """Parse and check DOT text; raise ``InvalidModelError`` listing every error found."""
    with _paused_gc():
        return _read(text, file)


def read_graph(
    graph: DotGraph,
    file: str | None = None,
    implied: Mapping[str, Mapping[str, str]] | None = None,
) -> LoadResult:
    """Check a DOT syntax tree and build the Architecture from it, exactly as
    ``read_architecture`` does after parsing; a model's edits (``apply_overrides``) are read
    this way, without writing DOT text and parsing it again. ``implied``: attributes of the
    components the rules imply, by id (no statement draws them, so the tree cannot hold them)."""
    reader = Reader(file)
    if not graph.nodes:
        pick_graph(DotDocument([graph], file), reader)
        raise InvalidModelError(reader.diagnostics[0].message, diagnostics=reader.diagnostics)
    with _paused_gc():
        return _build(graph, reader, file, implied)


def _read(text: str, file: str | None) -> LoadResult:
    reader = Reader(file)
    if len(text) > MAX_INPUT_BYTES // 4:  # characters: at most 4 bytes each in UTF-8
        check_size(len(text.encode("utf-8", errors="replace")), file)
    doc = parse_dot(text, file)
    graph = pick_graph(doc, reader)
    if graph is None or not graph.nodes:
        raise InvalidModelError(reader.diagnostics[0].message, diagnostics=reader.diagnostics)
    return _build(graph, reader, file)


def _records(
    graph: DotGraph, node_group: dict[str, str], reader: Reader
) -> tuple[list[Component | None], list[Link | RepeatedLink], dict[str, tuple[Kind, str]]]:
    """The components and links the statements of ``graph`` say (None for a component that
    failed), and the kinds of its nodes. What it keeps per edge on the way (relations, labels,
    events carried: ~0.2 KB an edge) is freed when it returns."""
    labelled = _relations(graph.edges, reader)
    read_data_reads(graph, labelled, reader)
    carried = read_flow_arrows(graph, labelled, reader)
    read_store_arrows(graph, labelled, reader)
    relations = [rel for rel, _ in labelled]
    labels = [label for _, label in labelled]
    del labelled  # a tuple an edge
    kinds = resolve_kinds(graph, relations, reader)
    for index, edge in enumerate(graph.edges):
        label = labels[index]
        if relations[index] is None and "relation" not in edge.attrs:
            if label and _mistyped(label, kinds[edge.target][0]):
                _unknown_relation(edge, edge.attrs["label"], reader)
                continue  # a typo is not read as something else
            ends = (kinds[edge.source][0], kinds[edge.target][0])
            rel = relation_for_label(*ends, label)
            relations[index] = rel
            carried[index] = _read_by_target(edge, rel, ends, label, reader)
    components = [
        _component(node, kinds[node.id], node_group.get(node.id), reader)
        for node in graph.nodes.values()
    ]
    readings = _EdgeReadings()
    links = [
        _link(edge, known, labels[i], reader, carried.get(i, ()), readings)
        for i, edge in enumerate(graph.edges)
        if (known := relations[i]) is not None
    ]
    return components, [link for link in links if link is not None], kinds


def _merged(links: list[Link | RepeatedLink]) -> tuple[Link, ...]:
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


def _build(
    graph: DotGraph,
    reader: Reader,
    file: str | None,
    implied: Mapping[str, Mapping[str, str]] | None = None,
) -> LoadResult:
    """From a picked graph to the checked Architecture (every check after parsing)."""
    check_declarations(graph, reader)
    turn_back_arrows(graph, reader)
    drop_arrows_to_people(graph, reader)
    drop_observer_arrows(graph, reader)
    clusters = {s.name: s for s in graph.subgraphs if s.name and s.name.startswith("cluster")}
    node_group = _groups_of_nodes(graph, clusters)
    components, links, kinds = _records(graph, node_group, reader)
    graph_values = reader.typed(graph.attrs, A.GRAPH_ATTRIBUTES, "the graph")
    check_host(graph_values, graph, reader)
    if reader.failed:
        raise reader.failure()
    check_links(links, kinds, graph, reader)
    if reader.failed:
        raise reader.failure()
    unique = _merged(links)
    del links  # the duplicates (half the links of the largest files) go with it: ~0.4 KB each
    arch = Architecture(
        name=graph.name or "architecture",
        file=file,
        network_latency=graph_values.get("network_latency", A.DEFAULT_NETWORK_LATENCY_S),
        default_timeout=graph_values.get("default_timeout", A.DEFAULT_TIMEOUT_S),
        host=host_of(graph_values),
        attrs=_raw(graph.attrs),
        comments=graph.comments,
        components=tuple(c for c in components if c is not None),
        links=unique,
        groups=tuple(
            Group(
                id=name,
                label=_label(sub.attrs, name),
                parent=sub.parent if sub.parent in clusters else None,
                members=tuple(n for n in sub.nodes if node_group.get(n) == name),
                attrs=_raw(sub.attrs),
                comments=sub.comments,
            )
            for name, sub in clusters.items()
        ),
        behaviour=Behaviour(),
    )
    # the components the rules imply first: derived steps name them (rule auth.accounts)
    arch = arch.model_copy(update={"implied": implied_stores(arch, implied)})
    arch = arch.model_copy(update={"behaviour": derive_behaviour(arch)})
    check_entries(arch, graph, reader)
    check_weights(sibling_groups(arch), graph, reader)
    _check_operation_times(arch, graph, reader)
    check_name_clashes(arch, reader)
    check_route_clashes(arch, reader)
    check_account_clashes(arch, reader)
    check_references(arch, graph, reader)
    check_unused_links(arch, file, reader)
    check_dead_letters(arch, file, reader)
    check_cycles(arch, graph, reader)
    if reader.failed:
        raise reader.failure()
    return LoadResult(arch, tuple(reader.diagnostics))


def _groups_of_nodes(graph: DotGraph, clusters: dict[str, Any]) -> dict[str, str]:
    """Innermost cluster of each node (subgraphs that are not clusters do not draw a box)."""
    depth: dict[str, int] = {}
    for name, sub in clusters.items():
        level, parent = 0, sub.parent
        while parent is not None:
            level += 1
            parent = next((s.parent for s in graph.subgraphs if s.name == parent), None)
        depth[name] = level
    owner: dict[str, str] = {}
    for name in sorted(clusters, key=lambda n: depth[n]):
        for node in clusters[name].nodes:
            # a deeper (nested) cluster wins; of two side by side, the first the node appears
            # in (a service that an edge inside the databases' cluster mentions stays put)
            if node not in owner or depth[owner[node]] < depth[name]:
                owner[node] = name
    return owner


def _check_operation_times(arch: Architecture, graph: DotGraph, reader: Reader) -> None:
    """``operation_time`` may only name operations the component has (after derivation)."""
    for comp in arch.components:
        if not comp.operation_time:
            continue
        names = [op.name for op in arch.behaviour.operations_of(comp.id)]
        for name in comp.operation_time:
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
                reader.error(
                    f"operation_time of '{comp.id}' names '{name}', which it does not offer",
                    graph.nodes[comp.id].attrs["operation_time"].location,
                    f"did you mean '{close[0]}'?"
                    if close
                    else f"its operations: {', '.join(names)}",
                    "unknown-operation",
                )


def load(path: str | Path) -> LoadResult:
    """Read a DOT file from disk and load it (see ``read_architecture``)."""
    path = Path(path)
    try:
        data = read_dot_bytes(str(path))
    except FileNotFoundError:
        raise InvalidModelError(
            f"no such file: {path}", Location(str(path)), "check the path", code="no-file"
        ) from None
    except IsADirectoryError:
        raise InvalidModelError(
            f"{path} is a directory", Location(str(path)), "name a .dot file", code="no-file"
        ) from None
    except OSError as exc:
        raise InvalidModelError(
            f"cannot read {path}: {exc.strerror}", Location(str(path)), code="no-file"
        ) from None
    return read_architecture(decode_dot(data, str(path)), str(path))
