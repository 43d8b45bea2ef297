"""Rules lifecycle.*: what a component does outside requests, at start-up and on a timer.

It reads its configuration and registers at start-up, sends heartbeats to its registry, and
looks up the registered components it calls. Pure: takes the architecture and the step
builder of the derivation and returns the lifecycles.
"""

from __future__ import annotations

from archsim.model.architecture import Architecture
from archsim.model.behaviour import Lifecycle, PeriodicTask
from archsim.model.kinds import Interaction, Relation
from archsim.model.step_builder import StepBuilder

__all__ = ["HEARTBEAT_INTERVAL_S", "LOOKUP_TTL_S", "REGISTRY_TTL_S", "derive_lifecycles"]

#: Rule lifecycle.heartbeat: how often a registered instance tells its registry it lives (s).
HEARTBEAT_INTERVAL_S = 10.0
#: How long a registry keeps an instance without a heartbeat (s): three missed heartbeats.
REGISTRY_TTL_S = 3 * HEARTBEAT_INTERVAL_S
#: Rule lifecycle.discovery: how long a caller trusts a registry lookup (s), the interval of
#: its periodic lookups.
LOOKUP_TTL_S = 30.0


def derive_lifecycles(arch: Architecture, steps: StepBuilder) -> tuple[Lifecycle, ...]:
    """Config at start-up, registration, heartbeats and discovery lookups, per component."""
    out = []
    # only a callee that registers with a registry is looked up (most files have none)
    registered = {link.source for link in arch.links if link.relation is Relation.REGISTERS_WITH}
    for comp in arch.components:
        configs = arch.links_from(comp.id, Relation.READS_FROM)
        registers = arch.links_from(comp.id, Relation.REGISTERS_WITH)
        startup = [steps.call(link, "get_config") for link in configs]
        startup += [steps.call(link, "register") for link in registers]
        periodic = [
            PeriodicTask(name="heartbeat", interval=HEARTBEAT_INTERVAL_S,
                         steps=(steps.call(link, "heartbeat"),))
            for link in registers
        ]  # fmt: skip
        callees = {
            link.target
            for link in (arch.links_from(comp.id) if registered else ())
            if link.target in registered and link.interaction is Interaction.SYNC
        }
        lookups = [
            steps.call(reg, "lookup")
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
