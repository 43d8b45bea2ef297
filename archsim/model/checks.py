"""Checks of a parsed DOT graph that need no meaning yet: one directed graph with components,
declarations that agree, edges to declared nodes, and links whose ends fit their relation.

``Reader`` collects diagnostics (all of them, so a user sees every problem in one run) and
parses typed attributes; the loader raises once at the end.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from archsim.errors import Diagnostic, InvalidModelError, Location, Severity
from archsim.model import attributes as A
from archsim.model.architecture import Link
from archsim.model.distributions import DISTRIBUTION_SYNTAX
from archsim.model.dot.ast import Attr, DotDocument, DotGraph, DotNode
from archsim.model.kinds import Kind, Relation

__all__ = ["Reader", "RepeatedLink", "check_declarations", "check_links", "pick_graph"]

# Attributes Graphviz itself understands (display); never flagged as typos of ours.
_GRAPHVIZ_ATTRS = frozenset(
    [
        "label",
        "type",
        "shape",
        "color",
        "fillcolor",
        "fontcolor",
        "fontname",
        "fontsize",
        "style",
        "penwidth",
        "width",
        "height",
        "fixedsize",
        "tooltip",
        "URL",
        "href",
        "target",
        "xlabel",
        "headlabel",
        "taillabel",
        "dir",
        "arrowhead",
        "arrowtail",
        "constraint",
        "minlen",
        "group",
        "rank",
        "rankdir",
        "splines",
        "nodesep",
        "ranksep",
        "compound",
        "lhead",
        "ltail",
        "bgcolor",
        "margin",
        "pad",
        "labelloc",
        "labeljust",
        "sides",
        "peripheries",
        "orientation",
        "image",
        "id",
        "class",
        "layer",
        "comment",
        "weight",
    ]
)
_DATA_TARGETS = {
    Relation.STORES_IN: (Kind.DATABASE,),
    Relation.CACHES_IN: (Kind.CACHE,),
    Relation.PUBLISHES_TO: (Kind.BROKER,),
    Relation.SUBSCRIBES_TO: (Kind.BROKER,),
    Relation.REGISTERS_WITH: (Kind.REGISTRY,),
    Relation.READS_FROM: (Kind.CONFIG,),
}


@dataclass
class Reader:
    file: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def report(
        self,
        severity: Severity,
        message: str,
        location: Location,
        hint: str | None = None,
        code: str = "invalid",
    ) -> None:
        self.diagnostics.append(Diagnostic(severity, message, location, hint, code))

    def error(
        self, message: str, location: Location, hint: str | None = None, code: str = "invalid"
    ) -> None:
        self.report(Severity.ERROR, message, location, hint, code)

    def warn(
        self, message: str, location: Location, hint: str | None = None, code: str = "warning"
    ) -> None:
        self.report(Severity.WARNING, message, location, hint, code)

    # -- attributes --------------------------------------------------------------------------

    def typed(
        self, attrs: dict[str, Attr], specs: dict[str, A.AttributeSpec], what: str
    ) -> dict[str, Any]:
        """Parse the attributes archsim knows; report bad values and likely typos."""
        values: dict[str, Any] = {}
        for key, attr in attrs.items():
            spec = specs.get(key)
            if spec is None:
                self._maybe_typo(key, attr, specs, what)
                continue
            try:
                values[key] = spec.parse(attr.value)
            except ValueError as exc:
                hint = (
                    DISTRIBUTION_SYNTAX if key == "service_time" else f"e.g. {key}={spec.example}"
                )
                self.error(f"invalid {key} on {what}: {exc}", attr.location, hint, "bad-attribute")
        return values

    def _maybe_typo(
        self, key: str, attr: Attr, specs: dict[str, A.AttributeSpec], what: str
    ) -> None:
        if key in _GRAPHVIZ_ATTRS:
            return
        close = difflib.get_close_matches(key, list(specs), n=1, cutoff=0.75)
        if close:
            self.warn(
                f"unknown attribute '{key}' on {what} is ignored",
                attr.location,
                f"did you mean '{close[0]}'?",
                "unknown-attribute",
            )

    def failure(self) -> InvalidModelError:
        """All diagnostics (errors first by position) as one InvalidModelError."""
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        ordered = sorted(self.diagnostics, key=lambda d: (d.location.line, d.location.col))
        first = errors[0]
        return InvalidModelError(
            first.message, first.location, first.hint, code=first.code, diagnostics=ordered
        )

    @property
    def failed(self) -> bool:
        """True once any error has been reported."""
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


def pick_graph(doc: DotDocument, reader: Reader) -> DotGraph | None:
    if not doc.graphs:
        reader.error(
            "file holds no graph",
            Location(reader.file, 1, 1),
            'write: digraph my_system { a -> b [label="calls"]; }',
            "empty",
        )
        return None
    for extra in doc.graphs[1:]:
        reader.error(
            f"file holds {len(doc.graphs)} graphs; archsim reads one architecture per file",
            extra.location,
            "move each graph to its own file",
            "several-graphs",
        )
    graph = doc.graphs[0]
    if not graph.directed:
        # Drawings without arrows are common: each "a -- b" reads as written, "a -> b" (a
        # database or broker written first is then turned round like its arrows would be).
        reader.report(
            Severity.INFO,
            f"'{graph.name or 'graph'}' is undirected: each 'a -- b' is read as 'a -> b', "
            "the way it is written",
            graph.location,
            "write 'digraph' instead of 'graph' and '->' instead of '--' to give directions",
            "undirected",
        )
    if not graph.nodes:
        reader.error(
            f"graph '{graph.name or ''}' has no components",
            graph.location,
            'declare components, e.g. api [label="API"]; api -> db [label="stores in"];',
            "empty",
        )
    return graph


def check_declarations(graph: DotGraph, reader: Reader) -> None:
    """Duplicate declarations that disagree, and edges to nodes the file never declares."""
    first: dict[str, DotNode] = {}
    for decl in graph.declarations:
        seen = first.setdefault(decl.id, decl)
        if seen is decl:
            continue
        for key in decl.own_keys:
            if key in seen.own_keys and seen.attrs[key].value != decl.attrs[key].value:
                reader.error(
                    f"'{decl.id}' is declared again with {key}=\"{decl.attrs[key].value}\" "
                    f"(first declared at {seen.location.line}:{seen.location.col} with "
                    f'{key}="{seen.attrs[key].value}")',
                    decl.attrs[key].location,
                    "keep one declaration, or give the second component its own id",
                    "duplicate",
                )
    declared = {n.id for n in graph.nodes.values() if n.declared}
    if 2 * len(declared) <= len(graph.nodes):
        # Most nodes exist only through edges: the file's style is implicit declaration.
        return
    styled = {sub.name for sub in graph.subgraphs if sub.name and sub.node_defaults}
    for node in graph.nodes.values():
        if node.declared or node.subgraph in styled:
            # first seen in the edges of a subgraph that styles its nodes (node [shape=…]):
            # the subgraph declares them, as Graphviz draws them
            continue
        close = difflib.get_close_matches(node.id, sorted(declared), n=1, cutoff=_TYPO)
        if close:  # a misspelt id: Graphviz would silently draw a second, unconnected node
            reader.error(
                f"edge uses '{node.id}', which is never declared "
                "(Graphviz would silently draw a new, unconnected component)",
                node.location,
                f"did you mean '{close[0]}'?",
                "undeclared",
            )
        else:  # a node that is only drawn through its edges, as DOT allows
            reader.report(
                Severity.INFO,
                f"edge uses '{node.id}', which is never declared; read as a component of "
                "its own, as Graphviz draws it",
                node.location,
                f'declare it to say so: "{node.id}" [label="…"];',
                "undeclared",
            )


#: How alike an undeclared id and a declared one must be for the first to be a typo (difflib).
_TYPO = 0.8


class RepeatedLink:
    """An edge that repeats a link already read, names no event and reads as one that
    validated: its checks need only its ends and relation (half the edges of the largest
    files; a validated ``Link`` each cost ~3 µs and ~0.4 KB until merged)."""

    __slots__ = ("relation", "source", "target")
    events: tuple[str, ...] = ()

    def __init__(self, source: str, target: str, relation: Relation) -> None:
        self.source, self.target, self.relation = source, target, relation


def check_links(
    links: list[Link | RepeatedLink],
    kinds: dict[str, tuple[Kind, str]],
    graph: DotGraph,
    reader: Reader,
) -> None:
    """Duplicate links, self links, and relations whose target is the wrong kind."""
    seen: dict[tuple[str, str, Relation], Link] = {}
    named: dict[tuple[str, str, Relation], set[str]] = {}
    for link, edge in zip(links, graph.edges, strict=False):
        key = (link.source, link.target, link.relation)  # ``link.key``, without a call per link
        new_events = False  # one edge per event is not a duplicate
        if link.events:  # (a set per link without events cost 200 bytes each, for nothing)
            events = named.setdefault(key, set())
            new_events = bool(set(link.events) - events)
            events.update(link.events)
        first = seen.get(key)
        if first is None:
            if isinstance(link, Link):  # always: a RepeatedLink repeats a link seen before
                seen[key] = link
        elif not new_events and not graph.strict:  # strict: one edge a pair, as Graphviz draws
            ref = first.source_ref
            at = f" (first at {ref.line}:{ref.col})" if ref is not None else ""
            reader.warn(
                f"duplicate link {link.source} -> {link.target} [{link.relation.label}]"
                f"{at}; it counts once",
                edge.location,
                "remove one of them, or use weight=… to say how much traffic it carries",
                "duplicate-link",
            )
        if link.source == link.target:
            reader.warn(
                f"'{link.source}' {link.relation.label} itself", edge.location, code="self-link"
            )
        expected = _DATA_TARGETS.get(link.relation)
        target_kind = kinds[link.target][0]
        if expected and target_kind not in expected:
            reader.error(
                f"'{link.target}' is a {target_kind.value}, but '{link.relation.label}' needs a "
                f"{' or '.join(k.value for k in expected)}",
                edge.location,
                f'set kind="{expected[0].value}" on {link.target}, or change the relation',
                "relation-target",
            )
