"""Identifiers through the operations' steps: what each operation needs, knows and learns.

A service that acts for another needs the ids of what it acts on: a checkout that looks up its
cart needs ``cart_id``; a new post that creates its shortened links passes on what they need.
``derive_dataflow`` works this out once, from the derived steps (docs/behaviour.md#data-flow):

- a call to a **read** (``GET /carts/{id}``) needs the callee's resource id (``cart_id``),
  and so does a call to an **update or delete** of one row (``PUT /carts/{id}``, rule
  service.route), whose answer gives no new id;
- a call to a **write** or an **action** needs whatever that callee needs, recursively;
- each such id comes from an **earlier step's result** when one read or created that resource
  (``learns``), else from the operation's **own payload** — which makes it part of what the
  operation itself **needs** (its request schema requires it, its callers must send it);
- an **event consumer**'s payload is the event: it carries what the publisher knew and learned,
  and the publisher's own id when the publisher stored a row. An id a consumer cannot get so
  is a warning naming the step, and the consumer uses a seeded row (every stored resource has
  ``SEEDED_ROWS`` rows from start-up, ids 1…N).

Pure: no I/O. The code generator renders exactly these inputs; the locustfile fills the needs
of each entry from what it created, or from the seeded ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from archsim.model.architecture import Architecture
from archsim.model.behaviour import Operation, OpKind, Step, StepAction
from archsim.model.kinds import Relation
from archsim.model.naming import snake
from archsim.model.served import served_resource

__all__ = [
    "SEEDED_ROWS",
    "CallInputs",
    "Dataflow",
    "OpFlow",
    "Source",
    "derive_dataflow",
    "id_name",
    "resource_name",
    "seeded_components",
    "served_by",
]

#: Rows every stored resource has from start-up (ids 1…SEEDED_ROWS on a fresh database).
SEEDED_ROWS = 20
_CARRIERS = (OpKind.WRITE, OpKind.ACTION, OpKind.CONSUME)


def resource_name(arch: Architecture, op: Operation) -> str:
    """The snake-case resource an operation serves (``order``)."""
    comp = arch.component(op.component)
    return snake(op.resource or served_resource(arch, comp))


def id_name(resource: str) -> str:
    """The field that carries a resource's id elsewhere: ``cart`` → ``cart_id``."""
    return f"{snake(resource)}_id"


@dataclass(frozen=True)
class Source:
    """Where one identifier comes from: ``payload`` (field ``name`` of the request),
    ``step`` (the ``id`` of call ``name``'s result), ``event`` (field ``name`` of the event)
    or ``seed`` (a seeded row: nothing upstream knows it)."""

    kind: str
    name: str

    def describe(self) -> str:
        """``payload cart_id``, ``result of get_cart``, ``event field id``, ``a seeded row``."""
        return {
            "payload": f"payload {self.name}",
            "step": f"result of {self.name}",
            "event": f"event field {self.name}",
        }.get(self.kind, "a seeded row")


@dataclass(frozen=True)
class CallInputs:
    """The identifiers one call step sends: callee input (``id`` for a read's path, else a
    body field such as ``cart_id``) → where the caller takes it from."""

    step: str  # order_service.create_order → cart_service.get_cart
    callee: str  # cart_service.get_cart
    inputs: tuple[tuple[str, str, Source], ...]  # (input, id name, source)
    learns: str | None = None  # the id its result gives (a read or created row): cart_id


@dataclass(frozen=True)
class OpFlow:
    """The data flow of one operation; ``calls`` in the order of its call steps (depth
    first, as the steps are rendered)."""

    operation: str
    needs: tuple[str, ...] = ()  # ids its request must carry (a read: "id")
    knows: tuple[str, ...] = ()  # ids it has from its own payload or event
    learns: tuple[str, ...] = ()  # ids it gets from earlier steps' results
    event_fields: tuple[tuple[str, str], ...] = ()  # consumers: id name → event field
    calls: tuple[CallInputs, ...] = ()


@dataclass(frozen=True)
class Dataflow:
    """Every operation's flow, which resource each id names, and the warnings."""

    flows: dict[str, OpFlow] = field(default_factory=dict)
    resources: dict[str, str] = field(default_factory=dict)  # cart_id → cart
    warnings: tuple[str, ...] = ()

    def of(self, component: str, name: str) -> OpFlow:
        """The flow of ``component.name`` (an empty one for operations without ids)."""
        return self.flows.get(f"{component}.{name}") or OpFlow(f"{component}.{name}")


