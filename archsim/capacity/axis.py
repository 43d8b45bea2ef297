"""The swept axis: ``--rps 100..3000:step=100``, ``--users 10..200:points=20``, or one ``--set``
override whose value is a range (``payment_service.replicas=1..6``) or a list (``1,2,4``).

Parsing only: an Axis is plain frozen data; ``levels`` turns it into what a simulation needs
(a workload rate or user count, and the overrides of that level).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from archsim.errors import ScenarioError

__all__ = ["MAX_LEVELS", "Axis", "is_range", "parse_axis", "parse_values"]

MAX_LEVELS = 500
_NUMBER = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z%]*)\s*$")
_EXAMPLE = "e.g. 100..3000:step=100, 100..3000:points=20 or 100,200,400"


@dataclass(frozen=True)
class Axis:
    """What varies across a sweep. ``kind`` is ``rps``, ``users`` or ``set`` (then ``name`` is
    the override target, e.g. ``payment_service.replicas``); ``values`` are numbers in the
    axis unit and ``texts`` the same values as written for an override (``20ms``)."""

    kind: str
    name: str
    values: tuple[float, ...]
    texts: tuple[str, ...]
    unit: str = ""

    @property
    def label(self) -> str:
        """Axis title for tables and plots, e.g. ``rps`` or ``payment_service.replicas``."""
        return self.name + (f" ({self.unit})" if self.unit and self.kind == "set" else "")

    def override(self, i: int) -> str | None:
        """The ``--set`` override of level ``i`` (None for load axes)."""
        return f"{self.name}={self.texts[i]}" if self.kind == "set" else None


def _bad(option: str, text: str, why: str) -> ScenarioError:
    return ScenarioError(f"cannot read {option} '{text}': {why}", hint=_EXAMPLE, code="bad-axis")


def _number(text: str, option: str, whole: str) -> tuple[float, str]:
    match = _NUMBER.match(text)
    if not match:
        raise _bad(option, whole, f"'{text.strip()}' is not a number")
    value = float(match.group(1))
    if not math.isfinite(value):
        raise _bad(option, whole, f"'{text.strip()}' is not a finite number")
    return value, match.group(2)


def is_range(text: str) -> bool:
    """True when ``text`` is a range (``a..b[:step=s|:points=n]``) or a list of plain numbers."""
    if ".." in text:
        return "(" not in text
    parts = text.split(",")
    return len(parts) > 1 and all(_NUMBER.match(p) for p in parts)


def parse_values(text: str, option: str) -> tuple[tuple[float, ...], str]:
    """Read ``lo..hi:step=s``, ``lo..hi:points=n``, ``lo..hi`` (step 1 between whole numbers up to
    50 apart, else 10 points) or ``a,b,c`` into
    (values, unit). Values keep the unit as written (``10ms..50ms`` gives 10..50, ``ms``)."""
    body, _, option_text = text.partition(":")
    if ".." not in body:
        items = [_number(p, option, text) for p in body.split(",") if p.strip()]
        if option_text or not items:
            raise _bad(option, text, "a list takes no :step or :points")
        units = {u for _, u in items}
        if len(units) > 1:
            raise _bad(option, text, "all values need the same unit")
        return tuple(v for v, _ in items), units.pop()
    lo_text, _, hi_text = body.partition("..")
    (lo, unit), (hi, hi_unit) = _number(lo_text, option, text), _number(hi_text, option, text)
    if hi_unit != unit and hi_unit and unit:
        raise _bad(option, text, "both ends need the same unit")
    unit = unit or hi_unit
    if hi < lo:
        raise _bad(option, text, "the range must go from low to high")
    key, _, amount = option_text.partition("=")
    if not key.strip():  # whole ends a few apart step by one; anything else gets 10 points
        whole = lo == int(lo) and hi == int(hi) and hi - lo <= 50
        key, amount = ("step", "1") if whole else ("points", "10")
    if key.strip() == "step":
        step, step_unit = _number(amount, option, text)
        if step_unit and step_unit != unit:
            raise _bad(option, text, "the step needs the range's unit")
        if step <= 0:
            raise _bad(option, text, "the step must be > 0")
        count = math.floor((hi - lo) / step + 1e-9) + 1
        values = [lo + i * step for i in range(min(count, MAX_LEVELS + 1))]
    elif key.strip() == "points":
        try:
            count = int(amount)
        except ValueError:
            raise _bad(option, text, f"points must be a whole number, got '{amount}'") from None
        if count < 1:
            raise _bad(option, text, "points must be >= 1")
        if lo == hi or count == 1:
            values = [lo]
        else:
            values = [lo + (hi - lo) * i / (count - 1) for i in range(min(count, MAX_LEVELS + 1))]
    else:
        raise _bad(option, text, f"unknown option '{key}' (use step= or points=)")
    if len(values) > MAX_LEVELS:
        raise _bad(option, text, f"more than {MAX_LEVELS} levels")
    # Round away binary noise (0.1 + 2 * 0.1) so levels print as written.
    return tuple(round(v, 9) for v in values), unit


def _text(value: float, unit: str) -> str:
    return f"{value:g}{unit}"


def parse_axis(kind: str, text: str, name: str | None = None) -> Axis:
    """An Axis for ``--rps``/``--users`` (``kind``) or a ``--set`` override (``name``)."""
    option = f"--{kind}" if kind != "set" else f"--set {name}"
    values, unit = parse_values(text, option)
    if kind == "rps":
        if unit or any(v <= 0 for v in values):
            raise _bad(option, text, "rates are plain numbers of requests/s, > 0")
    elif kind == "users":
        if unit or any(v < 1 or v != int(v) for v in values):
            raise _bad(option, text, "users are whole numbers >= 1")
    elif kind != "set" or not name:
        raise ValueError(f"unknown axis kind {kind!r}")
    return Axis(
        kind=kind,
        name=name or kind,
        values=values,
        texts=tuple(_text(v, unit) for v in values),
        unit=unit,
    )
