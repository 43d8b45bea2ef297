"""A circuit breaker: after ``threshold`` consecutive failures, fail fast for ``reset_s``."""

from __future__ import annotations

import time

__all__ = ["CircuitBreaker"]


class CircuitBreaker:
    """Closed → open after ``threshold`` consecutive failures → half-open after ``reset_s``
    (one trial call) → closed on success, open again on failure."""

    def __init__(self, threshold: int, reset_s: float) -> None:
        self.threshold = threshold
        self.reset_s = reset_s
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        if self.opened_at is None:
            return "closed"
        if time.monotonic() - self.opened_at >= self.reset_s:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """May a call go through now? In half-open, only one trial call at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial:
            self._trial = True
            return True
        return False

    def success(self) -> None:
        """Record a successful call: closes the breaker."""
        self.failures = 0
        self.opened_at = None
        self._trial = False

    def release(self) -> None:
        """Give back a half-open trial whose call never reached the target (its deadline had
        passed, or it was cancelled): nothing is recorded, and the next call may try."""
        self._trial = False

    def failure(self) -> None:
        """Record a failed call: opens the breaker at the threshold (or on a failed trial)."""
        self.failures += 1
        if self._trial or self.failures >= self.threshold:
            self.opened_at = time.monotonic()
        self._trial = False
