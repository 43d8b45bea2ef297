"""Model → DOT: write an Architecture back as canonical DOT (``archsim fmt``).

Everything the file said is kept (attributes as written, comments, clusters), so reading the
output gives an equal model: ``read(write(m)).structure() == m.structure()``.
"""

from __future__ import annotations

from archsim.errors import Location
from archsim.model.architecture import Architecture, SourceRef
from archsim.model.dot import write_dot
from archsim.model.dot.ast import Attr, DotEdge, DotGraph, DotNode, DotSubgraph

__all__ = ["to_dot", "to_dot_graph"]

_NOWHERE = Location()


def _attrs(raw: dict[str, str], where: Location = _NOWHERE) -> dict[str, Attr]:
    return {
        k: Attr(k, v, where, is_html=v.startswith("<") and v.endswith(">"))
        for k, v in raw.items()
    }


def _at(file: str | None, ref: SourceRef | None) -> Location:
    """Where the model says a statement was written (nowhere when it does not know)."""
    return Location(file, ref.line, ref.col) if ref is not None else _NOWHERE


def to_dot_graph(arch: Architecture) -> DotGraph:
    """The architecture as a DOT syntax tree; nodes, edges and their attributes carry the
    positions the model kept from its file (so a check on the tree points into the file)."""
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
        where = _at(arch.file, comp.source)
        attrs = _attrs(comp.attrs, where)
        if "label" in attrs and comp.label == f"<{attrs['label'].value}>":
            # an HTML label whose text does not end in a tag (<b>Customer</b><br/>[Person])
            attrs["label"] = Attr("label", attrs["label"].value, where, is_html=True)
        node = DotNode(
            id=comp.id,
            location=where,
            attrs=attrs,
            own_keys=tuple(attrs),
            comments=comp.comments,
            subgraph=comp.group,
        )
        graph.nodes[comp.id] = node
        graph.declarations.append(node)
    for link in arch.links:
        where = _at(arch.file, link.source_ref)
        attrs = _attrs(link.attrs, where)
        graph.edges.append(
            DotEdge(
                source=link.source,
                target=link.target,
                location=where,
                attrs=attrs,
                own_keys=tuple(attrs),
                comments=link.comments,
            )
        )
    return graph


def to_dot(arch: Architecture) -> str:
    """The architecture as canonical DOT text, one statement per line."""
    return write_dot(to_dot_graph(arch))
