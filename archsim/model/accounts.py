"""Where a caller gets its token: the accounts an auth service keeps when no service logs in.

A token check (a gateway that ``validates with`` an auth service, or a service that ``calls``
it) needs a token source, or every guarded request fails. The seed has one: ``user_service``
``uses`` ``auth_service``, so it offers a ``login`` (rule service.login). Many drawings have
none: a gateway validates with an "Auth Service" and nothing logs in. Then (rule auth.accounts,
docs/behaviour.md) the auth service keeps the accounts itself:

- ``create_account`` ``POST /accounts``: sign-up, public, a write to the auth's own database
  when it ``stores in`` one, else to a private store of its own (``<id>_accounts``, an
  implied database component: ``Architecture.implied``, costed like a drawn database with the
  kind's defaults, as the generated stack runs it: a database like any other);
- ``login`` ``POST /accounts/login``: public, reads the account, checks the password and
  issues a token.

A drawn service whose resource is ``account`` (a bank's Accounts API) would serve the same
resource and path: a ``route-clash`` error (``archsim.model.clashes``) asks for another
resource name on it.

A gateway that validates tokens with that auth service routes both, as if it were drawn
``routes to`` (its callers need a token before their first guarded request), with
ACCOUNTS_SHARE of its traffic; when no gateway reaches it, the auth service is a front door of
its own for them (``archsim.model.entries``).
"""

from __future__ import annotations

from collections.abc import Mapping

from archsim.model import attributes as A
from archsim.model.architecture import Architecture, Component, Link
from archsim.model.behaviour import StepAction
from archsim.model.kinds import Kind, Relation
from archsim.model.naming import snake
from archsim.model.served import served_resource
from archsim.model.weights import is_weighted

__all__ = [
    "ACCOUNT",
    "ACCOUNTS_SHARE",
    "LOGIN",
    "SIGN_UP",
    "STORE_ATTRIBUTES",
    "account_links",
    "account_share",
    "account_store",
    "accounts_resource",
    "has_service_login",
    "implied_stores",
    "keeps_accounts",
    "private_stores",
]

#: The resource, and the names of the two operations, of an auth service's accounts.
ACCOUNT = "account"
SIGN_UP = "create_account"
LOGIN = "login"
#: The accounts' resource when a drawn service already serves ``account`` (an "accounts"
#: service beside Keycloak): the identity provider keeps the users' accounts.
USER_ACCOUNT = "user_account"


def accounts_resource(arch: Architecture) -> str:
    """The resource of the accounts an auth service keeps (rule auth.accounts): ``account``,
    or ``user_account`` when a drawn service serves ``account`` (both would be ``/accounts``)."""
    for comp in arch.of_kind(Kind.SERVICE):
        # only a name that says "account" can serve it: skip the rest without deriving it
        named = "account" in f"{comp.id} {comp.label} {comp.resource or ''}".lower()
        if named and served_resource(arch, comp) == ACCOUNT:
            return USER_ACCOUNT
    return ACCOUNT


#: A gateway's share of traffic that goes to the accounts it routes without a drawn link: a
#: sign-up or login starts a session of many requests (``weight`` on the link overrides it).
ACCOUNTS_SHARE = 0.05


def has_service_login(arch: Architecture) -> bool:
    """True when some data-owning service ``uses`` an auth service (rule service.login)."""
    return any(
        arch.links_from(comp.id, Relation.STORES_IN)
        and any(
            arch.component(link.target).kind is Kind.AUTH
            for link in arch.links_from(comp.id, Relation.USES)
        )
        for comp in arch.of_kind(Kind.SERVICE)
    )


def _checks_tokens(link: Link) -> bool:
    """A link over which its source asks the auth service to validate a caller's token."""
    if link.relation is Relation.VALIDATES_WITH:
        return True
    return link.relation is Relation.CALLS and link.operation in (None, "validate_token")


def keeps_accounts(arch: Architecture, comp: Component) -> bool:
    """Rule auth.accounts: ``comp`` is an auth service whose tokens something checks, and no
    service of ``arch`` offers a login."""
    if comp.kind is not Kind.AUTH or has_service_login(arch):
        return False
    return any(_checks_tokens(link) for link in arch.links_to(comp.id))


