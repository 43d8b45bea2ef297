"""Erlang's formulas for M/M/c stations, and M/M/c/K: pure functions, shared by the analytic solver
and the simulator's model of a shared host (``archsim.sim.contention``)."""

from __future__ import annotations

import math

__all__ = ["erlang_b", "erlang_c", "mmck"]


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


def mmck(lam: float, mu: float, c: int, k: int) -> tuple[float, float, float]:
    """M/M/c/K: (blocking probability, mean number in system, mean queue) — exact, O(c)
    whatever ``k`` (the states past ``c`` are a geometric series, summed in closed form) and
    in log-space, so no a^c/c! overflows at any count."""
    a = lam / mu
    if a <= 1e-200:
        return 0.0, max(a, 0.0), 0.0
    log_a = math.log(a)
    logs = [n * log_a - math.lgamma(n + 1) for n in range(c + 1)]  # log p_n, n <= c, p_0 = 1
    r, m = a / c, max(k - c, 0)  # p_{c+j} = p_c·r^j for j = 0..m
    top = max(max(logs), logs[c] + m * math.log(r))  # the largest state's log: the unit
    low = [math.exp(x - top) for x in logs]
    below = math.fsum(low[:c])
    n_below = math.fsum(n * x for n, x in enumerate(low[:c]))
    if r <= 1:  # the tail decays from p_c
        p_c, (g0, g1) = low[c], _sums(r, m)  # sum_{j<=m} r^j, sum_{j<=m} j·r^j
        total = below + p_c * g0
        return p_c * _power(r, m) / total, (n_below + p_c * (c * g0 + g1)) / total, p_c * g1 / total
    # the tail grows towards p_K (= 1 in these units): p_{K-i} = q^i with q = 1/r
    g0, g1 = _sums(1.0 / r, m)
    total = below + g0
    return 1.0 / total, (n_below + (c + m) * g0 - g1) / total, (m * g0 - g1) / total


def _sums(r: float, m: int) -> tuple[float, float]:
    """(sum_{j=0..m} r^j, sum_{j=0..m} j·r^j) for 0 <= r <= 1, in closed form."""
    if r >= 1.0 - 1e-12:
        return m + 1.0, m * (m + 1) / 2.0
    rm = _power(r, m)
    g0 = (1 - rm * r) / (1 - r)
    g1 = r * (1 - (m + 1) * rm + m * rm * r) / (1 - r) ** 2
    return g0, g1


def _power(r: float, m: int) -> float:
    """r**m without OverflowError (inf for r > 1 and huge m is the right limit here)."""
    try:
        return r**m
    except OverflowError:
        return math.inf
