"""Service times that depend on the rate (node attributes ``cpu_power`` and ``cpu_at``;
docs/model.md): a process's CPU per request falls as the rate rises, its fixed cost per wake-up
shared by the requests it finds waiting (docs/calibrate.md, session 10). A component's busy
time grows as ``rate ** cpu_power``, so each of its service and operation times is multiplied
by ``(rate / cpu_at) ** (cpu_power − 1)``, ``rate`` being the entry requests/s of the whole
workload.

The curve is the process's *occupancy*, not the request's delay: above ``cpu_at`` a busier
process serves several requests per wake-up, so each holds it for less, but a request still
waits through the batch it is served in. Each compute step of a component whose times fall
therefore keeps the time it saves as its ``latency``, a wait beside the step that holds no
worker: the request's time stays the calibrated one (measured: with the saving taken off the
requests too, the latencies at two and four times the calibration rate came out 15–50% low;
docs/calibrate.md, "Session 12"). Below ``cpu_at`` the request takes the longer time.

Decided here, once: ``at_rate`` gives the architecture with every curve evaluated at a rate —
the times scaled, the waits beside them set and the curve spent (``cpu_power`` 1) — and the
simulator and the analytic solver execute that as they would any other.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from archsim.model.architecture import Architecture, Component
from archsim.model.behaviour import Operation, Step, StepAction
from archsim.model.checks import Reader
from archsim.model.dot.ast import DotNode

__all__ = ["at_rate", "check_curve", "has_curves"]

M = TypeVar("M", bound=BaseModel)


def check_curve(node: DotNode, values: dict[str, Any], reader: Reader) -> None:
    """``cpu_power`` says how ``service_time`` changes with the rate, so it needs the rate the
    time holds at (``cpu_at``); ``cpu_at`` alone changes nothing."""
    power, at = values.get("cpu_power"), values.get("cpu_at")
    if power is not None and power != 1.0 and at is None:
        reader.error(
            f"cpu_power of '{node.id}' needs cpu_at: the entry rate its service_time holds at",
            node.attrs["cpu_power"].location,
            "add cpu_at=RATE (requests/s; archsim calibrate writes both), or drop cpu_power",
            "bad-attribute",
        )
    elif at is not None and power is None:
        reader.warn(
            f"cpu_at of '{node.id}' is ignored without cpu_power",
            node.attrs["cpu_at"].location,
            "add cpu_power (below 1: its times fall as the rate rises), or drop cpu_at",
            "ignored-attribute",
        )


def has_curves(arch: Architecture) -> bool:
    """True when some component's times depend on the rate."""
    return any(c.cpu_at is not None and c.cpu_power != 1.0 for c in arch.components)


def at_rate(arch: Architecture, rate: float) -> Architecture:
    """``arch`` with every component's times as they are at ``rate`` entry requests/s and its
    curve spent (evaluating again changes nothing); ``arch`` itself when none has a curve."""
    if not has_curves(arch):
        return arch
    factors = {c.id: c.time_factor(rate) for c in arch.components if c.cpu_at is not None}
    components = tuple(_component(c, factors.get(c.id, 1.0)) for c in arch.components)
    means = {c.id: c.service_time.mean for c in arch.components}
    ops = arch.behaviour.operations
    operations = tuple(_operation(op, factors, means[op.component]) for op in ops)
    # constructed anew, not model_copy'd: a copy would keep the cached indexes (by_id, the
    # operations by name) of the records it replaces
    behaviour = _fresh(arch.behaviour, operations=operations)
    return _fresh(arch, components=components, behaviour=behaviour)


def _fresh(record: M, **update: Any) -> M:
    """``record`` with fields replaced, its cached properties left behind (fields were
    validated when it was made, and the replacements are records of the same types)."""
    return type(record).model_construct(**{**dict(record), **update})


def _component(comp: Component, factor: float) -> Component:
    if comp.cpu_at is None and comp.cpu_power == 1.0:
        return comp
    times, write = comp.operation_time, comp.write_time
    return comp.model_copy(
        update={
            "service_time": comp.service_time.scaled(factor),
            "operation_time": {k: d.scaled(factor) for k, d in times.items()} if times else times,
            "write_time": write.scaled(factor) if write is not None else None,
            "cpu_power": 1.0,
            "cpu_at": None,
        }
    )


def _operation(op: Operation, factors: dict[str, float], service: float) -> Operation:
    """``op`` with its steps at the rate (``service``: its component's mean service time, s,
    as written)."""
    steps = tuple(_step(s, op.component, factors, service) for s in op.steps)
    return op if steps == op.steps else op.model_copy(update={"steps": steps})


def _step(step: Step, comp: str, factors: dict[str, float], service: float) -> Step:
    """A step's own time scaled by its station's factor: a compute step's by its component's
    (the time it saves kept as its ``latency``), a query's (a database write) by the
    database's; the component's own time is scaled on the component."""
    if step.action is StepAction.COMPUTE:
        factor = factors.get(comp, 1.0)
        if factor == 1.0:
            return step
        own = step.service_time
        saved = (1.0 - factor) * (own.mean if own is not None else service)
        update: dict[str, Any] = {"latency": step.latency + max(saved, 0.0)}
        if own is not None:
            update["service_time"] = own.scaled(factor)
        return step.model_copy(update=update)
    if step.service_time is None:
        return step
    factor = factors.get(step.target or "", 1.0)
    if factor == 1.0:
        return step
    return step.model_copy(update={"service_time": step.service_time.scaled(factor)})
