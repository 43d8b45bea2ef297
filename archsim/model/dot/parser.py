"""Recursive-descent DOT parser producing ``DotDocument`` (see ``ast.py`` for the semantics).

Errors are collected with precise positions; after an error the parser skips to the next
statement boundary (``;``, ``}`` or a token on a later line) and goes on, so one run reports
every problem (capped at ``MAX_ERRORS``). Recursion only follows subgraph nesting, which is
capped at ``MAX_DEPTH`` so hostile input cannot raise ``RecursionError``.
"""

from __future__ import annotations

import gc
import itertools
from typing import NoReturn

from archsim.errors import Diagnostic, DotSyntaxError, Severity
from archsim.model.dot.ast import Attr, DotDocument, DotEdge, DotGraph, DotNode, DotSubgraph
from archsim.model.dot.lexer import Source, Tokens, tokenize

__all__ = ["MAX_DEPTH", "MAX_ERRORS", "parse_dot"]

MAX_ERRORS = 50
MAX_DEPTH = 100
_ID_KINDS = frozenset({"ID", "STR", "HTML"})
_PLAIN_KINDS = frozenset({"ID", "STR"})
_SWALLOW_HINT = (
    "put each statement on its own line or use /* ... */ comments; "
    "'archsim fmt --fix FILE' can repair this file"
)


class _Stop(Exception):
    """Raised to abandon parsing (too many errors, or nesting too deep)."""


class _Recover(Exception):
    """Raised after recording an error, to resynchronise at the next statement boundary
    (or at ``resume``, a token index where parsing can safely go on)."""

    def __init__(self, resume: int | None = None) -> None:
        super().__init__()
        self.resume = resume


def _describe(kind: str, value: str) -> str:
    if kind == "EOF":
        return "end of file"
    if kind == "KW":
        return f"keyword '{value}'"
    if kind == "STR":
        return f'string "{value[:30]}"'
    if kind == "HTML":
        return "an HTML string"
    if kind == "ID":
        return f"'{value}'"
    return f"'{kind}'"


Operand = tuple[str, str | None, int]  # a node of an edge statement: (id, port, position)


class _Scope:
    """What a ``{ ... }`` block carries: defaults in effect and the named subgraph it is in."""

    __slots__ = ("edge_defaults", "node_defaults", "subgraph", "target")

    def __init__(
        self,
        node_defaults: dict[str, Attr],
        edge_defaults: dict[str, Attr],
        subgraph: DotSubgraph | None,
        target: DotGraph | DotSubgraph,
    ) -> None:
        self.node_defaults: dict[str, Attr] = node_defaults
        self.edge_defaults: dict[str, Attr] = edge_defaults
        self.subgraph: DotSubgraph | None = subgraph  # innermost named subgraph
        self.target: DotGraph | DotSubgraph = target  # where graph attributes go


