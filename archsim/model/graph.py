"""The one networkx view of a model: built here, used by analysis and rendering."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archsim.model.architecture import Architecture

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["to_networkx"]


def to_networkx(arch: Architecture) -> nx.MultiDiGraph:
    """A MultiDiGraph: nodes carry ``component`` (and ``kind``), edges ``link``, ``relation``
    and ``interaction`` (keyed by relation value, so parallel relations stay distinct)."""
    import networkx as nx  # imported on first use: it costs every command ~0.15 s of start-up

    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph(name=arch.name)
    for comp in arch.components:
        graph.add_node(comp.id, component=comp, kind=comp.kind)
    for link in arch.links:
        graph.add_edge(
            link.source,
            link.target,
            key=link.relation.value,
            link=link,
            relation=link.relation,
            interaction=link.interaction,
        )
    return graph
