"""What every rule reads: the model, its networkx view and shared derived data, built once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx

from archsim.analysis.blast import BlastRadius
from archsim.analysis.opgraph import OpGraph, build_op_graph
from archsim.errors import Severity
from archsim.model import Architecture, Interaction, Relation, to_networkx

__all__ = ["DEFAULT_MAX_CHAIN_DEPTH", "AnalysisConfig", "Context"]

DEFAULT_MAX_CHAIN_DEPTH = 3


@dataclass(frozen=True)
class AnalysisConfig:
    """Per-run settings; they override what the file says (``enable`` beats a file disable)."""

    disable: frozenset[str] = frozenset()
    enable: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    max_chain_depth: int | None = None  # None: the file's value or the default (3)
    hub_min_degree: int = 3


@dataclass
class Context:
    """The inputs of one analysis run; heavy views are computed on first use and shared."""

    arch: Architecture
    config: AnalysisConfig
    max_chain_depth: int = DEFAULT_MAX_CHAIN_DEPTH

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The project's one networkx view of the model."""
        return to_networkx(self.arch)

    @cached_property
    def sync(self) -> nx.DiGraph:
        """Components joined by at least one synchronous link (request/response)."""
        return self._subgraph(lambda d: d["interaction"] is Interaction.SYNC)

    @cached_property
    def dependencies(self) -> nx.DiGraph:
        """Runtime coupling between components: synchronous and asynchronous links."""
        wanted = (Interaction.SYNC, Interaction.ASYNC)
        return self._subgraph(lambda d: d["interaction"] in wanted)

    @cached_property
    def activation(self) -> nx.DiGraph:
        """Who can set whom to work: every link, with ``subscribes to`` turned around
        (the broker delivers to its subscriber)."""
        out: nx.DiGraph[str] = nx.DiGraph()
        out.add_nodes_from(self.graph.nodes)
        subscribes = Relation.SUBSCRIBES_TO.value
        out.add_edges_from(
            (v, u) if rel == subscribes else (u, v) for u, v, rel in self.graph.edges(keys=True)
        )
        return out

    @cached_property
    def ops(self) -> OpGraph:
        """Operations reachable from the entry routes (see ``archsim.analysis.opgraph``)."""
        return build_op_graph(self.arch)

    @cached_property
    def blast(self) -> BlastRadius:
        """Blast radius of every component (see ``archsim.analysis.availability``)."""
        return BlastRadius(self.arch, self.ops)

    def _subgraph(self, keep: Callable[[dict[str, Any]], bool]) -> nx.DiGraph[str]:
        out: nx.DiGraph[str] = nx.DiGraph()
        out.add_nodes_from(self.graph.nodes)
        out.add_edges_from((u, v) for u, v, d in self.graph.edges(data=True) if keep(d))
        return out