def _call_steps(steps: tuple[Step, ...]) -> Iterator[Step]:
    for step in steps:
        if step.action is StepAction.CALL:
            yield step
        yield from _call_steps(step.on_miss)


def _writes_row(op: Operation) -> bool:
    """``op`` inserts a row, whose id its answer gives; an update or a delete creates none."""
    return any(s.action is StepAction.QUERY and s.mode == "write" for s in op.steps)


class _Deriver:
    def __init__(self, arch: Architecture) -> None:
        self.arch = arch
        self.flows: dict[str, OpFlow] = {}
        self.busy: set[str] = set()
        self.carried: dict[str, dict[str, str]] = {}
        self.resources: dict[str, str] = {}
        self.warnings: list[str] = []

    def callee(self, step: Step) -> Operation | None:
        try:
            return self.arch.behaviour.operation(step.target or "", step.operation or "")
        except KeyError:
            return None

    def flow(self, op: Operation) -> OpFlow:
        key = op.qualified
        if key in self.flows:
            return self.flows[key]
        if key in self.busy:  # a call cycle (p < 1): the inner visit adds nothing
            return OpFlow(key)
        self.busy.add(key)
        try:
            flow = self._derive(op)
        finally:
            self.busy.discard(key)
        self.flows[key] = flow
        return flow

    def _derive(self, op: Operation) -> OpFlow:
        own = id_name(resource_name(self.arch, op))
        if op.kind is OpKind.READ:
            self.resources[own] = resource_name(self.arch, op)
            read_needs = ("id",) if "{id}" in (op.path or "") else ()
            return OpFlow(op.qualified, needs=read_needs, knows=(own,) if read_needs else ())
        if op.kind not in _CARRIERS:
            return OpFlow(op.qualified)
        event = self._event_fields(op) if op.kind is OpKind.CONSUME else {}
        needs: list[str] = []
        learned: dict[str, str] = {}
        calls: list[CallInputs] = []
        for step in _call_steps(op.steps):
            callee = self.callee(step)
            if callee is None:
                continue
            calls.append(self._call_inputs(op, step, callee, event, needs, learned))
        knows = tuple(event) if op.kind is OpKind.CONSUME else tuple(needs)
        return OpFlow(
            op.qualified,
            needs=() if op.kind is OpKind.CONSUME else tuple(needs),
            knows=knows,
            learns=tuple(learned),
            event_fields=tuple(sorted(event.items())),
            calls=tuple(calls),
        )

    def _call_inputs(
        self,
        op: Operation,
        step: Step,
        callee: Operation,
        event: dict[str, str],
        needs: list[str],
        learned: dict[str, str],
    ) -> CallInputs:
        """Where each id the call of ``callee`` sends comes from; adds to ``needs`` the ids
        ``op``'s caller must give and to ``learned`` the id the call's answer gives."""
        label = f"{op.qualified} → {callee.qualified}"
        inputs = []
        for field_name, name in self._wanted(callee):
            if name in learned:
                source = Source("step", learned[name])
            elif op.kind is OpKind.CONSUME:
                source = self._from_event(label, name, event)
            else:
                source = Source("payload", name)
                if name not in needs:
                    needs.append(name)
            inputs.append((field_name, name, source))
        gives = None
        served = served_by(self.arch, callee.component, callee.name) or callee
        if served.kind is OpKind.READ or (served.kind is OpKind.WRITE and _writes_row(served)):
            gives = id_name(resource_name(self.arch, served))
            self.resources[gives] = resource_name(self.arch, served)
            learned.setdefault(gives, step.operation or callee.name)
        return CallInputs(label, callee.qualified, tuple(inputs), gives)

    def _wanted(self, callee: Operation) -> list[tuple[str, str]]:
        """(input, id name) of each id a call of ``callee`` sends: a read's ``{id}``, or what
        a write or action needs."""
        wanted: list[tuple[str, str]] = []
        # through a balancer or gateway: what the operation it forwards to wants
        callee = served_by(self.arch, callee.component, callee.name) or callee
        by_id = callee.kind is OpKind.READ or callee.changes_one
        if by_id and "{id}" in (callee.path or ""):
            wanted.append(("id", id_name(resource_name(self.arch, callee))))
            self.resources[wanted[-1][1]] = resource_name(self.arch, callee)
        if callee.kind in (OpKind.WRITE, OpKind.ACTION):
            wanted += [(n, n) for n in self.flow(callee).needs if n not in dict(wanted).values()]
        return wanted

    def _from_event(self, label: str, name: str, event: dict[str, str]) -> Source:
        """A consumer's id ``name``: from its event, else (with a warning) a seeded row."""
        if name in event:
            return Source("event", event[name])
        carried = ", ".join(sorted(event)) or "no identifiers"
        self.warnings.append(
            f"step {label}: cannot derive {name} (the event carries "
            f"{carried}); a seeded {self.resources.get(name, name[:-3])} is used"
        )
        return Source("seed", name)

    def carried_by(self, publisher: Operation) -> dict[str, str]:
        """What a publisher's events carry: id name → field (``{**ids, **result}`` is sent)."""
        key = publisher.qualified
        if key not in self.carried:
            self.carried[key] = {}  # an event loop: what it carries is what it has so far
            flow = self.flow(publisher)
            fields = {n: n for n in (*flow.knows, *flow.learns) if n != "id"}
            if _writes_row(publisher):
                own = id_name(resource_name(self.arch, publisher))
                self.resources[own] = resource_name(self.arch, publisher)
                fields[own] = "id"
            self.carried[key] = fields
        return self.carried[key]

    def _event_fields(self, op: Operation) -> dict[str, str]:
        """Ids every event that triggers ``op`` carries (the intersection over publishers)."""
        common: dict[str, str] | None = None
        for flow in self.arch.behaviour.events:
            if flow.event not in op.triggers or op.ref not in flow.consumers:
                continue
            for ref in flow.publishers:
                try:
                    publisher = self.arch.behaviour.operation(ref.component, ref.operation)
                except KeyError:
                    continue
                fields = self.carried_by(publisher)
                common = (
                    dict(fields)
                    if common is None
                    else {k: v for k, v in common.items() if fields.get(k) == v}
                )
        return common or {}


