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
6. **Traffic sources**: a service that serves nothing and starts traces with client spans that
   another service answers (a load generator, an instrumented browser) is the client of the
   entries, not a component: its requests are counted per target (``Discovery.clients``), and
   the server spans under them start the system's part of the trace.

Pure: spans in, a ``Discovery`` out. Here the walk over the spans; ``span_index`` holds the
spans as a tree, ``classify`` rules 2 and 3, ``build`` rule 4 and the result.
"""

from __future__ import annotations

from archsim.traces.build import OpTally, StepTally, Tallies, build
from archsim.traces.classify import classify, relation_of, target_kind
from archsim.traces.found import Component, Discovery, Link, Observed, Step
from archsim.traces.records import Span, SpanKind
from archsim.traces.span_index import SpanIndex, op_name, peer

__all__ = ["Component", "Discovery", "Link", "Observed", "Step", "discover"]

_SKEW_MS = 5.0  # outside its caller's span by more than this: the clocks disagree


def discover(spans: list[Span]) -> Discovery:
    """The architecture, operations and rates that ``spans`` show (rules in the module doc)."""
    index = SpanIndex(spans)
    if not index.spans:
        return Discovery((), (), (), (), ("no spans",), 0, 0, 0.0)
    start = min(s.start_ns for s in index.spans)
    end = max(s.end_ns for s in index.spans)
    window_s = max((end - start) / 1e9, 1e-9)
    tallies = Tallies()
    for span in index.spans:
        if index.is_entry(span):
            _entry(index, span, tallies)
        elif index.is_request_of_source(span):
            _client(index, span, tallies)
        elif (
            span.kind in (SpanKind.CLIENT, SpanKind.PRODUCER)
            or span.attr("db.system", "db.system.name", "messaging.system") is not None
        ):
            _outbound(index, span, tallies)
        # else an internal span: structure only
    _fold_steps(index, tallies)
    return build(index, tallies, window_s)


def _outbound(index: SpanIndex, span: Span, tallies: Tallies) -> None:
    """Count one client, producer or data span: its link, and a step of its operation."""
    target = classify(index, span)
    if target is None:
        tallies.unclassified[f"{span.service}: {span.kind.name.lower()} span {span.name!r}"] += 1
        return
    op = index.operation_of(span)
    answers = index.answers(span)
    relation = relation_of(index, span, op, target, answers[0] if answers else None)
    acc = tallies.links[(span.service, target.target)]
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
    if tallies.kinds.get(target.target, "service") == "service":
        tallies.kinds[target.target] = target_kind(relation)
    if op is not None:
        acc.offsets.append((span.start_ns - op.start_ns) / 1e6)
        acc.callers[(op.service, op_name(op))] += 1
        tallies.steps_of[(op.trace_id, op.span_id)].append((span, target))


def _client(index: SpanIndex, span: Span, tallies: Tallies) -> None:
    """Count one request of a traffic source (rule 6): the client of the component that
    answered it, not a link or a component."""
    answers = index.answers(span)
    target = answers[0].service if answers else (peer(span) or "?")
    tallies.clients[(span.service, target)].append(span.duration_ns / 1e6)


def _entry(index: SpanIndex, span: Span, tallies: Tallies) -> None:
    """Count one operation instance; a caller without a client span, or a broker a consumer
    reads from, is a link of its own."""
    key = (span.service, op_name(span))
    trigger = "event" if span.kind is SpanKind.CONSUMER else "request"
    acc = tallies.ops.setdefault(key, OpTally(span.service, key[1], trigger))
    acc.durations.append(span.duration_ns / 1e6)
    acc.errors += span.error
    parent = index.parent(span)
    if index.starts_trace(span):
        acc.roots += 1
    if parent is not None and parent.service != span.service:
        outside = max(parent.start_ns - span.start_ns, span.end_ns - parent.end_ns) / 1e6
        if trigger == "request" and outside > _SKEW_MS:  # a consumer runs after, by design
            tallies.skew[(parent.service, span.service)].append(outside)
        if parent.kind not in (SpanKind.CLIENT, SpanKind.PRODUCER) and trigger == "request":
            # the caller made no client span (not instrumented): the server span says who called
            link = tallies.links[(parent.service, span.service)]
            link.relations["calls"] += 1
            link.count += 1
            link.operations.add(key[1])
    if trigger == "event":
        broker = peer(span) or span.attr("messaging.system")
        if broker is None and parent is not None:
            broker = peer(parent) or parent.attr("messaging.system")
        if broker is not None:
            link = tallies.links[(span.service, str(broker))]
            link.relations["subscribes to"] += 1
            link.count += 1
            event = span.attr("messaging.destination.name", "messaging.destination")
            if event:
                link.events.add(str(event))


def _fold_steps(index: SpanIndex, tallies: Tallies) -> None:
    """Per operation instance: its steps (counted once each for ``p``) and its exclusive time."""
    for span in index.spans:
        if not index.is_entry(span):
            continue
        acc = tallies.ops[(span.service, op_name(span))]
        seen: set[tuple[str, str, str]] = set()
        intervals = []
        for step, target in tallies.steps_of.get((span.trace_id, span.span_id), []):
            key = (target.action, target.target, target.detail)
            slot = acc.steps.setdefault(key, StepTally())
            if key not in seen:
                slot.instances += 1
                seen.add(key)
            slot.occurrences += 1
            slot.offsets.append((step.start_ns - span.start_ns) / 1e6)
            slot.durations.append(step.duration_ns / 1e6)
            intervals.append((step.start_ns, step.end_ns))
        waited = _union_ms(intervals, span.start_ns, span.end_ns)
        acc.exclusive.append(max(0.0, span.duration_ns / 1e6 - waited))


def _union_ms(intervals: list[tuple[int, int]], lo: int, hi: int) -> float:
    """Length (ms) of the union of ``intervals`` clipped to ``[lo, hi]``."""
    total, end = 0, lo
    for a, b in sorted(intervals):
        a, b = max(a, end), min(b, hi)
        if b > a:
            total += b - a
            end = b
    return total / 1e6
