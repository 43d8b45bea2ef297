"""The typed architecture: components, links and groups, plus the behaviour derived from them.

Everything here is immutable data (pydantic, frozen). Values are resolved: a field holds what
the file said or the documented default, and ``explicit`` names the attributes the file set, so
tools can tell "you wrote this" from "archsim assumed this". Times are seconds.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.dataclasses import dataclass

from archsim.model.behaviour import Behaviour
from archsim.model.distributions import Distribution
from archsim.model.kinds import INTERACTION, Interaction, Kind, Layer, Relation
from archsim.model.naming import plain_label

__all__ = ["Architecture", "Component", "Group", "Host", "Link", "SourceRef"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_STRICT = ConfigDict(extra="forbid")  # dataclasses: frozen is the decorator's


# Links and their source references are the model's most numerous records (a million in the
# largest files): validated pydantic dataclasses with slots, ~0.5 KB a link where a BaseModel
# took ~1.6 KB (its __dict__ alone 830 bytes); the same fields, checks, JSON and schema.
@dataclass(frozen=True, slots=True, config=_STRICT)
class SourceRef:
    """Where a thing was written (1-based line and column)."""

    line: int
    col: int


class Component(BaseModel):
    """One box of the diagram: a service, a database, a cache, …"""

    model_config = _FROZEN
    id: str
    label: str
    kind: Kind
    kind_reason: str = Field(description="why archsim chose this kind")
    layer: Layer | None = None
    group: str | None = Field(None, description="id of the innermost group (cluster)")
    service_time: Distribution
    workers: int = Field(ge=1, description="concurrency per replica")
    replicas: int = Field(ge=1)
    concurrency: str = Field(description="'async' or 'threads'")
    connections: int = Field(ge=1, description="pool size each client opens (databases)")
    queue_limit: int | None = Field(None, ge=0)
    timeout: float | None = Field(None, gt=0, description="default timeout of calls into it (s)")
    retries: int | None = Field(None, ge=0)
    error_rate: float = Field(0.0, ge=0, le=1)
    hit_ratio: float | None = Field(None, ge=0, le=1)
    latency: float = Field(0.0, ge=0, description="extra network latency to reach it (s)")
    cost: float = Field(ge=0)
    mix: dict[str, float] | None = None
    operation_time: dict[str, Distribution] | None = Field(
        None, description="service time of named operations; the others use service_time"
    )
    write_time: Distribution | None = Field(
        None, description="database: the time of one write (None: service_time, as a read)"
    )
    cpu_power: float = Field(
        1.0, gt=0, description="busy time grows as the entry rate to this power (1: in step)"
    )
    cpu_at: float | None = Field(
        None, gt=0, description="with cpu_power: the entry rate (req/s) its times hold at"
    )
    resource: str | None = None
    explicit: tuple[str, ...] = Field((), description="attributes the file set")
    attrs: dict[str, str] = Field(default_factory=dict, description="all attributes as written")
    comments: tuple[str, ...] = ()
    source: SourceRef | None = None

    @property
    def title(self) -> str:
        """The label as one line of plain text (an HTML label without its tags)."""
        return plain_label(self.label)

    def time_factor(self, rate: float) -> float:
        """What its service and operation times are multiplied by at ``rate`` entry
        requests/s: ``(rate / cpu_at) ** (cpu_power − 1)``, 1 without a curve."""
        if self.cpu_power == 1.0 or self.cpu_at is None or rate <= 0:
            return 1.0
        return (rate / self.cpu_at) ** (self.cpu_power - 1.0)

    @property
    def is_application(self) -> bool:
        """True for components that run our code (services, gateway, auth, config, …)."""
        return self.kind in _APPLICATION_KINDS


# Components whose code archsim generates; the others are infrastructure it runs or emulates.
_APPLICATION_KINDS = frozenset({Kind.GATEWAY, Kind.SERVICE, Kind.AUTH, Kind.CONFIG})


@dataclass(frozen=True, slots=True, config=_STRICT)
class Link:
    """One arrow: ``source`` relates to ``target`` by ``relation``."""

    source: str
    target: str
    relation: Relation
    label: Annotated[str, Field(description="the label as written")]
    weight: float = Field(default=1.0, gt=0)
    p: float = Field(default=1.0, ge=0, le=1)
    timeout: float | None = Field(default=None, gt=0)
    retries: int | None = Field(default=None, ge=0)
    backoff: float | None = Field(default=None, ge=0)
    breaker: int | None = Field(default=None, ge=1)
    breaker_reset: float | None = Field(default=None, gt=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    hit_ratio: float | None = Field(default=None, ge=0, le=1)
    ttl: float | None = Field(default=None, gt=0)
    latency: float | None = Field(default=None, ge=0)
    operation: str | None = None
    mode: str | None = None
    event: str | None = None
    events: tuple[str, ...] = Field(
        default=(), description="publishes/subscribes: every event named"
    )
    explicit: tuple[str, ...] = ()
    attrs: dict[str, str] = Field(default_factory=dict)
    comments: tuple[str, ...] = ()
    source_ref: SourceRef | None = None

    @property
    def interaction(self) -> Interaction:
        """Sync, async, data or infra (see ``archsim.model.kinds.INTERACTION``)."""
        return INTERACTION[self.relation]

    @property
    def key(self) -> tuple[str, str, Relation]:
        """Identity of the link inside an architecture."""
        return (self.source, self.target, self.relation)

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Link:
        """A copy with some fields replaced (validated), as for the model's other records."""
        return dataclasses.replace(self, **(update or {}))


