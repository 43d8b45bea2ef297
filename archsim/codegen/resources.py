"""The data shape of each generated service: its resource, table, schema fields and names."""

from __future__ import annotations

from dataclasses import dataclass, field

from archsim.model import Architecture, Component, OpKind, Relation
from archsim.model.accounts import ACCOUNT, account_store, accounts_resource
from archsim.model.dataflow import Dataflow, derive_dataflow
from archsim.model.naming import plural, snake
from archsim.model.served import served_resource

__all__ = ["Resource", "resource_for"]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) or "Item"


@dataclass(frozen=True)
class Resource:
    """What one service stores or acts on (``order``: table ``orders``, ``OrderCreate``, …)."""

    name: str  # snake singular: order
    many: str  # orders
    camel: str  # Order
    refs: tuple[str, ...] = ()  # ids of other resources it is created with: user_id, …
    login: bool = False  # has email + password (a login operation)
    stores: tuple[str, ...] = ()  # database components
    action: bool = False  # performs an action instead of storing (payment)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        """Python name of the SQLAlchemy table object (and the SQL table name)."""
        return self.many

    @property
    def name_required(self) -> bool:
        """A resource created with no references and no login is named by its creator."""
        return not self.refs and not self.login


def resource_for(arch: Architecture, comp: Component, flow: Dataflow | None = None) -> Resource:
    """The resource a service serves, derived from its operations (the model's behaviour);
    its ``refs`` are the ids its create operation needs (``archsim.model.dataflow``). An auth
    service keeping accounts serves ``account`` (with a login), in the store its derived
    sign-up writes: its table, inside the auth service; its paths are the model's (rule
    auth.accounts: ``/user_accounts`` beside a drawn accounts service)."""
    store = account_store(arch, comp.id)
    if store is not None:
        # named as the model names it (user_account beside a drawn accounts service: the load
        # harness keys resources by name); its table stays the auth template's ``accounts``
        name = accounts_resource(arch)
        return Resource(name=name, many=plural(ACCOUNT), camel=_camel(name), login=True,
                        stores=(store,))  # fmt: skip
    name = snake(served_resource(arch, comp))
    ops = arch.behaviour.operations_of(comp.id)
    flow = flow or derive_dataflow(arch)
    refs: list[str] = []
    for op in ops:
        if op.kind in (OpKind.WRITE, OpKind.ACTION):
            refs += [n for n in flow.of(op.component, op.name).needs if n not in refs]
    stores = tuple(link.target for link in arch.links_from(comp.id, Relation.STORES_IN))
    return Resource(
        name=name,
        many=plural(name),
        camel=_camel(name),
        refs=tuple(refs),
        login=any(op.kind is OpKind.LOGIN for op in ops),
        stores=stores,
        action=any(op.kind is OpKind.ACTION for op in ops),
    )
