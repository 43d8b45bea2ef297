"""Rules gateway.* and load_balancer.forward: the operations of the components that forward.

A proxy offers one operation per request operation it reaches, with that operation's share of
its traffic; it is derived after the services (and the proxies) it forwards to, so their
operations exist. Pure: takes the operations derived so far and returns the proxy's own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, MutableMapping, Sequence

from archsim.model.accounts import account_links, account_share
from archsim.model.architecture import Architecture, Component, Link
from archsim.model.behaviour import Operation, OpKind, Step, StepAction
from archsim.model.entries import forwards, is_entry
from archsim.model.kinds import Kind
from archsim.model.naming import snake
from archsim.model.rate_limits import rate_limiters
from archsim.model.routes import link_route, prefixed, route_prefix
from archsim.model.step_builder import StepBuilder
from archsim.model.weights import shares

__all__ = ["aim_calls_into_proxies", "balancer_operations", "gateway_operations", "proxy_order"]

Operations = Mapping[str, Sequence[Operation]]


def proxy_order(arch: Architecture) -> list[Component]:
    """Gateways and balancers, each after the proxies it forwards to (so it sees their routes);
    gateways before balancers; a cycle of proxies is cut where it closes."""
    order: list[Component] = []
    state: dict[str, bool] = {}  # False: being visited, True: done

    def visit(comp: Component) -> None:
        if comp.id in state:
            return
        state[comp.id] = False
        for link in forwards(arch, comp):
            target = arch.component(link.target)
            if target.kind in (Kind.GATEWAY, Kind.LOAD_BALANCER):
                visit(target)
        state[comp.id] = True
        order.append(comp)

    for comp in arch.of_kind(Kind.GATEWAY) + arch.of_kind(Kind.LOAD_BALANCER):
        visit(comp)
    return order


def gateway_operations(
    arch: Architecture, comp: Component, ops: Operations, steps: StepBuilder
) -> list[Operation]:
    """Rule gateway.route: ``/api<path>`` per entry operation of each service it routes to
    (or, a front end, calls); a gateway's own routes keep their path."""
    guard = steps.validation(comp)
    # rule gateway.rate_limit: a counter written per request, before the forward
    limits = steps.counts(rate_limiters(arch, comp), comp)
    routes = _targets(arch, comp, ops)
    # Two routed services may both offer e.g. get_item; only then prefix the target's id.
    seen = Counter(op.name for _, reached, _ in routes for op in reached)
    out = []
    for link, reached, part in routes:
        op_total = sum(op.weight for op in reached)
        for op in reached:
            # a route's operation has weight 0 in its service's mix: the route's own share
            weight = part * op.weight / op_total if op_total else part / len(reached)
            # an identifier: the generated handler is a function of this name
            name = op.name if seen[op.name] == 1 else f"{snake(link.target)}__{op.name}"
            path = op.path if op.kind is OpKind.PROXY else f"/api{op.path}"
            if op.kind is OpKind.PROXY:  # "/web/*" to a BFF: its routes under /web
                path = prefixed(route_prefix(link.label), path or "/", op.path)
            public = _public(op, ops)
            check = () if public else guard
            out.append(Operation(
                component=comp.id, name=name, kind=OpKind.PROXY, method=op.method,
                path=path, resource=op.resource, public=public, weight=weight,
                steps=(steps.compute(comp, name), *check, *limits, steps.call(link, op.name)),
                rule="gateway.route"))  # fmt: skip
    return out


def balancer_operations(
    arch: Architecture, comp: Component, ops: Operations, steps: StepBuilder
) -> list[Operation]:
    """Rule load_balancer.forward: one forward per entry operation behind each target."""
    out = []
    for link, reached, part in _targets(arch, comp, ops):
        op_total = sum(op.weight for op in reached) or 1.0
        for op in reached:
            name = f"{snake(link.target)}__{op.name}"
            out.append(Operation(
                component=comp.id, name=name, kind=OpKind.PROXY, public=op.public,
                method=op.method, path=op.path, resource=op.resource,
                weight=part * op.weight / op_total,
                steps=(steps.compute(comp, name), steps.call(link, op.name)),
                rule="load_balancer.forward"))  # fmt: skip
    return out