class _Parser:
    def __init__(self, toks: Tokens) -> None:
        self.toks = toks
        self.src: Source = toks.source
        self.kinds = toks.kinds
        self.values = toks.values
        self.positions = toks.positions
        self.i = 0
        self.errors: list[Diagnostic] = list(toks.errors)
        self.comments = toks.comments
        self.ci = 0  # next comment not yet attached
        self.depth = 0
        self.graph: DotGraph  # set by graph_stmt before any statement of its body is parsed
        self.chain: list[DotSubgraph] = []  # enclosing named subgraphs, outermost first
        self.members: dict[int, set[str]] = {}
        self.named: dict[str, DotSubgraph] = {}
        # an unterminated string/comment already explains a premature end of file
        self.eof_reported = any(e.code == "unterminated" for e in self.errors)

    # -- errors -----------------------------------------------------------------------------
    def error(
        self,
        pos: int,
        message: str,
        hint: str | None = None,
        code: str = "syntax",
        recover: bool = True,
        resume: int | None = None,
    ) -> None:
        loc = self.src.location(pos)
        self.errors.append(Diagnostic(Severity.ERROR, message, loc, hint, code))
        if len(self.errors) >= MAX_ERRORS:
            raise _Stop
        if recover:
            raise _Recover(resume)

    def expected(self, what: str, context: str = "", hint: str | None = None) -> NoReturn:
        k, v, p = self.kinds[self.i], self.values[self.i], self.positions[self.i]
        if k == "EOF":
            if self.eof_reported:  # the premature end of file is already explained
                raise _Recover
            self.eof_reported = True  # later "never closed" errors would only repeat this one
        self.error(p, f"expected {what}{context}, found {_describe(k, v)}", hint, recover=False)
        raise _Recover

    def resync(self, err_pos: int) -> None:
        """Skip to a plausible statement start after an error."""
        kinds, positions = self.kinds, self.positions
        line_starts = self.src.line_starts
        err_line = self.src.line_col(err_pos)[0]
        next_line = line_starts[err_line] if err_line < len(line_starts) else len(self.src.text)
        i = self.i
        while True:
            k = kinds[i]
            if k == ";":
                self.i = i + 1
                return
            if k in ("}", "EOF") or (positions[i] >= next_line and i > self.i):
                self.i = i
                return
            i += 1

    def take_comments(self) -> tuple[str, ...]:
        """Comments before the current token not yet given to a statement."""
        comments, ci, i = self.comments, self.ci, self.i
        out: list[str] = []
        while ci < len(comments) and comments[ci].before <= i:
            out.extend(comments[ci].lines())
            ci += 1
        self.ci = ci
        return tuple(out)

    # -- small pieces -------------------------------------------------------------------------
    def id_value(self) -> tuple[str, bool] | None:
        """An ID at the cursor (quoted strings joined by '+'), with whether it is HTML."""
        kinds, i = self.kinds, self.i
        k = kinds[i]
        if k not in _ID_KINDS:
            return None
        value = self.values[i]
        i += 1
        if k == "STR":
            while kinds[i] == "+":
                if kinds[i + 1] != "STR":
                    self.i = i + 1
                    self.expected("a quoted string after '+'")
                value += self.values[i + 1]
                i += 2
        self.i = i
        return value, k == "HTML"

    def attr_list(self) -> dict[str, Attr]:
        """``[k=v, ...]`` repeated any number of times; empty dict when absent."""
        kinds, values, positions, plain = self.kinds, self.values, self.positions, _PLAIN_KINDS
        attrs: dict[str, Attr] = {}
        while kinds[self.i] == "[":
            open_pos = positions[self.i]
            self.i += 1
            sep = -1  # index of the last ';' separator, the likely end of a broken list
            while True:
                key_i = i = self.i
                k = kinds[i]
                if k == "]":
                    self.i += 1
                    break
                # the common pair (id or string = id or string) read here; id_value, asked for
                # each side otherwise, is for '+' joins and HTML: 33,000 calls a parse
                pair = k in plain and kinds[i + 1] == "=" and kinds[i + 2] in plain
                if pair and kinds[i + 3] != "+":
                    name, text, html = values[i], values[i + 2], False
                    self.i = i + 3
                else:
                    name, text, html = self._pair(open_pos, sep)
                attrs[name] = Attr(name, text, self.src.location(positions[key_i]), html)
                sep = -1
                if kinds[self.i] == ",":
                    self.i += 1
                elif kinds[self.i] == ";":
                    sep = self.i
                    self.i += 1
        return attrs

    def _pair(self, open_pos: int, sep: int) -> tuple[str, str, bool]:
        """One ``key=value`` of an attribute list at the cursor: key, value, value is HTML."""
        kinds, key_i = self.kinds, self.i
        key = self.id_value()
        if key is None:
            if sep >= 0:
                self.i = sep
            self.expected("an attribute name or ']'", self._closing(open_pos))
        if kinds[self.i] != "=":
            if kinds[self.i] in (",", "]", ";"):
                self.expected(
                    f"'=' after attribute '{key[0]}'", hint="attributes are written key=value"
                )
            # "a [x=1; b -> c": the list was not closed before the next statement
            self.i = sep if sep >= 0 else key_i
            k, v = kinds[self.i], self.values[self.i]
            self.error(
                self.positions[self.i],
                f"expected ']'{self._closing(open_pos)}, found {_describe(k, v)}",
                "close the attribute list with ']'",
                resume=key_i,
            )
        self.i += 1
        value = self.id_value()
        if value is None:
            self.expected(f"a value for attribute '{key[0]}'")
        return key[0], value[0], value[1]

    def _closing(self, open_pos: int) -> str:
        # worked out only for an error: a line/column lookup per attribute list otherwise
        return f" to close the attribute list opened at {self.src.where(open_pos)}"

    def node_ref(self) -> tuple[str, str | None, int]:
        """``id[:port[:compass]]`` at the cursor."""
        pos = self.positions[self.i]
        got = self.id_value()
        if got is None:
            self.expected("a node id")
        port = None
        if self.kinds[self.i] == ":":
            self.i += 1
            p = self.id_value()
            if p is None:
                self.expected("a port name after ':'")
            port = p[0]
            if self.kinds[self.i] == ":":
                self.i += 1
                c = self.id_value()
                if c is None:
                    self.expected("a compass point after ':'")
                port += ":" + c[0]
        return got[0], port, pos

    # -- model building -----------------------------------------------------------------------
    def mention(self, node_id: str, pos: int, scope: _Scope) -> DotNode:
        """Record that a node appears here; creates it (undeclared) on first sight."""
        graph = self.graph
        node = graph.nodes.get(node_id)
        if node is None:
            node = DotNode(
                node_id, self.src.location(pos), dict(scope.node_defaults), declared=False
            )
            graph.nodes[node_id] = node
        if self.chain:
            if node.subgraph is None:
                node.subgraph = scope.subgraph.name if scope.subgraph else None
            members = self.members
            for sub in self.chain:
                seen = members[id(sub)]
                if node_id not in seen:
                    seen.add(node_id)
                    sub.nodes.append(node_id)
        return node

    def declare(
        self,
        node_id: str,
        pos: int,
        own: dict[str, Attr],
        comments: tuple[str, ...],
        scope: _Scope,
    ) -> None:
        node = self.mention(node_id, pos, scope)
        attrs = dict(scope.node_defaults)
        attrs.update(own)
        keys = tuple(own)
        sub = scope.subgraph.name if scope.subgraph else None
        loc = self.src.location(pos)
        self.graph.declarations.append(DotNode(node_id, loc, attrs, keys, True, comments, sub))
        if not node.declared:
            node.declared = True
            node.location = loc
            node.comments = comments
            node.own_keys = keys
        else:
            node.own_keys += tuple(k for k in keys if k not in node.own_keys)
        node.attrs.update(own)

    # -- statements ---------------------------------------------------------------------------
    def stmt_list(self, scope: _Scope, open_pos: int, what: str) -> None:
        kinds = self.kinds
        while True:
            k = kinds[self.i]
            if k == "}":
                return
            if k == "EOF":
                self.unclosed(open_pos, what)
                return
            if k == ";":  # a stray ';' is harmless (Graphviz rejects it; we need not)
                self.i += 1
                continue
            start = self.i
            try:
                self.stmt(scope)
            except _Recover as rec:
                if rec.resume is not None and rec.resume > start:
                    self.i = rec.resume
                    continue
                self.resync(self.positions[self.i])
                if self.i == start and kinds[self.i] not in ("}", "EOF"):
                    self.i += 1
                continue
            if kinds[self.i] == ";":
                self.i += 1

    def unclosed(self, open_pos: int, what: str) -> None:
        if self.eof_reported:
            return
        self.eof_reported = True
        swallowing = [c for c in self.comments if c.pos > open_pos and c.looks_like_dot()]
        if swallowing:
            c = swallowing[0]
            text = self.src.text
            line_end = text.find("\n", c.pos)
            rest_blank = line_end < 0 or not text[line_end:].strip()
            inner = tokenize(Source(c.raw[2:]), line_comments=False)
            n_stmts = inner.kinds.count(";") or 1
            scope = "the rest of the file" if rest_blank else "the rest of its line"
            message = (
                f"the '//' comment at {self.src.where(c.pos)} runs to the end of the line and "
                f"swallows {scope} ({n_stmts:,} statements, {len(c.raw):,} characters); "
                f"the {what} opened at {self.src.where(open_pos)} is never closed"
            )
            self.error(c.pos, message, _SWALLOW_HINT, code="swallowed-statements", recover=False)
        else:
            self.error(
                self.positions[self.i],
                f"expected '}}' to close the {what} opened at {self.src.where(open_pos)}, "
                "found end of file",
                "add the missing '}'",
                recover=False,
            )

    def stmt(self, scope: _Scope) -> None:
        kinds, values = self.kinds, self.values
        k = kinds[self.i]
        if k == "KW":
            kw = values[self.i]
            if kw in ("node", "edge", "graph"):
                self.i += 1
                if kinds[self.i] != "[":
                    self.expected(f"'[' after '{kw}'")
                attrs = self.attr_list()
                if kw == "node":
                    scope.node_defaults = {**scope.node_defaults, **attrs}
                    if isinstance(scope.target, DotSubgraph):
                        scope.target.node_defaults.update(attrs)
                elif kw == "edge":
                    scope.edge_defaults = {**scope.edge_defaults, **attrs}
                else:
                    scope.target.attrs.update(attrs)
                return
            if kw == "subgraph":
                comments = self.take_comments()
                members = self.subgraph(scope, comments)
                if kinds[self.i] in ("->", "--"):
                    self.edges(members, None, scope, comments)
                return
            self.expected("a statement", f" (keyword '{kw}' cannot start one here)")
        if k == "{":
            comments = self.take_comments()
            members = self.subgraph(scope, comments)
            if kinds[self.i] in ("->", "--"):
                self.edges(members, None, scope, comments)
            return
        if k not in _ID_KINDS:
            self.expected("a statement (node, edge, attribute or subgraph)")
        comments = self.take_comments()
        node_id, port, pos = self.node_ref()
        nk = kinds[self.i]
        if nk == "=" and port is None:
            self.i += 1
            value = self.id_value()
            if value is None:
                self.expected(f"a value for graph attribute '{node_id}'")
            attr = Attr(node_id, value[0], self.src.location(pos), value[1])
            scope.target.attrs[node_id] = attr
            return
        if nk in ("->", "--"):
            self.edges([(node_id, port, pos)], node_id, scope, comments)
            return
        own = self.attr_list()
        self.declare(node_id, pos, own, comments, scope)

    def edges(
        self,
        first: list[Operand],
        first_id: str | None,
        scope: _Scope,
        comments: tuple[str, ...],
    ) -> None:
        """An edge statement whose first operand has been read (``first_id`` set for nodes)."""
        kinds = self.kinds
        if first_id is not None:
            self.mention(first_id, first[0][2], scope)
        operands = [first]
        graph = self.graph
        while kinds[self.i] in ("->", "--"):
            op, op_pos = kinds[self.i], self.positions[self.i]
            if (op == "->") != graph.directed:
                kind = "digraph" if graph.directed else "graph"
                good = "->" if graph.directed else "--"
                self.error(
                    op_pos,
                    f"edge operator '{op}' used in a {kind}; a {kind} uses '{good}'",
                    f"write '{good}', or declare the graph as "
                    f"'{'graph' if graph.directed else 'digraph'}'",
                    recover=False,
                )
            self.i += 1
            k = kinds[self.i]
            if k == "{" or (k == "KW" and self.values[self.i] == "subgraph"):
                operands.append(self.subgraph(scope, ()))
            elif k in _ID_KINDS:
                ref = self.node_ref()
                self.mention(ref[0], ref[2], scope)
                operands.append([ref])
            else:
                self.expected(f"a node or subgraph after '{op}'")
        own = self.attr_list()
        attrs = dict(scope.edge_defaults)
        attrs.update(own)
        keys = tuple(own)
        sub = scope.subgraph.name if scope.subgraph else None
        loc_of = self.src.location
        add = graph.edges.append
        # The edges of one statement share its attributes (nothing changes an edge's attrs
        # after parsing): a chain of 40 edges keeps one dict, not 40 (~180 B an edge).
        for left, right in itertools.pairwise(operands):
            for s, sp, spos in left:
                loc = loc_of(spos)
                for t, tp, _ in right:
                    add(DotEdge(s, t, loc, attrs, keys, comments, sp, tp, sub))

    def subgraph(self, scope: _Scope, comments: tuple[str, ...]) -> list[Operand]:
        """``[subgraph [id]] { ... }``; returns the nodes it mentions (as edge operands)."""
        kinds = self.kinds
        pos = self.positions[self.i]
        name = None
        if kinds[self.i] == "KW":
            self.i += 1
            ident = self.id_value()  # None unless an ID is at the cursor
            if ident is not None:
                name = ident[0]
        if kinds[self.i] != "{":
            self.expected("'{' to open the subgraph body")
        open_pos = self.positions[self.i]
        self.i += 1
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.error(
                open_pos,
                f"subgraphs nested more than {MAX_DEPTH} deep",
                "flatten the nesting",
                code="too-deep",
                recover=False,
            )
            raise _Stop
        sub = self.named.get(name) if name is not None else None
        if sub is None:
            parent = scope.subgraph.name if scope.subgraph else None
            sub = DotSubgraph(name, self.src.location(pos), parent=parent, comments=comments)
            self.members[id(sub)] = set()
            self.graph.subgraphs.append(sub)
            if name is not None:
                self.named[name] = sub
        inner = _Scope(
            dict(scope.node_defaults),
            dict(scope.edge_defaults),
            sub if name is not None else scope.subgraph,
            sub,
        )
        start = len(sub.nodes)
        self.chain.append(sub)
        try:
            self.stmt_list(inner, open_pos, "subgraph")
        finally:
            self.chain.pop()
            self.depth -= 1
        if kinds[self.i] == "}":
            self.i += 1
        return [(n, None, pos) for n in sub.nodes[start:]]

    def graph_stmt(self) -> DotGraph | None:
        kinds, values = self.kinds, self.values
        comments = self.take_comments()
        pos = self.positions[self.i]
        strict = False
        if kinds[self.i] == "KW" and values[self.i] == "strict":
            strict = True
            self.i += 1
        if kinds[self.i] != "KW" or values[self.i] not in ("graph", "digraph"):
            self.expected("'graph' or 'digraph'")
        directed = values[self.i] == "digraph"
        self.i += 1
        name = None
        ident = self.id_value()  # None unless an ID is at the cursor
        if ident is not None:
            name = ident[0]
        if kinds[self.i] != "{":
            self.expected("'{' to open the graph body")
        open_pos = self.positions[self.i]
        self.i += 1
        graph = DotGraph(name, directed, strict, self.src.location(pos), comments=comments)
        self.graph, self.chain, self.members, self.named = graph, [], {}, {}
        scope = _Scope({}, {}, None, graph)
        self.stmt_list(scope, open_pos, "graph")
        if kinds[self.i] == "}":
            if kinds[self.i + 1] == "EOF":
                self.i += 1  # comments after the last '}' belong to this graph too
            graph.trailing_comments = self.take_comments()
            if kinds[self.i] == "}":
                self.i += 1
        graph.subgraphs = [s for s in graph.subgraphs if s.name is not None or s.attrs]
        return graph

    def document(self) -> list[DotGraph]:
        graphs: list[DotGraph] = []
        if self.kinds[0] == "EOF" and not self.errors:
            if self.src.text.strip(" \t\r\n\ufeff"):
                self.error(
                    0,
                    "the file contains only comments; expected 'graph' or 'digraph'",
                    recover=False,
                )
            else:
                self.error(0, "file is empty", "write 'digraph name { ... }'", "empty", False)
        while self.kinds[self.i] != "EOF":
            try:
                graph = self.graph_stmt()
            except _Recover:
                return graphs
            if graph is not None:
                graphs.append(graph)
        return graphs


