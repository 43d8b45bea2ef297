"""The one way consumers read a step: a visitor with a method per ``StepAction``.

The simulator's step compiler, the code generator's handler renderer and its fast-path route
renderer (and the analyses) each implement ``StepVisitor`` and are reached through ``visit``, so
what a step means is decided by its action in one place; a new action without a method in a
consumer fails at once (mypy, where the consumer is annotated; ``visit`` at run time) instead
of falling through an ``else`` (docs/behaviour.md, "Consuming steps").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from archsim.model.behaviour import Step, StepAction

__all__ = ["VISITOR_METHODS", "StepVisitor", "missing_methods", "visit"]

T_co = TypeVar("T_co", covariant=True)


class StepVisitor(Protocol[T_co]):
    """What a consumer does with each kind of step; every method takes the step, returns T."""

    def compute(self, step: Step) -> T_co:
        """Hold a worker of the operation's own component for its service time."""
        ...

    def call(self, step: Step) -> T_co:
        """A synchronous request to ``step.target``'s ``step.operation``."""
        ...

    def query(self, step: Step) -> T_co:
        """SQL on database ``step.target`` (``step.mode`` read or write)."""
        ...

    def cache_get(self, step: Step) -> T_co:
        """A read-through: a hit with ``step.hit_ratio``, else ``step.on_miss``."""
        ...

    def cache_set(self, step: Step) -> T_co:
        """Fill ``step.key`` in cache ``step.target`` for ``step.ttl`` seconds."""
        ...

    def cache_delete(self, step: Step) -> T_co:
        """Invalidate ``step.key`` in cache ``step.target``."""
        ...

    def publish(self, step: Step) -> T_co:
        """Put ``step.event`` on broker ``step.target``."""
        ...


#: The visitor method of each action, by name: the method is named as the action's value.
VISITOR_METHODS: dict[StepAction, str] = {action: action.value for action in StepAction}

_missing = sorted(set(VISITOR_METHODS.values()) - set(vars(StepVisitor)))
if _missing:  # pragma: no cover - a StepAction added without its StepVisitor method
    raise TypeError(f"StepVisitor has no method for step action(s) {', '.join(_missing)}")


def visit(step: Step, visitor: StepVisitor[T_co]) -> T_co:
    """What ``visitor`` makes of ``step``: its method for the step's action."""
    name = VISITOR_METHODS[step.action]
    method: Callable[[Step], T_co] | None = getattr(visitor, name, None)
    if method is None:
        raise TypeError(
            f"{type(visitor).__name__} has no {name}() for a {step.action.value} step "
            "(a StepVisitor implements every StepAction)"
        )
    return method(step)


def missing_methods(cls: type) -> list[str]:
    """The ``StepVisitor`` methods ``cls`` does not define ([]: it handles every action)."""
    return [name for name in VISITOR_METHODS.values() if not callable(getattr(cls, name, None))]
