"""The parsed DOT document: plain data with source positions, before any meaning is given.

The parser (``archsim.model.dot.parser``) produces it; the model loader reads it.
Attribute values are kept as the strings written (HTML labels keep their ``<...>`` text
and ``is_html=True``), so nothing is lost between the file and the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archsim.errors import Location

__all__ = ["Attr", "DotDocument", "DotEdge", "DotGraph", "DotNode", "DotSubgraph"]


@dataclass(frozen=True, slots=True)
class Attr:
    """One ``key=value`` pair as written; ``location`` points at the key."""

    key: str
    value: str
    location: Location
    is_html: bool = False


@dataclass(slots=True)
class DotNode:
    """A node statement ``id [attrs]``; a node mentioned only in edges has ``declared=False``.

    ``attrs`` holds the attributes in effect: the ``node [...]`` defaults in scope at the
    statement merged under the statement's own (own ones win). ``own_keys`` names the keys the
    statement itself wrote. ``comments`` are the comment lines right before the statement.
    ``subgraph`` is the innermost subgraph name the node was first declared in (or None).
    """

    id: str
    location: Location
    attrs: dict[str, Attr] = field(default_factory=dict)
    own_keys: tuple[str, ...] = ()
    declared: bool = True
    comments: tuple[str, ...] = ()
    subgraph: str | None = None


@dataclass(slots=True)
class DotEdge:
    """One edge ``source -> target`` (a chain ``a -> b -> c`` yields two edges; a subgraph
    operand ``a -> {b c}`` yields one edge per pair). Ports (``a:p``) are kept in ``*_port``.
    The edges of one statement share one ``attrs`` dict: read it, never change it in place."""

    source: str
    target: str
    location: Location
    attrs: dict[str, Attr] = field(default_factory=dict)
    own_keys: tuple[str, ...] = ()
    comments: tuple[str, ...] = ()
    source_port: str | None = None
    target_port: str | None = None
    subgraph: str | None = None


@dataclass(slots=True)
class DotSubgraph:
    """A ``subgraph name { ... }`` (clusters are subgraphs named ``cluster…``).

    ``parent`` is the enclosing subgraph's name (None at top level); ``nodes`` lists the
    node ids that appear inside it (declared or used in its edges), in order of appearance.
    """

    name: str | None
    location: Location
    attrs: dict[str, Attr] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)
    parent: str | None = None
    comments: tuple[str, ...] = ()
    #: ``node [...]`` defaults written inside this subgraph (nodes that first appear in its edges
    #: take them: the subgraph styles, and so declares, them)
    node_defaults: dict[str, Attr] = field(default_factory=dict)


@dataclass(slots=True)
class DotGraph:
    """One ``[strict] (graph|digraph) [id] { ... }``; nodes keep first-appearance order."""

    name: str | None
    directed: bool
    strict: bool
    location: Location
    attrs: dict[str, Attr] = field(default_factory=dict)
    nodes: dict[str, DotNode] = field(default_factory=dict)
    edges: list[DotEdge] = field(default_factory=list)
    subgraphs: list[DotSubgraph] = field(default_factory=list)
    comments: tuple[str, ...] = ()
    trailing_comments: tuple[str, ...] = ()
    #: every node statement seen, in order, including repeats of the same id (for duplicate checks)
    declarations: list[DotNode] = field(default_factory=list)


@dataclass(slots=True)
class DotDocument:
    """A whole file: normally one graph; the loader reports several as an error."""

    graphs: list[DotGraph]
    file: str | None = None
