"""Model → DOT: write an Architecture back as canonical DOT (``archsim fmt``).

Everything the file said is kept (attributes as written, comments, clusters), so reading the
output gives an equal model: ``read(write(m)).structure() == m.structure()``.
"""

from __future__ import annotations

from archsim.errors import Location
from archsim.model.architecture import Architecture
from archsim.model.dot import write_dot
from archsim.model.dot.ast import Attr, DotEdge, DotGraph, DotNode, DotSubgraph

__all__ = ["to_dot", "to_dot_graph"]

_NOWHERE = Location()


def _attrs(raw: dict[str, str]) -> dict[str, Attr]:
    return {
        k: Attr(k, v, _NOWHERE, is_html=v.startswith("<") and v.endswith(">"))
        for k, v in raw.items()
    }


def to_dot_graph(arch: Architecture) -> DotGraph:
    """The architecture as a DOT syntax tree (positions unset)."""
    graph = DotGraph(
        name=arch.name,
        directed=True,
        strict=False,
        location=_NOWHERE,
        attrs=_attrs(arch.attrs),
        comments=arch.comments,
    )
    for group in arch.groups:
        graph.subgraphs.append(
            DotSubgraph(
                name=group.id,
                location=_NOWHERE,
                attrs=_attrs(group.attrs),
                nodes=list(group.members),
                parent=group.parent,
                comments=group.comments,
            )
        )
    for comp in arch.components:
        attrs = _attrs(comp.attrs)
        node = DotNode(
            id=comp.id,
            location=_NOWHERE,
            attrs=attrs,
            own_keys=tuple(attrs),
            comments=comp.comments,
            subgraph=comp.group,
        )
        graph.nodes[comp.id] = node
        graph.declarations.append(node)
    for link in arch.links:
        attrs = _attrs(link.attrs)
        graph.edges.append(
            DotEdge(
                source=link.source,
                target=link.target,
                location=_NOWHERE,
                attrs=attrs,
                own_keys=tuple(attrs),
                comments=link.comments,
            )
        )
    return graph


def to_dot(arch: Architecture) -> str:
    """The architecture as canonical DOT text, one statement per line."""
    return write_dot(to_dot_graph(arch))
