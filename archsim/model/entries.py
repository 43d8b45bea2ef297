"""Where requests come in: the front doors, the entry points and their share of the traffic.

The rules (docs/behaviour.md, "Entry points"), first that applies wins:

a. **Traffic sources.** Components of kind ``client`` (a Browser, a load generator drawn as a
   node) send the requests: their targets are the front doors, split by the client's link
   weights (clients share the traffic equally).
b. **Load balancers** nothing sends requests to: they spread it over what they
   ``distribute to`` (through a gateway, as in the seed).
c. **Gateways** nothing sends requests to (a front end that ``calls`` its services forwards like
   ``routes to``: see ``forwards``).
d. **Fallback**: services nothing sends requests to that offer request operations.

Then, whatever rule applied, side doors with SIDE_SHARE of the requests each: an auth service
keeping accounts (``archsim.model.accounts``) that no door reaches, a producer nothing
sends requests to (it publishes events and subscribes to none: sensors, a background job),
what an external system ``calls`` (its webhooks: ``webhooks``), over its writes, and a
scheduled job (``archsim.model.schedule``: a nightly batch scorer), over its writes.

Each Entry carries the ``reason`` of its door, which ``archsim inspect`` shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from archsim.errors import Location
from archsim.model.accounts import ACCOUNTS_SHARE
from archsim.model.architecture import Architecture, Component, Link
from archsim.model.behaviour import Entry, Operation, OpKind, OpRef, StepAction
from archsim.model.checks import Reader
from archsim.model.dot.ast import DotGraph
from archsim.model.kinds import Kind, Relation
from archsim.model.routes import link_route, request_line
from archsim.model.schedule import scheduled_jobs
from archsim.model.weights import shares

__all__ = [
    "ENTRY_KINDS",
    "Door",
    "check_entries",
    "derive_entries",
    "forwards",
    "front_doors",
    "is_entry",
    "sibling_groups",
    "webhooks",
]

#: Operation kinds a request from outside may reach (plus the proxies in front of them).
ENTRY_KINDS = frozenset({OpKind.READ, OpKind.LIST, OpKind.WRITE, OpKind.ACTION, OpKind.LOGIN})
_REQUESTS = (Relation.CALLS, Relation.USES, Relation.ROUTES_TO, Relation.DISTRIBUTES_TO)

Ops = Mapping[str, Sequence[Operation]]
_Named = dict[tuple[str, str], Operation]  # (component, operation name) -> operation


@dataclass(frozen=True, slots=True)
class Door:
    """A component where requests enter, its share of all requests, and why."""

    component: str
    share: float
    reason: str
    #: a producer's door takes only the requests that publish (what starts its flows)
    publishing_only: bool = False
    #: a webhook's door takes only the requests that write or act (deliveries are POSTs)
    writes_only: bool = False
    #: a traffic source's link labelled with a route sends only that request (rule service.route)
    operation: str | None = None


def is_entry(op: Operation) -> bool:
    """True for operations a request from outside may reach."""
    return op.kind in ENTRY_KINDS or op.kind is OpKind.PROXY


def forwards(arch: Architecture, comp: Component) -> list[Link]:
    """The links a proxy forwards requests over, in file order: a load balancer's
    ``distributes to``; a gateway's ``routes to``, then its ``calls`` to components it does not
    also route to (a front end that calls its services forwards like ``routes to``)."""
    if comp.kind is Kind.LOAD_BALANCER:
        return arch.links_from(comp.id, Relation.DISTRIBUTES_TO)
    if comp.kind is Kind.GATEWAY:
        routes = arch.links_from(comp.id, Relation.ROUTES_TO)
        routed = {link.target for link in routes}
        calls = arch.links_from(comp.id, Relation.CALLS)
        return routes + [link for link in calls if link.target not in routed]
    return []


def sibling_groups(arch: Architecture) -> list[list[Link]]:
    """Groups of links whose weights split one component's traffic (for ``check_weights``)."""
    groups = []
    for comp in arch.components:
        links = arch.links_from(comp.id, *_REQUESTS) if comp.kind is Kind.CLIENT else None
        links = links if links is not None else forwards(arch, comp)
        if len(links) > 1:
            groups.append(links)
    return groups


