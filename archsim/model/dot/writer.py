"""Canonical DOT output: one statement per line, 4-space indent, comments kept.

Order inside each block: graph attributes, node statements, subgraphs (nested), edge
statements. Nodes and edges are written with the attributes in effect (defaults already
merged by the parser), so ``node [...]``/``edge [...]`` statements are not needed, except to
give attributes to nodes that are only mentioned in edges (see ``_write_edge``).
"""

from __future__ import annotations

from archsim.model.dot.ast import Attr, DotDocument, DotEdge, DotGraph, DotSubgraph
from archsim.model.dot.lexer import is_bare_id

__all__ = ["quote_id", "structure", "write_dot"]

_INDENT = "    "


def quote_id(text: str) -> str:
    """``text`` as a DOT id: bare when possible, otherwise quoted with ``"`` escaped."""
    if is_bare_id(text):
        return text
    return '"' + text.replace('"', '\\"') + '"'


def _value(attr: Attr) -> str:
    return f"<{attr.value}>" if attr.is_html else quote_id(attr.value)


def _attr_list(attrs: dict[str, Attr]) -> str:
    if not attrs:
        return ""
    return " [" + ", ".join(f"{quote_id(k)}={_value(a)}" for k, a in attrs.items()) + "]"


def _endpoint(node: str, port: str | None) -> str:
    if port is None:
        return quote_id(node)
    return ":".join([quote_id(node), *(quote_id(p) for p in port.split(":", 1))])


class _Writer:
    def __init__(self, graph: DotGraph) -> None:
        self.graph = graph
        self.lines: list[str] = []
        self.created: set[str] = set()  # nodes already brought into existence in the output
        self.deferred: dict[str, list[str | DotEdge]] = {}
        self.children: dict[str | None, list[DotSubgraph]] = {}
        for sub in graph.subgraphs:
            self.children.setdefault(sub.parent, []).append(sub)
        self.nodes_in: dict[str | None, list[str]] = {}
        for node in graph.nodes.values():
            if node.declared:
                self.nodes_in.setdefault(node.subgraph, []).append(node.id)
        self.edges_in: dict[str | None, list[DotEdge]] = {}
        for edge in graph.edges:
            self.edges_in.setdefault(edge.subgraph, []).append(edge)

    def emit(self, depth: int, text: str, comments: tuple[str, ...] = ()) -> None:
        pad = _INDENT * depth
        for c in comments:
            self.lines.append(f"{pad}// {c}")
        self.lines.append(pad + text)

    def block(self, name: str | None, depth: int) -> None:
        """Everything written inside the graph (``name`` None) or a named subgraph."""
        owner = self.graph if name is None else None
        if owner is not None:
            for key, attr in owner.attrs.items():
                self.emit(depth, f"{quote_id(key)}={_value(attr)};")
        # Nodes come before subgraphs: a node's subgraph is the first one it appears in, so
        # its declaration must precede any mention of it in a nested block.
        for node_id in self.nodes_in.get(name, ()):
            node = self.graph.nodes[node_id]
            self.created.add(node_id)
            self.emit(depth, f"{quote_id(node_id)}{_attr_list(node.attrs)};", node.comments)
        for sub in self.children.get(name, ()):
            if sub.name is not None:
                self.subgraph(sub, depth)
        subtree = self._subtree(name) if name is not None else None
        for edge in self.edges_in.get(name, ()):
            if name is not None and subtree is not None and self._claims_foreign(edge, subtree):
                self.deferred.setdefault(name, []).append(edge)
            else:
                self.edge(edge, depth)
        for sub in self.children.get(name, ()):
            if sub.name is None:
                self.anonymous(sub, depth)

    def subgraph(self, sub: DotSubgraph, depth: int) -> None:
        name = sub.name
        assert name is not None, "anonymous subgraphs are written by anonymous()"
        self.emit(depth, f"subgraph {quote_id(name)} {{", sub.comments)
        for key, attr in sub.attrs.items():
            self.emit(depth + 1, f"{quote_id(key)}={_value(attr)};")
        self.block(name, depth + 1)
        # Members declared elsewhere are listed by id; one whose own declaration is not
        # written yet would be claimed by this block, so it is listed in a reopened block at
        # the end of the graph instead.
        inside = self._inside(name)
        for node_id in sub.nodes:
            if node_id in inside:
                continue
            if node_id in self.created:
                self.emit(depth + 1, f"{quote_id(node_id)};")
            else:
                self.deferred.setdefault(name, []).insert(0, node_id)
        self.emit(depth, "}")

    def reopen(self, depth: int) -> None:
        """Reopen subgraphs (nested as originally) to list their deferred members."""
        parents = {s.name: s.parent for s in self.graph.subgraphs if s.name is not None}
        for name, ids in self.deferred.items():
            path = [name]
            while (parent := parents.get(path[-1])) is not None:
                path.append(parent)
            path.reverse()
            for i, step in enumerate(path):
                self.emit(depth + i, f"subgraph {quote_id(step)} {{")
            for item in ids:
                if isinstance(item, str):
                    self.emit(depth + len(path), f"{quote_id(item)};")
                else:
                    self.edge(item, depth + len(path))
            for i in reversed(range(len(path))):
                self.emit(depth + i, "}")

    def _subtree(self, name: str) -> set[str]:
        """Names of the subgraph ``name`` and of every subgraph nested in it."""
        names = {name}
        stack = [name]
        while stack:
            for child in self.children.get(stack.pop(), ()):
                if child.name is not None and child.name not in names:
                    names.add(child.name)
                    stack.append(child.name)
        return names

    def _claims_foreign(self, edge: DotEdge, subtree: set[str]) -> bool:
        """Would writing ``edge`` here make this block the first home of a node that
        belongs to a block written later (possible when a subgraph name is reopened)?"""
        nodes = self.graph.nodes
        return any(
            n not in self.created and nodes[n].subgraph not in subtree
            for n in (edge.source, edge.target)
        )

    def _inside(self, name: str) -> set[str]:
        """Node ids written in subgraph ``name``'s block or its nested blocks (declarations
        and edges)."""
        ids: set[str] = set()
        for n in self._subtree(name):
            ids.update(self.nodes_in.get(n, ()))
            for e in self.edges_in.get(n, ()):
                ids.add(e.source)
                ids.add(e.target)
        return ids

    def anonymous(self, sub: DotSubgraph, depth: int) -> None:
        """An anonymous subgraph that sets graph attributes (e.g. ``{rank=same; a b}``)."""
        inner = "; ".join(
            [f"{quote_id(k)}={_value(a)}" for k, a in sub.attrs.items()]
            + [quote_id(n) for n in sub.nodes]
        )
        self.emit(depth, f"{{ {inner} }}", sub.comments)

    def edge(self, edge: DotEdge, depth: int) -> None:
        op = " -> " if self.graph.directed else " -- "
        text = (
            _endpoint(edge.source, edge.source_port)
            + op
            + _endpoint(edge.target, edge.target_port)
            + _attr_list(edge.attrs)
            + ";"
        )
        # A node only mentioned in edges takes the node defaults in scope where it first
        # appears; re-create that with a scoped default block so nothing is lost.
        nodes = self.graph.nodes
        fresh = [nodes[n] for n in dict.fromkeys((edge.source, edge.target))]
        fresh = [n for n in fresh if n.id not in self.created]
        self.created.update(n.id for n in fresh)
        first = fresh[0].attrs if fresh else None
        if first and all(not n.declared and n.attrs == first for n in fresh):
            self.emit(depth, "{")
            self.emit(depth + 1, f"node{_attr_list(first)};")
            self.emit(depth + 1, text, edge.comments)
            self.emit(depth, "}")
        else:
            self.emit(depth, text, edge.comments)


