"""Interaction smells: services reached without the gateway, unprotected calls to externals,
events nobody consumes or publishes, inconsistent use of config/registry, unreachable parts."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from archsim.analysis.context import Context
from archsim.analysis.findings import Finding, Rule
from archsim.errors import Severity
from archsim.model import Interaction, Kind, Relation

__all__ = ["RULES"]


def _bypassed(ctx: Context) -> Iterator[Finding]:
    arch = ctx.arch
    gateways = {c.id for c in arch.of_kind(Kind.GATEWAY)}
    exposed: dict[str, list[tuple[str, str]]] = {}  # service -> [(entry id, front door)]
    for entry in arch.behaviour.entries:
        if gateways.intersection(entry.hops):
            continue
        for hop in entry.hops:
            if arch.component(hop).kind is Kind.SERVICE:
                exposed.setdefault(hop, []).append((entry.id, entry.hops[0]))
                break
    if not gateways and len(exposed) < 2:
        return  # one service behind its balancer needs no gateway
    validating = sorted(g for g in gateways if arch.links_from(g, Relation.VALIDATES_WITH))
    for service, routes in exposed.items():
        door = routes[0][1]
        skipped = f"; these requests skip {validating[0]}'s token check" if validating else ""
        via = f"from {door}" if door != service else "directly"
        where = f"without {sorted(gateways)[0]}" if gateways else "with no API gateway"
        yield BYPASSED_GATEWAY.finding(
            [service, door] if door != service else [service],
            f"{service} is reached {via} {where} ({len(routes)} route"
            f"{'s' * (len(routes) != 1)}, e.g. {routes[0][0]}){skipped}",
        )


def _wobbly(ctx: Context) -> Iterator[Finding]:
    arch = ctx.arch
    for link in arch.links:
        target = arch.component(link.target)
        if link.interaction is not Interaction.SYNC or target.kind is not Kind.EXTERNAL:
            continue
        has_timeout = "timeout" in link.explicit or target.timeout is not None
        if link.breaker is not None or has_timeout:
            continue
        yield WOBBLY.finding(
            [link.source, link.target],
            f"{link.source} → {link.target} ({link.relation.label}) has no circuit breaker and "
            f"only the default {arch.default_timeout:g} s timeout",
            fix=f"set timeout and breaker on the edge, e.g. {link.source} -> {link.target} "
            f'[label="{link.label}", timeout="2s", breaker="5"]; or make it asynchronous',
        )


def _orphan_publishers(ctx: Context) -> Iterator[Finding]:
    for flow in ctx.arch.behaviour.events:
        if flow.consumers:
            continue
        pubs = list(dict.fromkeys(p.component for p in flow.publishers))
        yield ORPHAN_PUBLISHER.finding(
            [*pubs, flow.broker],
            f"{flow.event} is published to {flow.broker} by {', '.join(pubs)} but nothing "
            "subscribes to it",
        )


def _orphan_subscribers(ctx: Context) -> Iterator[Finding]:
    published = {(e.broker, e.event) for e in ctx.arch.behaviour.events}
    brokers = {broker for broker, _ in published}
    for link in ctx.arch.links:
        if link.relation is not Relation.SUBSCRIBES_TO:
            continue
        if link.event is not None:
            if (link.target, link.event) in published:
                continue
            what = f"event {link.event} on {link.target}"
        elif link.target in brokers:
            continue
        else:
            what = f"{link.target}"
        yield ORPHAN_SUBSCRIBER.finding(
            [link.source, link.target],
            f"{link.source} subscribes to {what}, but nothing publishes there",
        )


def _inconsistent(
    ctx: Context, relation: Relation, rule: Rule, does: str, does_not: str
) -> Iterator[Finding]:
    arch = ctx.arch
    peers = [c.id for c in arch.of_kind(Kind.SERVICE)]
    users = {c for c in peers if arch.links_from(c, relation)}
    if not users or len(users) == len(peers):
        return
    targets = sorted({lk.target for c in users for lk in arch.links_from(c, relation)})
    odd_ones_use = len(users) * 2 < len(peers)
    odd = [c for c in peers if (c in users) == odd_ones_use]
    for comp in odd:
        if odd_ones_use:
            mine = ", ".join(lk.target for lk in arch.links_from(comp, relation))
            text = f"{comp} {does} {mine}, unlike {len(peers) - len(users)} of its peer services"
        else:
            text = f"{comp} {does_not} {', '.join(targets)}, unlike {len(users)} of its peers"
        yield rule.finding([comp, *targets], f"{text} ({len(peers)} services)")


def _unreachable(ctx: Context) -> Iterator[Finding]:
    doors = list(dict.fromkeys(e.hops[0] for e in ctx.arch.behaviour.entries))
    if not doors:
        return  # no entry route at all is reported by validation, not here
    reached = set(doors)
    for door in doors:
        reached |= nx.descendants(ctx.activation, door)
    for comp in ctx.arch.components:
        if comp.id not in reached:
            yield UNREACHABLE.finding(
                [comp.id],
                f"{comp.id} ({comp.kind.value}) is not reached from any entry route "
                f"({', '.join(doors)}) by calls, data access or events",
            )


BYPASSED_GATEWAY = Rule(
    id="bypassed-gateway",
    severity=Severity.WARNING,
    title="Service reached without the API gateway",
    source="microFreshener: no API gateway; Taibi et al.: no API gateway",
    why="clients bound to internal services break when those change, and cross-cutting "
    "checks the gateway does (authentication, rate limits) are skipped",
    fix="route client traffic to services only through the gateway (remove the direct "
    "'distributes to' edges, or distribute to the gateway)",
    check=_bypassed,
)
WOBBLY = Rule(
    id="wobbly-interaction",
    severity=Severity.WARNING,
    title="Wobbly interaction with an external system",
    source="microFreshener: wobbly service interaction",
    why="a slow or failing external system holds the caller's workers until the timeout and "
    "the failure spreads upstream",
    fix="give the call a tight timeout and a circuit breaker, or make it asynchronous",
    check=_wobbly,
)
ORPHAN_PUBLISHER = Rule(
    id="publisher-without-subscriber",
    severity=Severity.WARNING,
    title="Event without a subscriber",
    source="event-flow consistency (archsim)",
    why="events pile up on the broker or are dropped; the work they should trigger never happens",
    fix="add the consumer ('subscribes to' edge), or stop publishing the event",
    check=_orphan_publishers,
)
ORPHAN_SUBSCRIBER = Rule(
    id="subscriber-without-publisher",
    severity=Severity.WARNING,
    title="Subscriber without a publisher",
    source="event-flow consistency (archsim)",
    why="the consumer waits for events nobody sends: dead code, or a missing 'publishes to'",
    fix="add the publisher ('publishes to' edge, with event=…), or remove the subscription",
    check=_orphan_subscribers,
)
def _inconsistent_config(ctx: Context) -> Iterator[Finding]:
    return _inconsistent(
        ctx,
        Relation.READS_FROM,
        INCONSISTENT_CONFIG,
        "reads configuration from",
        "does not read configuration from",
    )


def _inconsistent_registration(ctx: Context) -> Iterator[Finding]:
    return _inconsistent(
        ctx,
        Relation.REGISTERS_WITH,
        INCONSISTENT_REGISTRATION,
        "registers with",
        "does not register with",
    )


INCONSISTENT_CONFIG = Rule(
    id="inconsistent-config",
    severity=Severity.INFO,
    title="Configuration read inconsistently",
    source="Taibi et al.: the spirit of 'no central configuration' applied to peers",
    why="services configured differently from their peers drift: settings live in two places",
    fix="have every service read its configuration the same way (add or remove 'reads from')",
    check=_inconsistent_config,
)
INCONSISTENT_REGISTRATION = Rule(
    id="inconsistent-registration",
    severity=Severity.WARNING,
    title="Registration with service discovery inconsistent",
    source="service discovery consistency (archsim)",
    why="an unregistered service cannot be found by callers that resolve through the registry",
    fix="have every service register with the registry (add 'registers with')",
    check=_inconsistent_registration,
)
UNREACHABLE = Rule(
    id="unreachable-component",
    severity=Severity.WARNING,
    title="Component nothing reaches",
    source="dead component (archsim); Arcan-style unused component",
    why="it costs money and attention but serves no route: dead, or a missing edge",
    fix="connect it to what should use it, or remove it",
    check=_unreachable,
)

RULES = (
    BYPASSED_GATEWAY,
    WOBBLY,
    ORPHAN_PUBLISHER,
    ORPHAN_SUBSCRIBER,
    INCONSISTENT_CONFIG,
    INCONSISTENT_REGISTRATION,
    UNREACHABLE,
)
