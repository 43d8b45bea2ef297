"""Where an outbound span goes and what relation it stands for (rules 2 and 3 of
``archsim.traces.discover``): a publish, a cache or database query, a mail, a call answered by a
traced service or an external one; then the call's relation (registers with, reads from,
distributes to, routes to, validates with, uses, calls) and the kind of component it reaches.

Pure: spans and their index in, records out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archsim.traces.records import Span, SpanKind
from archsim.traces.span_index import SpanIndex, method, norm_path, op_name, path, peer

__all__ = ["CACHE_SYSTEMS", "Target", "classify", "relation_of", "target_kind"]

CACHE_SYSTEMS = frozenset({"redis", "memcached", "valkey", "keydb", "dragonfly", "hazelcast"})
_VALIDATES = re.compile(r"validat|verif|introspect|check_?token|authori[sz]e", re.I)
# registration and heartbeats: archsim's registry, Consul's agent, Eureka
_REGISTERS = re.compile(
    r"regist|heartbeat|^(?:\w+ )?/services(?:/|$)|/eureka/|/v1/agent/|/v1/catalog/", re.I
)
_KINDS = {
    "caches in": "cache",
    "stores in": "database",
    "publishes to": "broker",
    "sends via": "external",
    "integrates with": "external",
    "reads from": "config",
    "registers with": "registry",
    "validates with": "auth",
    "uses": "auth",
}


@dataclass(frozen=True, slots=True)
class Target:
    """Where one outbound span goes: ``action`` (call, query, cache, publish, send), the
    component, a detail (operation, statement verb, event) and the relation it suggests."""

    action: str
    target: str
    detail: str
    relation: str


def classify(index: SpanIndex, span: Span) -> Target | None:
    """Where an outbound span goes; None when nothing names a peer."""
    system = span.attr("messaging.system")
    if span.kind is SpanKind.PRODUCER or (system is not None and span.kind is SpanKind.CLIENT):
        broker = peer(span) or (str(system) if system else None)
        if broker is None:
            return None
        event = span.attr("messaging.destination.name", "messaging.destination")
        return Target("publish", broker, str(event or span.name), "publishes to")
    db = span.attr("db.system", "db.system.name")
    if db is not None:
        return _data_target(span, str(db))
    if str(span.attr("network.protocol.name") or "").lower() == "smtp":
        mail = peer(span)
        return Target("send", mail, "send", "sends via") if mail else None
    answers = index.answers(span)
    if answers:
        callee = answers[0]
        return Target("call", callee.service, op_name(callee), "calls")
    other = peer(span)
    if other is None:
        return None
    if other in index.serving:  # a traced service that left this call unanswered
        key = (span.service, other, method(span), norm_path(path(span)))
        fallback = f"{method(span) or 'call'} {norm_path(path(span))}"
        return Target("call", other, index.answered.get(key, fallback), "calls")
    return Target("call", other, "request", "integrates with")


def _data_target(span: Span, db: str) -> Target:
    """A span with ``db.system``: a cache command or a database statement."""
    name = span.attr("peer.service", "db.namespace", "db.name", "server.address")
    target = str(name or db)
    statement = span.attr("db.query.text", "db.statement")
    verb = span.attr("db.operation.name", "db.operation") or (
        str(statement).split(None, 1)[0] if statement else span.name.split(" ", 1)[-1]
    )
    if db.lower() in CACHE_SYSTEMS:
        return Target("cache", target, str(verb).upper(), "caches in")
    table = span.attr("db.collection.name", "db.sql.table")
    detail = f"{str(verb).upper()} {table}" if table else str(verb).upper()
    return Target("query", target, detail, "stores in")


def relation_of(
    index: SpanIndex, call: Span, op: Span | None, target: Target, callee: Span | None
) -> str:
    """The relation of one outbound span (rule 3); ``op`` is the operation it was made in."""
    if op is None and target.action == "call":
        asked = call.attr("url.template", "http.route") or path(call) or ""
        if _REGISTERS.search(str(asked)) or _REGISTERS.search(call.name):
            return "registers with"
    if target.relation != "calls":
        return target.relation
    if op is None:
        return "reads from"
    out_path, in_path = path(call), path(op)
    same_method = method(call) == method(op) or method(call) is None
    if out_path and in_path and same_method:
        if out_path == in_path and index.starts_trace(op):
            return "distributes to"
        if out_path != in_path and in_path.endswith(out_path):
            return "routes to"
    callee_name = (op_name(callee) if callee else "") + " " + (out_path or "")
    if _VALIDATES.search(callee_name):
        return "validates with"
    if "auth" in target.target.lower():
        return "uses"
    return "calls"


def target_kind(relation: str) -> str:
    """The kind of component at the far end of a link with ``relation``."""
    return _KINDS.get(relation, "service")
