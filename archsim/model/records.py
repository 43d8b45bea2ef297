"""Building the model's most numerous records fast, validated exactly as their constructors do.

``Link`` and ``Step`` are validated pydantic dataclasses (slots: a fraction of a BaseModel's
memory). Their ``__init__`` hands pydantic the arguments as ``ArgsKwargs`` and fills the
instance in place, ~3.5 µs a step and ~5 µs a link in pydantic 2.13; the same validator given
the fields as a dict builds the instance in ~1 and ~1.6 µs, with the same checks, defaults and
error messages. The loader builds a link per edge and derivation a step per call, query and
publication (900,000 of them at 1,000,000 links), so those two use ``build``. Links that read
alike (the edges of a chain, or statements with the same attributes) differ only in fields
every value of whose type is valid (ends, place, comments): ``replacer`` copies the first one
validated and sets those, 1.2 µs a link against 2.8 for validating each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["build", "replacer"]

R = TypeVar("R")


def build(cls: type[R], /, **fields: Any) -> R:
    """``cls(**fields)`` for a pydantic dataclass: the same validation (``ValueError`` when a
    field is out of range or unknown), without the slow path of its ``__init__``."""
    validator = cls.__pydantic_validator__  # type: ignore[attr-defined]
    return validator.validate_python(fields)


def replacer(cls: type[R], /, *names: str) -> Callable[..., R]:
    """A function ``(template, *values)``: a copy of ``template``, a validated instance of
    the slotted dataclass ``cls``, with the fields ``names`` set to ``values`` unvalidated.
    Only for fields every value of whose annotated type is valid (any string, any position)."""
    fields = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(names) - set(fields))
    if unknown:
        raise ValueError(f"{cls.__name__} has no field {', '.join(unknown)}")
    # Written out and compiled once, as ``dataclasses`` writes ``__init__``: a loop over the
    # slots' descriptors costs as much as validating. The descriptors set a frozen instance's
    # slots as pydantic's validator does.
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    scope.update({f"set_{n}": getattr(cls, n).__set__ for n in fields})
    lines = [f"def replace(template, {', '.join(names)}):", "    record = new(cls)"]
    lines += [f"    set_{n}(record, template.{n})" for n in fields if n not in names]
    lines += [f"    set_{n}(record, {n})" for n in names]
    lines.append("    return record")
    exec("\n".join(lines), scope)  # the code is made of the dataclass's field names only
    replace: Callable[..., R] = scope["replace"]
    return replace
