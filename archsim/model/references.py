"""References of the derived behaviour, resolved at validation time.

Every call step must name an operation its target offers, every event consumer and every entry
an existing operation. When one does not, the file says something the model cannot run
(``operation="nosuch"`` on a call link, or a label that makes a called component a database);
the error points at the link (or attribute) that made the reference, with a hint.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from archsim.errors import Location
from archsim.model.architecture import Architecture
from archsim.model.behaviour import Step, StepAction
from archsim.model.checks import Reader
from archsim.model.dot.ast import DotEdge, DotGraph
from archsim.model.kinds import Relation
from archsim.model.relation_words import normalise_relation

__all__ = ["check_references", "edge_of", "walk_steps"]


def walk_steps(steps: tuple[Step, ...]) -> Iterator[Step]:
    """Every step, including those run on a cache miss, in order."""
    for step in steps:
        yield step
        if step.on_miss:
            yield from walk_steps(step.on_miss)


def edge_of(graph: DotGraph, source: str, target: str, relation: Relation | None) -> DotEdge | None:
    """The DOT edge ``source -> target`` (of ``relation`` when it is labelled so), if any."""
    fallback = None
    for edge in graph.edges:
        if edge.source == source and edge.target == target:
            label = edge.attrs.get("relation") or edge.attrs.get("label")
            if relation is None or (label is not None and _is(label.value, relation)):
                return edge
            fallback = fallback or edge
    return fallback


def _is(text: str, relation: Relation) -> bool:
    return normalise_relation(text) is relation


def check_references(arch: Architecture, graph: DotGraph, reader: Reader) -> None:
    """Report calls, consumers and entries that name an operation nobody offers."""
    behaviour = arch.behaviour
    offered: dict[str, dict[str, None]] = {}  # ordered, and membership is a hash lookup
    for op in behaviour.operations:
        offered.setdefault(op.component, {})[op.name] = None
    reported: set[tuple[str, str, str]] = set()
    for op in behaviour.operations:
        for step in walk_steps(op.steps):
            if step.action is not StepAction.CALL:
                continue
            target, name = step.target or "", step.operation or ""
            if name in offered.get(target, ()):
                continue
            key = (op.component, target, name)
            if key in reported:
                continue
            reported.add(key)
            _missing(arch, graph, reader, op.component, step, list(offered.get(target, ())))
    for flow in behaviour.events:
        for ref in flow.consumers:
            if ref.operation not in offered.get(ref.component, ()):
                edge = edge_of(graph, ref.component, flow.broker, Relation.SUBSCRIBES_TO)
                reader.error(
                    f"'{ref.component}' consumes {flow.event} from '{flow.broker}' with "
                    f"'{ref.operation}', which it does not offer",
                    edge.location if edge else Location(reader.file),
                    'check the kind of the consumer (kind="service")',
                    "unknown-operation",
                )
    for entry in behaviour.entries:
        for ref in (entry.operation, entry.target):
            if ref.operation not in offered.get(ref.component, ()):
                node = graph.nodes.get(ref.component)
                reader.error(
                    f"entry {entry.id} reaches '{ref}', which '{ref.component}' does not offer",
                    node.location if node else Location(reader.file),
                    f'check the kind of {ref.component} (kind="service")',
                    "unknown-operation",
                )


def _missing(
    arch: Architecture,
    graph: DotGraph,
    reader: Reader,
    caller: str,
    step: Step,
    names: list[str],
) -> None:
    target, name = step.target or "", step.operation or ""
    edge = edge_of(graph, caller, target, step.relation)
    where = edge.location if edge else Location(reader.file)
    relation = step.relation.label if step.relation else "calls"
    explicit = edge.attrs.get("operation") if edge else None
    if explicit is not None and explicit.value.strip() == name:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        reader.error(
            f"operation=\"{name}\" on {caller} -> {target}: '{target}' offers no operation "
            f"'{name}'",
            explicit.location,
            f"did you mean '{close[0]}'?"
            if close
            else (f"its operations: {', '.join(names)}" if names else "it offers no operations"),
            "unknown-operation",
        )
        return
    comp = arch.by_id.get(target)
    if not names and comp is not None:
        reader.error(
            f"'{caller}' {relation} '{target}', but '{target}' is a {comp.kind.value} "
            f"({comp.kind_reason}), which offers no operations to call",
            where,
            f'set kind="service" on {target} if it is a service, or change the relation',
            "kind-conflict",
        )
        return
    reader.error(
        f"'{caller}' {relation} '{target}'.{name}, which '{target}' does not offer",
        where,
        f"its operations: {', '.join(names)}; name one with operation=…"
        if names
        else f'set kind="service" on {target}, or change the relation',
        "unknown-operation",
    )
