"""Derive the behaviour model from the relations, by the rules written in docs/behaviour.md.

Pure: takes an Architecture (its ``behaviour`` ignored) and returns a Behaviour. Each rule is a
small function named after what it derives; the ``rule`` field of every operation names it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from archsim.model import attributes as A
from archsim.model.accounts import (
    LOGIN,
    SIGN_UP,
    account_links,
    account_share,
    accounts_resource,
    keeps_accounts,
    private_stores,
)
from archsim.model.architecture import Architecture, Component, Link
from archsim.model.behaviour import (
    Behaviour,
    CallPolicy,
    Lifecycle,
    Operation,
    OpKind,
    PeriodicTask,
    Step,
    StepAction,
)
from archsim.model.cdc import connectors
from archsim.model.dead_letters import dead_letter_p
from archsim.model.entries import ENTRY_KINDS, derive_entries, forwards, is_entry
from archsim.model.events import Handler, Publication, event_flows, plan_handlers, publications
from archsim.model.kinds import Interaction, Kind, Relation
from archsim.model.naming import plural, snake
from archsim.model.rate_limits import RATE_WINDOW_S, rate_limiters
from archsim.model.records import build
from archsim.model.routes import Route, link_route, prefixed, route_prefix, routed_operation
from archsim.model.saga import compensate
from archsim.model.served import served_resource
from archsim.model.weights import shares

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
#: Rule lifecycle.heartbeat: how often a registered instance tells its registry it lives (s).
HEARTBEAT_INTERVAL_S = 10.0
#: How long a registry keeps an instance without a heartbeat (s): three missed heartbeats.
REGISTRY_TTL_S = 3 * HEARTBEAT_INTERVAL_S
#: Rule lifecycle.discovery: how long a caller trusts a registry lookup (s), the interval of
#: its periodic lookups.
LOOKUP_TTL_S = 30.0
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
_COMPUTE = Step(action=StepAction.COMPUTE)

_SYNC_CALLS = (Relation.CALLS, Relation.USES)

_INBOUND_SYNC = (Relation.CALLS, Relation.USES, Relation.ROUTES_TO, Relation.DISTRIBUTES_TO)
_ENTRY_KINDS = ENTRY_KINDS


@dataclass
class _Deriver:
    arch: Architecture
    ops: dict[str, list[Operation]] = field(default_factory=dict)
    # Steps are immutable, so equal calls, queries and publications are one shared object, in
    # every operation and for every link that makes them (every caller of one service with the
    # default policy: 900,000 calls at 1,000,000 links, ~10,000 distinct), validated once.
    _steps: dict[tuple[Any, ...], Step] = field(default_factory=dict)
    _resources: dict[str, str] = field(default_factory=dict)
    _policies: dict[tuple, CallPolicy] = field(default_factory=dict)
    # one callee operation name per (target, mode), shared by every call step that names it
    # (a string per step before: ~60 bytes each, 900,000 at 1,000,000 links)
    _callees: dict[tuple[str, str | None], str] = field(default_factory=dict)
    pubs: dict[str, list[Publication]] = field(default_factory=dict)
    # the operations route labels on calls name, by callee (rule service.route)
    routed: dict[str, dict[str, Route]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pubs = publications(self.arch, lambda cid: self._resource(self.arch.component(cid)))

    # -- step builders -------------------------------------------------------------------

    def _latency(self, link: Link | None, target: Component) -> float:
        hop = link.latency if link is not None and link.latency is not None else None
        return (hop if hop is not None else self.arch.network_latency) + target.latency

    def _policy(self, link: Link, target: Component) -> CallPolicy:
        values = (
            link.timeout or target.timeout or self.arch.default_timeout,
            link.retries if link.retries is not None else (target.retries or 0),
            link.backoff if link.backoff is not None else A.DEFAULT_BACKOFF_S,
            link.breaker,
            link.breaker_reset or A.DEFAULT_BREAKER_RESET_S,
        )
        if values not in self._policies:  # most calls share the default policy: build it once
            timeout, retries, backoff, breaker, reset = values
            self._policies[values] = CallPolicy(timeout=timeout, retries=retries, backoff=backoff,
                                                breaker=breaker, breaker_reset=reset)  # fmt: skip
        return self._policies[values]

    def _call(self, link: Link, operation: str) -> Step:
        """The call step of ``link`` to ``operation``: one object for every link that makes the
        same step (the key is its fields; ``x or str(x)`` tells 0.0 from -0.0, written apart)."""
        arch = self.arch
        target = arch.by_id.get(link.target) or arch.component(link.target)
        policy = self._policy(link, target)
        hop = link.latency
        latency = (hop if hop is not None else arch.network_latency) + target.latency
        p, error_rate = link.p, link.error_rate
        key = (StepAction.CALL, link.target, operation, link.relation, p or str(p), id(policy),
               error_rate or str(error_rate), latency or str(latency))  # fmt: skip
        step = self._steps.get(key)  # most calls repeat one: no fields dict for them
        if step is not None:
            return step
        return self._shared(key, action=StepAction.CALL, target=link.target, operation=operation,
                            relation=link.relation, p=p, policy=policy, error_rate=error_rate,
                            latency=latency)  # fmt: skip

    def _shared(self, key: tuple[object, ...], **fields: Any) -> Step:
        """The step of these ``fields``, built and validated once per ``key`` (the fields as
        the builders above key them) and shared by every link that makes it."""
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = build(Step, **fields)
        return step

    def _query(self, link: Link, mode: str) -> Step:
        """The query step of ``link`` in ``mode``, shared as ``_call``'s are."""
        target = self.arch.component(link.target)
        latency = self._latency(link, target)
        error_rate = link.error_rate
        # a write holds the database for its commit (write_time); a read for its service_time
        time = target.write_time if mode == "write" else None
        key = (StepAction.QUERY, link.target, link.relation, mode, error_rate or str(error_rate),
               latency or str(latency))  # fmt: skip
        return self._shared(key, action=StepAction.QUERY, target=link.target,
                            relation=link.relation, mode=mode, error_rate=error_rate,
                            latency=latency, service_time=time)  # fmt: skip

    def _cached_read(self, cache: Link, key: str, miss: list[Step]) -> Step:
        node = self.arch.component(cache.target)
        hit = cache.hit_ratio
        if hit is None:
            hit = node.hit_ratio if node.hit_ratio is not None else A.DEFAULT_HIT_RATIO
        ttl = cache.ttl or A.DEFAULT_TTL_S
        common: dict[str, Any] = {"target": cache.target, "relation": cache.relation, "key": key}
        latency = self._latency(cache, node)
        fill = Step(action=StepAction.CACHE_SET, ttl=ttl, latency=latency, **common)
        return Step(
            action=StepAction.CACHE_GET,
            hit_ratio=hit,
            ttl=ttl,
            on_miss=(*miss, fill),
            latency=latency,
            **common,
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
                steps=(self._compute(comp, name), *steps),
                **kw,
            )
        )

    def _compute(self, comp: Component, name: str) -> Step:
        """The compute step of ``comp.name``: its own time if ``operation_time`` names it."""
        own = comp.operation_time.get(name) if comp.operation_time else None
        return _COMPUTE if own is None else Step(action=StepAction.COMPUTE, service_time=own)

    def _validation(self, comp: Component) -> list[Step]:
        return [
            self._call(link, "validate_token")
            for link in self.arch.links_from(comp.id, Relation.VALIDATES_WITH)
        ]

    def _dependencies(self, comp: Component) -> list[Step]:
        """Sync calls (calls/uses to non-auth), integrations and deliveries of a write/action."""
        steps = []
        for link in self.arch.links_from(comp.id):
            if link.relation in _SYNC_CALLS:
                target = self.arch.component(link.target)
                if target.kind is Kind.AUTH and link.relation is Relation.USES:
                    continue  # "uses auth" means issuing tokens at login (rule service.login)
                steps.append(self._call(link, self._callee_operation(link, target)))
            elif link.relation is Relation.INTEGRATES_WITH:
                steps.append(self._call(link, link.operation or "request"))
            elif link.relation is Relation.SENDS_VIA:
                steps.append(self._call(link, link.operation or "send"))
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
        if target.kind is Kind.AUTH:
            return "validate_token"
        if target.kind is Kind.CONFIG:
            return "get_config"
        if target.kind is Kind.EXTERNAL:
            return "request"
        stores = bool(self.arch.links_from(target.id, Relation.STORES_IN))
        mode = mode or ("lookup" if stores else "action")
        return f"get_{res}" if mode == "lookup" else f"create_{res}"

    def _publish(self, pub: Publication) -> Step:
        link = pub.link
        latency = self._latency(link, self.arch.component(link.target))
        # a dead-letter queue takes only what fails (archsim.model.dead_letters)
        p = dead_letter_p(self.arch, link)
        p = link.p if p is None else p
        key = (StepAction.PUBLISH, link.target, link.relation, pub.event, p or str(p),
               latency or str(latency))  # fmt: skip
        return self._shared(key, action=StepAction.PUBLISH, target=link.target,
                            relation=link.relation, event=pub.event, p=p,
                            latency=latency)  # fmt: skip

    def _publishes(self, comp: Component) -> list[Step]:
        return [self._publish(pub) for pub in self.pubs.get(comp.id, ())]

    def derive_service(self, comp: Component) -> None:
        """Rules service.read/list/write (data owners), service.action, service.login."""
        res, many = self._resource(comp), plural(self._resource(comp))
        stores = self.arch.links_from(comp.id, Relation.STORES_IN)
        caches = self.arch.links_from(comp.id, Relation.CACHES_IN)
        guard = self._validation(comp)
        path = f"/{many}"
        if stores:
            primary = stores[0]
            get: list[Step] = [self._query(primary, "read")]
            lst: list[Step] = [self._query(primary, "read")]
            if caches:
                get = [self._cached_read(caches[0], f"{res}:{{id}}", get)]
                lst = [self._cached_read(caches[0], f"{many}:list", lst)]
            common = {"resource": res, "rule": "service.read"}
            self._op(comp, f"get_{res}", OpKind.READ, [*guard, *get],
                     method="GET", path=f"{path}/{{id}}", **common)  # fmt: skip
            common["rule"] = "service.list"
            self._op(comp, f"list_{many}", OpKind.LIST, [*guard, *lst],
                     method="GET", path=path, **common)  # fmt: skip
            writes = [self._query(link, "write") for link in stores]
            invalidate = [
                Step(action=StepAction.CACHE_DELETE, target=c.target, relation=c.relation,
                     key=f"{many}:list", latency=self._latency(c, self.arch.component(c.target)))
                for c in caches
            ]  # fmt: skip
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
                    steps = [self._query(primary, "read"), self._call(auth, "issue_token")]
                    self._op(comp, "login", OpKind.LOGIN, steps, method="POST",
                             path=f"{path}/login", resource=res, rule="service.login")  # fmt: skip
                    break
        else:
            deps = self._dependencies(comp)
            publishes = self._publishes(comp)
            # A pure event consumer (subscribes, nothing calls it) offers no request operation.
            called = self.arch.links_to(comp.id, *_INBOUND_SYNC)
            if called or not self.arch.links_from(comp.id, Relation.SUBSCRIBES_TO):
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
                *(self._query(s, "write") for s in stores),
                *(self._publish(pub) for pub in h.publishes),
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
                return [self._call(own, "issue_token")]
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
        reads = [self._query(s, "read") for s in self.arch.links_from(comp.id, Relation.STORES_IN)]
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
            writes = [self._query(s, "write") for s in stores]
            reads = [self._query(stores[0], "read")]
        else:  # its private store (an implied database): a transient link
            private = Link(source=comp.id, target=private_stores(self.arch)[comp.id],
                           relation=Relation.STORES_IN, label="")  # fmt: skip
            writes, reads = [self._query(private, "write")], [self._query(private, "read")]
        res = accounts_resource(self.arch)  # user_account beside a drawn accounts service
        common = {"resource": res, "public": True, "rule": "auth.accounts"}
        self._op(comp, SIGN_UP, OpKind.WRITE, writes,
                 method="POST", path=f"/{plural(res)}", **common)  # fmt: skip
        self._op(comp, LOGIN, OpKind.LOGIN, reads,
                 method="POST", path=f"/{plural(res)}/login", **common)  # fmt: skip

    def _targets(self, comp: Component) -> list[tuple[Link, list[Operation], float]]:
        """The links a proxy forwards over that reach request operations, with their shares;
        a gateway also reaches the accounts of the auth services it validates with (rule
        gateway.accounts), with ACCOUNTS_SHARE of its traffic or the link's weight."""
        routes = self._live(forwards(self.arch, comp))
        parts = shares([link for link, _ in routes])
        accounts: list[tuple[Link, list[Operation]]] = []
        if comp.kind is Kind.GATEWAY:
            routed = {link.target for link, _ in routes}
            accounts = self._live(account_links(self.arch, comp, routed))
        if accounts and routes:
            extra = [account_share(link) for link, _ in accounts]
            parts = [part * (1 - sum(extra)) for part in parts] + extra
        elif accounts:
            parts = [1 / len(accounts)] * len(accounts)
        live = routes + accounts
        return [(link, ops, part) for (link, ops), part in zip(live, parts, strict=True)]

    def _live(self, links: list[Link]) -> list[tuple[Link, list[Operation]]]:
        """The links whose targets offer request operations, with those operations; a link
        labelled with a route reaches that route's operation only (rule service.route)."""
        live = []
        for link in links:
            ops = [op for op in self.ops.get(link.target, []) if is_entry(op)]
            route = link_route(self.arch, link) if ops else None
            if route is not None:
                ops = [op for op in ops if op.name == route.name] or ops
            if ops:
                live.append((link, ops))
        return live

    def derive_gateway(self, comp: Component) -> None:
        """Rule gateway.route: ``/api<path>`` per entry operation of each service it routes to
        (or, a front end, calls); a gateway's own routes keep their path."""
        guard = self._validation(comp)
        # rule gateway.rate_limit: a counter written per request, before the forward
        limits = [
            Step(action=StepAction.CACHE_SET, target=link.target, relation=link.relation,
                 key=f"ratelimit:{snake(comp.id)}", ttl=RATE_WINDOW_S,
                 latency=self._latency(link, self.arch.component(link.target)))
            for link in rate_limiters(self.arch, comp)
        ]  # fmt: skip
        routes = self._targets(comp)
        # Two routed services may both offer e.g. get_item; only then prefix the target's id.
        seen = Counter(op.name for _, ops, _ in routes for op in ops)
        for link, ops, part in routes:
            op_total = sum(op.weight for op in ops)
            for op in ops:
                # a route's operation has weight 0 in its service's mix: the route's own share
                weight = part * op.weight / op_total if op_total else part / len(ops)
                # an identifier: the generated handler is a function of this name
                name = op.name if seen[op.name] == 1 else f"{snake(link.target)}__{op.name}"
                path = op.path if op.kind is OpKind.PROXY else f"/api{op.path}"
                if op.kind is OpKind.PROXY:  # "/web/*" to a BFF: its routes under /web
                    path = prefixed(route_prefix(link.label), path or "/", op.path)
                public = self._public(op)
                check = () if public else guard
                self._add(Operation(
                    component=comp.id, name=name, kind=OpKind.PROXY, method=op.method,
                    path=path, resource=op.resource, public=public,
                    weight=weight,
                    steps=(self._compute(comp, name), *check, *limits,
                           self._call(link, op.name)),
                    rule="gateway.route"))  # fmt: skip

    def _public(self, op: Operation) -> bool:
        """Rule gateway.public: a caller has no token before it logs in, so the routes to a
        login and to the sign-up of the same resource (``create_<r>`` beside ``login``) skip
        the gateway's token check; a proxy's own public routes stay public."""
        if op.kind is OpKind.PROXY:
            return op.public
        if op.kind is OpKind.LOGIN:
            return True
        return op.kind is OpKind.WRITE and any(
            o.kind is OpKind.LOGIN and o.resource == op.resource
            for o in self.ops.get(op.component, [])
        )

    def derive_balancer(self, comp: Component) -> None:
        """Rule load_balancer.forward: one forward per entry operation behind each target."""
        for link, ops, part in self._targets(comp):
            op_total = sum(op.weight for op in ops) or 1.0
            for op in ops:
                name = f"{snake(link.target)}__{op.name}"
                self._add(Operation(
                    component=comp.id, name=name, kind=OpKind.PROXY, public=op.public,
                    method=op.method, path=op.path, resource=op.resource,
                    weight=part * op.weight / op_total,
                    steps=(self._compute(comp, name), self._call(link, op.name)),
                    rule="load_balancer.forward"))  # fmt: skip


