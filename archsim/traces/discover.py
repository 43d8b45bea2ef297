"""From spans to an architecture: components, links with their relations, the operations each
component serves with the steps they were seen to take, and rates.

The rules, in the order they apply (docs/discover.md says the same):

1. **Operations** are server and consumer spans (and spans of unknown kind that start a
   service's part of a trace), named by ``archsim.operation`` when present, else the span name.
2. **Steps** of an operation are the client and producer spans under it in the same service
   (through internal spans), classified by their attributes:
   ``messaging.system`` or a producer span → *publishes to* the broker (``peer.service``,
   ``server.address``, ``messaging.system``), event ``messaging.destination.name``;
   ``db.system`` → *caches in* (redis, memcached, valkey…) or *stores in* the database
   (``peer.service``, ``db.namespace``, ``db.name``, ``server.address``, the system);
   ``network.protocol.name=smtp`` → *sends via*; a call answered by a server span of another
   service → a call to that service; any other call with a peer name → *integrates with* an
   external component (nothing answered it in the traces).
3. **Relations of calls**: made outside any operation to register or heartbeat (a path or
   name with ``regist``/``heartbeat``, ``/services``, Eureka's or Consul's agent paths) →
   *registers with*; any other made outside any operation (start-up) → *reads from*; from an
   operation that starts a trace, passing the same path on → *distributes to*; passing a path
   it ends with (``/api/products/1`` → ``/products/1``) → *routes to*; to an operation or path
   that validates a token → *validates with*; to a component called ``auth…`` → *uses*;
   otherwise *calls*. A consumer span → its service *subscribes to* the broker.
4. **Order and probabilities**: a step's place is its mean start offset inside the operation,
   its ``p`` the share of the operation's spans that had it; times come from the caller's own
   clock, so clock skew between services changes neither (skew is reported, not corrected).
5. Spans naming a parent the files do not hold start their own part of the trace (reported).

Pure: spans in, a ``Discovery`` out.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from archsim.traces.found import Component, Discovery, Link, Observed, Step
from archsim.traces.records import Span, SpanKind

__all__ = ["Component", "Discovery", "Link", "Observed", "Step", "discover"]

CACHE_SYSTEMS = frozenset({"redis", "memcached", "valkey", "keydb", "dragonfly", "hazelcast"})
_VALIDATES = re.compile(r"validat|verif|introspect|check_?token|authori[sz]e", re.I)
# registration and heartbeats: archsim's registry, Consul's agent, Eureka
_REGISTERS = re.compile(
    r"regist|heartbeat|^(?:\w+ )?/services(?:/|$)|/eureka/|/v1/agent/|/v1/catalog/", re.I
)
_SKEW_MS = 5.0  # outside its caller's span by more than this: the clocks disagree
_PEER = ("peer.service", "server.address", "net.peer.name", "http.host", "rpc.service")


# -- classification ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Target:
    """Where one outbound span goes."""

    action: str  # call, query, cache, publish, send, external
    target: str
    detail: str
    relation: str


def _peer(span: Span, *more: str) -> str | None:
    value = span.attr(*_PEER, *more)
    if value is None:
        url = span.attr("url.full", "http.url")
        if isinstance(url, str) and "://" in url:
            value = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    return str(value) if value is not None else None


def _path(span: Span) -> str | None:
    value = span.attr("url.path", "http.target", "http.route")
    if value is None:
        url = span.attr("url.full", "http.url")
        if isinstance(url, str) and "://" in url:
            value = "/" + url.split("://", 1)[1].partition("/")[2]
    return str(value).split("?", 1)[0] if value is not None else None


def _method(span: Span) -> str | None:
    value = span.attr("http.request.method", "http.method")
    return str(value).upper() if value is not None else None


class _Index:
    """Spans by id, children, and the operation each span belongs to."""

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
        # (caller, callee, method, path) → the callee's operation, from calls it answered: an
        # unanswered call (a timeout, a span the callee lost) still names what it asked for
        self.answered: dict[tuple[str, str, str | None, str], str] = {}
        for span in self.spans:
            if span.kind is SpanKind.CLIENT:
                for callee in self.answers(span):
                    asked = (span.service, callee.service, _method(span), _norm(_path(span)))
                    self.answered.setdefault(asked, _op_name(callee))

    def parent(self, span: Span) -> Span | None:
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


_ID_SEGMENT = re.compile(r"/(?:\d+|[0-9a-f]{16,}|[0-9a-f-]{36})(?=/|$)")


def _norm(path: str | None) -> str:
    return _ID_SEGMENT.sub("/{id}", path or "")


def _op_name(span: Span) -> str:
    """``archsim.operation``, else ``http.route``, else the span name with ids in paths
    written ``{id}`` (``GET /api/products/7`` → ``GET /api/products/{id}``)."""
    name = span.attr("archsim.operation")
    if name is None:
        route = span.attr("http.route")
        method = _method(span)
        name = f"{method} {route}" if route and method else (route or span.name or "unnamed")
    return _ID_SEGMENT.sub("/{id}", str(name))


def _classify(index: _Index, span: Span) -> _Target | None:
    """Where an outbound span goes; None when nothing names a peer."""
    system = span.attr("messaging.system")
    if span.kind is SpanKind.PRODUCER or (system is not None and span.kind is SpanKind.CLIENT):
        broker = _peer(span) or (str(system) if system else None)
        if broker is None:
            return None
        event = span.attr("messaging.destination.name", "messaging.destination")
        return _Target("publish", broker, str(event or span.name), "publishes to")
    db = span.attr("db.system", "db.system.name")
    if db is not None:
        name = span.attr("peer.service", "db.namespace", "db.name", "server.address")
        target = str(name or db)
        statement = span.attr("db.query.text", "db.statement")
        verb = span.attr("db.operation.name", "db.operation") or (
            str(statement).split(None, 1)[0] if statement else span.name.split(" ", 1)[-1]
        )
        if str(db).lower() in CACHE_SYSTEMS:
            return _Target("cache", target, str(verb).upper(), "caches in")
        table = span.attr("db.collection.name", "db.sql.table")
        detail = f"{str(verb).upper()} {table}" if table else str(verb).upper()
        return _Target("query", target, detail, "stores in")
    if str(span.attr("network.protocol.name") or "").lower() == "smtp":
        mail = _peer(span)
        return _Target("send", mail, "send", "sends via") if mail else None
    answers = index.answers(span)
    if answers:
        callee = answers[0]
        return _Target("call", callee.service, _op_name(callee), "calls")
    peer = _peer(span)
    if peer is None:
        return None
    if peer in index.serving:  # a traced service that left this call unanswered
        key = (span.service, peer, _method(span), _norm(_path(span)))
        fallback = f"{_method(span) or 'call'} {_norm(_path(span))}"
        return _Target("call", peer, index.answered.get(key, fallback), "calls")
    return _Target("call", peer, "request", "integrates with")


# -- the walk ------------------------------------------------------------------------------------


@dataclass
class _OpAcc:
    component: str
    name: str
    trigger: str
    durations: list[float] = field(default_factory=list)
    exclusive: list[float] = field(default_factory=list)
    roots: int = 0
    errors: int = 0
    # step key -> [instances with it, occurrences, offsets, durations]
    steps: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)


@dataclass
class _LinkAcc:
    relations: Counter[str] = field(default_factory=Counter)
    count: int = 0
    offsets: list[float] = field(default_factory=list)
    events: set[str] = field(default_factory=set)
    operations: set[str] = field(default_factory=set)
    callers: Counter[tuple[str, str]] = field(default_factory=Counter)
    hits: int = 0
    gets: int = 0
    known: int = 0  # gets that said whether they hit (archsim.cache.hit)
    sets: int = 0


def _union_ms(intervals: list[tuple[int, int]], lo: int, hi: int) -> float:
    """Length (ms) of the union of ``intervals`` clipped to ``[lo, hi]``."""
    total, end = 0, lo
    for a, b in sorted(intervals):
        a, b = max(a, end), min(b, hi)
        if b > a:
            total += b - a
            end = b
    return total / 1e6


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _relation(
    index: _Index, call: Span, op: Span | None, target: _Target, callee: Span | None
) -> str:
    """The relation of one HTTP call (rule 3)."""
    if op is None and target.action == "call":
        asked = call.attr("url.template", "http.route") or _path(call) or ""
        if _REGISTERS.search(str(asked)) or _REGISTERS.search(call.name):
            return "registers with"
    if target.relation != "calls":
        return target.relation
    if op is None:
        return "reads from"
    out_path, in_path = _path(call), _path(op)
    same_method = _method(call) == _method(op) or _method(call) is None
    if out_path and in_path and same_method:
        if out_path == in_path and index.parent(op) is None:
            return "distributes to"
        if out_path != in_path and in_path.endswith(out_path):
            return "routes to"
    callee_name = (_op_name(callee) if callee else "") + " " + (out_path or "")
    if _VALIDATES.search(callee_name):
        return "validates with"
    if "auth" in target.target.lower():
        return "uses"
    return "calls"


def discover(spans: list[Span]) -> Discovery:
    """The architecture, operations and rates that ``spans`` show (rules in the module doc)."""
    index = _Index(spans)
    if not index.spans:
        return Discovery((), (), (), (), ("no spans",), 0, 0, 0.0)
    start = min(s.start_ns for s in index.spans)
    end = max(s.end_ns for s in index.spans)
    window_s = max((end - start) / 1e9, 1e-9)
    ops: dict[tuple[str, str], _OpAcc] = {}
    links: dict[tuple[str, str], _LinkAcc] = defaultdict(_LinkAcc)
    unclassified: Counter[str] = Counter()
    skew: dict[tuple[str, str], list[float]] = defaultdict(list)
    kinds: dict[str, str] = {}
    steps_of: dict[tuple[str, str], list[tuple[Span, _Target]]] = defaultdict(list)
    for span in index.spans:
        if index.is_entry(span):
            _entry(index, span, ops, links, skew)
            continue
        if (
            span.kind not in (SpanKind.CLIENT, SpanKind.PRODUCER)
            and span.attr("db.system", "db.system.name", "messaging.system") is None
        ):
            continue  # an internal span: structure only
        target = _classify(index, span)
        if target is None:
            unclassified[f"{span.service}: {span.kind.name.lower()} span {span.name!r}"] += 1
            continue
        op = index.operation_of(span)
        answers = index.answers(span)
        relation = _relation(index, span, op, target, answers[0] if answers else None)
        acc = links[(span.service, target.target)]
        acc.relations[relation] += 1
        acc.count += 1
        if target.action == "publish":
            acc.events.add(target.detail)
        if target.action == "call" and relation not in ("integrates with", "registers with"):
            acc.operations.add(target.detail)
        if target.action == "cache" and target.detail == "GET":
            acc.gets += 1
            hit = span.attr("archsim.cache.hit")
            if hit is not None:
                acc.known += 1
                acc.hits += 1 if hit is True or hit == "true" else 0
        elif target.action == "cache" and target.detail == "SET":
            acc.sets += 1
        kind = _target_kind(target, relation)
        if kinds.get(target.target, "service") == "service":
            kinds[target.target] = kind
        if op is not None:
            acc.offsets.append((span.start_ns - op.start_ns) / 1e6)
            acc.callers[(op.service, _op_name(op))] += 1
            steps_of[(op.trace_id, op.span_id)].append((span, target))
    _fold_steps(index, ops, steps_of)
    return _result(index, ops, links, unclassified, skew, kinds, window_s)


def _target_kind(target: _Target, relation: str) -> str:
    return {
        "caches in": "cache",
        "stores in": "database",
        "publishes to": "broker",
        "sends via": "external",
        "integrates with": "external",
        "reads from": "config",
        "registers with": "registry",
        "validates with": "auth",
        "uses": "auth",
    }.get(relation, "service")


def _entry(
    index: _Index,
    span: Span,
    ops: dict[tuple[str, str], _OpAcc],
    links: dict[tuple[str, str], _LinkAcc],
    skew: dict[tuple[str, str], list[float]],
) -> None:
    key = (span.service, _op_name(span))
    trigger = "event" if span.kind is SpanKind.CONSUMER else "request"
    acc = ops.setdefault(key, _OpAcc(span.service, key[1], trigger))
    acc.durations.append(span.duration_ns / 1e6)
    acc.errors += span.error
    parent = index.parent(span)
    if parent is None:
        acc.roots += 1
    elif parent.service != span.service:
        outside = max(parent.start_ns - span.start_ns, span.end_ns - parent.end_ns) / 1e6
        if trigger == "request" and outside > _SKEW_MS:  # a consumer runs after, by design
            skew[(parent.service, span.service)].append(outside)
        if parent.kind not in (SpanKind.CLIENT, SpanKind.PRODUCER) and trigger == "request":
            # the caller made no client span (not instrumented): the server span says who called
            link = links[(parent.service, span.service)]
            link.relations["calls"] += 1
            link.count += 1
            link.operations.add(key[1])
    if trigger == "event":
        broker = _peer(span) or span.attr("messaging.system")
        if broker is None and parent is not None:
            broker = _peer(parent) or parent.attr("messaging.system")
        if broker is not None:
            link = links[(span.service, str(broker))]
            link.relations["subscribes to"] += 1
            link.count += 1
            event = span.attr("messaging.destination.name", "messaging.destination")
            if event:
                link.events.add(str(event))


def _fold_steps(
    index: _Index,
    ops: dict[tuple[str, str], _OpAcc],
    steps_of: dict[tuple[str, str], list[tuple[Span, _Target]]],
) -> None:
    """Per operation instance: its steps (counted once each for ``p``) and its exclusive time."""
    for span in index.spans:
        if not index.is_entry(span):
            continue
        acc = ops[(span.service, _op_name(span))]
        found = steps_of.get((span.trace_id, span.span_id), [])
        seen: set[tuple[str, str, str]] = set()
        intervals = []
        for step, target in found:
            key = (target.action, target.target, target.detail)
            slot = acc.steps.setdefault(key, [0, 0, [], []])
            if key not in seen:
                slot[0] += 1
                seen.add(key)
            slot[1] += 1
            slot[2].append((step.start_ns - span.start_ns) / 1e6)
            slot[3].append(step.duration_ns / 1e6)
            intervals.append((step.start_ns, step.end_ns))
        waited = _union_ms(intervals, span.start_ns, span.end_ns)
        acc.exclusive.append(max(0.0, span.duration_ns / 1e6 - waited))


def _result(
    index: _Index,
    ops: dict[tuple[str, str], _OpAcc],
    links: dict[tuple[str, str], _LinkAcc],
    unclassified: Counter[str],
    skew: dict[tuple[str, str], list[float]],
    kinds: dict[str, str],
    window_s: float,
) -> Discovery:
    observed = []
    for acc in ops.values():
        n = len(acc.durations)
        steps = [
            Step(
                action=key[0],
                target=key[1],
                detail=key[2],
                p=slot[0] / n,
                per=slot[1] / slot[0],
                offset_ms=sum(slot[2]) / len(slot[2]),
                mean_ms=sum(slot[3]) / len(slot[3]),
            )
            for key, slot in acc.steps.items()
        ]
        steps.sort(key=lambda s: s.offset_ms)
        observed.append(
            Observed(
                component=acc.component,
                name=acc.name,
                trigger=acc.trigger,
                count=n,
                rate=n / window_s,
                roots=acc.roots,
                mean_ms=sum(acc.durations) / n,
                p95_ms=_p95(acc.durations),
                exclusive_ms=sum(acc.exclusive) / len(acc.exclusive) if acc.exclusive else 0.0,
                exclusive_p95_ms=_p95(acc.exclusive),
                errors=acc.errors,
                steps=tuple(steps),
            )
        )
    observed.sort(key=lambda o: (o.component, -o.count, o.name))
    out_links = []
    op_counts = {(o.component, o.name): o.count for o in observed}
    for (source, target), link_acc in links.items():
        relation = link_acc.relations.most_common(1)[0][0]
        p = None
        if len(link_acc.callers) == 1 and relation in ("calls", "uses", "integrates with"):
            ((caller, made),) = link_acc.callers.items()
            instances = op_counts.get(caller, 0)
            if instances and made < instances * 0.995:
                p = round(made / instances, 4)
        hit = None
        if link_acc.gets and relation == "caches in":
            # without a hit attribute, every fill (SET) after a get was a miss
            hits = link_acc.hits if link_acc.known else max(0, link_acc.gets - link_acc.sets)
            hit = round(hits / (link_acc.known or link_acc.gets), 4)
        out_links.append(
            Link(
                source=source,
                target=target,
                relation=relation,
                count=link_acc.count,
                rate=link_acc.count / window_s,
                order=sum(link_acc.offsets) / len(link_acc.offsets) if link_acc.offsets else -1.0,
                events=tuple(sorted(link_acc.events)),
                operations=tuple(sorted(link_acc.operations)),
                p=p,
                hit_ratio=hit,
            )
        )
    out_links.sort(key=lambda k: (k.source, k.order, k.target))
    services = sorted({s.service for s in index.spans})
    components = _components(services, out_links, kinds)
    notes = _notes(index, skew)
    return Discovery(
        components=tuple(components),
        links=tuple(out_links),
        operations=tuple(observed),
        unclassified=tuple(f"{text} ({n}x)" for text, n in sorted(unclassified.items())),
        notes=tuple(notes),
        spans=len(index.spans),
        traces=len({s.trace_id for s in index.spans}),
        window_s=window_s,
        services=tuple(services),
    )


def _components(services: list[str], links: list[Link], kinds: dict[str, str]) -> list[Component]:
    out: dict[str, Component] = {}
    for link in links:
        if link.relation == "distributes to":
            out[link.source] = Component(link.source, "load_balancer", "passes paths on unchanged")
        elif link.relation == "routes to" and link.source not in out:
            out[link.source] = Component(link.source, "gateway", "forwards paths it shortens")
    for service in services:
        if service not in out:
            kind = kinds.get(service, "service")
            kind = kind if kind in ("auth", "config") else "service"
            out[service] = Component(service, kind, _EVIDENCE.get(kind, "emits spans"))
    for target, kind in kinds.items():
        if target not in out:
            out[target] = Component(target, kind, _EVIDENCE.get(kind, "called, emits no spans"))
    for link in links:
        if link.target not in out:
            kind = _target_kind(_Target("", link.target, "", link.relation), link.relation)
            kind = "broker" if link.relation == "subscribes to" else kind
            out[link.target] = Component(link.target, kind, _EVIDENCE.get(kind, "linked to"))
    return sorted(out.values(), key=lambda c: c.id)


_EVIDENCE = {
    "cache": "db.system of a cache in client spans",
    "database": "db.system in client spans",
    "broker": "messaging spans",
    "external": "called, answered by no span",
    "config": "read at start-up",
    "registry": "registered with, outside any request",
    "auth": "validates tokens for others",
}


def _notes(index: _Index, skew: dict[tuple[str, str], list[float]]) -> list[str]:
    notes = []
    for service, n in sorted(index.missing.items()):
        notes.append(
            f"{n} span(s) of {service} name a parent the files do not hold: each starts its "
            "own part of the trace"
        )
    for (caller, callee), offsets in sorted(skew.items()):
        notes.append(
            f"clock skew: {len(offsets)} span(s) of {callee} lie outside the {caller} call "
            f"that made them (by {median(offsets):.1f} ms, median); step order and times use "
            "each service's own clock"
        )
    return notes
