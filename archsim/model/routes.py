"""A route written on a call edge names the operation it calls (rule service.route).

``orders -> monolith [label="GET /customers/{id}"]`` asks the monolith for one customer, not
for the monolith's default operation. ``call_route`` reads such a label into the operation's
name, kind, method and path; ``archsim.model.derive`` calls that operation and, when the
callee's rules give it none of that name, adds it to the callee (weight 0: only its callers
reach it). A PUT, PATCH or DELETE of one stored item (``DELETE /items/{id}``) updates or
deletes that row instead of inserting one (``by_id_mode``). docs/behaviour.md, "Operations".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from archsim.model.architecture import Architecture, Link
from archsim.model.behaviour import Operation, OpKind, Step, StepAction
from archsim.model.kinds import Kind, Relation
from archsim.model.naming import plural, singular, snake

__all__ = [
    "Route",
    "by_id_mode",
    "call_route",
    "link_route",
    "prefixed",
    "request_line",
    "route_prefix",
    "routed_operation",
]

# "GET /customers/{id}", "post /v1/charges", "DELETE /carts/:id": a method, then a path.
_METHOD_PATH = re.compile(r"\s*(GET|POST|PUT|PATCH|DELETE)\s+(/\S*)\s*", re.IGNORECASE)
_PARAM = re.compile(r"^(?:\{[^{}/]+\}|:[A-Za-z_]\w*|<[^<>/]+>)$")
# path words that say which API, not which resource
_PREFIXES = re.compile(r"^(?:api|rest|v\d+(?:\.\d+)?)$", re.IGNORECASE)
_VERBS = {"PUT": "update", "PATCH": "update", "DELETE": "delete", "POST": "create"}


@dataclass(frozen=True, slots=True)
class Route:
    """The operation a route label calls: its name, kind, method, path and resource."""

    name: str
    kind: OpKind
    method: str
    path: str
    resource: str


def call_route(label: str, stores: bool) -> Route | None:
    """The operation ``label`` (``GET /customers/{id}``) names on a callee that keeps data
    (``stores``) or not, or None when the label is no route the generated stack can call
    (more than one path parameter: its calls fill in one id). The parameter may stand
    anywhere: ``GET /users/{id}/orders`` lists a user's orders, ``PUT /carts/{id}`` updates
    a cart; it is always written ``{id}`` in the operation's path."""
    found = _METHOD_PATH.fullmatch(label)
    if not found:
        return None
    method = found.group(1).upper()
    parts = [part for part in found.group(2).split("/") if part]
    params = [i for i, part in enumerate(parts) if _PARAM.match(part)]
    if len(params) > 1:
        return None
    words = [snake(part) for part in parts if not _PARAM.match(part) and not _PREFIXES.match(part)]
    if not words or not all(w.isidentifier() for w in words):
        return None
    last = singular(words[-1])
    name_words = [singular(w) for w in words[:-1]]
    resource = "_".join([*name_words, last])
    # the literal words at their place, the one parameter as {id}: /users/{id}/orders
    path = "/" + "/".join("{id}" if _PARAM.match(part) else part for part in parts)
    on_one = bool(params) and params[0] == len(parts) - 1  # the path ends at one item
    if method == "GET" and on_one:
        return Route(f"get_{resource}", OpKind.READ, method, path, resource)
    if method == "GET":
        name = "_".join([*name_words, plural(last)])
        return Route(f"list_{name}", OpKind.LIST, method, path, resource)
    kind = OpKind.WRITE if stores else OpKind.ACTION
    return Route(f"{_VERBS[method]}_{resource}", kind, method, path, resource)


def request_line(label: str) -> tuple[str, str] | None:
    """The method and path a route label sends (``GET /api/products/:id`` → ``GET``,
    ``/api/products/{id}``: every parameter written ``{id}``), or None: no route."""
    found = _METHOD_PATH.fullmatch(label)
    if not found:
        return None
    parts = [part for part in found.group(2).split("/") if part]
    path = "/" + "/".join("{id}" if _PARAM.match(part) else part for part in parts)
    return found.group(1).upper(), path


_ROUTED = frozenset({Relation.CALLS, Relation.USES, Relation.ROUTES_TO})


