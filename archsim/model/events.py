"""Events: who publishes what, which events each consumer takes, and the chains they form.

The rules (docs/behaviour.md, "Events"):

- A component publishes, on each ``publishes to`` link, the link's events (``event=``,
  ``events=``, or one edge per event) or else ``<Resource>Created`` (``OrderPlaced``, …).
- A subscription takes the events set on its link (``events="A,B"`` on ``subscribes to``);
  else every event that *other* components publish on that broker — never the subscriber's own.
- A consumer that also publishes emits its events when it handles one: events form chains.
  Which events are live (ever published) is a fixed point: the events of request operations,
  then those of every consumer that takes a live event, until nothing changes (a derived
  subscription takes only live events).
- Chains are followed from the events request operations publish, nearest first; a handler
  does not publish an event that would lead back to one upstream of it (a loop every event
  would take): the chain ends where it would close.

Pure: the plan is data; ``archsim.model.derive`` builds the handler operations from it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from archsim.model.architecture import Architecture, Link
from archsim.model.behaviour import EventFlow, Operation, OpKind, OpRef, StepAction
from archsim.model.cdc import Capture, captures
from archsim.model.kinds import Kind, Relation
from archsim.model.naming import event_name, snake

__all__ = ["Handler", "Publication", "event_flows", "handler_name", "plan_handlers", "publications"]

#: Kinds whose subscriptions get handlers (their code is ours).
CONSUMER_KINDS = (Kind.SERVICE, Kind.AUTH, Kind.CONFIG)

Event = tuple[str, str]  # (broker, event)


@dataclass(frozen=True, slots=True)
class Publication:
    """One event a component publishes, over one ``publishes to`` link."""

    link: Link
    event: str

    @property
    def key(self) -> Event:
        """(broker, event)."""
        return (self.link.target, self.event)


@dataclass(frozen=True, slots=True)
class Handler:
    """One consume operation: the events of one subscription it takes, what it publishes."""

    component: str
    name: str
    subscription: Link
    events: tuple[str, ...]
    publishes: tuple[Publication, ...]


def publications(
    arch: Architecture, resource: Callable[[str], str], found: Sequence[Capture] | None = None
) -> dict[str, list[Publication]]:
    """Every component's publications, in file order (``found``: ``captures(arch)``, when the
    caller has them)."""
    out: dict[str, list[Publication]] = {}
    found = captures(arch) if found is None else found
    relayed = {id(c.publish) for c in found}  # a connector publishes its database's changes
    for link in arch.links:
        if link.relation is Relation.PUBLISHES_TO and id(link) not in relayed:
            names = link.events or (event_name(resource(link.source)),)
            out.setdefault(link.source, []).extend(Publication(link, e) for e in names)
    # rule events.cdc: each write to a captured database publishes its change to the broker
    for capture in found:
        for writer in capture.writers(arch):
            link = capture.publish.model_copy(update={
                "source": writer, "relation": Relation.PUBLISHES_TO, "events": capture.events,
            })  # fmt: skip
            out.setdefault(writer, []).extend(Publication(link, e) for e in capture.events)
    return out


class _Offers:
    """What a subscription may take, per broker: the events others publish there, in file order.

    A subscriber that publishes nothing to the broker takes the broker's whole list, computed
    once per broker (one pass over every publication per subscription cost O(subscribers x
    publishers))."""

    def __init__(self, pubs: Mapping[str, Sequence[Publication]]) -> None:
        self.pubs = pubs
        self.everything: dict[str, dict[str, None]] = {}
        self.sources: dict[str, set[str]] = {}
        for source, items in pubs.items():
            for p in items:
                self.sources.setdefault(p.link.target, set()).add(source)
                self.everything.setdefault(p.link.target, {})[p.event] = None

    def __call__(self, link: Link) -> list[str]:
        if link.events:
            return list(link.events)
        if link.source not in self.sources.get(link.target, ()):
            return list(self.everything.get(link.target, ()))
        names: dict[str, None] = {}
        for source, items in self.pubs.items():
            if source != link.source:
                names.update((p.event, None) for p in items if p.link.target == link.target)
        return list(names)


def plan_handlers(
    arch: Architecture,
    pubs: Mapping[str, Sequence[Publication]],
    published: Iterable[Event],
) -> list[Handler]:
    """The consume handlers, given the events request operations publish (``published``)."""
    offered_to = _Offers(pubs)
    subs = [
        (link, offered_to(link))
        for comp in arch.of_kind(*CONSUMER_KINDS)
        for link in arch.links_from(comp.id, Relation.SUBSCRIBES_TO)
    ]
    # Only consumers that publish continue a chain: the walk below needs no others.
    takers: dict[Event, list[Link]] = {}
    for link, offered in subs:
        if pubs.get(link.source):
            for event in offered:
                takers.setdefault((link.target, event), []).append(link)
    # Walk the chains from what request operations publish, nearest first; a publication that
    # would lead back to an event already upstream closes a loop and is left out. Each kept
    # event holds the set of events upstream of it (itself included) as the bits of an int, so
    # "does there lead back to here" is one bit test, not a graph search per publication
    # (20,000 searches took ~1 s on a 10,000-link file).
    bit: dict[Event, int] = {}
    upstream: list[int] = []
    after: list[list[int]] = []

    def kept(event: Event) -> int:
        i = bit.get(event)
        if i is None:
            i = bit[event] = len(upstream)
            upstream.append(1 << i)
            after.append([])
        return i

    emits: dict[int, dict[str, list[Publication]]] = {}  # id(subscription) -> event -> pubs
    seen = dict.fromkeys(published)
    queue = deque(seen)
    while queue:
        here = queue.popleft()
        for link in takers.get(here, ()):
            for pub in pubs.get(link.source, ()):
                there = pub.key
                if there == here:
                    continue
                j = bit.get(there)
                if j is not None and here in bit and upstream[bit[here]] >> j & 1:
                    continue  # there is upstream of here: this publication closes a loop
                h, t = kept(here), kept(there)
                after[h].append(t)
                add, todo = upstream[h], [t]
                while todo:  # everything downstream of there now has here's upstream too
                    n = todo.pop()
                    if add & ~upstream[n]:
                        upstream[n] |= add
                        todo.extend(after[n])
                emits.setdefault(id(link), {}).setdefault(here[1], []).append(pub)
                if there not in seen:
                    seen[there] = None
                    queue.append(there)
    live: dict[str, set[str]] = {}  # broker -> the events ever published there
    for broker, event in seen:
        live.setdefault(broker, set()).add(event)
    handlers: list[Handler] = []
    taken: dict[str, set[str]] = {}
    for link, offered in subs:
        on_broker = live.get(link.target, set())
        events = offered if link.events else [e for e in offered if e in on_broker]
        groups = _by_publications(events, emits.get(id(link), {}))
        for names, emitted in groups.values():
            used = taken.setdefault(link.source, set())
            name = handler_name(link.target, names, used)
            used.add(name)
            handlers.append(Handler(link.source, name, link, tuple(names), emitted))
    return handlers


def _by_publications(
    events: list[str], emits: Mapping[str, list[Publication]]
) -> dict[tuple, tuple[list[str], tuple[Publication, ...]]]:
    """A subscription's events grouped by what handling them publishes (one handler each)."""
    if not emits:  # most subscriptions: nothing published in turn, one handler (or none)
        return {(): (list(events), ())} if events else {}
    groups: dict[tuple, tuple[list[str], tuple[Publication, ...]]] = {}
    for event in events:
        found = emits.get(event)
        if found is None:  # most events: nothing published in turn (no key to build)
            groups.setdefault((), ([], ()))[0].append(event)
            continue
        out = tuple(found)
        key = tuple((pub.link.key, pub.event) for pub in out)
        groups.setdefault(key, ([], out))[0].append(event)
    return groups


