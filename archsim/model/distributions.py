"""Service-time distributions and the small language that writes them.

``5ms`` (a bare duration: exponential with that mean, the "M" of M/M/c), ``exp(5ms)``,
``const(1ms)``, ``uniform(1ms,3ms)``, ``lognormal(mean=5ms,cv=1.5)``, ``gamma(mean=5ms,cv=0.5)``,
``erlang(k=3,mean=6ms)``. Values are seconds. Distributions are immutable pydantic models so
they travel in the model's JSON; ``sampler(rng)`` returns a fast zero-argument callable.
"""

from __future__ import annotations

import math
import random
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from archsim.model.quantities import format_duration, parse_duration

__all__ = [
    "DISTRIBUTION_SYNTAX",
    "Constant",
    "Distribution",
    "Erlang",
    "Exponential",
    "Gamma",
    "LogNormal",
    "Uniform",
    "parse_distribution",
]


class _Dist(BaseModel, ABC):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @property
    @abstractmethod
    def mean(self) -> float:
        """Mean in seconds."""

    @property
    @abstractmethod
    def scv(self) -> float:
        """Squared coefficient of variation (variance / mean²)."""

    @abstractmethod
    def scaled(self, factor: float) -> Distribution:
        """The same shape with every duration multiplied by ``factor``."""

    @abstractmethod
    def sampler(self, rng: random.Random) -> Callable[[], float]:
        """A zero-argument function drawing one value (seconds) from ``rng``."""


class Exponential(_Dist):
    """Exponential with the given mean (seconds)."""

    type: Literal["exp"] = "exp"
    mean_s: float = Field(ge=0)

    @property
    def mean(self) -> float:
        return self.mean_s

    @property
    def scv(self) -> float:
        return 1.0

    def scaled(self, factor: float) -> Exponential:
        return Exponential(mean_s=self.mean_s * factor)

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        if self.mean_s == 0:
            return lambda: 0.0
        rate, draw = 1.0 / self.mean_s, rng.expovariate
        return lambda: draw(rate)

    def __str__(self) -> str:
        return f"exp({format_duration(self.mean_s)})"


class Constant(_Dist):
    """Always the same value (seconds): the "D" of M/D/1."""

    type: Literal["const"] = "const"
    value_s: float = Field(ge=0)

    @property
    def mean(self) -> float:
        return self.value_s

    @property
    def scv(self) -> float:
        return 0.0

    def scaled(self, factor: float) -> Constant:
        return Constant(value_s=self.value_s * factor)

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        value = self.value_s
        return lambda: value

    def __str__(self) -> str:
        return f"const({format_duration(self.value_s)})"


class Uniform(_Dist):
    """Uniform between ``low_s`` and ``high_s`` seconds."""

    type: Literal["uniform"] = "uniform"
    low_s: float = Field(ge=0)
    high_s: float = Field(ge=0)

    @property
    def mean(self) -> float:
        return (self.low_s + self.high_s) / 2

    @property
    def scv(self) -> float:
        mean = self.mean
        return 0.0 if mean == 0 else ((self.high_s - self.low_s) ** 2 / 12) / mean**2

    def scaled(self, factor: float) -> Uniform:
        return Uniform(low_s=self.low_s * factor, high_s=self.high_s * factor)

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        low, high, draw = self.low_s, self.high_s, rng.uniform
        return lambda: draw(low, high)

    def __str__(self) -> str:
        return f"uniform({format_duration(self.low_s)},{format_duration(self.high_s)})"


class _MeanCv(_Dist):
    """A shape given by its mean (seconds) and coefficient of variation."""

    mean_s: float = Field(gt=0)
    cv: float = Field(gt=0)
    # declared after mean_s and cv so that the JSON keeps its field order; each shape narrows it
    type: Literal["lognormal", "gamma"]

    @property
    def mean(self) -> float:
        return self.mean_s

    @property
    def scv(self) -> float:
        return self.cv**2

    def __str__(self) -> str:
        return f"{self.type}(mean={format_duration(self.mean_s)},cv={self.cv:g})"


class LogNormal(_MeanCv):
    """Log-normal given by its mean (seconds) and coefficient of variation."""

    type: Literal["lognormal"] = "lognormal"

    def scaled(self, factor: float) -> LogNormal:
        return LogNormal(mean_s=self.mean_s * factor, cv=self.cv)

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        sigma2 = math.log1p(self.cv**2)
        mu, sigma, draw = math.log(self.mean_s) - sigma2 / 2, math.sqrt(sigma2), rng.lognormvariate
        return lambda: draw(mu, sigma)