def write_dot(graph: DotGraph) -> str:
    """Render one graph as canonical DOT text (ends with a newline)."""
    w = _Writer(graph)
    head = ("strict " if graph.strict else "") + ("digraph" if graph.directed else "graph")
    if graph.name is not None:
        head += " " + quote_id(graph.name)
    w.emit(0, head + " {", graph.comments)
    w.block(None, 1)
    w.reopen(1)
    for c in graph.trailing_comments:
        w.emit(1, f"// {c}")
    w.emit(0, "}")
    return "\n".join(w.lines) + "\n"


def _attrs_key(attrs: dict[str, Attr]) -> tuple:
    return tuple(sorted((k, a.value, a.is_html) for k, a in attrs.items()))


def structure(doc: DotDocument) -> list[tuple]:
    """A location-free, order-insensitive view of a document, to compare two parses
    (``parse(write(parse(x)))`` has the same structure as ``parse(x)``)."""
    out = []
    for g in doc.graphs:
        nodes = {
            n.id: (n.declared, n.subgraph, _attrs_key(n.attrs), n.comments)
            for n in g.nodes.values()
        }
        edges = sorted(
            (
                e.source,
                e.source_port or "",
                e.target,
                e.target_port or "",
                _attrs_key(e.attrs),
                e.comments,
                e.subgraph or "",
            )
            for e in g.edges
        )
        subs = sorted(
            (s.name or "", s.parent or "", _attrs_key(s.attrs), tuple(sorted(s.nodes)), s.comments)
            for s in g.subgraphs
        )
        out.append(
            (
                g.name,
                g.directed,
                g.strict,
                _attrs_key(g.attrs),
                g.comments,
                g.trailing_comments,
                nodes,
                edges,
                subs,
            )
        )
    return out
