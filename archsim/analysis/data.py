"""Data smells: shared persistence (one database written by several services)."""

from __future__ import annotations

from collections.abc import Iterator

from archsim.analysis.context import Context
from archsim.analysis.findings import Finding, Rule
from archsim.errors import Severity
from archsim.model import Kind, Relation

__all__ = ["RULES"]


def _shared(ctx: Context) -> Iterator[Finding]:
    for db in ctx.arch.of_kind(Kind.DATABASE):
        writers = list(
            dict.fromkeys(lk.source for lk in ctx.arch.links_to(db.id, Relation.STORES_IN))
        )
        if len(writers) > 1:
            yield SHARED_PERSISTENCE.finding(
                [db.id, *writers],
                f"{db.id} is written by {len(writers)} services: {', '.join(writers)}",
                fix=f"give each service its own database; let the others reach the data "
                f"through {writers[0]}'s API or events it publishes",
            )


SHARED_PERSISTENCE = Rule(
    id="shared-persistence",
    severity=Severity.WARNING,
    title="Shared persistence",
    source="microFreshener: shared persistence; Taibi et al.: shared persistence",
    why="services that write one schema are coupled through it: they cannot change or scale "
    "their data independently, and one's load or migration hits the other",
    fix="one database per service; share data through APIs or events",
    check=_shared,
)

RULES = (SHARED_PERSISTENCE,)
