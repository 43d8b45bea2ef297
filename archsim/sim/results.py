"""Frozen simulation results: the record the simulator hands on (figures per entry,
component, link and event flow, as records of ``archsim.sim.figures``), rendered as JSON
(schema ``archsim.simulation/1``, docs/simulation-json.md, by ``to_dict``), CSV and Rich
tables (the second half of this module). Built by ``archsim.sim.aggregate``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from archsim.narrow import fit_table
from archsim.sim.analytic import Solution
from archsim.sim.config import SimConfig
from archsim.sim.figures import (
    Bottleneck,
    ComponentFigures,
    EntryFigures,
    EventFigures,
    FaultWindow,
    Latency,
    LinkFigures,
    LittlesLaw,
    Series,
)
from archsim.sim.host import HostResult
from archsim.sim.workload import Workload

__all__ = ["QUANTILES", "SCHEMA", "SimulationResult", "short_duration"]

SCHEMA = "archsim.simulation/1"
QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999))


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation predicts: per entry, component, link and event flow, and per fault
    window (see schema). ``workload`` and ``config`` are the run's inputs; ``warmup`` (s) is the
    warm-up it used (``config.warmup`` may be ``"mser5"``)."""

    entries: dict[str, EntryFigures]
    components: dict[str, ComponentFigures]
    links: list[LinkFigures]
    events: list[EventFigures]
    bottlenecks: list[Bottleneck]
    littles_law: LittlesLaw
    workload: Workload
    config: SimConfig
    seed: int
    replications: int
    warmup: float
    series: Series
    architecture: str
    analytic: Solution | None = None
    cdf: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    host: HostResult | None = None
    truncated: int = 0  # calls cut at the simulator's call-depth cap (sim.steps.MAX_CALL_DEPTH)
    compensations: int = 0  # saga undos run (a write failed after a charge), all replications
    windows: tuple[FaultWindow, ...] = ()  # one per fault of ``config``, in its order

    @property
    def unstable(self) -> list[str]:
        """Components that cannot keep up (utilisation ~1 or a growing queue)."""
        return [c for c, v in self.components.items() if v.unstable]

    @property
    def mean_latency(self) -> tuple[float, float]:
        """Overall mean response time over all entries (seconds) and its CI half-width."""
        m = self.littles_law
        return m.W, m.W_ci or math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (schema ``archsim.simulation/1``)."""
        return {
            "schema": SCHEMA,
            "architecture": self.architecture,
            "seed": self.seed,
            "replications": self.replications,
            "warmup_s": self.warmup,
            "workload": self.workload.describe(),
            "config": self.config.describe()
            | {"warmup_s": self.warmup, "replications_run": self.replications},
            "entries": {eid: e.to_dict() for eid, e in self.entries.items()},
            "components": {cid: c.to_dict() for cid, c in self.components.items()},
            "links": [lk.to_dict() for lk in self.links],
            "events": [ev.to_dict() for ev in self.events],
            "bottlenecks": [b.to_dict() for b in self.bottlenecks],
            "littles_law": self.littles_law.to_dict(),
            "series": self.series.to_dict(),
            "analytic": self.analytic.to_dict() if self.analytic is not None else None,
            "host": self.host.to_dict() if self.host is not None else None,
            "truncated_calls": self.truncated,
            "compensations": self.compensations,
            "windows": [w.to_dict() for w in self.windows],
        }

    def to_csv(self) -> str:
        """One row per entry and per component: scope, id, count, throughput, rates, latency."""
        buf = io.StringIO()
        names = ["mean", *(n for n, _ in QUANTILES)]
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(
            ["scope", "id", "count", "throughput", "error_rate", "timeout_rate",
             "rejection_rate", "utilisation", "queue_mean",
             *(f"{n}_s" for n in names), *(f"{n}_ci_s" for n in names)]
        )  # fmt: skip
        for eid, e in self.entries.items():
            writer.writerow(
                ["entry", eid, e.count, e.throughput, e.error_rate, e.timeout_rate,
                 e.rejection_rate, "", "", *_latency_columns(e.latency, names)]
            )  # fmt: skip
        for cid, c in self.components.items():
            writer.writerow(
                ["component", cid, c.count, c.throughput, c.error_rate, "", c.rejection_rate,
                 c.utilisation, c.queue_mean, *_latency_columns(c.latency, names)]
            )  # fmt: skip
        return buf.getvalue()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from render_result(self, console, options)


def _latency_columns(lat: Latency, names: list[str]) -> list[float | None]:
    return [*(getattr(lat, n) for n in names), *(getattr(lat, f"{n}_ci") for n in names)]


# -- as Rich tables: entries, components (busiest first), event flows, fault windows, and the
# summary lines (bottleneck, host, unstable stations, Little's law) --------------------------


def short_duration(x: float | None) -> str:
    """Seconds for people, 3 significant digits: ``0.01234`` → ``12.3ms`` (None → ``–``)."""
    if x is None or x != x:
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{unit}"
    return "0" if x == 0 else f"{x / 1e-9:.3g}ns"


_dur = short_duration


def _ci(x: float | None, hw: float | None) -> str:
    if x is None:
        return "–"
    return _dur(x) if hw is None else f"{_dur(x)} ±{_dur(hw)}"


def render_result(
    result: SimulationResult, console: Console, options: ConsoleOptions
) -> RenderResult:
    """The tables and summary lines of ``result``, each fitted to the console's width."""
    yield fit_table(_entry_table(result), console, options, optional=("p50", "p99.9"))
    yield fit_table(_component_table(result), console, options, optional=("queue",))
    if result.events:
        yield fit_table(_event_table(result), console, options, optional=("delay p50",))
    if result.windows:
        yield fit_table(_window_table(result), console, options)
    yield from _summary(result)
    if result.truncated:
        yield Text(
            f"warning: {result.truncated:,} calls were cut at the call-depth cap "
            "(a cycle with p < 1 nested more than 100 deep); they count as errors",
            "yellow",
        )


