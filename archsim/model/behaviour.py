"""The behaviour model: operations, their ordered steps, entry points and event flows.

This is the contract between the model and its three consumers (simulator, code generator,
load harness): each executes or renders exactly these steps. ``archsim.model.derive`` fills it
from the relations by written rules (docs/behaviour.md).
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.dataclasses import dataclass

from archsim.model.distributions import Distribution
from archsim.model.kinds import Relation

__all__ = [
    "RATE_KEY",
    "Behaviour",
    "CallPolicy",
    "Entry",
    "EventFlow",
    "Lifecycle",
    "OpKind",
    "OpRef",
    "Operation",
    "PeriodicTask",
    "Step",
    "StepAction",
]

#: The key prefix of rate-limit counters (``ratelimit:<component>``, archsim.model.rate_limits).
RATE_KEY = "ratelimit:"

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_STRICT = ConfigDict(extra="forbid")  # dataclasses: frozen is the decorator's
# a query's modes that change data: ``write`` inserts a new row (the name users' JSON and the
# goldens keep); ``update`` and ``delete`` act on the row a route's ``{id}`` names
_CHANGES = frozenset({"write", "update", "delete"})
_SAID = frozenset({"read", "update", "delete"})  # modes describe() names as they are


class StepAction(StrEnum):
    """What a step does."""

    COMPUTE = "compute"  # hold a worker of the operation's own component for its service time
    CALL = "call"  # synchronous request to ``target.operation``
    QUERY = "query"  # SQL on database ``target`` (``mode``: read, write, update or delete)
    CACHE_GET = "cache_get"  # read-through: hit with ``hit_ratio``, else run ``on_miss``
    CACHE_SET = "cache_set"
    CACHE_DELETE = "cache_delete"
    PUBLISH = "publish"  # put ``event`` on broker ``target``; returns once the broker has it


class OpKind(StrEnum):
    """What an operation is for; also selects its HTTP method and default mix weight."""

    READ = "read"
    LIST = "list"
    WRITE = "write"
    ACTION = "action"
    LOGIN = "login"
    PROXY = "proxy"  # load balancer / gateway forwarding
    CONSUME = "consume"  # event handler, triggered by the broker
    CONTROL = "control"  # auth, config, registry and external operations called by others


class CallPolicy(BaseModel):
    """How a synchronous call protects itself (seconds)."""

    model_config = _FROZEN
    timeout: float = Field(gt=0)
    retries: int = Field(0, ge=0)
    backoff: float = Field(0.05, ge=0)
    breaker: int | None = Field(None, ge=1, description="consecutive failures that open it")
    breaker_reset: float = Field(10.0, gt=0)


# A step per call, query and publication: half a million in the largest files. A validated
# pydantic dataclass with slots holds one in ~0.2 KB where a BaseModel took ~0.7 KB (its
# ``__dict__``); the same fields, checks, JSON and schema (``archsim schema`` unchanged).
@dataclass(frozen=True, slots=True, config=_STRICT)
class Step:
    """One thing an operation does, in order."""

    action: StepAction
    target: str | None = Field(default=None, description="component acted on (None for compute)")
    operation: str | None = Field(default=None, description="callee operation (call)")
    relation: Relation | None = Field(default=None, description="the link this step comes from")
    mode: str | None = Field(
        default=None,
        description="query: read, write (insert a new row), update or delete (the row the "
        "request's {id} names)",
    )
    key: str | None = Field(default=None, description="cache key pattern, e.g. product:{id}")
    event: str | None = None
    p: float = Field(default=1.0, ge=0, le=1, description="probability the step happens")
    hit_ratio: float | None = Field(default=None, ge=0, le=1)
    ttl: float | None = None
    on_miss: tuple[Step, ...] = ()
    policy: CallPolicy | None = None
    error_rate: float = Field(
        default=0.0, ge=0, le=1, description="probability the interaction fails"
    )
    latency: float = Field(
        default=0.0,
        ge=0,
        description="one-way network latency of the hop (s); a compute step: the wait beside it "
        "that holds no worker (a rate curve's saving, archsim.model.rate_curve)",
    )
    service_time: Distribution | None = Field(
        default=None,
        description="compute: this operation's own service time (None: the component's); "
        "query: the database's time for it (a write's write_time; None: its service_time)",
    )
    compensation: Step | None = Field(
        default=None,
        description="saga: the call that undoes this one when a later step of the operation "
        "fails (rule saga.compensate)",
    )

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Step:
        """A copy with some fields replaced (validated), as for the model's other records."""
        return dataclasses.replace(self, **(update or {}))

    @property
    def changes_data(self) -> bool:
        """A query that changes data: inserts (``write``), updates or deletes a row."""
        return self.action is StepAction.QUERY and self.mode in _CHANGES

    @property
    def counts(self) -> bool:
        """A rate limiter's counter write (rule rate_limit.count): what it stores is a count,
        not the operation's result."""
        return self.action is StepAction.CACHE_SET and (self.key or "").startswith(RATE_KEY)

    @property
    def checks_token(self) -> bool:
        """A token check (``validates with``): it happens on every request. Its ``p`` is the
        share that misses the caller's token cache (``derive.TOKEN_CACHE_S`` in the generated
        spec, ``ARCHSIM_TOKEN_CACHE_S`` in the stack) and reaches the auth service, never a
        chance of skipping the check."""
        return self.action is StepAction.CALL and self.relation is Relation.VALIDATES_WITH

    def describe(self) -> str:
        """One line for people: ``call payment_service.create_payment``."""
        prefix = "" if self.p == 1 else f"[p={self.p:g}] "
        if self.checks_token and self.p < 1:
            prefix = f"[token cache misses {self.p:.0%}] "
        match self.action:
            case StepAction.COMPUTE:
                text = "compute" if self.service_time is None else f"compute {self.service_time}"
            case StepAction.CALL:
                text = f"call {self.target}.{self.operation}"
            case StepAction.QUERY:
                text = f"{self.mode if self.mode in _SAID else 'write'} {self.target}"
                text += f" {self.service_time}" if self.service_time is not None else ""
            case StepAction.CACHE_GET:
                misses = "; ".join(s.describe() for s in self.on_miss)
                text = f"cache get {self.target} [{self.key}] (hit {self.hit_ratio:.0%})"
                text += f", on miss: {misses}" if misses else ""
            case StepAction.CACHE_SET:
                text = f"cache set {self.target} [{self.key}]"
            case StepAction.CACHE_DELETE:
                text = f"cache delete {self.target} [{self.key}]"
            case StepAction.PUBLISH:
                text = f"publish {self.event} to {self.target}"
        return prefix + text


