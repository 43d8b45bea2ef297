"""Coupling smells: cycles of synchronous calls, deep synchronous chains, hub-like components.

Cycles follow Arcan's cyclic dependency (reported per strongly connected group, with one
example cycle), hub-like follows Arcan's hub-like dependency (fan-in and fan-out both above the
system's median and balanced); chains are the longest synchronous call paths.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterator

import networkx as nx

from archsim.analysis.context import Context
from archsim.analysis.findings import Finding, Rule
from archsim.errors import Severity
from archsim.model import Relation

__all__ = ["CHAIN_EXCLUDED", "RULES", "longest_chains"]

#: Forwarding hops do not compose work: a balancer or gateway in front does not deepen a chain.
CHAIN_EXCLUDED = frozenset({Relation.DISTRIBUTES_TO, Relation.ROUTES_TO})
_CYCLE_COUNT_CAP = 100


def _cycles(ctx: Context) -> Iterator[Finding]:
    sync = ctx.sync
    for scc in nx.strongly_connected_components(sync):
        if len(scc) == 1:
            node = next(iter(scc))
            if not sync.has_edge(node, node):
                continue
        sub = sync.subgraph(scc)
        members = sorted(scc, key=list(sync.nodes).index)
        # From the first member in file order: a subgraph view of a big graph iterates its
        # nodes in set (hash) order, which made the example differ from run to run.
        example = [u for u, _ in nx.find_cycle(sub, source=members[0])]
        count = sum(1 for _ in itertools.islice(nx.simple_cycles(sub), _CYCLE_COUNT_CAP))
        counted = f"{count}{'+' if count == _CYCLE_COUNT_CAP else ''} cycle" + "s" * (count > 1)
        path = " → ".join([*example, example[0]])
        text = (
            f"synchronous call cycle: {path}"
            if len(scc) <= 3
            else f"{len(scc)} components call each other synchronously in {counted}, e.g. {path}"
        )
        yield SYNC_CYCLE.finding(members, text)


def longest_chains(ctx: Context) -> dict[str, list[str]]:
    """Per component that starts a chain (no synchronous caller), its longest synchronous call
    chain as component ids; a cycle counts as one step (it is reported on its own)."""
    chain: nx.DiGraph[str] = nx.DiGraph()
    chain.add_nodes_from(ctx.graph.nodes)
    chain.add_edges_from(
        (u, v)
        for u, v, d in ctx.graph.edges(data=True)
        if d["interaction"].value == "sync" and d["relation"] not in CHAIN_EXCLUDED and u != v
    )
    dag = nx.condensation(chain)
    first = {scc: sorted(data["members"])[0] for scc, data in dag.nodes(data=True)}
    depth: dict[int, int] = {}
    best: dict[int, int | None] = {}
    for scc in reversed(list(nx.topological_sort(dag))):
        depth[scc], best[scc] = 0, None
        for succ in dag.successors(scc):
            if depth[succ] + 1 > depth[scc]:
                depth[scc], best[scc] = depth[succ] + 1, succ
    out: dict[str, list[str]] = {}
    for scc in dag.nodes:
        if dag.in_degree(scc) or not depth[scc]:
            continue
        path, node = [first[scc]], best[scc]
        while node is not None:
            path.append(first[node])
            node = best[node]
        out[first[scc]] = path
    return out


def _chains(ctx: Context) -> Iterator[Finding]:
    limit = ctx.max_chain_depth
    for start, path in longest_chains(ctx).items():
        if len(path) - 1 > limit:
            yield DEEP_CHAIN.finding(
                path,
                f"synchronous call chain of depth {len(path) - 1} (limit {limit}) from {start}: "
                + " → ".join(path),
            )


def _hubs(ctx: Context) -> Iterator[Finding]:
    deps = ctx.dependencies
    nodes = [n for n in deps.nodes if deps.degree(n)]
    if not nodes:
        return
    fan_in = {n: deps.in_degree(n) for n in nodes}
    fan_out = {n: deps.out_degree(n) for n in nodes}
    med_in, med_out = statistics.median(fan_in.values()), statistics.median(fan_out.values())
    least = ctx.config.hub_min_degree
    for n in nodes:
        fi, fo = fan_in[n], fan_out[n]
        if fi > med_in and fo > med_out and min(fi, fo) >= least and abs(fi - fo) < (fi + fo) / 4:
            callers = ", ".join(sorted(deps.predecessors(n)))
            yield HUB_LIKE.finding(
                [n],
                f"{n} is a hub: {fi} components depend on it ({callers}) and it depends on "
                f"{fo} (system medians: fan-in {med_in:g}, fan-out {med_out:g})",
            )


SYNC_CYCLE = Rule(
    id="sync-cycle",
    severity=Severity.ERROR,
    title="Cycle of synchronous calls",
    source="Arcan: cyclic dependency (CD), on the synchronous call graph",
    why="a request can wait on itself: timeouts cascade, deploys need lock-step, and "
    "load amplifies around the loop",
    fix="break the cycle: move the shared logic into one service, or make one direction "
    "asynchronous (publish an event instead of calling back)",
    check=_cycles,
)
DEEP_CHAIN = Rule(
    id="deep-sync-chain",
    severity=Severity.WARNING,
    title="Deep synchronous call chain",
    source="Taibi et al.: the latency/availability side of 'too many synchronous calls'",
    why="latency adds up and availability multiplies down along the chain; "
    "one slow link stalls every caller above it",
    fix="collapse steps, cache or replicate the data the chain fetches, or make the tail "
    "asynchronous; raise the limit with analyze_max_chain_depth if it is intended",
    check=_chains,
)
HUB_LIKE = Rule(
    id="hub-like",
    severity=Severity.WARNING,
    title="Hub-like component",
    source="Arcan: hub-like dependency (HL), on sync and async links",
    why="a hub concentrates change and failure: everything upstream breaks with it, and it "
    "breaks with everything downstream",
    fix="split it by responsibility, or put an event/API boundary between its callers and "
    "its dependencies",
    check=_hubs,
)

RULES = (SYNC_CYCLE, DEEP_CHAIN, HUB_LIKE)
