"""Component ids that would become one name in the generated stack.

The generator names a component's package, process, data file and routes after ``snake(id)``
(``"a/b"`` → ``a_b``, ``Evil`` → ``evil``). Two ids with one snake name would be written into
one directory, one silently lost; the file must say which is which, so it is a validate error
naming both. Likewise two services behind one gateway that serve one resource (``orders`` and
``order_service`` both serve ``/orders``): the gateway could send a request to only one of them.
"""

from __future__ import annotations

from archsim.errors import Location
from archsim.model.accounts import accounts_resource
from archsim.model.architecture import Architecture, Component
from archsim.model.checks import Reader
from archsim.model.kinds import Kind
from archsim.model.naming import plural, snake
from archsim.model.served import served_resource

__all__ = ["check_account_clashes", "check_name_clashes", "check_route_clashes"]

ACCOUNTS_RULE = "auth.accounts"


def check_name_clashes(arch: Architecture, reader: Reader) -> None:
    """Report every component whose generated name an earlier component already has."""
    first: dict[str, Component] = {}
    for comp in arch.components:
        name = snake(comp.id)
        earlier = first.setdefault(name, comp)
        if earlier is comp:
            continue
        reader.error(
            f"'{comp.id}' and '{earlier.id}' (line {_line(earlier)}) both become '{name}' in "
            f"the generated stack (services/{name}, its process and data files): one would "
            "be lost",
            _where(comp, reader),
            hint=f"rename one of them, e.g. '{comp.id}' → '{name}_2'",
            code="name-clash",
        )


def _line(comp: Component) -> str:
    return str(comp.source.line) if comp.source else "?"


def _where(comp: Component, reader: Reader) -> Location:
    if comp.source is None:
        return Location(reader.file)
    return Location(reader.file, comp.source.line, comp.source.col)


def check_route_clashes(arch: Architecture, reader: Reader) -> None:
    """Report every request a front door forwards to two components (one method and path)."""
    comps = {c.id: c for c in arch.components}
    for front in arch.components:
        first: dict[tuple[str | None, str | None], str] = {}
        for op in arch.behaviour.operations_of(front.id):
            # the forward is the last call: a route's token check comes before it
            target = next((s.target for s in reversed(op.steps) if s.target in comps), None)
            if op.path is None or target is None:
                continue
            earlier = first.setdefault((op.method, op.path), target)
            if earlier == target or ACCOUNTS_RULE in (_rule(arch, earlier), _rule(arch, target)):
                continue  # the accounts an auth service keeps: check_account_clashes
            reader.error(
                f"'{front.id}' would forward {op.method} {op.path} to both '{earlier}' and "
                f"'{target}': they serve the same resource",
                _where(comps[target], reader),
                hint=_clash_hint(front, earlier, target),
                code="route-clash",
            )
            break  # one error per pair of components is enough


def _clash_hint(front: Component, earlier: str, target: str) -> str:
    """How to tell two components one front door forwards to apart; behind a load balancer
    they are most often copies of one service (``wp1``, ``wp2``), which the model draws as
    one component with replicas."""
    other = f'name another resource for one: {target} [resource="{snake(target)}"]'
    if front.kind is not Kind.LOAD_BALANCER:
        return other
    return (
        f"if '{earlier}' and '{target}' are copies of one service, draw one node in their "
        f"place with replicas=2 ({front.id} -> {earlier}; {earlier} [replicas=2]): the "
        f"balancer spreads requests over the replicas; else {other}"
    )


def _rule(arch: Architecture, component: str) -> str | None:
    """``auth.accounts`` when ``component`` keeps accounts (its sign-up), else None."""
    ops = arch.behaviour.operations_of(component)
    return ACCOUNTS_RULE if any(op.rule == ACCOUNTS_RULE for op in ops) else None


def check_account_clashes(arch: Architecture, reader: Reader) -> None:
    """Report a drawn service whose resource is ``account`` beside an auth service that keeps
    accounts (rule auth.accounts): both would serve ``/accounts``, and the generated stack
    has one shape (email, password) per resource."""
    keepers = [c.id for c in arch.of_kind(Kind.AUTH) if _rule(arch, c.id)]
    if not keepers:
        return
    kept = accounts_resource(arch)  # user_account when a drawn service serves account
    for comp in arch.of_kind(Kind.SERVICE):
        if served_resource(arch, comp) != kept:
            continue
        reader.error(
            f"'{comp.id}' serves the resource '{kept}' (/{plural(kept)}), as do the accounts "
            f"'{keepers[0]}' keeps because tokens are checked and no service logs in: "
            "one path and one resource for two components",
            _where(comp, reader),
            hint=f'name another resource for it: "{comp.id}" [resource="bank_{kept}"], '
            f"or draw the service that logs users in (one that stores data and uses "
            f"{keepers[0]})",
            code="route-clash",
        )
