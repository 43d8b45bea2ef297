"""How a simulation runs: duration, warm-up, replications or a precision target, seed, faults.

Plain frozen data, picklable (replications travel to worker processes). ``check`` raises
ScenarioError for impossible values, naming the option to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from archsim.errors import ScenarioError
from archsim.model import Architecture

__all__ = ["Fault", "SimConfig"]


_DEFAULT_WARMUP_S = 5.0  # s; `archsim simulate --warmup` defaults to the same


@dataclass(frozen=True)
class Fault:
    """A what-if window: ``fail`` (the component refuses every request) or ``slow`` (its
    service times are multiplied by ``factor``) from ``start`` to ``end`` seconds."""

    component: str
    start: float
    end: float
    kind: str = "fail"  # or "slow"
    factor: float = 1.0

    def describe(self) -> str:
        """The command-line form, e.g. ``cache@10s..20s:x5``."""
        text = f"{self.component}@{self.start:g}s..{self.end:g}s"
        return text + (f":x{self.factor:g}" if self.kind == "slow" else "")


@dataclass(frozen=True)
class SimConfig:
    """Run parameters (seconds). ``warmup`` is a time or ``"mser5"`` (chosen from a pilot run);
    ``precision`` (e.g. 0.02) adds replications until the mean's CI half-width is within it."""

    duration: float = 60.0
    warmup: float | str = _DEFAULT_WARMUP_S
    replications: int = 5
    precision: float | None = None
    max_replications: int = 60
    seed: int = 1
    balancing: str = "round_robin"  # or "least_outstanding"
    faults: tuple[Fault, ...] = ()
    bins: int = 60  # time-series resolution of the report's over-time plots
    lifecycle: bool = True  # run start-up and periodic background work (heartbeats, lookups)

    def check(self, arch: Architecture | None = None) -> None:
        """Raise ScenarioError for impossible values (and faults naming unknown components)."""

        def bad(message: str, hint: str) -> ScenarioError:
            return ScenarioError(message, hint=hint, code="bad-config")

        if not self.duration > 0:
            raise bad(f"--duration must be > 0, got {self.duration:g}s", "e.g. --duration 60s")
        if isinstance(self.warmup, str):
            if self.warmup != "mser5":
                raise bad(f"unknown --warmup '{self.warmup}'", "give a duration or 'mser5'")
        elif not 0 <= self.warmup < self.duration:
            raise bad(
                f"--warmup {self.warmup:g}s must be >= 0 and shorter than --duration "
                f"{self.duration:g}s (the warm-up is {_DEFAULT_WARMUP_S:g}s unless given)",
                f"e.g. --duration {self.duration:g}s --warmup {self.duration / 5:g}s, "
                f"or a --duration above {max(self.warmup, 0):g}s",
            )
        if self.replications < 1:
            raise bad(f"--replications must be >= 1, got {self.replications}", "e.g. 5")
        if self.precision is not None and not 0 < self.precision < 1:
            raise bad(f"--precision must be between 0% and 100%, got {self.precision:g}", "2%")
        if self.balancing not in ("round_robin", "least_outstanding"):
            raise bad(f"unknown balancing '{self.balancing}'", "round_robin or least_outstanding")
        for fault in self.faults:
            option = f"--{fault.kind} {fault.describe()}"
            if not 0 <= fault.start < fault.end:
                raise bad(f"{option}: the window must start before it ends", "e.g. db@30s..60s")
            if fault.end > self.duration:
                raise bad(
                    f"{option}: the window ends after the run ({self.duration:g}s)",
                    f"end it by {self.duration:g}s or make --duration longer",
                )
            if fault.kind == "slow" and not fault.factor > 0:
                raise bad(f"{option}: the factor must be > 0", "e.g. cache@10s..20s:x5")
            if arch is not None and fault.component not in arch.by_id:
                import difflib

                close = difflib.get_close_matches(fault.component, list(arch.by_id), n=1)
                raise bad(
                    f"{option}: unknown component '{fault.component}'",
                    f"did you mean '{close[0]}'?" if close else "use a component id of the file",
                )

    def describe(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {
            "duration_s": self.duration,
            "warmup": self.warmup,
            "replications": self.replications,
            "precision": self.precision,
            "seed": self.seed,
            "balancing": self.balancing,
            "faults": [
                {
                    "component": f.component,
                    "kind": f.kind,
                    "start_s": f.start,
                    "end_s": f.end,
                    "factor": f.factor,
                }
                for f in self.faults
            ],
        }