class Group(BaseModel):
    """A DOT cluster: a named box around components."""

    model_config = _FROZEN
    id: str
    label: str
    parent: str | None = None
    members: tuple[str, ...] = ()
    attrs: dict[str, str] = Field(default_factory=dict)
    comments: tuple[str, ...] = ()


class Host(BaseModel):
    """One machine every process shares (graph attribute ``host_cores``): a throughput bound
    on top of each station's own, where ``background + X · cpu(X)`` cores fill the machine.

    CPU per request may fall with the rate (fixed costs per wake-up shared by more requests):
    ``cpu(X) = cpu_per_request · (X / cpu_rate) ** (cpu_power − 1)``, so the busy cores grow as
    ``X ** cpu_power``; ``cpu_power = 1`` is CPU per request that does not depend on the rate."""

    model_config = _FROZEN
    cores: int = Field(ge=1, description="cores of the machine")
    cpu_per_request: float | None = Field(
        default=None, gt=0, description="CPU per entry request, all processes (s); None: derived"
    )
    background: float = Field(default=0.0, ge=0, description="cores busy whatever the load")
    wait: float = Field(
        default=0.0,
        ge=0,
        description="with cpu_per_request: the CPU burst (s) a process that wakes to a full "
        "machine waits behind, shared by the cores; 0: no waiting for a core",
    )
    cpu_power: float = Field(
        default=1.0, gt=0, description="busy cores grow as the rate to this power (1: in step)"
    )
    cpu_rate: float | None = Field(
        default=None, gt=0, description="with cpu_power: the rate (req/s) cpu_per_request holds at"
    )

    def cpu_at(self, rate: float, cpu: float | None = None) -> float:
        """CPU per entry request (s) at ``rate`` requests/s; ``cpu`` stands in for a
        ``cpu_per_request`` the model does not give (then the power does not apply)."""
        if self.cpu_per_request is None:
            return cpu or 0.0
        if self.cpu_power == 1.0 or self.cpu_rate is None or rate <= 0:
            return self.cpu_per_request
        return self.cpu_per_request * (rate / self.cpu_rate) ** (self.cpu_power - 1.0)

    def busy(self, rate: float, cpu: float | None = None) -> float:
        """Cores busy at ``rate`` requests/s (background included)."""
        return self.background + rate * self.cpu_at(rate, cpu)

    def saturation_rps(self, cpu: float | None = None) -> float:
        """The rate (requests/s) whose busy cores fill the machine; inf with no CPU per request."""
        free = self.cores - self.background
        if self.cpu_per_request is None:
            return free / cpu if cpu else math.inf
        if self.cpu_power == 1.0 or self.cpu_rate is None:
            return free / self.cpu_per_request
        # background + cpu · rate0 · (X / rate0) ** power = cores, solved for X
        return self.cpu_rate * (free / (self.cpu_per_request * self.cpu_rate)) ** (
            1.0 / self.cpu_power
        )