class Gamma(_MeanCv):
    """Gamma given by its mean (seconds) and coefficient of variation."""

    type: Literal["gamma"] = "gamma"

    def scaled(self, factor: float) -> Gamma:
        return Gamma(mean_s=self.mean_s * factor, cv=self.cv)

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        shape = 1.0 / self.cv**2
        scale, draw = self.mean_s / shape, rng.gammavariate
        return lambda: draw(shape, scale)


class Erlang(_Dist):
    """Erlang-k with the given total mean (seconds): the sum of k exponential phases."""

    type: Literal["erlang"] = "erlang"
    k: int = Field(ge=1)
    mean_s: float = Field(gt=0)

    @property
    def mean(self) -> float:
        return self.mean_s

    @property
    def scv(self) -> float:
        return 1.0 / self.k

    def scaled(self, factor: float) -> Erlang:
        return Erlang(k=self.k, mean_s=self.mean_s * factor)

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        shape, scale, draw = float(self.k), self.mean_s / self.k, rng.gammavariate
        return lambda: draw(shape, scale)

    def __str__(self) -> str:
        return f"erlang(k={self.k},mean={format_duration(self.mean_s)})"


Distribution = Annotated[
    Exponential | Constant | Uniform | LogNormal | Gamma | Erlang, Field(discriminator="type")
]

_CALL = re.compile(r"^\s*([a-zA-Z_]+)\s*\((.*)\)\s*$")
DISTRIBUTION_SYNTAX = (
    "write a duration (5ms = exponential with mean 5ms) or one of exp(5ms), const(1ms), "
    "uniform(1ms,3ms), lognormal(mean=5ms,cv=1.5), gamma(mean=5ms,cv=0.5), erlang(k=3,mean=6ms)"
)


def _args(body: str, name: str) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    named: dict[str, str] = {}
    for part in (p.strip() for p in body.split(",")):
        if not part:
            raise ValueError(f"empty argument in {name}(...)")
        if "=" in part:
            key, _, value = part.partition("=")
            named[key.strip().lower()] = value.strip()
        else:
            positional.append(part)
    return positional, named


def _cv(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"cv '{text}' is not a number") from None
    if not 0 < value <= 10:
        raise ValueError(f"cv must be > 0 and at most 10, got {text}")
    return value


def parse_distribution(text: str) -> Distribution:
    """Parse the distribution language (see module docstring) into a Distribution."""
    match = _CALL.match(text)
    if not match:
        try:
            return Exponential(mean_s=parse_duration(text))
        except ValueError as exc:
            raise ValueError(str(exc)) from None
    name, body = match.group(1).lower(), match.group(2)
    pos, named = _args(body, name)

    def arg(index: int, key: str) -> str:
        if key in named:
            return named.pop(key)
        if index < len(pos):
            return pos[index]
        raise ValueError(f"{name}(...) needs '{key}'")

    if name in ("exp", "exponential"):
        dist: Distribution = Exponential(mean_s=parse_duration(arg(0, "mean")))
    elif name in ("const", "constant", "det", "deterministic"):
        dist = Constant(value_s=parse_duration(arg(0, "value")))
    elif name == "uniform":
        low, high = parse_duration(arg(0, "low")), parse_duration(arg(1, "high"))
        if high < low:
            raise ValueError(f"uniform(low, high) needs low <= high, got {text.strip()}")
        dist = Uniform(low_s=low, high_s=high)
    elif name in ("lognormal", "gamma"):
        mean = parse_duration(arg(0, "mean"), allow_zero=False)
        cv = _cv(arg(1, "cv"))
        dist = LogNormal(mean_s=mean, cv=cv) if name == "lognormal" else Gamma(mean_s=mean, cv=cv)
    elif name == "erlang":
        try:
            k = int(arg(0, "k"))
        except ValueError:
            raise ValueError("erlang k must be a whole number >= 1") from None
        if not 1 <= k <= 1000:
            raise ValueError("erlang k must be between 1 and 1000")
        dist = Erlang(k=k, mean_s=parse_duration(arg(1, "mean"), allow_zero=False))
    else:
        raise ValueError(f"unknown distribution '{name}'")
    if named:
        raise ValueError(f"{name}(...) does not take {', '.join(sorted(named))}")
    return dist
