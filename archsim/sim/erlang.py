"""Erlang's formulas for M/M/c stations: pure functions, shared by the analytic solver and the
simulator's model of a shared host (``archsim.sim.contention``)."""

from __future__ import annotations

__all__ = ["erlang_b", "erlang_c"]


def erlang_b(c: int, a: float) -> float:
    """Erlang-B blocking of M/M/c/c with offered load ``a`` = λ/μ, by the stable recursion
    B(k) = a·B(k-1) / (k + a·B(k-1)): O(c), no factorials, no overflow at any c."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load ``a`` = λ/μ (requires a < c)."""
    if a <= 0:
        return 0.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1 - b))