def _door_ops(arch: Architecture, ops: Ops, component: str) -> list[tuple[Operation, float]]:
    """The operations requests at this door reach, with their weights in its mix."""
    offered = [(op, op.weight) for op in ops.get(component, ()) if is_entry(op) and op.weight > 0]
    if not offered and arch.component(component).kind is Kind.AUTH:
        # A client that uses the identity provider signs in there: its token issue.
        offered = [(op, 1.0) for op in ops.get(component, ()) if op.name == "issue_token"]
    return offered


def _route_op(arch: Architecture, ops: Ops, link: Link) -> str | None:
    """The operation a traffic source's link labelled with a route sends (rule service.route)."""
    if "/" not in link.label:
        return None
    if arch.component(link.target).kind in _PROXIES:
        # a gateway's route of that method and path (``GET /api/products``): that one only
        sent = request_line(link.label)
        found = [
            op.name
            for op in ops.get(link.target, ())
            if sent is not None and (op.method, op.path) == sent and is_entry(op)
        ]
        return found[0] if len(found) == 1 else None
    route = link_route(arch, link)
    named = route is not None and any(op.name == route.name for op in ops.get(link.target, ()))
    return route.name if route is not None and named else None


_PROXIES = frozenset({Kind.GATEWAY, Kind.LOAD_BALANCER})


def _client_doors(arch: Architecture, ops: Ops) -> list[Door]:
    senders = []
    for client in arch.of_kind(Kind.CLIENT):
        links = [
            link
            for link in arch.links_from(client.id, *_REQUESTS)
            if _door_ops(arch, ops, link.target) or _route_op(arch, ops, link)
        ]
        if links:
            senders.append((client, links))
    share: dict[tuple[str, str | None], float] = {}
    why: dict[tuple[str, str | None], list[str]] = {}
    for client, links in senders:
        for link, part in zip(links, shares(links), strict=True):
            key = (link.target, _route_op(arch, ops, link))
            share[key] = share.get(key, 0.0) + part / len(senders)
            how = link.label if key[1] else link.relation.label
            why.setdefault(key, []).append(f"{client.id} ({how})")
    return [
        Door(key[0], share[key], f"requests come from {_sources(why[key])}", operation=key[1])
        for key in share
    ]


def _sources(names: list[str]) -> str:
    return ("the traffic source " if len(names) == 1 else "the traffic sources ") + ", ".join(names)


_TIERS = (
    (Kind.LOAD_BALANCER, "a load balancer nothing sends requests to: requests enter here"),
    (Kind.GATEWAY, "a gateway nothing sends requests to: requests enter here"),
    (Kind.SERVICE, "nothing sends it requests and it offers operations (no client, "
                   "load balancer or gateway in front)"),
)  # fmt: skip


def front_doors(arch: Architecture, ops: Ops) -> list[Door]:
    """Where requests enter, by rules a–d of this module."""
    doors = _client_doors(arch, ops)
    if doors:
        return doors
    for kind, reason in _TIERS:
        found = [
            comp
            for comp in arch.of_kind(kind)
            if not arch.has_links_to(comp.id, *_REQUESTS) and _door_ops(arch, ops, comp.id)
        ]
        if kind is Kind.SERVICE:
            # a scheduled job is no door for users: a side door of its own (rule entry.schedule)
            jobs = scheduled_jobs(arch)
            found = [comp for comp in found if comp.id not in jobs] or found
        if found:
            return [Door(comp.id, 1.0 / len(found), reason) for comp in found]
    return []


