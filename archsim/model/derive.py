"""Derive the behaviour model from the relations, by the rules written in docs/behaviour.md.

Pure: takes an Architecture (its ``behaviour`` ignored) and returns a Behaviour. Each rule is a
small function named after what it derives; the ``rule`` field of every operation names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from archsim.model.accounts import LOGIN, SIGN_UP, accounts_resource, keeps_accounts, private_stores
from archsim.model.architecture import Architecture, Component, Link
from archsim.model.behaviour import Behaviour, Operation, OpKind, Step, StepAction
from archsim.model.cdc import Capture, captures, connectors
from archsim.model.entries import ENTRY_KINDS, derive_entries, forwards
from archsim.model.events import Handler, Publication, event_flows, plan_handlers, publications
from archsim.model.kinds import Kind, Relation
from archsim.model.lifecycles import (
    HEARTBEAT_INTERVAL_S,
    LOOKUP_TTL_S,
    REGISTRY_TTL_S,
    derive_lifecycles,
)
from archsim.model.naming import plural, snake
from archsim.model.proxies import (
    aim_calls_into_proxies,
    balancer_operations,
    gateway_operations,
    proxy_order,
)
from archsim.model.rate_limits import rate_limiters
from archsim.model.routes import Route, link_route, routed_operation
from archsim.model.saga import compensate
from archsim.model.served import served_resource
from archsim.model.step_builder import StepBuilder

__all__ = [
    "DEFAULT_MIX",
    "HEARTBEAT_INTERVAL_S",
    "LOOKUP_TTL_S",
    "REDELIVER_S",
    "REGISTRY_TTL_S",
    "TOKEN_CACHE_S",
    "TOKEN_TTL_S",
    "derive_behaviour",
]

#: Default request mix by operation kind (relative weights inside one component).
DEFAULT_MIX: dict[OpKind, float] = {
    OpKind.READ: 6.0,
    OpKind.LIST: 3.0,
    OpKind.WRITE: 1.0,
    OpKind.ACTION: 1.0,
    OpKind.LOGIN: 1.0,
}
#: How long a caller's generated stack trusts a validated token (s): 0, it asks the auth
#: service on every request, as a ``validates with`` step without ``p`` says (the stack's
#: ``ARCHSIM_TOKEN_CACHE_S`` overrides it; then give the link the ``p`` of the misses).
TOKEN_CACHE_S = 0.0
#: How long an event a consumer took stays unacknowledged before the broker hands it to
#: another consumer (s): at-least-once delivery of ``subscribes to`` (the stack's
#: ``ARCHSIM_REDELIVER_S`` overrides it). The simulator's consumers never crash, so it only
#: bounds the generated stack's recovery.
REDELIVER_S = 30.0
#: How long a token an auth service issues is valid (s): an hour, the common access-token
#: lifetime (the stack's ``ARCHSIM_TOKEN_TTL_S`` overrides it).
TOKEN_TTL_S = 3600.0
_SYNC_CALLS = (Relation.CALLS, Relation.USES)

_INBOUND_SYNC = (Relation.CALLS, Relation.USES, Relation.ROUTES_TO, Relation.DISTRIBUTES_TO)
_ENTRY_KINDS = ENTRY_KINDS


@dataclass
class _Deriver:
    arch: Architecture
    found: Sequence[Capture]  # the change-data captures (rule events.cdc), found once
    ops: dict[str, list[Operation]] = field(default_factory=dict)
    steps: StepBuilder = field(init=False)
    _resources: dict[str, str] = field(default_factory=dict)
    # one callee operation name per (target, mode), shared by every call step that names it
    # (a string per step before: ~60 bytes each, 900,000 at 1,000,000 links)
    _callees: dict[tuple[str, str | None], str] = field(default_factory=dict)
    pubs: dict[str, list[Publication]] = field(default_factory=dict)
    # the operations route labels on calls name, by callee (rule service.route)
    routed: dict[str, dict[str, Route]] = field(default_factory=dict)
    # calls into a proxy with several behind it: (proxy, what they ask the first) → that first
    into_proxies: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.steps = StepBuilder(self.arch)
        self.pubs = publications(
            self.arch, lambda cid: self._resource(self.arch.component(cid)), self.found
        )

    # -- per-kind operation rules ----------------------------------------------------------

    def _resource(self, comp: Component) -> str:
        if comp.id not in self._resources:
            self._resources[comp.id] = served_resource(self.arch, comp)
        return self._resources[comp.id]

    def _add(self, op: Operation) -> None:
        self.ops.setdefault(op.component, []).append(op)

    def _weight(self, comp: Component, name: str, kind: OpKind) -> float:
        if comp.mix is not None:
            return comp.mix.get(name, 0.0)
        return DEFAULT_MIX.get(kind, 0.0)

    def _op(self, comp: Component, name: str, kind: OpKind, steps: list[Step], **kw: Any) -> None:
        self._add(
            Operation(
                component=comp.id,
                name=name,
                kind=kind,
                weight=self._weight(comp, name, kind) if kind in _ENTRY_KINDS else 0.0,
                steps=(self.steps.compute(comp, name), *steps),
                **kw,
            )
        )

    def _dependencies(self, comp: Component) -> list[Step]:
        """Sync calls (calls/uses to non-auth), integrations and deliveries of a write/action."""
        steps = []
        for link in self.arch.links_from(comp.id):
            if link.relation in _SYNC_CALLS:
                target = self.arch.component(link.target)
                if target.kind is Kind.AUTH and link.relation is Relation.USES:
                    continue  # "uses auth" means issuing tokens at login (rule service.login)
                steps.append(self.steps.call(link, self._callee_operation(link, target)))
            elif link.relation is Relation.INTEGRATES_WITH:
                steps.append(self.steps.call(link, link.operation or "request"))
            elif link.relation is Relation.SENDS_VIA:
                steps.append(self.steps.call(link, link.operation or "send"))
        return steps

    def _callee_operation(self, link: Link, target: Component) -> str:
        if link.operation:
            return link.operation
        route = link_route(self.arch, link)
        if route is not None:  # "GET /customers/{id}" asks for that (rule service.route)
            self.routed.setdefault(target.id, {})[route.name] = route
            return route.name
        key = (target.id, link.mode)  # the same for every caller: one name, worked out once
        if key not in self._callees:
            self._callees[key] = self._default_operation(target, link.mode)
        return self._callees[key]

    def _default_operation(self, target: Component, mode: str | None) -> str:
        """The operation a call without ``operation=`` asks ``target`` for (by its kind; a
        service: ``get_<resource>`` when it stores data or ``mode=lookup``, else ``create_``)."""
        res = self._resource(target)
        if target.kind is Kind.LOAD_BALANCER:
            behind = self.arch.links_from(target.id, Relation.DISTRIBUTES_TO)
            if len(behind) == 1:
                # a call through a balancer (a Kubernetes Service in front of its pods) asks
                # for its forward of what the call would ask the component behind it
                inner = self.arch.component(behind[0].target)
                return f"{snake(inner.id)}__{self._default_operation(inner, mode)}"
        if target.kind is Kind.GATEWAY:
            ahead = forwards(self.arch, target)
            if len(ahead) == 1:
                # a call into a gateway with one component behind it (Temporal's Frontend in
                # front of its History service) asks for its route of what the call would ask
                # that component: a lone route keeps the operation's name (rule gateway.route)
                return self._default_operation(self.arch.component(ahead[0].target), mode)
        if target.kind in (Kind.LOAD_BALANCER, Kind.GATEWAY):
            ahead = forwards(self.arch, target)
            if ahead:  # several: the proxy's forward to the first, once it exists (rule
                # proxy.call_in: Mastodon's remote instances POST to its nginx)
                inner = self.arch.component(ahead[0].target)
                # asked by the name of what it wants of that component: a lookup and an action
                # through the same proxy stay two calls
                wanted = self._default_operation(inner, mode)
                self.into_proxies[(target.id, wanted)] = inner.id
                return wanted
        if target.kind is Kind.AUTH:
            return "validate_token"
        if target.kind is Kind.CONFIG:
            return "get_config"
        if target.kind is Kind.EXTERNAL:
            return "request"
        stores = bool(self.arch.links_from(target.id, Relation.STORES_IN))
        mode = mode or ("lookup" if stores else "action")
        return f"get_{res}" if mode == "lookup" else f"create_{res}"

    def _publishes(self, comp: Component) -> list[Step]:
        return [self.steps.publish(pub) for pub in self.pubs.get(comp.id, ())]

    def derive_service(self, comp: Component) -> None:
        """Rules service.read/list/write (data owners), service.action, service.login."""
        res, many = self._resource(comp), plural(self._resource(comp))
        stores = self.arch.links_from(comp.id, Relation.STORES_IN)
        # a rate limiter's cache holds counters, not the data (rule rate_limit.count)
        limiters = rate_limiters(self.arch, comp)
        caches = [c for c in self.arch.links_from(comp.id, Relation.CACHES_IN) if c not in limiters]
        guard = [*self.steps.validation(comp), *self.steps.counts(limiters, comp)]
        path = f"/{many}"
        if stores:
            primary = stores[0]
            get: list[Step] = [self.steps.query(primary, "read")]
            lst: list[Step] = [self.steps.query(primary, "read")]
            if caches:
                get = [self.steps.cached_read(caches[0], f"{res}:{{id}}", get)]
                lst = [self.steps.cached_read(caches[0], f"{many}:list", lst)]
            common = {"resource": res, "rule": "service.read"}
            self._op(comp, f"get_{res}", OpKind.READ, [*guard, *get],
                     method="GET", path=f"{path}/{{id}}", **common)  # fmt: skip
            common["rule"] = "service.list"
            self._op(comp, f"list_{many}", OpKind.LIST, [*guard, *lst],
                     method="GET", path=path, **common)  # fmt: skip
            writes = [self.steps.query(link, "write") for link in stores]
            invalidate = [self.steps.invalidate(c, f"{many}:list") for c in caches]
            steps = [
                *guard,
                *self._dependencies(comp),
                *writes,
                *invalidate,
                *self._publishes(comp),
            ]
            common["rule"] = "service.write"
            self._op(comp, f"create_{res}", OpKind.WRITE, steps, method="POST", path=path, **common)
            for auth in self.arch.links_from(comp.id, Relation.USES):
                if self.arch.component(auth.target).kind is Kind.AUTH:
                    steps = [self.steps.query(primary, "read"),
                             self.steps.call(auth, "issue_token")]  # fmt: skip
                    self._op(comp, "login", OpKind.LOGIN, steps, method="POST",
                             path=f"{path}/login", resource=res, rule="service.login")  # fmt: skip
                    break
        else:
            deps = self._dependencies(comp)
            publishes = self._publishes(comp)
            # A pure event consumer (subscribes, nothing calls it) offers no request operation.
            called = self.arch.has_links_to(comp.id, *_INBOUND_SYNC)
            if called or not self.arch.has_links_from(comp.id, Relation.SUBSCRIBES_TO):
                self._op(comp, f"create_{res}", OpKind.ACTION, [*guard, *deps, *publishes],
                         method="POST", path=path, resource=res, rule="service.action")  # fmt: skip

    def derive_consumers(self) -> list[Handler]:
        """Rule service.consume: the handlers of archsim.model.events' plan, each with the
        consumer's dependencies, a write to its own databases, then what it publishes in turn;
        its steps do not depend on the event, so one handler serves several."""
        published = [
            (step.target or "", step.event or "")
            for ops in self.ops.values()
            for op in ops
            for step in op.steps
            if step.action is StepAction.PUBLISH
        ]
        handlers = plan_handlers(self.arch, self.pubs, published)
        for h in handlers:
            comp = self.arch.component(h.component)
            stores = self.arch.links_from(comp.id, Relation.STORES_IN)
            deps = self._dependencies(comp)
            steps = [
                *self._service_token(comp, deps),
                *deps,
                *(self.steps.query(s, "write") for s in stores),
                *(self.steps.publish(pub) for pub in h.publishes),
            ]
            self._op(comp, h.name, OpKind.CONSUME, steps, triggers=h.events,
                     rule="service.consume")  # fmt: skip
        return handlers

    def _service_token(self, comp: Component, deps: list[Step]) -> list[Step]:
        """Rule consume.token: an event carries no caller's token, so a handler that calls an
        operation which checks tokens first asks that operation's auth service for a token of
        its own (subject ``service:<id>``); its calls carry it."""
        for dep in deps:
            callee = next(
                (op for op in self.ops.get(dep.target or "", []) if op.name == dep.operation),
                None,
            )
            checks = [
                s for s in (callee.steps if callee else ())
                if s.action is StepAction.CALL and s.operation == "validate_token"
            ]  # fmt: skip
            if checks and checks[0].target:
                own = Link(source=comp.id, target=checks[0].target, relation=Relation.CALLS,
                           label="")  # fmt: skip
                return [self.steps.call(own, "issue_token")]
        return []

    def derive_control(self, comp: Component) -> None:
        """Rules auth.*, config.get, registry.*, external.*: operations others call."""
        incoming = {link.relation for link in self.arch.links_to(comp.id)}
        names: list[tuple[str, str, str]] = []
        if comp.kind is Kind.AUTH:
            names += [
                ("validate_token", "POST", "/tokens/validate"),
                ("issue_token", "POST", "/tokens"),
            ]
        elif comp.kind is Kind.CONFIG:
            names.append(("get_config", "GET", "/config/{service}"))
        elif comp.kind is Kind.REGISTRY:
            names += [
                ("register", "POST", "/services"),
                ("heartbeat", "PUT", "/services/{id}"),
                ("lookup", "GET", "/services/{name}"),
                ("deregister", "DELETE", "/services/{id}"),
            ]
        elif comp.kind is Kind.EXTERNAL:
            if Relation.SENDS_VIA in incoming:
                names.append(("send", "POST", "/send"))
            if Relation.INTEGRATES_WITH in incoming or Relation.CALLS in incoming or not names:
                names.append(("request", "POST", "/requests"))
        # Named operations other components call on it (edge attribute ``operation``).
        for link in self.arch.links_to(comp.id):
            if link.operation and all(n != link.operation for n, _, _ in names):
                names.append((link.operation, "POST", f"/{link.operation}"))
        stores = self.arch.links_from(comp.id, Relation.STORES_IN)
        reads = [self.steps.query(s, "read") for s in stores]
        for name, method, path in names:
            self._op(comp, name, OpKind.CONTROL, reads if name != "send" else [],
                     method=method, path=path, rule=f"{comp.kind.value}.{name}")  # fmt: skip
        if keeps_accounts(self.arch, comp):
            self.derive_accounts(comp)

    def derive_accounts(self, comp: Component) -> None:
        """Rule auth.accounts (archsim.model.accounts): sign-up and login on the auth service
        itself, when its tokens are checked and no service logs in: sign-up writes each
        database it stores in (else its private store), login reads the first."""
        stores = self.arch.links_from(comp.id, Relation.STORES_IN)
        if stores:
            writes = [self.steps.query(s, "write") for s in stores]
            reads = [self.steps.query(stores[0], "read")]
        else:  # its private store (an implied database): a transient link
            private = Link(source=comp.id, target=private_stores(self.arch)[comp.id],
                           relation=Relation.STORES_IN, label="")  # fmt: skip
            writes = [self.steps.query(private, "write")]
            reads = [self.steps.query(private, "read")]
        res = accounts_resource(self.arch)  # user_account beside a drawn accounts service
        common = {"resource": res, "public": True, "rule": "auth.accounts"}
        self._op(comp, SIGN_UP, OpKind.WRITE, writes,
                 method="POST", path=f"/{plural(res)}", **common)  # fmt: skip
        self._op(comp, LOGIN, OpKind.LOGIN, reads,
                 method="POST", path=f"/{plural(res)}/login", **common)  # fmt: skip


def derive_behaviour(arch: Architecture, found: Sequence[Capture] | None = None) -> Behaviour:
    """Operations, entries, event flows and lifecycles of ``arch`` (its own behaviour ignored).
    ``found``: ``captures(arch)``, when the caller has them (the loader's checks ask too)."""
    found = captures(arch) if found is None else found
    d = _Deriver(arch, found)
    # a change-data-capture connector is infrastructure: the writes publish (rule events.cdc)
    relays = connectors(arch, found)
    for comp in arch.components:
        if comp.id in relays:
            continue
        if comp.kind is Kind.SERVICE:
            d.derive_service(comp)
        elif comp.kind in (Kind.AUTH, Kind.CONFIG, Kind.REGISTRY, Kind.EXTERNAL):
            d.derive_control(comp)
    handlers = d.derive_consumers()  # after the request operations: they start the chains
    for sender in arch.of_kind(Kind.CLIENT, Kind.GATEWAY):  # what a source or front end sends
        for link in arch.links_from(sender.id):
            if (route := link_route(arch, link)) is not None:
                d.routed.setdefault(link.target, {})[route.name] = route
    for target, routes in d.routed.items():  # what route labels call and the rules did not give
        offered = d.ops.get(target, [])
        names = {op.name for op in offered}
        for route in routes.values():
            if route.name not in names:
                ahead = [lk.target for lk in arch.links_from(target)]
                d._add(routed_operation(target, route, list(offered), ahead))
    # Gateways may route to gateways; derive in rank order, then balancers last.
    for comp in proxy_order(arch):
        rule = gateway_operations if comp.kind is Kind.GATEWAY else balancer_operations
        for op in rule(arch, comp, d.ops, d.steps):
            d._add(op)
    aim_calls_into_proxies(d.ops, d.into_proxies)
    # sagas last: their undo operations are for services to call, never routed from outside
    compensate(d.ops, {c.id: c.kind for c in arch.components})
    operations = tuple(op for comp in arch.components for op in d.ops.get(comp.id, []))
    events = event_flows(operations, handlers)
    return Behaviour(
        operations=operations,
        entries=derive_entries(arch, d.ops),
        events=events,
        lifecycles=derive_lifecycles(arch, d.steps),
    )