def seeded_components(arch: Architecture) -> set[str]:
    """Components whose rows are seeded at start-up: those that store data that is read,
    updated or deleted (by a front-door entry or by another operation's call) but that no
    front-door entry creates, so a read finds rows without a create; and those an event
    handler reads, since the event may not carry the id it needs (it reads a seeded row then)."""
    created: set[str] = set()
    read: set[str] = set()
    by_events: set[str] = set()  # read by an event handler, which knows no created id
    for e in arch.behaviour.entries:
        served = served_by(arch, e.target.component, e.target.operation)
        creates = served is not None and served.kind is OpKind.WRITE and not served.changes_one
        (created if creates else read).add(e.target.component)
    for op in arch.behaviour.operations:
        for step in _call_steps(op.steps):
            if _finds_rows(arch, step.target or "", step.operation or ""):
                read.add(step.target or "")
                if op.kind is OpKind.CONSUME:
                    by_events.add(step.target or "")
    stores = {link.source for link in arch.links if link.relation is Relation.STORES_IN}
    return {c for c in stores & read if c not in created} | (stores & by_events)


def _finds_rows(arch: Architecture, component: str, name: str) -> bool:
    """A call of ``component.name`` finds existing rows: a read, an update or a delete."""
    served = served_by(arch, component, name)
    return served is not None and (served.kind is OpKind.READ or served.changes_one)


def served_by(arch: Architecture, component: str, name: str) -> Operation | None:
    """The operation that answers a call of ``component.name``: itself, or for a proxy's
    forward (a call through a load balancer or gateway) the operation it forwards to."""
    seen: set[str] = set()
    while True:
        try:
            op = arch.behaviour.operation(component, name)
        except KeyError:
            return None
        forward = [s for s in op.steps if s.action is StepAction.CALL]
        if op.kind is not OpKind.PROXY or not forward or op.qualified in seen:
            return op
        seen.add(op.qualified)
        component, name = forward[-1].target or "", forward[-1].operation or ""


def derive_dataflow(arch: Architecture) -> Dataflow:
    """The data flow of every operation of ``arch`` (pure; see the module docstring)."""
    d = _Deriver(arch)
    for op in arch.behaviour.operations:
        d.flow(op)
    return Dataflow(
        flows={k: v for k, v in d.flows.items() if v.needs or v.calls or v.knows},
        resources=dict(sorted(d.resources.items())),
        warnings=tuple(dict.fromkeys(d.warnings)),
    )
