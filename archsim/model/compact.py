"""Memory of large models: one ``fields set`` per distinct set of fields, not one per object.

pydantic keeps, on every model instance, the set of fields that were passed explicitly
(``model_fields_set``): 700 bytes for a link built with nine fields, 40% of the link. A model
with a million links holds a handful of distinct sets, so each instance points at a shared
one. archsim's models are frozen (nothing assigns a field, which is what would add to the
set) and ``model_copy`` copies the set before updating it, so sharing is safe.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

__all__ = ["shared_fields"]

M = TypeVar("M", bound=BaseModel)

_SETS: dict[frozenset[str], set[str]] = {}


def shared_fields(model: M) -> M:
    """``model`` (and a nested ``source_ref``) with its fields set replaced by a shared one."""
    own = model.__pydantic_fields_set__
    shared = _SETS.get(frozenset(own))
    if shared is None:
        shared = _SETS[frozenset(own)] = set(own)
    object.__setattr__(model, "__pydantic_fields_set__", shared)
    ref = getattr(model, "source_ref", None) or getattr(model, "source", None)
    if isinstance(ref, BaseModel):
        shared_fields(ref)
    return model