def _targets(
    arch: Architecture, comp: Component, ops: Operations
) -> list[tuple[Link, list[Operation], float]]:
    """The links a proxy forwards over that reach request operations, with their shares;
    a gateway also reaches the accounts of the auth services it validates with (rule
    gateway.accounts), with ACCOUNTS_SHARE of its traffic or the link's weight."""
    routes = _live(arch, forwards(arch, comp), ops)
    parts = shares([link for link, _ in routes])
    accounts: list[tuple[Link, list[Operation]]] = []
    if comp.kind is Kind.GATEWAY:
        routed = {link.target for link, _ in routes}
        accounts = _live(arch, account_links(arch, comp, routed), ops)
    if accounts and routes:
        extra = [account_share(link) for link, _ in accounts]
        parts = [part * (1 - sum(extra)) for part in parts] + extra
    elif accounts:
        parts = [1 / len(accounts)] * len(accounts)
    live = routes + accounts
    return [(link, reached, part) for (link, reached), part in zip(live, parts, strict=True)]


def _live(
    arch: Architecture, links: Sequence[Link], ops: Operations
) -> list[tuple[Link, list[Operation]]]:
    """The links whose targets offer request operations, with those operations; a link
    labelled with a route reaches that route's operation only (rule service.route)."""
    live = []
    for link in links:
        reached = [op for op in ops.get(link.target, []) if is_entry(op)]
        route = link_route(arch, link) if reached else None
        if route is not None:
            reached = [op for op in reached if op.name == route.name] or reached
        if reached:
            live.append((link, reached))
    return live


def _public(op: Operation, ops: Operations) -> bool:
    """Rule gateway.public: a caller has no token before it logs in, so the routes to a
    login and to the sign-up of the same resource (``create_<r>`` beside ``login``) skip
    the gateway's token check; a proxy's own public routes stay public."""
    if op.kind is OpKind.PROXY:
        return op.public
    if op.kind is OpKind.LOGIN:
        return True
    return op.kind is OpKind.WRITE and any(
        o.kind is OpKind.LOGIN and o.resource == op.resource for o in ops.get(op.component, [])
    )


def aim_calls_into_proxies(
    ops: MutableMapping[str, list[Operation]], asked: Mapping[tuple[str, str], str]
) -> None:
    """Rule proxy.call_in: point each call a component makes into a balancer or gateway with
    several components behind it (``asked``: (proxy, operation asked of the first behind) →
    that first) at the proxy's forward of that operation, else its first forward to that
    component (in place, once the proxies' operations exist)."""
    aimed: dict[tuple[str, str], str] = {}
    for (proxy, wanted), inner in asked.items():
        to_inner = [op for op in ops.get(proxy, ()) if op.steps and op.steps[-1].target == inner]
        best = next((op for op in to_inner if op.steps[-1].operation == wanted), None)
        if best or to_inner:
            aimed[(proxy, wanted)] = (best or to_inner[0]).name
    if not aimed:
        return
    for component, offered in ops.items():
        ops[component] = [_aimed_op(op, aimed) for op in offered]


def _aimed_op(op: Operation, aimed: Mapping[tuple[str, str], str]) -> Operation:
    steps = tuple(_aimed_step(step, aimed) for step in op.steps)
    if all(a is b for a, b in zip(steps, op.steps, strict=True)):
        return op
    return op.model_copy(update={"steps": steps})


def _aimed_step(step: Step, aimed: Mapping[tuple[str, str], str]) -> Step:
    if step.action is StepAction.CALL and (step.target or "", step.operation or "") in aimed:
        return step.model_copy(
            update={"operation": aimed[(step.target or "", step.operation or "")]}
        )
    if step.on_miss:
        inner = tuple(_aimed_step(s, aimed) for s in step.on_miss)
        if any(a is not b for a, b in zip(inner, step.on_miss, strict=True)):
            return step.model_copy(update={"on_miss": inner})
    return step
