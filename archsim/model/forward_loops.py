"""Load balancers and gateways that forward requests round in a loop (``g1 routes to g2``,
``g2 routes to g1``; a gateway that routes to itself) are refused before any behaviour is
derived: a request sent in would be forwarded forever, and following the forwards to find what
a call into a proxy asks for would never end (docs/model.md, ``forward-loop``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from archsim.model.architecture import Link
from archsim.model.checks import Reader, RepeatedLink
from archsim.model.digraph import find_cycle
from archsim.model.dot.ast import DotGraph
from archsim.model.kinds import Kind, Relation

__all__ = ["check_forward_loops"]

# what each kind of proxy forwards over (archsim.model.entries.forwards)
_FORWARDS = {
    Kind.LOAD_BALANCER: frozenset({Relation.DISTRIBUTES_TO}),
    Kind.GATEWAY: frozenset({Relation.ROUTES_TO, Relation.CALLS}),
}


def check_forward_loops(
    links: Sequence[Link | RepeatedLink],
    kinds: Mapping[str, tuple[Kind, str]],
    graph: DotGraph,
    reader: Reader,
) -> None:
    """An error for the first loop of forwards between proxies (one is enough: the file is
    refused, and the loop's links are named)."""
    successors: dict[str, list[str]] = {}
    for link in links:
        relations = _FORWARDS.get(kinds[link.source][0])
        if relations and link.relation in relations:
            successors.setdefault(link.source, []).append(link.target)
    cycle = find_cycle(successors)
    if cycle is None:
        return
    first = next(e for e in graph.edges if (e.source, e.target) == cycle[0])
    path = " → ".join([cycle[0][0], *(target for _, target in cycle)])
    reader.error(
        f"requests would be forwarded round in a loop: {path}",
        first.location,
        "a load balancer or gateway forwards to what serves the request: point one of these "
        'links at a service, or set kind="service" on the component that does the work',
        "forward-loop",
    )
