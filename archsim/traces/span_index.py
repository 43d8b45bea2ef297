"""Spans as a tree: by id, their children, the operation each span belongs to and who answered
each call, with the attribute readers discovery shares (peer, path, method, operation name).

Pure: spans in, lookups out.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from archsim.traces.records import Span, SpanKind

__all__ = ["SpanIndex", "method", "norm_path", "op_name", "path", "peer"]

_PEER = ("peer.service", "server.address", "net.peer.name", "http.host", "rpc.service")
_ID_SEGMENT = re.compile(r"/(?:\d+|[0-9a-f]{16,}|[0-9a-f-]{36})(?=/|$)")


def peer(span: Span, *more: str) -> str | None:
    """The host or service a span talks to: peer attributes (then ``more``), else the URL's host."""
    value = span.attr(*_PEER, *more)
    if value is None:
        url = span.attr("url.full", "http.url")
        if isinstance(url, str) and "://" in url:
            value = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    return str(value) if value is not None else None


def path(span: Span) -> str | None:
    """The HTTP path a span asked for or served, without its query string."""
    value = span.attr("url.path", "http.target", "http.route")
    if value is None:
        url = span.attr("url.full", "http.url")
        if isinstance(url, str) and "://" in url:
            value = "/" + url.split("://", 1)[1].partition("/")[2]
    return str(value).split("?", 1)[0] if value is not None else None


def method(span: Span) -> str | None:
    """The HTTP method, upper case (None: not an HTTP span)."""
    value = span.attr("http.request.method", "http.method")
    return str(value).upper() if value is not None else None


def norm_path(text: str | None) -> str:
    """``text`` with ids in its segments written ``{id}`` (``/products/7`` → ``/products/{id}``)."""
    return _ID_SEGMENT.sub("/{id}", text or "")


def op_name(span: Span) -> str:
    """``archsim.operation``, else ``http.route``, else the span name with ids in paths
    written ``{id}`` (``GET /api/products/7`` → ``GET /api/products/{id}``)."""
    name = span.attr("archsim.operation")
    if name is None:
        route = span.attr("http.route")
        verb = method(span)
        name = f"{verb} {route}" if route and verb else (route or span.name or "unnamed")
    return _ID_SEGMENT.sub("/{id}", str(name))


class SpanIndex:
    """Spans by id (the first of a duplicated id kept), children, and the operation each span
    belongs to; ``missing`` counts, per service, spans whose parent the files do not hold;
    ``sources`` are the traffic sources (services whose client spans start traces)."""

    def __init__(self, spans: list[Span]) -> None:
        self.by_key: dict[tuple[str, str], Span] = {}
        for span in spans:
            self.by_key.setdefault((span.trace_id, span.span_id), span)
        self.spans = list(self.by_key.values())
        self.children: dict[tuple[str, str], list[Span]] = defaultdict(list)
        self.missing: Counter[str] = Counter()
        for span in self.spans:
            if span.parent_id is None:
                continue
            key = (span.trace_id, span.parent_id)
            if key in self.by_key:
                self.children[key].append(span)
            else:
                self.missing[span.service] += 1
        self.serving = {s.service for s in self.spans if self.is_entry(s)}
        # traffic sources: services that serve nothing and start traces with client spans
        # another service answered (a load generator, an instrumented browser or client)
        self.sources = {
            s.service
            for s in self.spans
            if s.kind is SpanKind.CLIENT
            and s.service not in self.serving
            and self.parent(s) is None
            and self.answers(s)
        }
        # (caller, callee, method, path) → the callee's operation, from calls it answered: an
        # unanswered call (a timeout, a span the callee lost) still names what it asked for
        self.answered: dict[tuple[str, str, str | None, str], str] = {}
        for span in self.spans:
            if span.kind is SpanKind.CLIENT:
                for callee in self.answers(span):
                    asked = (span.service, callee.service, method(span), norm_path(path(span)))
                    self.answered.setdefault(asked, op_name(callee))

    def parent(self, span: Span) -> Span | None:
        """The span's parent, None for a root or a parent the files do not hold."""
        if span.parent_id is None:
            return None
        return self.by_key.get((span.trace_id, span.parent_id))

    def is_entry(self, span: Span) -> bool:
        """Does ``span`` start an operation of its service?"""
        if span.kind in (SpanKind.SERVER, SpanKind.CONSUMER):
            return True
        if span.kind in (SpanKind.CLIENT, SpanKind.PRODUCER):
            return False
        if span.attr("db.system", "db.system.name", "messaging.system") is not None:
            return False
        parent = self.parent(span)
        return parent is None or parent.service != span.service

    def is_request_of_source(self, span: Span) -> bool:
        """Is ``span`` a request of a traffic source (a root client span of one of
        ``sources``): the client's side of an entry, not a step of any operation?"""
        return (
            span.kind is SpanKind.CLIENT
            and span.service in self.sources
            and self.parent(span) is None
        )

    def starts_trace(self, span: Span) -> bool:
        """Does ``span`` start its trace inside the system: a root, or the answer to a
        traffic source's request (the front door's server span under a load generator's)?"""
        parent = self.parent(span)
        return parent is None or self.is_request_of_source(parent)

    def operation_of(self, span: Span) -> Span | None:
        """The entry span of ``span``'s service above it (None: outside any operation)."""
        node = self.parent(span)
        while node is not None and node.service == span.service:
            if self.is_entry(node):
                return node
            node = self.parent(node)
        return None

    def answers(self, span: Span) -> list[Span]:
        """Entry spans of other services directly under ``span`` (who answered a call)."""
        return [
            c
            for c in self.children.get((span.trace_id, span.span_id), [])
            if c.service != span.service and self.is_entry(c)
        ]