class Architecture(BaseModel):
    """A whole system: what the file says (components, links, groups) and what follows from it
    (``implied``: components the rules add; ``behaviour``: operations, steps, entry points and
    event flows)."""

    model_config = _FROZEN
    name: str
    file: str | None = None
    network_latency: float = Field(ge=0, description="one-way latency of every hop (s)")
    default_timeout: float = Field(gt=0, description="timeout of sync calls (s)")
    host: Host | None = Field(default=None, description="the shared machine, if one")
    attrs: dict[str, str] = Field(default_factory=dict, description="graph attributes as written")
    comments: tuple[str, ...] = ()
    components: tuple[Component, ...]
    links: tuple[Link, ...]
    groups: tuple[Group, ...] = ()
    implied: tuple[Component, ...] = Field(
        (),
        description="components no statement draws that the rules imply: the private account "
        "store of an auth service that stores in nothing (rule auth.accounts)",
    )
    behaviour: Behaviour

    @cached_property
    def by_id(self) -> dict[str, Component]:
        """Components by id."""
        return {c.id: c for c in self.components}

    def component(self, component_id: str) -> Component:
        """The component with this id, drawn or implied (KeyError if there is none)."""
        comp = self.by_id.get(component_id)
        if comp is None:  # few or none: a scan, and nothing cached before ``implied`` is set
            comp = next((c for c in self.implied if c.id == component_id), None)
            if comp is None:
                raise KeyError(component_id)
        return comp

    @property
    def all_components(self) -> tuple[Component, ...]:
        """The drawn components, then the implied ones: everything the stack runs and the
        simulator gives a station."""
        return self.components + self.implied if self.implied else self.components

    def links_from(self, component_id: str, *relations: Relation) -> list[Link]:
        """Outgoing links of a component, in file order, optionally of some relations only."""
        return self._select(self._outgoing, component_id, relations)

    def links_to(self, component_id: str, *relations: Relation) -> list[Link]:
        """Incoming links of a component, in file order, optionally of some relations only."""
        return self._select(self._incoming, component_id, relations)

    def has_links_to(self, component_id: str, *relations: Relation) -> bool:
        """Whether any link of these relations comes into the component: one index lookup
        per relation, with no list built or scanned (``bool(links_to(...))`` filtered every
        incoming link of a component, a hundred a service at a million links)."""
        return self._any(self._incoming, component_id, relations)

    def has_links_from(self, component_id: str, *relations: Relation) -> bool:
        """Whether any link of these relations leaves the component (see ``has_links_to``)."""
        return self._any(self._outgoing, component_id, relations)

    @staticmethod
    def _any(
        index: dict[tuple[str, Relation | None], list[Link]],
        component_id: str,
        relations: tuple[Relation, ...],
    ) -> bool:
        if not relations:  # any relation, as ``links_to`` lists them all
            return bool(index.get((component_id, None)))
        return any(index.get((component_id, r)) for r in relations)

    @staticmethod
    def _select(
        index: dict[tuple[str, Relation | None], list[Link]],
        component_id: str,
        relations: tuple[Relation, ...],
    ) -> list[Link]:
        if not relations:
            return list(index.get((component_id, None), ()))
        if len(relations) == 1:
            return list(index.get((component_id, relations[0]), ()))
        wanted = set(relations)
        return [lk for lk in index.get((component_id, None), ()) if lk.relation in wanted]

    def of_kind(self, *kinds: Kind) -> list[Component]:
        """Components of the given kinds, in file order."""
        return [c for c in self.components if c.kind in kinds]

    @cached_property
    def _outgoing(self) -> dict[tuple[str, Relation | None], list[Link]]:
        # Keyed by (component, relation) and (component, None) for "any relation": derivation
        # and analysis ask these questions for every component, so they must not scan.
        # (a defaultdict: ``setdefault(key, [])`` built a list per call, 4 per link)
        index: dict[tuple[str, Relation | None], list[Link]] = defaultdict(list)
        for link in self.links:
            index[(link.source, None)].append(link)
            index[(link.source, link.relation)].append(link)
        return index

    @cached_property
    def _incoming(self) -> dict[tuple[str, Relation | None], list[Link]]:
        index: dict[tuple[str, Relation | None], list[Link]] = defaultdict(list)
        for link in self.links:
            index[(link.target, None)].append(link)
            index[(link.target, link.relation)].append(link)
        return index

    def structure(self) -> dict[str, object]:
        """The model without source positions or statement order: equal for files that say
        the same thing (``archsim fmt`` may move a node into its cluster's block)."""
        data = self.model_dump(
            mode="json",
            exclude={
                "file": True,
                "components": {"__all__": {"source"}},
                "implied": {"__all__": {"source"}},
                "links": {"__all__": {"source_ref"}},
            },
        )
        data["components"].sort(key=lambda c: c["id"])
        data["links"].sort(key=lambda lk: (lk["source"], lk["target"], lk["relation"]))
        data["groups"].sort(key=lambda g: g["id"])
        data["implied"].sort(key=lambda c: c["id"])
        behaviour = data["behaviour"]
        behaviour["operations"].sort(key=lambda op: (op["component"], op["name"]))
        behaviour["entries"].sort(key=lambda e: e["id"])
        behaviour["lifecycles"].sort(key=lambda lc: lc["component"])
        return data