def account_links(arch: Architecture, gateway: Component, routed: set[str]) -> list[Link]:
    """The ``validates with`` links of ``gateway`` to auth services keeping accounts that it
    does not already forward to (``routed``): it routes their sign-up and login too."""
    return [
        link
        for link in arch.links_from(gateway.id, Relation.VALIDATES_WITH)
        if link.target not in routed and keeps_accounts(arch, arch.component(link.target))
    ]


def account_share(link: Link) -> float:
    """The share of a gateway's traffic its routes to the accounts behind ``link`` take:
    the link's own ``weight`` when the file sets one (below 1), else ACCOUNTS_SHARE."""
    return min(link.weight, 0.5) if is_weighted(link) else ACCOUNTS_SHARE


def private_stores(arch: Architecture) -> dict[str, str]:
    """The id of the private account store of each auth service keeping accounts that stores
    in nothing, by auth id: ``<id>_accounts``, with a number after it if a drawn id has it."""
    taken = {c.id for c in arch.components}
    out: dict[str, str] = {}
    for comp in arch.of_kind(Kind.AUTH):
        if arch.links_from(comp.id, Relation.STORES_IN) or not keeps_accounts(arch, comp):
            continue
        base = name = f"{snake(comp.id)}_accounts"
        for n in range(2, len(taken) + 3):  # some number up to there is free
            if name not in taken:
                break
            name = f"{base}_{n}"
        taken.add(name)
        out[comp.id] = name
    return out


#: The node attributes an implied store takes from an override (``--set``, a profile): those
#: a drawn database honours. Its kind, and what only services and caches have, it cannot.
STORE_ATTRIBUTES = (
    "service_time", "workers", "replicas", "concurrency", "connections", "queue_limit",
    "timeout", "retries", "error_rate", "latency", "cost",
)  # fmt: skip


def implied_stores(
    arch: Architecture, attrs: Mapping[str, Mapping[str, str]] | None = None
) -> tuple[Component, ...]:
    """Rule auth.accounts: the private account stores (``private_stores``) as database
    components with the kind's defaults, as a drawn database without attributes has, and the
    attributes ``attrs`` gives by store id (overrides, already checked: ``STORE_ATTRIBUTES``).
    The generated stack runs each like any other database, and the simulator costs it so."""
    given = attrs or {}
    return tuple(
        _store(arch.component(owner), store, given.get(store, {}))
        for owner, store in private_stores(arch).items()
    )


def _store(auth: Component, store: str, attrs: Mapping[str, str]) -> Component:
    """One implied store: a database with the kind's defaults where ``attrs`` says nothing."""
    defaults = A.KIND_DEFAULTS[Kind.DATABASE]
    values = {name: A.NODE_ATTRIBUTES[name].parse(text) for name, text in attrs.items()}
    return Component(
        id=store, label=f"{auth.id} accounts", kind=Kind.DATABASE,
        kind_reason=f"implied: the accounts of '{auth.id}', which stores in no database "
                    "(rule auth.accounts)",
        group=auth.group,
        service_time=values.get("service_time", defaults.service_time),
        workers=values.get("workers", defaults.workers),
        replicas=values.get("replicas", A.DEFAULT_REPLICAS),
        concurrency=values.get("concurrency", defaults.concurrency),
        connections=values.get("connections", A.DEFAULT_CONNECTIONS),
        queue_limit=values.get("queue_limit"), timeout=values.get("timeout"),
        retries=values.get("retries"), error_rate=values.get("error_rate", 0.0),
        latency=values.get("latency", 0.0), cost=values.get("cost", defaults.cost),
        explicit=tuple(attrs), attrs=dict(attrs),
    )  # fmt: skip


def account_store(arch: Architecture, component_id: str) -> str | None:
    """The database an auth service keeps its accounts in: the one its derived sign-up
    writes (rule auth.accounts); None when it keeps no accounts."""
    op = next((op for op in arch.behaviour.operations_of(component_id)
               if op.name == SIGN_UP and op.rule == "auth.accounts"), None)  # fmt: skip
    if op is None:
        return None
    return next((s.target for s in op.steps if s.action is StepAction.QUERY), None)
