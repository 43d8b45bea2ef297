"""The resource a component serves, as every consumer of the model asks for it (derive,
clashes, data flow, codegen): the one rule over ``archsim.model.naming``'s word rules that
needs the architecture (the databases a component stores in, the components beside it)."""

from __future__ import annotations

from archsim.model.architecture import Architecture, Component
from archsim.model.kinds import Relation
from archsim.model.naming import id_resource, resource_of

__all__ = ["served_resource"]


def served_resource(arch: Architecture, comp: Component) -> str:
    """The resource ``comp`` serves: its ``resource=``, else ``resource_of`` its id, label and
    the databases it stores in (the one rule every consumer of the model asks). ``item`` is
    for one component of a kind: several that would default to it keep their ids' names."""
    if comp.resource:
        return comp.resource

    def default(c: Component) -> str:
        stores = (link.target for link in arch.links_from(c.id, Relation.STORES_IN))
        return resource_of(c.id, c.label, stores)

    name = default(comp)
    if name == "item" and any(
        c.id != comp.id and not c.resource and c.kind is comp.kind and default(c) == "item"
        for c in arch.components
    ):
        # two framework-named apps (django, flask) would serve one resource at one path
        return id_resource(comp.id)
    return name
