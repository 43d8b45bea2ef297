"""The typed architecture model: DOT front end, derived behaviour, validation."""

from archsim.model.architecture import Architecture, Component, Group, Host, Link, SourceRef
from archsim.model.behaviour import (
    Behaviour,
    CallPolicy,
    Entry,
    EventFlow,
    Lifecycle,
    Operation,
    OpKind,
    OpRef,
    PeriodicTask,
    Step,
    StepAction,
)
from archsim.model.distributions import Distribution, parse_distribution
from archsim.model.export import to_dot
from archsim.model.graph import to_networkx
from archsim.model.kinds import Interaction, Kind, Layer, Relation
from archsim.model.loader import LoadResult, load, read_architecture
from archsim.model.profile import apply_overrides, parse_override, profile_overrides
from archsim.model.visit import StepVisitor, visit

__all__ = [
    "Architecture",
    "Behaviour",
    "CallPolicy",
    "Component",
    "Distribution",
    "Entry",
    "EventFlow",
    "Group",
    "Host",
    "Interaction",
    "Kind",
    "Layer",
    "Lifecycle",
    "Link",
    "LoadResult",
    "OpKind",
    "OpRef",
    "Operation",
    "PeriodicTask",
    "Relation",
    "SourceRef",
    "Step",
    "StepAction",
    "StepVisitor",
    "apply_overrides",
    "load",
    "parse_distribution",
    "parse_override",
    "profile_overrides",
    "read_architecture",
    "to_dot",
    "to_networkx",
    "visit",
]
