"""Timing shared by the benchmark scripts: the best of repeated wall-clock runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["best_of"]


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` ``n`` times; the fastest wall time (seconds) and the last result.

    The minimum, not the mean: on a shared machine the other runs measure the neighbours too.
    """
    best, result = float("inf"), None
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result
