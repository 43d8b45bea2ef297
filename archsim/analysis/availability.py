"""Single points of failure and blast radius: which entry routes fail or degrade when a
component is down.

Rules (docs/analyze.md): a route *fails* when a component on its synchronous path is down —
the components of the operations it runs, recursively through calls, database queries, cache
misses' fallbacks and the broker it publishes to. It *degrades* when the component is only
its cache (reads fall back to the database), only on the asynchronous consumer side of an event
it publishes (events back up), or only start-up/background infrastructure (config, registry:
running instances keep working). Failing wins over degrading.
"""

from __future__ import annotations

from collections.abc import Iterator

from archsim.analysis.blast import Blast, BlastRadius
from archsim.analysis.context import Context
from archsim.analysis.findings import Finding, Rule
from archsim.errors import Severity
from archsim.model import Kind

__all__ = ["RULES", "SPOF_KINDS", "Blast", "BlastRadius"]

#: Shared infrastructure the SPOF rule looks at; services are sized by capacity planning and
#: externals are not ours to replicate (see wobbly-interaction for those).
SPOF_KINDS = frozenset(
    {Kind.LOAD_BALANCER, Kind.GATEWAY, Kind.AUTH, Kind.CONFIG, Kind.REGISTRY,
     Kind.DATABASE, Kind.CACHE, Kind.BROKER}
)  # fmt: skip

def _spof(ctx: Context) -> Iterator[Finding]:
    blast = ctx.blast
    for comp in ctx.arch.components:
        if comp.kind not in SPOF_KINDS or comp.replicas > 1 or not blast.is_affecting(comp.id):
            continue
        b = blast.of(comp.id)
        effect = []
        if b.fails:
            n = len(b.fails)
            effect.append(f"{n} entry route{'s fail' if n != 1 else ' fails'}")
        if b.degrades:
            n = len(b.degrades)
            verb = "degrade" if n != 1 else "degrades"
            effect.append(f"{n} {verb}" if b.fails else f"{n} entry route{'s' * (n != 1)} {verb}")
        example = (b.fails or b.degrades)[0]
        yield SPOF.finding(
            [comp.id],
            f"{comp.id} ({comp.kind.value}) runs one replica; if it is down "
            f"{' and '.join(effect)} (e.g. {example})",
            fix=f"run {comp.id} with replicas=2 or more (or a failover pair)",
        )


SPOF = Rule(
    id="single-point-of-failure",
    severity=Severity.WARNING,
    title="Single point of failure",
    source="availability; the entry-route view of Taibi et al.'s and microFreshener's concerns",
    why="one crash or deploy of this component takes down or slows every route through it",
    fix="add replicas behind balancing, or a failover instance",
    check=_spof,
)

RULES = (SPOF,)