def handler_name(broker: str, events: Sequence[str], used: set[str]) -> str:
    """``on_order_placed`` for one event, ``on_<broker>_events`` for several; unique."""
    base = f"on_{_snake_event(events[0])}" if len(events) == 1 else f"on_{snake(broker)}_events"
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    return name


def _snake_event(event: str) -> str:
    out = []
    for i, ch in enumerate(event):
        if ch.isupper() and i and not event[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return snake("".join(out))  # order.created → order_created: handler names are identifiers


def event_flows(
    operations: Sequence[Operation], handlers: Sequence[Handler]
) -> tuple[EventFlow, ...]:
    """Every published event with its publishers and consumers, sorted by (broker, event)."""
    publishers: dict[Event, set[OpRef]] = {}
    for op in operations:
        for step in op.steps:
            if step.action is StepAction.PUBLISH:
                publishers.setdefault((step.target or "", step.event or ""), set()).add(op.ref)
    consumers: dict[Event, list[OpRef]] = {}
    names = {(op.component, op.name) for op in operations if op.kind is OpKind.CONSUME}
    for handler in handlers:
        if (handler.component, handler.name) not in names:
            continue
        ref = OpRef(component=handler.component, operation=handler.name)
        for event in handler.events:
            consumers.setdefault((handler.subscription.target, event), []).append(ref)
    return tuple(
        EventFlow(
            event=event,
            broker=broker,
            publishers=tuple(sorted(pubs, key=str)),
            consumers=tuple(consumers.get((broker, event), ())),
        )
        for (broker, event), pubs in sorted(publishers.items())
    )
