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
    """``model``, its fields set replaced by the shared one with the same fields."""
    own = model.__pydantic_fields_set__
    key = frozenset(own)
    shared = _SETS.get(key)
    if shared is None:
        shared = _SETS[key] = set(own)
    object.__setattr__(model, "__pydantic_fields_set__", shared)
    return model