def link_route(arch: Architecture, link: Link) -> Route | None:
    """The route a ``calls``/``uses`` link to a service names by its label, or None (a
    traffic source's ``shopper -> checkout [label="POST /payments"]`` sends that request)."""
    if "/" not in link.label or link.relation not in _ROUTED or link.operation:
        return None  # most labels name no route: no lookup of the target for them
    if arch.component(link.target).kind is not Kind.SERVICE:
        return None
    return call_route(link.label, bool(arch.links_from(link.target, Relation.STORES_IN)))


def routed_operation(
    component: str, route: Route, offered: list[Operation], ahead: Sequence[str] = ()
) -> Operation:
    """The operation ``route`` names on ``component``, whose rules gave it ``offered`` and none
    of that name: the steps of its operation of the same kind (a read's, a write's), weight 0.
    A path naming one of the components ``component`` links to (``ahead``: a Dapr sidecar's
    ``POST /v1.0/state/statestore``) keeps no call to another one."""
    like = {OpKind.READ: (OpKind.READ,), OpKind.LIST: (OpKind.LIST, OpKind.READ)}.get(
        route.kind, (OpKind.WRITE, OpKind.ACTION)
    )
    model = next((op for kind in like for op in offered if op.kind is kind), None)
    steps = model.steps if model is not None else (Step(action=StepAction.COMPUTE),)
    words = {snake(part) for part in route.path.split("/") if part}
    aimed = next((t for t in ahead if snake(t) in words), None)
    if aimed is not None and any(s.target == aimed for s in steps):
        # the sidecar's state API writes the state store, and does not invoke its app too;
        # its other data work stays (an upload API's POST /uploads writes the bucket, its
        # table, and publishes the bucket's ObjectCreated: rule events.notify)
        steps = tuple(
            s for s in steps if s.target in (None, aimed) or s.action is not StepAction.CALL
        )
    mode = by_id_mode(route)
    if mode is not None:
        read = next((op for op in offered if op.kind is OpKind.READ), None)
        steps = _on_one(steps, mode, read.steps if read is not None else ())
    return Operation(
        component=component, name=route.name, kind=route.kind, method=route.method,
        path=route.path, resource=route.resource, weight=0.0, steps=steps,
        rule="service.route",
    )  # fmt: skip


# the query mode of a route that changes the one row its path's {id} names
_BY_ID = {"PUT": "update", "PATCH": "update", "DELETE": "delete"}


def by_id_mode(route: Route) -> str | None:
    """``update`` (PUT, PATCH) or ``delete`` (DELETE) for a route that changes the stored row
    its path ends at (``PUT /carts/{id}``), or None. A route with no ``{id}`` (``PUT /stock``)
    or one of another resource's (``PUT /users/{id}/orders``: a user's id, no order's) names
    no row of its own to change: it keeps inserting one, as a create does."""
    on_one = route.path.endswith("/{id}")
    return _BY_ID.get(route.method) if on_one and route.kind is OpKind.WRITE else None


def _on_one(steps: tuple[Step, ...], mode: str, read: tuple[Step, ...]) -> tuple[Step, ...]:
    """A create's ``steps`` made to ``mode`` (update or delete) the row the request names:
    its inserts become that, and where it invalidates a cache the read fills (``read``: the
    read's steps) it also drops the item's own key (``item:{id}``) beside the list's."""
    own = {s.target: s.key for s in read if s.action is StepAction.CACHE_GET and s.key}
    out: list[Step] = []
    for step in steps:
        if step.action is StepAction.QUERY and step.mode == "write":
            step = step.model_copy(update={"mode": mode})
        elif step.action is StepAction.CACHE_DELETE and own.get(step.target, step.key) != step.key:
            out.append(step.model_copy(update={"key": own[step.target]}))
        out.append(step)
    return tuple(out)


# "/web/*", "/mobile/**", "/partner": a gateway route's path prefix (not "/*": everything)
_PREFIX = re.compile(r"\s*((?:/[A-Za-z0-9_.~\-]+)+)/?\**\s*")


def route_prefix(label: str) -> str | None:
    """The path prefix a gateway's route label gives (``/web/*`` → ``/web``), or None."""
    found = _PREFIX.fullmatch(label)
    return found.group(1) if found else None


def prefixed(prefix: str | None, path: str, own: str | None) -> str:
    """``path``, a route of a gateway behind this one, under the route ``prefix`` the link to
    it gives (``/web/*`` to a BFF: ``/web/api/catalogs/{id}``), so two BFFs' routes never
    clash; kept when the inner route (``own``) already starts with it."""
    if prefix is None or own is None or own == prefix or own.startswith(prefix + "/"):
        return path
    return prefix + path
