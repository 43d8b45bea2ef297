"""Connection poolers drawn between services and their database (PgBouncer, ProxySQL).

Rule database.pooler (docs/behaviour.md, "Kinds"): a node named like a connection pooler or a
database proxy (``PgBouncer``, ``Pgpool``, ``ProxySQL``, ``RDS Proxy``, ``Odyssey``, ``PgCat``)
with no ``kind=`` that points at one database holds no data of its own: the services drawn
into it keep their data in that database. Read as a database, it was the store every query
went to — resources named after it (``GET /api/pgbouncers``) — and its own link to the real
database was drawn, not simulated. Its edges are read through it (``puma -> pgbouncer ->
postgres``: ``puma stores in postgres``, the label kept) and the pooler is left out
(``pooler``, info): its cost, a few hundred microseconds, is in the database's time.
"""

from __future__ import annotations

import dataclasses

from archsim.errors import Severity
from archsim.model.checks import Reader
from archsim.model.dot.ast import DotGraph
from archsim.model.kinds import Kind, kind_from_names, name_has
from archsim.model.resolve import explicit_kind, node_names

__all__ = ["POOLER_WORDS", "read_through_poolers"]

#: Words that name a connection pooler or a proxy in front of one database.
POOLER_WORDS = (
    "pgbouncer", "pg bouncer", "pgpool", "pgpool ii", "proxysql", "rds proxy", "odyssey",
    "pgcat", "connection pooler", "connection pool", "db proxy", "database proxy",
)  # fmt: skip


def read_through_poolers(graph: DotGraph, reader: Reader) -> None:
    """Read each edge into a pooler (the rule above) as an edge to its database, in place,
    and leave the pooler out, saying so."""
    behind = _poolers(graph)
    if not behind:
        return
    kept = []
    for edge in graph.edges:
        if edge.source in behind:
            continue  # the pooler's own edge to its database: read through
        database = behind.get(edge.target)
        if database is None:
            kept.append(edge)
            continue
        kept.append(dataclasses.replace(edge, target=database, target_port=None))
        reader.report(
            Severity.INFO,
            f"{edge.source} -> {edge.target}: {edge.target} pools connections to {database} "
            f"(its name says so); read as {edge.source} -> {database}",
            edge.location,
            f'set kind="database" on {edge.target} if it keeps data of its own',
            "pooler",
        )
    graph.edges[:] = kept
    for node_id in behind:
        del graph.nodes[node_id]  # no data, no process: nothing left to simulate or generate
        for sub in graph.subgraphs:
            if node_id in sub.nodes:
                sub.nodes.remove(node_id)


def _poolers(graph: DotGraph) -> dict[str, str]:
    """Pooler id -> the one database it points at; a pooler with no edge in, or pointing at
    anything else too, is left as drawn."""
    found: dict[str, str] = {}
    for node_id, node in graph.nodes.items():
        if "kind" in node.attrs or not name_has(
            node_id, node_names(graph, node_id)[0], POOLER_WORDS
        ):
            continue
        targets = {edge.target for edge in graph.edges if edge.source == node_id}
        if len(targets) != 1 or not any(edge.target == node_id for edge in graph.edges):
            continue
        (target,) = targets
        if target in graph.nodes and _kind(graph, target) is Kind.DATABASE:
            found[node_id] = target
    return found


def _kind(graph: DotGraph, node_id: str) -> Kind:
    return (
        explicit_kind(graph.nodes[node_id])
        or kind_from_names(node_id, *node_names(graph, node_id))[0]
    )
