"""Links the derived behaviour never uses: drawn, but with no effect on what is simulated.

A link that carries work at run time (``caches in``, ``stores in``, ``publishes to``,
``calls``, ``uses``, ``sends via``, ``integrates with``) becomes a step of some operation of its
source — or, for a front door's links, a hop of an entry. When no rule turns it into one (a
cache in front of no database, a call from a component whose operations make none), the file
says more than the model does; the loader says which link, why, and what to draw instead
(code ``unused-link``, docs/behaviour.md "Links no operation uses").

Start-up relations (``reads from``, ``registers with``), token checks, routes, load balancing
and subscriptions are used elsewhere (lifecycles, entries, consumers) and are not checked here;
an orphaned subscription is an analysis finding.
"""

from __future__ import annotations

from collections.abc import Sequence

from archsim.errors import Location, Severity
from archsim.model.architecture import Architecture, Link
from archsim.model.cdc import Capture, captures
from archsim.model.checks import Reader
from archsim.model.entries import webhooks
from archsim.model.kinds import Kind, Relation
from archsim.model.naming import a_kind
from archsim.model.references import walk_steps

__all__ = ["check_unused_links"]

#: Relations that become steps of the source's operations.
_WORKING = frozenset(
    {
        Relation.CACHES_IN,
        Relation.STORES_IN,
        Relation.PUBLISHES_TO,
        Relation.CALLS,
        Relation.USES,
        Relation.SENDS_VIA,
        Relation.INTEGRATES_WITH,
    }
)


def check_unused_links(
    arch: Architecture, file: str | None, reader: Reader, found: Sequence[Capture] | None = None
) -> None:
    """Warn about each working link whose source never acts on its target (``unused-link``).
    ``found``: ``captures(arch)``, when the caller has them."""
    used = _used_pairs(arch)
    # an external system's requests into the system are entries too (rule entry.webhook)
    used.update((link.source, link.target) for link in webhooks(arch))
    # a captured database's links carry its writes' changes (rule events.cdc)
    used.update(
        (link.source, link.target)
        for capture in (captures(arch) if found is None else found)
        if capture.writers(arch)
        for link in capture.drawn
    )
    kinds = {c.id: c.kind for c in arch.components}
    for link in arch.links:
        if link.relation not in _WORKING or (link.source, link.target) in used:
            continue
        if kinds.get(link.source) is Kind.CLIENT:
            continue  # a traffic source's links are its requests: the entries
        ref = link.source_ref
        where = Location(file, ref.line, ref.col) if ref else Location(file)
        if kinds.get(link.source) is kinds.get(link.target) is Kind.DATABASE:
            reader.report(  # a primary and its replica, a backup: how the data is kept
                Severity.INFO,
                f"{link.source} {link.relation.label} {link.target}: a database's link to "
                "another (replication, a backup) is drawn, not simulated",
                where,
                f"fold its cost into {link.source}'s write_time if it slows the writes",
                "store-to-store",
            )
            continue
        why, fix = _reason(arch, link, kinds)
        reader.warn(
            f"{link.source} {link.relation.label} {link.target}, but no operation uses the "
            f"link: {why}",
            where,
            fix,
            "unused-link",
        )


def _used_pairs(arch: Architecture) -> set[tuple[str, str]]:
    """(source, target) of every step of every operation and lifecycle, and every entry hop."""
    used: set[tuple[str, str]] = set()
    for op in arch.behaviour.operations:
        for step in walk_steps(op.steps):
            if step.target:
                used.add((op.component, step.target))
            if step.compensation is not None and step.compensation.target:
                used.add((op.component, step.compensation.target))
    for entry in arch.behaviour.entries:
        used.update(zip(entry.hops, entry.hops[1:], strict=False))
    return used


def _reason(arch: Architecture, link: Link, kinds: dict[str, Kind]) -> tuple[str, str]:
    """Why no rule makes a step of ``link``, and what to write instead."""
    source, target = link.source, link.target
    if link.relation is Relation.CACHES_IN and not arch.links_from(source, Relation.STORES_IN):
        return (
            f"a cache sits in front of a database, and {source} stores in none",
            f'if {target} is where {source} keeps its data, write [relation="stores in"] on '
            f"this edge ({target} is then modelled as its database); else draw the database "
            f"{source} reads through the cache",
        )
    kind = kinds.get(source)
    if link.relation is Relation.USES and kinds.get(target) is Kind.AUTH:
        return (
            f"'uses' an auth service is the login rule, and {source} stores no accounts to "
            f"log in against",
            f'write [relation="validates with"] if {source} checks tokens there, or draw '
            f"the database {source} keeps its users in",
        )
    if kind in (Kind.GATEWAY, Kind.LOAD_BALANCER):
        return (
            f"{source} is a {kind.value}: its operations forward requests and do nothing else",
            f'draw the work on a service behind {source}, or set kind="service" on {source}',
        )
    if kind is not None and kind is not Kind.SERVICE:
        return (
            f"{source} is {a_kind(kind.value)}, whose operations ({kind.value}.* rules) do "
            f"their work themselves: the link is drawn, not simulated",
            f"to simulate it, let a service do this work, or fold its cost into {source}'s "
            f"time (operation_time=… on {source})",
        )
    return (
        "no derivation rule turns it into a step",
        'give the edge operation="…" naming what it calls, or remove it',
    )