def _side_doors(arch: Architecture, ops: Ops, doors: list[Door], reached: set[str]) -> list[Door]:
    """``doors``, plus the components that must take requests of their own although no door
    reaches them, each with SIDE_SHARE of all requests (the others scaled to the rest):

    - an auth service keeping accounts (rule auth.accounts): callers must get a token;
    - a producer (rule entry.producer): a service nothing sends requests to that publishes
      events and subscribes to none (sensors, a background job) — else the flows its events
      start would never run;
    - what an external system calls (rule entry.webhook), reached by a door or not: the
      requests it sends in, over the target's writes and actions;
    - a scheduled job (rule entry.schedule) no door reaches: its runs, over its writes and
      actions (a run reads its inputs and writes its results).
    """
    if not doors:
        return doors
    jobs = {cid: why for cid, why in scheduled_jobs(arch).items() if cid not in reached}
    extra = (
        [
            Door(comp.id, SIDE_SHARE, _ACCOUNTS_REASON)
            for comp in arch.of_kind(Kind.AUTH)
            if comp.id not in reached
            and any(op.kind is OpKind.LOGIN for op in ops.get(comp.id, ()))
        ]
        + [
            Door(comp.id, SIDE_SHARE, _PRODUCER_REASON, publishing_only=True)
            for comp in arch.of_kind(Kind.SERVICE)
            if comp.id not in reached and comp.id not in jobs and _is_producer(arch, ops, comp)
        ]
        + [
            Door(cid, SIDE_SHARE, _schedule_reason(why), writes_only=True)
            for cid, why in jobs.items()
            if _door_ops(arch, ops, cid)
        ]
    )
    called: dict[str, list[str]] = {}
    for link in webhooks(arch):
        if _door_ops(arch, ops, link.target):
            called.setdefault(link.target, []).append(link.source)
    extra += [
        Door(target, SIDE_SHARE, _webhook_reason(sources), writes_only=True)
        for target, sources in called.items()
    ]
    if not extra:
        return doors
    rest = 1 - SIDE_SHARE * len(extra)
    return [replace(d, share=d.share * rest) for d in doors] + extra


#: The share of all requests a side door takes (the auth service's sign-up and login, a producer).
SIDE_SHARE = ACCOUNTS_SHARE
_ACCOUNTS_REASON = "its sign-up and login: tokens are checked and nothing in front routes there"
_PRODUCER_REASON = (
    "nothing sends it requests and it publishes events it does not get from a broker: a "
    "producer; its publishing requests take 5% of all, so the flows its events start run"
)


#: What an external system's requests may enter (a payment provider's webhooks).
_WEBHOOK_TARGETS = frozenset({Kind.SERVICE, Kind.GATEWAY, Kind.LOAD_BALANCER})
_WRITES = frozenset({OpKind.WRITE, OpKind.ACTION})


def webhooks(arch: Architecture) -> list[Link]:
    """The ``calls`` links over which an external system sends requests into the system
    (Stripe's webhooks to the app): rule entry.webhook."""
    kinds = {c.id: c.kind for c in arch.components}
    return [
        link
        for comp in arch.of_kind(Kind.EXTERNAL)
        for link in arch.links_from(comp.id, Relation.CALLS)
        if kinds.get(link.target) in _WEBHOOK_TARGETS
    ]


def _webhook_reason(sources: list[str]) -> str:
    return (
        f"{', '.join(sources)} calls it from outside (a webhook): its writes take 5% of all "
        "requests"
    )


def _schedule_reason(why: str) -> str:
    return (
        f"a scheduled job ({why}): nothing sends it requests; its runs take 5% of all "
        "requests, not its clock's rate"
    )


def _publishes(op: Operation) -> bool:
    return any(step.action is StepAction.PUBLISH for step in op.steps)


def _is_producer(arch: Architecture, ops: Ops, comp: Component) -> bool:
    return (
        not arch.has_links_to(comp.id, *_REQUESTS)
        and bool(arch.links_from(comp.id, Relation.PUBLISHES_TO))
        and not arch.has_links_from(comp.id, Relation.SUBSCRIBES_TO)
        and bool(_door_ops(arch, ops, comp.id))
    )


