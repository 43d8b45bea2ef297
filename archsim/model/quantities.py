"""Parsing of the quantities attributes carry: durations with units, probabilities, counts.

Durations are returned in seconds (float). Errors are plain ``ValueError`` with a message meant
for the user; the loader turns them into diagnostics with the attribute's location.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_DURATION_S",
    "format_duration",
    "parse_count",
    "parse_duration",
    "parse_positive_number",
    "parse_probability",
]

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
}
#: Longest duration any attribute may hold (7 days, in seconds): past it a value is a typo, and
#: a simulator clock that jumps by years tells nobody anything.
MAX_DURATION_S = 7 * 24 * 3600.0

_DURATION = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zµ]*)\s*$")


def parse_duration(text: str, *, allow_zero: bool = True) -> float:
    """Parse ``5ms``, ``1.5s``, ``200us``, ``2min`` into seconds; a unit is required."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a duration; write a number and a unit, e.g. 5ms or 1.5s")
    number, unit = float(match.group(1)), match.group(2)
    if not unit:
        raise ValueError(
            f"'{text}' has no unit; write e.g. {match.group(1)}ms or {match.group(1)}s"
        )
    if unit not in _UNITS:
        known = ", ".join(k for k in _UNITS if k != "µs")
        raise ValueError(f"unknown time unit '{unit}' in '{text}'; use one of {known}")
    seconds = number * _UNITS[unit]
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError(f"duration '{text}' must be {'>= 0' if allow_zero else '> 0'}")
    if not seconds <= MAX_DURATION_S:  # also catches inf (1e999s)
        raise ValueError(f"duration '{text}' is longer than the maximum of 168h (7 days)")
    return seconds


def format_duration(seconds: float) -> str:
    """Render seconds back with the most readable unit (``0.005`` → ``5ms``)."""
    if seconds == 0:
        return "0ms"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.6g}{unit}"
    return f"{seconds / 1e-9:.6g}ns"


def parse_probability(text: str) -> float:
    """Parse a probability ``0.95`` or ``95%`` into [0, 1]."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ValueError(f"'{text}' is not a probability; write e.g. 0.9 or 90%") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"probability {text} is outside [0, 1]")
    return value


def parse_count(text: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """Parse a whole number in ``[minimum, maximum]``."""
    raw = text.strip()
    if len(raw) > 20:  # int() of a huge digit string is slow and never a sane count
        raise ValueError(f"'{text[:24]}…' is not a sane whole number")
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"'{text}' is not a whole number") from None
    if value < minimum:
        raise ValueError(f"{value} is below the minimum of {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{value} is above the maximum of {maximum:,}")
    return value


def parse_positive_number(text: str, *, maximum: float = 1e12) -> float:
    """Parse a strictly positive real number up to ``maximum`` (weights, costs)."""
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a number") from None
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"{text} must be a positive, finite number")
    if value > maximum:
        raise ValueError(f"{text} is above the maximum of {maximum:g}")
    return value
