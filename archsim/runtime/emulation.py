"""The emulation switch: make handlers spend their modelled service time.

With ``ARCHSIM_EMULATE=1`` a compute step busy-loops the CPU for a draw from the component's
service-time distribution (it holds the event loop, as the simulator holds a worker) and an
external component's sandbox waits (``asyncio.sleep``) for its latency. Distributions arrive as
the model's JSON (``{"type": "exp", "mean_s": 0.002}``, …).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Emulator", "sampler"]


def sampler(spec: dict[str, Any] | None, rng: random.Random) -> Callable[[], float]:
    """A zero-argument function drawing seconds from a distribution spec (model JSON)."""
    if not spec:
        return lambda: 0.0
    kind = spec.get("type")
    if kind == "const":
        value = float(spec["value_s"])
        return lambda: value
    if kind == "uniform":
        low, high = float(spec["low_s"]), float(spec["high_s"])
        return lambda: rng.uniform(low, high)
    if kind == "lognormal":
        sigma2 = math.log1p(float(spec["cv"]) ** 2)
        mu, sigma = math.log(float(spec["mean_s"])) - sigma2 / 2, math.sqrt(sigma2)
        return lambda: rng.lognormvariate(mu, sigma)
    if kind == "gamma":
        shape = 1.0 / float(spec["cv"]) ** 2
        scale = float(spec["mean_s"]) / shape
        return lambda: rng.gammavariate(shape, scale)
    if kind == "erlang":
        k = float(spec["k"])
        scale = float(spec["mean_s"]) / k
        return lambda: rng.gammavariate(k, scale)
    mean = float(spec.get("mean_s", 0.0))
    if mean <= 0:
        return lambda: 0.0
    return lambda: rng.expovariate(1.0 / mean)


class Emulator:
    """Spends modelled time when enabled; does nothing (and costs nothing) when off."""

    def __init__(
        self,
        enabled: bool,
        service_time: dict[str, Any] | None,
        operation_time: dict[str, dict[str, Any]] | None = None,
        seed: int | None = None,
    ):
        self.enabled = enabled
        self.rng = random.Random(seed)
        self.draw = sampler(service_time, self.rng)
        self.draws = {op: sampler(spec, self.rng) for op, spec in (operation_time or {}).items()}

    def compute(self, operation: str | None = None) -> None:
        """Busy-loop the CPU for one service-time draw, the operation's own if it has one
        (no-op when emulation is off)."""
        if not self.enabled:
            return
        draw = self.draws.get(operation, self.draw) if operation else self.draw
        until = time.perf_counter() + draw()
        while time.perf_counter() < until:
            pass

    async def wait(self) -> None:
        """Wait without blocking for one draw (external latency; no-op when off)."""
        if self.enabled:
            await asyncio.sleep(self.draw())

    def chance(self, p: float) -> bool:
        """True with probability ``p`` (a step's ``p``)."""
        return p >= 1.0 or self.rng.random() < p
