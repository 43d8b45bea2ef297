"""Every consumer of the model's steps reads them through ``archsim.model.StepVisitor``
(docs/behaviour.md, "Consuming steps"): each implements a method per ``StepAction``, and
``visit`` refuses, by name, a visitor that lacks the one a step needs."""

from __future__ import annotations

import pytest

from archsim.analysis.critical_path import _Expected
from archsim.analysis.opgraph import _Touches
from archsim.codegen.control import _ControlLines
from archsim.codegen.handlers import _RouteStep
from archsim.codegen.steps import _StepLines
from archsim.model import Step, StepAction, StepVisitor, visit
from archsim.model.visit import VISITOR_METHODS, missing_methods
from archsim.sim.compiler import _StepCompiler
from archsim.sim.demands import _LocalVisits, _OwnTime

CONSUMERS = [
    _StepCompiler,  # the simulator
    _StepLines,  # generated handlers
    _ControlLines,  # generated control operations
    _RouteStep,  # the runtime's fast path (its RouteStep records)
    _LocalVisits,  # analytic solver: visits per execution
    _OwnTime,  # analytic solver: own time per step
    _Expected,  # critical path
    _Touches,  # operation graph (blast radius)
]


def test_every_action_has_a_method_named_after_it() -> None:
    assert set(VISITOR_METHODS) == set(StepAction)
    for action, name in VISITOR_METHODS.items():
        assert name == action.value
        assert callable(getattr(StepVisitor, name))


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.__name__)
def test_each_consumer_implements_every_action(consumer: type) -> None:
    assert missing_methods(consumer) == []


class _Names:
    def compute(self, step: Step) -> str:
        return "compute"

    def call(self, step: Step) -> str:
        return f"call {step.target}"


def test_visit_dispatches_on_the_action() -> None:
    names = _Names()
    assert visit(Step(action=StepAction.COMPUTE), names) == "compute"  # type: ignore[arg-type]
    step = Step(action=StepAction.CALL, target="b", operation="get")
    assert visit(step, names) == "call b"  # type: ignore[arg-type]


def test_a_visitor_without_the_method_is_refused_by_name() -> None:
    step = Step(action=StepAction.PUBLISH, target="broker", event="order_placed")
    with pytest.raises(TypeError, match=r"_Names has no publish\(\) for a publish step"):
        visit(step, _Names())  # type: ignore[arg-type]
    assert missing_methods(_Names) == [
        "query",
        "cache_get",
        "cache_set",
        "cache_delete",
        "publish",
    ]


def test_control_operations_refuse_steps_they_never_take() -> None:
    from archsim.codegen.control import control_steps
    from archsim.model import Operation, OpKind

    op = Operation(
        component="auth",
        name="validate_token",
        kind=OpKind.CONTROL,
        steps=(Step(action=StepAction.PUBLISH, target="broker", event="e"),),
        rule="test",
    )
    with pytest.raises(ValueError, match=r"auth\.validate_token: a control operation takes no"):
        control_steps(op, {})
