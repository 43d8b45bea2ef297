"""Rule saga.compensate: an operation that asks another component to act (a payment) and then
writes its own data is a saga. If the write (or anything after the action) fails, the action
is undone by a compensating call, so no charge outlives a failed order.

The rule marks the action's call step with its ``compensation`` (a call to the action's
``cancel_<resource>``), and derives that operation on the acting service: it cancels, in
reverse order, what the action asked external providers for (their ``cancel``). The simulator
runs the compensation when a later step fails (its cost is in the prediction), the code
generator renders it (``rt.saga()``), and ``archsim inspect`` shows it on the step.
"""

from __future__ import annotations

from archsim.model.behaviour import Operation, OpKind, Step, StepAction
from archsim.model.kinds import Kind, Relation

__all__ = ["CANCEL_EXTERNAL", "compensate"]

#: The operation of an external provider that undoes what ``request`` did (a refund).
CANCEL_EXTERNAL = "cancel"

Ops = dict[str, list[Operation]]


def _last_write(steps: tuple[Step, ...]) -> int:
    """Index of the last write query (-1 if none): a step before it is followed by a write.
    (A scan after each call step was O(steps²): 1.2 M comparisons on a 100,000-link file.)"""
    for i in range(len(steps) - 1, -1, -1):
        if steps[i].changes_data:
            return i
    return -1


def _find(ops: Ops, component: str, name: str) -> Operation | None:
    return next((op for op in ops.get(component, ()) if op.name == name), None)


def _undo(step: Step, operation: str) -> Step:
    """The compensating call: same link, policy and latency as the call it undoes."""
    return Step(
        action=StepAction.CALL,
        target=step.target,
        operation=operation,
        relation=step.relation,
        policy=step.policy,
        latency=step.latency,
    )


def _external_cancel(ops: Ops, external: str) -> None:
    if _find(ops, external, CANCEL_EXTERNAL) is None:
        ops.setdefault(external, []).append(
            Operation(
                component=external,
                name=CANCEL_EXTERNAL,
                kind=OpKind.CONTROL,
                method="POST",
                path=f"/{CANCEL_EXTERNAL}",
                steps=(Step(action=StepAction.COMPUTE),),
                rule="saga.cancel",
            )
        )


def _cancel_of(ops: Ops, kinds: dict[str, Kind], action: Operation) -> Operation:
    """``cancel_<resource>`` beside ``action``: compute, then cancel each external request
    the action made, last first."""
    name = f"cancel_{action.resource or action.name.removeprefix('create_')}"
    found = _find(ops, action.component, name)
    if found is not None:
        return found
    undo: list[Step] = []
    for step in reversed(action.steps):
        if (
            step.action is StepAction.CALL
            and step.relation is Relation.INTEGRATES_WITH
            and kinds.get(step.target or "") is Kind.EXTERNAL
        ):
            _external_cancel(ops, step.target or "")
            undo.append(_undo(step, CANCEL_EXTERNAL))
    compute = next((s for s in action.steps if s.action is StepAction.COMPUTE), None)
    cancel = Operation(
        component=action.component,
        name=name,
        kind=OpKind.ACTION,
        method="POST",
        path=f"{action.path or '/'}".rstrip("/") + "/cancel",
        resource=action.resource,
        weight=0.0,  # called by sagas only: never part of the request mix
        steps=(*([compute] if compute else []), *undo),
        rule="saga.cancel",
    )
    ops[action.component].append(cancel)
    return cancel


def compensate(ops: Ops, kinds: dict[str, Kind]) -> None:
    """Rule saga.compensate, in place on ``ops`` (component → operations): every call of a
    write operation to a service's action, followed by a write, gets the action's cancel as
    its compensation (derived here when the action has none)."""
    # The callee of each call step, by (component, operation): a scan of the callee's
    # operations per call step was ~1 s at 1,000,000 links (900,000 call steps, 10,000
    # distinct). Forgotten whenever the rule adds or replaces an operation: a cancel it adds
    # can be a later step's callee.
    callees: dict[tuple[str, str], Operation | None] = {}
    for component in list(ops):
        for n, op in enumerate(ops[component]):
            if op.kind is not OpKind.WRITE:
                continue
            steps = list(op.steps)
            last_write = _last_write(op.steps)
            for i, step in enumerate(op.steps[: max(last_write, 0)]):
                if step.action is not StepAction.CALL:
                    continue
                key = (step.target or "", step.operation or "")
                if key in callees:
                    callee = callees[key]
                else:
                    callee = callees[key] = _find(ops, *key)
                if callee is None or callee.kind is not OpKind.ACTION:
                    continue
                cancel = _cancel_of(ops, kinds, callee)
                callees.clear()
                steps[i] = step.model_copy(update={"compensation": _undo(step, cancel.name)})
            if steps != list(op.steps):
                ops[component][n] = op.model_copy(update={"steps": tuple(steps)})
                callees.clear()