def _entry_table(result: SimulationResult) -> Table:
    t = Table(
        title=f"{result.architecture}: entries ({result.replications} replications, 95% CI)",
        title_justify="left",
    )
    t.add_column("entry", no_wrap=True)  # the request must stay readable; numbers wrap
    for col in ("req/s", "errors", "mean", "p50", "p99", "p99.9"):
        t.add_column(col, justify="right", overflow="fold")
    for eid, e in result.entries.items():
        lat = e.latency
        t.add_row(
            eid,
            f"{e.throughput:.1f}",
            f"{e.failed_rate:.1%}",
            _ci(lat.mean, lat.mean_ci),
            _dur(lat.p50),
            _ci(lat.p99, lat.p99_ci),
            _dur(lat.p999),
        )
    return t


def _component_table(result: SimulationResult) -> Table:
    t = Table(title="components (busiest first)", title_justify="left")
    t.add_column("component", no_wrap=True)
    for col in ("util", "req/s", "queue", "mean", "p99"):
        t.add_column(col, justify="right")
    t.add_column("state")
    order = sorted(result.components.items(), key=lambda kv: -kv[1].utilisation)
    for cid, c in order:
        state = Text("UNSTABLE", "bold red") if c.unstable else Text("ok", "green")
        for f in result.config.faults:
            if f.component == cid and not c.unstable:
                what = "failed" if f.kind == "fail" else f"slow x{f.factor:g}"
                state = Text(f"{what} {f.start:g}s..{f.end:g}s", "yellow")
        if c.unstable and c.queue_end:
            state.append(f" queue {c.queue_end:.0f} at end", "red")
        util = Text(f"{c.utilisation:.1%}", "red" if c.utilisation > 0.8 else "")
        t.add_row(
            cid,
            util,
            f"{c.throughput:.1f}",
            f"{c.queue_mean:.2f}",
            _dur(c.latency.mean),
            _dur(c.latency.p99),
            state,
        )
    return t


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _rate(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def _window_table(result: SimulationResult) -> Table:
    t = Table(title="failure and slowdown windows (inside vs outside)", title_justify="left")
    t.add_column("window", no_wrap=True)
    for col in ("req/s in", "out", "mean in", "out", "util in", "out"):
        t.add_column(col, justify="right")
    for w in result.windows:
        what = "fails" if w.kind == "fail" else f"slow x{w.factor:g}"
        i, o = w.inside, w.outside
        t.add_row(
            f"{w.component} {what} {w.start_s:g}s..{w.end_s:g}s",
            _rate(i.throughput), _rate(o.throughput),
            _dur(i.latency_mean), _dur(o.latency_mean),
            _pct(i.utilisation), _pct(o.utilisation),
        )  # fmt: skip
    return t


def _event_table(result: SimulationResult) -> Table:
    t = Table(title="event flows", title_justify="left")
    t.add_column("event / consumer", overflow="fold")
    for col in ("in/s", "out/s", "backlog", "delay p50", "delay p99"):
        t.add_column(col, justify="right")
    for ev in result.events:
        t.add_row(
            f"{ev.event}\n[dim]{ev.consumer}[/]",
            f"{ev.published_rate:.1f}",
            f"{ev.consumed_rate:.1f}",
            f"{ev.backlog_mean:.2f}",
            _dur(ev.delay.p50),
            _dur(ev.delay.p99),
        )
    return t


def _summary(result: SimulationResult) -> Iterator[Text]:
    if result.bottlenecks:
        top = result.bottlenecks[0]
        yield Text.assemble(
            ("bottleneck: ", "bold"), f"{top.component} at {top.utilisation:.0%} utilisation"
        )
    if result.host is not None:
        h = result.host
        yield Text(
            f"host: {h.cores} cores at {h.utilisation:.0%} "
            f"({h.cpu_per_request_s * 1e3:.2f} ms CPU per request"
            + (f" + {h.background:g} cores background" if h.background else "")
            + f"; saturates near {h.saturation_rps:.0f} req/s)"
            + (" — cannot keep up" if h.unstable else ""),
            "bold red" if h.unstable else "",
        )
    for cid in result.unstable:
        c = result.components[cid]
        queue = ", ".join(f"{q:.0f}" for q in c.queue_series[-6:])
        yield Text(
            f"unstable: {cid} cannot keep up (utilisation {c.utilisation:.0%}"
            f"); its queue grows: … {queue}",
            "bold red",
        )
    ll = result.littles_law
    yield Text(
        f"Little's law: L = {ll.L:.3f} in system, λ·W = {ll.lambda_W:.3f} "
        f"({ll.relative_error:.1%} apart)",
        "dim",
    )
