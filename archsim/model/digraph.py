"""The few directed-graph algorithms the model needs, on plain ``node -> successors`` mappings.

Loading a model used to import networkx for three of them (condensation, find_cycle, has_path),
which cost every command ~0.15 s of start-up before any work, and building its graphs (a dict
per edge) cost more than the walks themselves on large files. The analysis uses the same
strongly-connected-groups function (``archsim.analysis.opgraph`` re-exports it).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

__all__ = ["find_cycle", "groups_callees_first", "reaches"]

N = TypeVar("N", bound=Hashable)


def groups_callees_first(successors: Mapping[N, Iterable[N]]) -> list[list[N]]:
    """Strongly connected groups of a graph given as ``node -> successors`` (every node a key),
    each group after every group it reaches (Tarjan's algorithm, iterative).
    """
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    stack: list[N] = []
    on_stack: set[N] = set()
    out: list[list[N]] = []
    for root in successors:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(successors[root]))]
        while work:
            node, todo = work[-1]
            for nxt in todo:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(successors[nxt])))
                    break
                if nxt in on_stack and index[nxt] < low[node]:
                    low[node] = index[nxt]
            else:  # every successor done: close the node
                work.pop()
                if work and low[node] < low[work[-1][0]]:
                    low[work[-1][0]] = low[node]
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    out.append(group)
    return out


def find_cycle(successors: Mapping[N, Iterable[N]]) -> list[tuple[N, N]] | None:
    """The edges of the first cycle a depth-first walk meets (roots and successors in the
    mapping's order, as ``networkx.find_cycle`` walks), or None when the graph has none."""
    done: set[N] = set()
    for root in successors:
        if root in done:
            continue
        path: list[N] = [root]
        on_path = {root: 0}
        work = [iter(successors.get(root, ()))]
        while work:
            for nxt in work[-1]:
                if nxt in on_path:
                    start = on_path[nxt]
                    nodes = [*path[start:], nxt]
                    return list(itertools.pairwise(nodes))
                if nxt not in done:
                    on_path[nxt] = len(path)
                    path.append(nxt)
                    work.append(iter(successors.get(nxt, ())))
                    break
            else:
                work.pop()
                node = path.pop()
                del on_path[node]
                done.add(node)
    return None


def reaches(successors: Mapping[N, Iterable[N]], source: N, target: N) -> bool:
    """True when ``target`` can be reached from ``source`` (a node reaches itself)."""
    if source == target:
        return True
    seen = {source}
    todo = [source]
    while todo:
        for nxt in successors.get(todo.pop(), ()):
            if nxt == target:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False
