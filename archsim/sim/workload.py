"""Workloads: open arrivals (Poisson or constant, with ramps and steps) or closed users with
think time (Locust's model), and the mix over entry points.

Plain frozen data; ``parse_ramp``/``parse_mix`` read the command-line forms and raise
ScenarioError for impossible values.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
from dataclasses import dataclass, field

from archsim.errors import ScenarioError
from archsim.model import Architecture, Distribution, parse_distribution
from archsim.model.distributions import Exponential
from archsim.model.quantities import parse_duration

__all__ = [
    "MAX_RPS",
    "MAX_USERS",
    "Workload",
    "entry_weights",
    "parse_mix",
    "parse_ramp",
    "parse_think",
]


#: Largest open arrival rate (requests/s) and closed population a run accepts: past them a
#: simulation would hold billions of events, and the analytic solver's MVA loops over users.
MAX_RPS = 1e6
MAX_USERS = 10_000


@dataclass(frozen=True)
class Workload:
    """What clients do. Open: ``rps`` (requests/s) or a ``ramp`` of (time s, rps) points;
    closed: ``users`` each looping think → request → wait. ``mix`` reweights entry ids."""

    rps: float | None = 100.0
    arrivals: str = "poisson"  # or "constant"
    ramp: tuple[tuple[float, float], ...] = ()
    ramp_steps: bool = False  # hold each ramp point's rate until the next (else linear)
    users: int | None = None
    think: Distribution = field(default_factory=lambda: Exponential(mean_s=1.0))
    mix: tuple[tuple[str, float], ...] | None = None

    @property
    def closed(self) -> bool:
        """True for a closed workload (users with think time)."""
        return self.users is not None

    def rate_at(self, t: float) -> float:
        """Open arrival rate (requests/s) at simulated time ``t`` seconds."""
        if not self.ramp:
            return self.rps or 0.0
        times = [p[0] for p in self.ramp]
        i = bisect.bisect_right(times, t)
        if i == 0:
            return self.ramp[0][1]
        if i == len(self.ramp) or self.ramp_steps:
            return self.ramp[i - 1][1]
        (t0, r0), (t1, r1) = self.ramp[i - 1], self.ramp[i]
        return r0 + (r1 - r0) * (t - t0) / (t1 - t0)

    @property
    def peak_rate(self) -> float:
        """Highest open arrival rate (requests/s) over the run."""
        return max((r for _, r in self.ramp), default=self.rps or 0.0)

    @property
    def curve_rate(self) -> float | None:
        """The entry rate (requests/s) at which service times that depend on the rate
        (``cpu_power``) are evaluated: the peak of an open workload; None when closed (the
        rate is the answer, so the times hold as written)."""
        return None if self.closed else self.peak_rate

    def check(self) -> None:
        """Raise ScenarioError for impossible values (negative rates, no load, …)."""
        if self.closed:
            if self.users is None or not 1 <= self.users <= MAX_USERS:
                raise ScenarioError(
                    f"--users must be between 1 and {MAX_USERS:,}, got {self.users}",
                    hint="e.g. --users 50 --think 1s",
                    code="bad-workload",
                )
            return
        if self.arrivals not in ("poisson", "constant"):
            raise ScenarioError(
                f"unknown arrival process '{self.arrivals}'",
                hint="use poisson or constant",
                code="bad-workload",
            )
        rates = [r for _, r in self.ramp] if self.ramp else [self.rps or 0.0]
        if any(not 0 <= r <= MAX_RPS for r in rates):  # also refuses nan and inf
            if all(r >= 0 for r in rates) and not any(r != r for r in rates):
                raise ScenarioError(
                    f"arrival rate {max(rates):g} requests/s is above the maximum of {MAX_RPS:g}",
                    hint="simulate a finite rate, e.g. --rps 200; the saturation point is in "
                    "the report at any rate",
                    code="bad-workload",
                )
            bad = next(r for r in rates if not r >= 0)
            raise ScenarioError(
                f"arrival rate must be a number >= 0, got {bad:g} requests/s",
                hint="e.g. --rps 200",
                code="bad-workload",
            )
        if max(rates) <= 0:
            raise ScenarioError(
                "the workload sends no requests (rate 0)",
                hint="give --rps a positive rate, e.g. --rps 200, or use --users",
                code="bad-workload",
            )

    def describe(self) -> dict[str, object]:
        """A JSON-ready description."""
        if self.closed:
            return {
                "type": "closed",
                "users": self.users,
                "think": str(self.think),
                "think_mean_s": self.think.mean,
                "mix": dict(self.mix or ()),
            }
        return {
            "type": "open",
            "arrivals": self.arrivals,
            "rps": self.rps if not self.ramp else None,
            "ramp": [{"t": t, "rps": r} for t, r in self.ramp] or None,
            "ramp_steps": self.ramp_steps,
            "mix": dict(self.mix or ()),
        }


def parse_ramp(text: str) -> tuple[tuple[tuple[float, float], ...], bool]:
    """Parse ``0s=50,30s=200`` (linear between points) or ``step:0s=50,20s=100`` (held)."""
    body, steps = text.strip(), False
    if body.startswith("step:"):
        body, steps = body[5:], True
    points: list[tuple[float, float]] = []
    for part in (p.strip() for p in body.split(",") if p.strip()):
        when, sep, rate = part.partition("=")
        try:
            if not sep:
                raise ValueError(f"'{part}' needs time=rps")
            t, r = parse_duration(when), float(rate)
        except ValueError as exc:
            raise ScenarioError(
                f"cannot read --ramp '{text}': {exc}",
                hint="write time=rps points, e.g. --ramp 0s=50,30s=200 (or step:0s=50,20s=100)",
                code="bad-workload",
            ) from None
        if r < 0 or r != r:
            raise ScenarioError(
                f"--ramp rate must be >= 0, got {rate}",
                hint="e.g. --ramp 0s=50,30s=200",
                code="bad-workload",
            )
        points.append((t, r))
    if not points or any(b[0] <= a[0] for a, b in itertools.pairwise(points)):
        raise ScenarioError(
            f"--ramp '{text}' needs at least one point with increasing times",
            hint="e.g. --ramp 0s=50,30s=200",
            code="bad-workload",
        )
    return tuple(points), steps


def parse_mix(text: str, arch: Architecture) -> tuple[tuple[str, float], ...]:
    """Parse ``GET /api/products/{id}=5,POST /api/orders=1`` against ``arch``'s entry ids."""
    known = [e.id for e in arch.behaviour.entries]
    out: list[tuple[str, float]] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, weight = part.rpartition("=")
        name = " ".join(name.split())
        try:
            value = float(weight)
        except ValueError:
            value = -1.0
        if not sep or value < 0 or value != value:
            raise ScenarioError(
                f"cannot read --mix item '{part}'",
                hint="write 'ENTRY=weight' items, e.g. --mix 'GET /api/products/{id}=5'",
                code="bad-workload",
            )
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.4)
            raise ScenarioError(
                f"--mix names unknown entry '{name}'",
                hint=f"did you mean '{close[0]}'?" if close else f"entries: {', '.join(known)}",
                code="unknown-entry",
            )
        out.append((name, value))
    if not out or sum(w for _, w in out) <= 0:
        raise ScenarioError(
            "--mix gives no entry a positive weight",
            hint="e.g. --mix 'GET /api/products/{id}=5,POST /api/orders=1'",
            code="bad-workload",
        )
    return tuple(out)


def entry_weights(arch: Architecture, workload: Workload) -> list[tuple[int, float]]:
    """(entry index, probability) for the entries the workload sends, summing to 1."""
    entries = arch.behaviour.entries
    if workload.mix:
        wanted = dict(workload.mix)
        pairs = [(i, wanted.get(e.id, 0.0)) for i, e in enumerate(entries)]
    else:
        pairs = [(i, e.weight) for i, e in enumerate(entries)]
    pairs = [(i, w) for i, w in pairs if w > 0]
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        raise ScenarioError(
            f"'{arch.name}' has no entry points to send requests to",
            hint="a front door (load balancer, gateway or service nothing calls) needs operations",
            code="no-entries",
        )
    return [(i, w / total) for i, w in pairs]


def parse_think(text: str) -> Distribution:
    """Think time: a duration (exponential mean) or a distribution, e.g. ``const(1s)``."""
    try:
        return parse_distribution(text)
    except ValueError as exc:
        raise ScenarioError(
            f"cannot read --think '{text}': {exc}",
            hint="e.g. --think 1s (exponential), const(1s), uniform(0.5s,1.5s)",
            code="bad-workload",
        ) from None