def parse_dot(text: str, file: str | None = None) -> DotDocument:
    """Parse DOT text into a ``DotDocument``; raise ``DotSyntaxError`` listing every problem."""
    # The parse allocates ~10 objects per statement and keeps them all; the cyclic GC would
    # rescan them repeatedly for nothing (~20% of the time on big files).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        parser = _Parser(tokenize(Source(text, file)))
        graphs = parser.document()
    except _Stop:
        graphs = []
        capped = any(e.code == "too-many-errors" for e in parser.errors)  # by the lexer
        if len(parser.errors) >= MAX_ERRORS and not capped:
            last = parser.errors[-1].location
            parser.errors.append(
                Diagnostic(
                    Severity.ERROR,
                    f"too many errors ({MAX_ERRORS}); stopped here",
                    last,
                    "fix the errors above and run again",
                    "too-many-errors",
                )
            )
    finally:
        if gc_was_enabled:
            gc.enable()
    if parser.errors:
        # lexical and syntax errors are found in two passes; report them in file order
        errs = sorted(
            parser.errors,
            key=lambda d: (d.code == "too-many-errors", d.location.line, d.location.col),
        )
        first = errs[0]
        raise DotSyntaxError(
            first.message, first.location, first.hint, code=first.code, diagnostics=errs
        )
    return DotDocument(graphs, file)
