"""Stepped open-model runs: raise the arrival rate step by step to find the stack's saturation
knee, and put the simulator's predicted saturation beside it.

A step is one ``run_locust`` at a constant arrival rate. A step is *saturated* when the stack
served (successfully) less than 90% of what was offered, or failed more than 5% of it: past
that point more offered load buys no more throughput, only queues. The measured knee is the
highest successful throughput any step achieved; when no step saturated it is only a floor.
Stepping stops after two saturated steps in a row (more would only hammer a full stack).

``parse_rates``, ``find_knee`` and ``compare_knee`` are pure; ``run_steps`` drives Locust.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from archsim.atomic import write_atomic
from archsim.errors import ScenarioError
from archsim.loadtest.runner import Live, LoadSpec, run_locust
from archsim.model import Architecture
from archsim.narrow import fit_table
from archsim.sim import Workload
from archsim.sim.analytic import saturation

__all__ = [
    "STEPS_SCHEMA",
    "KneeComparison",
    "MeasuredKnee",
    "StepResult",
    "check_steps",
    "compare_knee",
    "find_knee",
    "parse_rates",
    "run_steps",
]

STEPS_SCHEMA = "archsim.steps/1"
SHORTFALL = 0.90  # served below this share of the offered rate: saturated
MAX_FAIL = 0.05  # or failing more than this share
STOP_AFTER = 2  # saturated steps in a row before stepping stops
GENERATOR_BUSY = 0.90  # a Locust process this busy may be the limit itself


@dataclass(frozen=True)
class StepResult:
    """One step: offered and achieved rates (requests/s), latency (s), where its files are."""

    offered_rps: float
    throughput: float
    goodput: float
    fail_ratio: float
    mean: float | None
    p95: float | None
    p99: float | None
    busiest: str | None
    busiest_cpu: float
    generator_cpu: float
    dir: str
    #: cores busy on the host over the step: every process of the stack and the load
    #: generator (0 in steps files written before it was recorded)
    host_cores: float = 0.0

    @property
    def saturated(self) -> bool:
        """Served under 90% of the offered rate, or failed more than 5% of it."""
        return self.goodput < SHORTFALL * self.offered_rps or self.fail_ratio > MAX_FAIL

    @classmethod
    def of(cls, summary: Mapping[str, Any], directory: str) -> StepResult:
        """The step's figures from a load-test summary."""
        total = summary["total"]
        comps = summary.get("components") or {}
        busiest = max(comps, key=lambda c: comps[c].get("cpu_utilisation", 0.0), default=None)
        workers = max(1, int(summary["workload"].get("processes", 1)))
        return cls(
            offered_rps=float(summary["workload"]["rps"]),
            throughput=float(total["throughput"]),
            goodput=float(total["throughput"]) * (1.0 - float(total["fail_ratio"])),
            fail_ratio=float(total["fail_ratio"]),
            mean=total.get("mean"),
            p95=total.get("p95"),
            p99=total.get("p99"),
            busiest=busiest,
            busiest_cpu=float(comps[busiest].get("cpu_utilisation", 0.0)) if busiest else 0.0,
            generator_cpu=float(
                (summary.get("load_generator") or {}).get("cpu_utilisation", 0.0) / workers
            ),
            dir=directory,
            host_cores=sum(float(c.get("cpu_utilisation", 0.0)) for c in comps.values())
            + float((summary.get("load_generator") or {}).get("cpu_utilisation", 0.0)),
        )


@dataclass(frozen=True)
class MeasuredKnee:
    """The measured knee: highest successful throughput (requests/s) and the step giving it."""

    throughput: float
    offered_rps: float
    reached: bool  # some step saturated; otherwise the knee lies above the highest step
    generator_bound: bool  # Locust was nearly a full core at the knee: maybe it was the limit


