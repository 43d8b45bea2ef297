"""What each component becomes in a generated stack, and in which order the stack starts.

Application components (services, gateways, auth, config) become FastAPI apps; the others become
processes the runtime provides (registry, load balancer, Redis-protocol server, SMTP sink,
provider sandbox) or, for databases, a URL.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from archsim.model import Architecture, Component, Kind, Relation, to_networkx
from archsim.model.cdc import connectors
from archsim.model.naming import snake

__all__ = ["Process", "plan_processes", "role_of"]

_ROLE = {
    Kind.GATEWAY: "service",
    Kind.SERVICE: "service",
    Kind.AUTH: "service",
    Kind.CONFIG: "service",
    Kind.REGISTRY: "registry",
    Kind.LOAD_BALANCER: "balancer",
    Kind.CACHE: "redis",
    Kind.BROKER: "redis",
}


@dataclass(frozen=True)
class Process:
    """One component that runs as a process of the local stack."""

    component: Component
    role: str  # service, registry, balancer, redis, smtp_sink, sandbox
    stage: int  # start order: everything of stage n is ready before stage n+1 starts
    module: str  # python package of a generated service (``services.order_service``)


def role_of(arch: Architecture, comp: Component) -> str | None:
    """The process role of a component (None for databases: they are URLs, not processes; and
    for clients: the load test plays them)."""
    if comp.kind in (Kind.DATABASE, Kind.CLIENT):
        return None
    if comp.kind is Kind.EXTERNAL:
        return "smtp_sink" if arch.links_to(comp.id, Relation.SENDS_VIA) else "sandbox"
    return _ROLE[comp.kind]


def plan_processes(arch: Architecture) -> list[Process]:
    """Processes in start order: a component starts after everything it depends on."""
    graph = to_networkx(arch)
    deps: nx.DiGraph[str] = nx.DiGraph()
    deps.add_nodes_from(c.id for c in arch.components)
    deps.add_edges_from(graph.edges())  # source needs target up first, for every relation
    # Cycles (a calls b calls a) collapse into one stage; discovery copes with either order.
    condensed = nx.condensation(deps)
    stage_of_scc: dict[int, int] = {}
    for scc in reversed(list(nx.topological_sort(condensed))):
        below = [stage_of_scc[s] for s in condensed.successors(scc)]
        stage_of_scc[scc] = 1 + max(below) if below else 0
    mapping = condensed.graph["mapping"]
    processes = []
    relays = connectors(arch)  # a CDC connector is infrastructure: the writes publish
    for comp in arch.components:
        role = role_of(arch, comp)
        if role is None or comp.id in relays:
            continue
        processes.append(
            Process(comp, role, stage_of_scc[mapping[comp.id]], f"services.{snake(comp.id)}")
        )
    return sorted(processes, key=lambda p: (p.stage, p.component.id))
