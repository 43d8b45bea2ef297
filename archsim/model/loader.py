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

from archsim.errors import Diagnostic, InvalidModelError, Location
from archsim.model import attributes as A
from archsim.model.accounts import implied_stores
from archsim.model.architecture import Architecture, Component, Group, Link
from archsim.model.behaviour import Behaviour
from archsim.model.cdc import captures
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
from archsim.model.component_attributes import attrs_as_written, label_as_written, read_component
from archsim.model.cycles import check_cycles
from archsim.model.dead_letters import check_dead_letters
from archsim.model.derive import derive_behaviour
from archsim.model.dot import MAX_INPUT_BYTES, check_size, decode_dot, parse_dot, read_dot_bytes
from archsim.model.dot.ast import DotDocument, DotEdge, DotGraph
from archsim.model.edge_relations import (
    mistyped,
    read_by_target,
    read_relations,
    report_unknown_relation,
)
from archsim.model.entries import check_entries, sibling_groups
from archsim.model.event_labels import event_phrase
from archsim.model.flow_arrows import (
    drop_arrows_to_people,
    drop_observer_arrows,
    read_flow_arrows,
    read_store_arrows,
    turn_back_arrows,
)
from archsim.model.forward_loops import check_forward_loops
from archsim.model.host_attributes import check_host, host_of
from archsim.model.kinds import Kind, Relation
from archsim.model.link_reading import EdgeReadings, merged_links, read_link
from archsim.model.notifications import read_store_notifications
from archsim.model.poolers import read_through_poolers
from archsim.model.references import check_references
from archsim.model.relation_words import names_job
from archsim.model.resolve import read_data_reads, relation_for_label, resolve_kinds
from archsim.model.topic_ports import events_by_port
from archsim.model.unused import check_unused_links
from archsim.model.weights import check_weights

__all__ = ["LoadResult", "load", "read_architecture", "read_graph"]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """A loaded architecture and the warnings found on the way."""

    architecture: Architecture
    diagnostics: tuple[Diagnostic, ...] = ()


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
    labelled = read_relations(graph.edges, reader)
    read_data_reads(graph, labelled, reader)
    carried = read_flow_arrows(graph, labelled, reader)
    read_store_arrows(graph, labelled, reader)
    relations = [rel for rel, _ in labelled]
    labels = [label for _, label in labelled]
    del labelled  # a tuple an edge
    kinds = resolve_kinds(graph, relations, reader)
    for index, edge in enumerate(graph.edges):
        label = labels[index]
        if _job_on_no_queue(relations[index], edge, label, kinds):
            relations[index] = None  # one Redis for the cache and the jobs: read by its kind
        if relations[index] is None and "relation" not in edge.attrs:
            if label and mistyped(label, kinds[edge.target][0]):
                report_unknown_relation(edge, edge.attrs["label"], reader)
                continue  # a typo is not read as something else
            ends = (kinds[edge.source][0], kinds[edge.target][0])
            rel = relation_for_label(*ends, label)
            relations[index] = rel
            carried[index] = read_by_target(edge, rel, ends, label, reader)
        elif index not in carried and _names_events(relations[index], edge):
            carried[index] = event_phrase(label)[1]  # "publishes OrderPlaced"
    events_by_port(graph, relations, carried, kinds, reader)
    components = [
        read_component(node, kinds[node.id], node_group.get(node.id), reader)
        for node in graph.nodes.values()
    ]
    readings = EdgeReadings()
    links = [
        read_link(edge, known, labels[i], reader, carried.get(i, ()), readings)
        for i, edge in enumerate(graph.edges)
        if (known := relations[i]) is not None
    ]
    return components, [link for link in links if link is not None], kinds


def _job_on_no_queue(
    rel: Relation | None, edge: DotEdge, label: str, kinds: Mapping[str, tuple[Kind, str]]
) -> bool:
    """A job label (``pulls jobs``) on an edge whose target the votes did not make a broker
    (Mastodon's one Redis, a cache by most of its edges): the label only voted."""
    if rel not in (Relation.PUBLISHES_TO, Relation.SUBSCRIBES_TO) or "relation" in edge.attrs:
        return False
    return kinds[edge.target][0] is not Kind.BROKER and names_job(label)


def _names_events(rel: Relation | None, edge: DotEdge) -> bool:
    """A publish or subscribe edge whose events its label may name: no ``event=``/``events=``."""
    pubsub = rel in (Relation.PUBLISHES_TO, Relation.SUBSCRIBES_TO)
    return pubsub and not {"event", "events"} & edge.attrs.keys()


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
    read_through_poolers(graph, reader)
    read_store_notifications(graph, reader)
    clusters = {s.name: s for s in graph.subgraphs if s.name and s.name.startswith("cluster")}
    node_group = _groups_of_nodes(graph, clusters)
    components, links, kinds = _records(graph, node_group, reader)
    graph_values = reader.typed(graph.attrs, A.GRAPH_ATTRIBUTES, "the graph")
    check_host(graph_values, graph, reader)
    if reader.failed:
        raise reader.failure()
    check_links(links, kinds, graph, reader)
    check_forward_loops(links, kinds, graph, reader)
    if reader.failed:
        raise reader.failure()
    unique = merged_links(links)
    del links  # the duplicates (half the links of the largest files) go with it: ~0.4 KB each
    arch = Architecture(
        name=graph.name or "architecture",
        file=file,
        network_latency=graph_values.get("network_latency", A.DEFAULT_NETWORK_LATENCY_S),
        default_timeout=graph_values.get("default_timeout", A.DEFAULT_TIMEOUT_S),
        host=host_of(graph_values),
        attrs=attrs_as_written(graph.attrs),
        comments=graph.comments,
        components=tuple(c for c in components if c is not None),
        links=unique,
        groups=tuple(
            Group(
                id=name,
                label=label_as_written(sub.attrs, name),
                parent=sub.parent if sub.parent in clusters else None,
                members=tuple(n for n in sub.nodes if node_group.get(n) == name),
                attrs=attrs_as_written(sub.attrs),
                comments=sub.comments,
            )
            for name, sub in clusters.items()
        ),
        behaviour=Behaviour(),
    )
    # the components the rules imply first: derived steps name them (rule auth.accounts)
    arch = arch.model_copy(update={"implied": implied_stores(arch, implied)})
    # the change-data captures: derive's publications and the unused-link check read them
    found = captures(arch)
    arch = arch.model_copy(update={"behaviour": derive_behaviour(arch, found)})
    check_entries(arch, graph, reader)
    check_weights(sibling_groups(arch), graph, reader)
    _check_operation_times(arch, graph, reader)
    check_name_clashes(arch, reader)
    check_route_clashes(arch, reader)
    check_account_clashes(arch, reader)
    check_references(arch, graph, reader)
    check_unused_links(arch, file, reader, found)
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