def parse_rates(text: str) -> list[float]:
    """``100,300,500`` or ``start:stop:step`` (``100:1500:200``) → rising rates (requests/s)."""

    def bad(why: str) -> ScenarioError:
        return ScenarioError(
            f"--steps {text!r}: {why}",
            hint="a rising list, e.g. --steps 100,300,500, or a range --steps 100:1500:200",
            code="bad-load",
        )

    try:
        if ":" in text:
            start, stop, step = (float(p) for p in text.split(":"))
            if not step > 0:
                raise bad("the step must be > 0")
            count = int((stop - start) / step + 1e-9) + 1
            rates = [start + i * step for i in range(max(count, 0))]
        else:
            rates = [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise bad("not numbers") from None
    if not rates:
        raise bad("no rate")
    if any(not r > 0 for r in rates):
        raise bad("every rate must be > 0")
    if any(b <= a for a, b in pairwise(rates)):
        raise bad("the rates must rise")
    return rates


def find_knee(steps: Sequence[StepResult]) -> MeasuredKnee | None:
    """The measured knee of the steps so far (None before the first)."""
    if not steps:
        return None
    best = max(steps, key=lambda s: s.goodput)
    return MeasuredKnee(
        throughput=best.goodput,
        offered_rps=best.offered_rps,
        reached=any(s.saturated for s in steps),
        generator_bound=best.generator_cpu >= GENERATOR_BUSY,
    )


def _stop(steps: Sequence[StepResult]) -> bool:
    tail = steps[-STOP_AFTER:]
    return len(tail) == STOP_AFTER and all(s.saturated for s in tail)


def run_steps(
    stack_dir: Path,
    locustfile_text: str,
    spec: LoadSpec,
    rates: Sequence[float],
    out: Path,
    *,
    architecture: str | None,
    live: Callable[[float], Live] | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> dict[str, Any]:
    """Run ``spec`` once per rate (open model) into ``out/step-<rate>/``; stop after two
    saturated steps in a row, or at Ctrl-C after the first step (``interrupted``). Returns the
    steps document (schema ``archsim.steps/1``)."""
    steps: list[StepResult] = []
    summaries: list[dict[str, Any]] = []
    interrupted = False
    for rate in rates:
        directory = out / f"step-{rate:g}"
        try:
            summary = run_locust(
                stack_dir,
                locustfile_text,
                replace(spec, rps=rate),
                directory,
                architecture=architecture,
                live=live(rate) if live else None,
            )
        except KeyboardInterrupt:
            if not steps:
                raise
            interrupted = True  # keep the steps that finished: the knee so far
            break
        # each step is a whole run: compare and calibrate take its summary.json as well
        write_atomic(directory / "summary.json", json.dumps(summary, indent=2) + "\n")
        summaries.append(summary)
        step = StepResult.of(summary, directory.name)
        steps.append(step)
        if on_step:
            on_step(step)
        if _stop(steps):
            break
    doc = steps_document(summaries, steps, planned=len(rates))
    doc["interrupted"] = interrupted
    return doc


def steps_document(
    summaries: Sequence[Mapping[str, Any]], steps: Sequence[StepResult], planned: int
) -> dict[str, Any]:
    """The JSON written as ``steps.json``: every step's figures and the measured knee."""
    first = summaries[0]
    knee = find_knee(steps)
    base = {k: v for k, v in first["workload"].items() if k != "rps"}
    return {
        "schema": STEPS_SCHEMA,
        "architecture": first["architecture"],
        "stack": first.get("stack"),
        "workload": base,
        "duration_s": first["duration_s"],
        "warmup_s": first["warmup_s"],
        "host": first.get("host"),
        "planned_steps": planned,
        "steps": [asdict(s) | {"saturated": s.saturated} for s in steps],
        "knee": asdict(knee) if knee else None,
    }


def check_steps(arch: Architecture, data: Mapping[str, Any], source: str = "steps") -> None:
    """ScenarioError unless ``data`` is a stepped run of this architecture with a knee."""
    if data.get("schema") != STEPS_SCHEMA or not data.get("steps"):
        raise ScenarioError(
            f"{source} is not an archsim stepped run (schema {data.get('schema')!r})",
            hint="give the steps.json that archsim loadtest --steps wrote",
            code="bad-measured",
        )
    if data.get("architecture") != arch.name:
        raise ScenarioError(
            f"{source} was measured on another architecture ('{data.get('architecture')}'), "
            f"not on '{arch.name}'",
            hint="compare a run with the model its stack was generated from",
            code="wrong-architecture",
        )


@dataclass(frozen=True)
class KneeComparison:
    """Predicted saturation throughput beside the measured knee of a stepped run."""

    architecture: str
    predicted: float
    bottleneck: str | None
    measured: MeasuredKnee
    steps: tuple[StepResult, ...]
    tolerance: float

    @property
    def rel_error(self) -> float:
        """(predicted − measured) / measured."""
        return (self.predicted - self.measured.throughput) / self.measured.throughput

    @property
    def within(self) -> bool | None:
        """Within tolerance; None when the measured knee is only a floor."""
        return abs(self.rel_error) <= self.tolerance if self.measured.reached else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (schema ``archsim.compare-knee/1``)."""
        return {
            "schema": "archsim.compare-knee/1",
            "architecture": self.architecture,
            "tolerance": self.tolerance,
            "predicted": {"saturation_rps": self.predicted, "bottleneck": self.bottleneck},
            "measured": asdict(self.measured),
            "rel_error": self.rel_error,
            "within": self.within,
            "steps": [
                asdict(s) | {"saturated": s.saturated, "predicted_rps": self._served(s)}
                for s in self.steps
            ],
        }

    def _served(self, step: StepResult) -> float:
        return min(step.offered_rps, self.predicted)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        t = Table(
            title=f"{self.architecture}: stepped open-model run, achieved vs predicted",
            title_justify="left",
        )
        for col in ("offered", "measured", "predicted", "fail", "p95", "busiest (CPU)"):
            t.add_column(col, justify="right")
        host = any(s.host_cores for s in self.steps)  # steps files of before it: no column
        if host:
            t.add_column("host cores", justify="right")
        for s in self.steps:
            cores = [f"{s.host_cores:.2f}"] if host else []
            t.add_row(
                f"{s.offered_rps:g}",
                f"{s.goodput:.0f}" + (" [yellow]sat[/]" if s.saturated else ""),
                f"{self._served(s):.0f}",
                f"{s.fail_ratio:.1%}",
                f"{s.p95 * 1e3:.0f} ms" if s.p95 is not None else "–",
                f"{s.busiest} ({s.busiest_cpu:.0%})" if s.busiest else "–",
                *cores,
            )
        yield fit_table(t, console, options)
        m = self.measured
        line = Text()
        floor = "" if m.reached else "≥ "
        line.append(f"knee: measured {floor}{m.throughput:.0f} req/s, predicted ")
        line.append(f"{self.predicted:.0f} req/s")
        if self.bottleneck:
            line.append(f" (bottleneck {self.bottleneck})")
        line.append(f", {self.rel_error:+.0%} ")
        if self.within is None:
            line.append("— no step saturated: step higher to find the knee", style="yellow")
        elif self.within:
            line.append(f"✓ within {self.tolerance:.0%}", style="green")
        else:
            line.append(f"✗ outside {self.tolerance:.0%}", style="bold red")
        yield line
        if m.generator_bound:
            yield Text(
                "warning: Locust used a full core at the knee; it may have been the limit "
                "(add --processes)",
                style="yellow",
            )


def compare_knee(
    arch: Architecture, data: Mapping[str, Any], tolerance: float = 0.25
) -> KneeComparison:
    """The model's saturation throughput (utilisation law, same mix) against ``data``'s knee."""
    steps = tuple(StepResult(**_fields(s)) for s in data["steps"])
    knee = find_knee(steps)
    assert knee is not None  # check_steps: at least one step
    predicted, bottleneck = saturation(arch, Workload(rps=1.0))
    return KneeComparison(arch.name, predicted, bottleneck, knee, steps, tolerance)


def _fields(row: Mapping[str, Any]) -> dict[str, Any]:
    names = StepResult.__dataclass_fields__
    return {k: v for k, v in row.items() if k in names}