def _proxies(arch: Architecture) -> list[Component]:
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


def derive_behaviour(arch: Architecture) -> Behaviour:
    """Operations, entries, event flows and lifecycles of ``arch`` (its own behaviour ignored)."""
    d = _Deriver(arch)
    # a change-data-capture connector is infrastructure: the writes publish (rule events.cdc)
    relays = connectors(arch)
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
                d._add(routed_operation(target, route, list(offered)))
    # Gateways may route to gateways; derive in rank order, then balancers last.
    for comp in _proxies(arch):
        if comp.kind is Kind.GATEWAY:
            d.derive_gateway(comp)
        elif comp.kind is Kind.LOAD_BALANCER:
            d.derive_balancer(comp)
    # sagas last: their undo operations are for services to call, never routed from outside
    compensate(d.ops, {c.id: c.kind for c in arch.components})
    operations = tuple(op for comp in arch.components for op in d.ops.get(comp.id, []))
    events = event_flows(operations, handlers)
    return Behaviour(
        operations=operations,
        entries=derive_entries(arch, d.ops),
        events=events,
        lifecycles=_lifecycles(arch, d),
    )


def _lifecycles(arch: Architecture, d: _Deriver) -> tuple[Lifecycle, ...]:
    """Rules lifecycle.*: config at start-up, registration, heartbeats and discovery lookups."""
    out = []
    # only a callee that registers with a registry is looked up (most files have none)
    registered = {link.source for link in arch.links if link.relation is Relation.REGISTERS_WITH}
    for comp in arch.components:
        startup = [
            d._call(link, "get_config") for link in arch.links_from(comp.id, Relation.READS_FROM)
        ]
        startup += [
            d._call(link, "register") for link in arch.links_from(comp.id, Relation.REGISTERS_WITH)
        ]
        periodic = [
            PeriodicTask(
                name="heartbeat", interval=HEARTBEAT_INTERVAL_S, steps=(d._call(link, "heartbeat"),)
            )
            for link in arch.links_from(comp.id, Relation.REGISTERS_WITH)
        ]
        callees = {
            link.target
            for link in (arch.links_from(comp.id) if registered else ())
            if link.target in registered and link.interaction is Interaction.SYNC
        }
        lookups = [
            d._call(reg, "lookup")
            for callee in sorted(callees)
            for reg in arch.links_from(callee, Relation.REGISTERS_WITH)
        ]
        if lookups:
            periodic.append(
                PeriodicTask(name="discovery", interval=LOOKUP_TTL_S, steps=tuple(lookups))
            )
        if startup or periodic:
            out.append(
                Lifecycle(component=comp.id, startup=tuple(startup), periodic=tuple(periodic))
            )
    return tuple(out)