def _entries(arch: Architecture, ops: Ops, doors: list[Door], find: _Named) -> list[Entry]:
    """Each request operation of each door, with its share of all requests."""
    entries: list[Entry] = []
    for door in doors:
        offered = _door_ops(arch, ops, door.component)
        if door.operation is not None:
            offered = [(op, 1.0) for op in ops[door.component] if op.name == door.operation]
        if door.publishing_only:
            offered = [(op, w) for op, w in offered if _publishes(op)] or offered
        if door.writes_only:
            offered = [(op, w) for op, w in offered if op.kind in _WRITES] or offered
        total = sum(weight for _, weight in offered)
        for op, weight in offered:
            hops, target = _follow(find, op)
            entries.append(Entry(
                id=f"{op.method} {op.path}", method=op.method or "GET", path=op.path or "/",
                operation=op.ref, target=target, hops=hops,
                weight=weight / total * door.share, reason=door.reason))  # fmt: skip
    return entries


def derive_entries(arch: Architecture, ops: Ops) -> tuple[Entry, ...]:
    """Every entry point: each request operation of each front door, with its probability."""
    find: _Named = {}
    for comp, offered in ops.items():
        for op in offered:
            find.setdefault((comp, op.name), op)  # the first of a name, as a scan would find
    doors = front_doors(arch, ops)
    entries = _entries(arch, ops, doors, find)
    reached = {entry.target.component for entry in entries}
    more = _side_doors(arch, ops, doors, reached)
    if more is not doors:
        entries = _entries(arch, ops, more, find)
    entries = _merged(entries)
    # Two front doors may offer the same request (two gateways to one service): name the door.
    seen = Counter(entry.id for entry in entries)
    return tuple(
        entry if seen[entry.id] == 1 else entry.model_copy(
            update={"id": f"{entry.id} via {entry.hops[0]}"})
        for entry in entries
    )  # fmt: skip


def _merged(entries: list[Entry]) -> list[Entry]:
    """One entry per request at a door: two doors at one component (the traffic source's and
    a webhook's, at the same service) give the same request twice; its shares add up."""
    by_request: dict[tuple[str, OpRef], Entry] = {}
    for entry in entries:
        key = (entry.id, entry.operation)
        seen = by_request.get(key)
        by_request[key] = entry if seen is None else seen.model_copy(
            update={"weight": seen.weight + entry.weight,
                    "reason": f"{seen.reason}; {entry.reason}"})  # fmt: skip
    return list(by_request.values())


def _follow(find: _Named, op: Operation) -> tuple[tuple[str, ...], OpRef]:
    """Walk proxy operations down to the application operation they forward to."""
    hops = [op.component]
    while op.kind is OpKind.PROXY:
        call = next(s for s in reversed(op.steps) if s.action is StepAction.CALL)
        assert call.target is not None and call.operation is not None
        op = find[(call.target, call.operation)]
        hops.append(op.component)
    return tuple(hops), op.ref


def check_entries(arch: Architecture, graph: DotGraph, reader: Reader) -> None:
    """No entry point is an error (nothing could send a request); a client target that takes no
    request is a warning."""
    if not arch.behaviour.entries:
        reader.error(
            f"'{arch.name}' has no entry points: nothing says where requests come in",
            graph.location,
            "draw the client as a node that calls the front door "
            '(browser -> frontend [label="calls"]), let a gateway "routes to" the services, '
            "or give a service a request operation nothing else calls",
            "no-entries",
        )
    doors = {entry.hops[0] for entry in arch.behaviour.entries}
    for client in arch.of_kind(Kind.CLIENT):
        for link in arch.links_from(client.id, *_REQUESTS):
            if link.target in doors:
                continue
            ref = link.source_ref
            reader.warn(
                f"'{client.id}' {link.relation.label} '{link.target}', which takes no requests "
                f"({arch.component(link.target).kind.value} with no request operation)",
                Location(reader.file, ref.line, ref.col) if ref else Location(reader.file),
                f"check the kind of {link.target} and its links",
                "client-target",
            )
