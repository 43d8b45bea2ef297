"""What the shape tests ask of a model read from a drawing: its operations, the relation of a
link, the consumers of an event (shared by tests/test_model_shapes_round*.py)."""

from __future__ import annotations

from archsim.model import Architecture, Operation, Relation, read_architecture


def arch_of(text: str) -> Architecture:
    """The architecture a DOT text reads as (raises on errors)."""
    return read_architecture(text, "shape.dot").architecture


def op(arch: Architecture, component: str, name: str) -> Operation:
    """The operation ``name`` of ``component``."""
    return next(o for o in arch.behaviour.operations if o.component == component and o.name == name)


def relation(arch: Architecture, source: str, target: str) -> Relation:
    """The relation of the one link from ``source`` to ``target``."""
    (link,) = [lk for lk in arch.links if (lk.source, lk.target) == (source, target)]
    return link.relation


def consumers(arch: Architecture, event: str) -> list[str]:
    """``component.operation`` of each consumer of ``event``."""
    (flow,) = [f for f in arch.behaviour.events if f.event == event]
    return [f"{c.component}.{c.operation}" for c in flow.consumers]