class OpRef(BaseModel):
    """A reference to ``component.operation``."""

    model_config = _FROZEN
    component: str
    operation: str

    def __str__(self) -> str:
        return f"{self.component}.{self.operation}"


class Operation(BaseModel):
    """Something a component offers, with the steps it takes."""

    model_config = _FROZEN
    component: str
    name: str
    kind: OpKind
    method: str | None = Field(None, description="HTTP method, None for event handlers")
    path: str | None = Field(None, description="HTTP path on the component")
    resource: str | None = None
    weight: float = Field(0.0, ge=0, description="share in the component's request mix")
    triggers: tuple[str, ...] = Field((), description="events that trigger a consume operation")
    public: bool = Field(
        False, description="no token check on the way in: signing up and logging in (proxies)"
    )
    steps: tuple[Step, ...]
    rule: str = Field(description="the derivation rule that produced it (docs/behaviour.md)")

    @property
    def changes(self) -> str | None:
        """The mode of the first query that changes data (``write``: a new row, ``update``,
        ``delete``: the row the path's ``{id}`` names), or None: it changes nothing."""
        return next((s.mode for s in self.steps if s.changes_data), None)

    @property
    def changes_one(self) -> bool:
        """It updates or deletes the row its path's ``{id}`` names (rule service.route)."""
        return self.changes in ("update", "delete")

    @property
    def trigger(self) -> str | None:
        """The first (usually only) event that triggers a consume operation."""
        return self.triggers[0] if self.triggers else None

    @property
    def ref(self) -> OpRef:
        """This operation as an OpRef."""
        return OpRef(component=self.component, operation=self.name)

    @property
    def qualified(self) -> str:
        """``component.operation``."""
        return f"{self.component}.{self.name}"


class Entry(BaseModel):
    """A request clients send at the front door, with its share of the traffic."""

    model_config = _FROZEN
    id: str = Field(description="'METHOD /path' at the front door")
    method: str
    path: str
    operation: OpRef = Field(description="the front door's operation")
    target: OpRef = Field(description="the application operation it reaches")
    hops: tuple[str, ...] = Field(description="components the request passes, in order")
    weight: float = Field(gt=0, le=1, description="probability of this entry (all sum to 1)")
    reason: str = Field("", description="why requests enter at this door (docs/behaviour.md)")


class EventFlow(BaseModel):
    """An event: who publishes it, on which broker, and who consumes it."""

    model_config = _FROZEN
    event: str
    broker: str
    publishers: tuple[OpRef, ...]
    consumers: tuple[OpRef, ...]


class PeriodicTask(BaseModel):
    """Background work a component repeats every ``interval`` seconds."""

    model_config = _FROZEN
    name: str
    interval: float = Field(gt=0)
    steps: tuple[Step, ...]


class Lifecycle(BaseModel):
    """What a component does at start-up and in the background (not per request)."""

    model_config = _FROZEN
    component: str
    startup: tuple[Step, ...] = ()
    periodic: tuple[PeriodicTask, ...] = ()


class Behaviour(BaseModel):
    """Everything derived: operations, entry points, event flows and lifecycles."""

    model_config = _FROZEN
    operations: tuple[Operation, ...] = ()
    entries: tuple[Entry, ...] = ()
    events: tuple[EventFlow, ...] = ()
    lifecycles: tuple[Lifecycle, ...] = ()

    def operation(self, component: str, name: str) -> Operation:
        """Look up ``component.name`` (KeyError if absent)."""
        return self._by_ref[(component, name)]

    def operations_of(self, component: str) -> list[Operation]:
        """Operations of one component, in derivation order."""
        return list(self._by_component.get(component, ()))

    def lifecycle(self, component: str) -> Lifecycle | None:
        """Start-up and background work of a component, if it has any."""
        return next((lc for lc in self.lifecycles if lc.component == component), None)

    @cached_property
    def _by_ref(self) -> dict[tuple[str, str], Operation]:
        return {(op.component, op.name): op for op in self.operations}

    @cached_property
    def _by_component(self) -> dict[str, list[Operation]]:
        index: dict[str, list[Operation]] = {}
        for op in self.operations:
            index.setdefault(op.component, []).append(op)
        return index
