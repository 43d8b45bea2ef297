"""What a calibration produces: fitted values as typed records (real distributions, seconds,
ratios) and how each was obtained. Strings in the profile language appear only at the edges:
``profile()``/``overrides()`` (what the model reads) and ``to_dict()`` (the JSON).

The records are filled by ``archsim.loadtest.calibrate`` and ``archsim.loadtest.tuning``; the
text is written exactly as those fits always wrote it (durations through ``format_duration``,
a gamma's cv with two decimals, ratios with three), so profiles keep their bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from archsim.loadtest.host_fit import HostCurve
from archsim.model.distributions import Distribution, Exponential, Gamma
from archsim.model.quantities import format_duration

__all__ = [
    "SCHEMA",
    "Calibration",
    "ComponentFit",
    "GraphFit",
    "HostFit",
    "LinkFit",
    "distribution_text",
    "fitted_time",
]

SCHEMA = "archsim.calibration/1"
MIN_S = 20e-6  # below the resolution of CPU accounting over a minute-long run


def fitted_time(mean: float, cv: float | None) -> Distribution:
    """A fitted time: gamma with the measured spread, exponential (a gamma of cv 1) when no
    spread was measured; never below ``MIN_S``."""
    mean = max(mean, MIN_S)
    return Exponential(mean_s=mean) if cv is None else Gamma(mean_s=mean, cv=cv)


def distribution_text(dist: Distribution) -> str:
    """``dist`` in the distribution language (docs/model.md) as calibration writes it."""
    if isinstance(dist, Gamma):
        return f"gamma(mean={format_duration(dist.mean_s)},cv={dist.cv:.2f})"
    if isinstance(dist, Exponential):
        return f"exp({format_duration(dist.mean_s)})"
    return str(dist)


@dataclass
class ComponentFit:
    """Fitted attributes of one component; None (or empty) where nothing was fitted."""

    workers: int | None = None
    service_time: Distribution | None = None
    write_time: Distribution | None = None
    operation_time: dict[str, Distribution] = field(default_factory=dict)
    cpu_power: float | None = None
    cpu_at: float | None = None

    def attrs(self) -> dict[str, str]:
        """The attributes in the profile language, in the order calibration fits them."""
        out: dict[str, str] = {}
        if self.workers is not None:
            out["workers"] = str(self.workers)
        if self.service_time is not None:
            out["service_time"] = distribution_text(self.service_time)
        if self.write_time is not None:
            out["write_time"] = distribution_text(self.write_time)
        if self.operation_time:
            out["operation_time"] = "; ".join(
                f"{name}={distribution_text(d)}" for name, d in sorted(self.operation_time.items())
            )
        if self.cpu_power is not None and self.cpu_at is not None:
            out["cpu_power"] = f"{self.cpu_power:.4f}"
            out["cpu_at"] = f"{self.cpu_at:g}"
        return out


@dataclass
class LinkFit:
    """Fitted attributes of one link (addressed as in ``--set``)."""

    hit_ratio: float | None = None
    p: float | None = None

    def attrs(self) -> dict[str, str]:
        """The attributes in the profile language."""
        out: dict[str, str] = {}
        if self.hit_ratio is not None:
            out["hit_ratio"] = f"{self.hit_ratio:.3f}"
        if self.p is not None:
            out["p"] = f"{self.p:.3f}"
        return out


@dataclass
class GraphFit:
    """Fitted graph attributes: the shared host and the network latency (seconds)."""

    host_cores: int | None = None
    host_cpu: float | None = None
    host_background: float | None = None
    host_wait: float | None = None
    host_cpu_power: float | None = None
    host_cpu_at: float | None = None
    network_latency: float | None = None

    def attrs(self) -> dict[str, str]:
        """The attributes in the profile language."""
        out: dict[str, str] = {}
        if self.host_cores is not None:
            out["host_cores"] = str(self.host_cores)
        if self.host_cpu is not None:
            out["host_cpu"] = format_duration(max(self.host_cpu, MIN_S))
        if self.host_background is not None:
            out["host_background"] = f"{self.host_background:.3f}"
        if self.host_wait is not None:
            out["host_wait"] = format_duration(self.host_wait)
        if self.host_cpu_power is not None and self.host_cpu_at is not None:
            out["host_cpu_power"] = f"{self.host_cpu_power:.4f}"
            out["host_cpu_at"] = f"{self.host_cpu_at:.0f}"
        if self.network_latency is not None:
            out["network_latency"] = format_duration(self.network_latency)
        return out


@dataclass(frozen=True)
class HostFit:
    """The shared host fitted over the runs (``archsim.loadtest.host_fit``) and the bounds it
    sets: requests/s where the host's cores run out, and where the busiest process alone
    would (one core). CPU per request (s) holds at ``rate`` requests/s and changes as the rate
    to ``power − 1``."""

    cpus: int
    cpu_per_request_s: float
    rate: float
    power: float
    background: float
    host_bound_rps: float
    process_bound_rps: float

    @classmethod
    def of(cls, curve: HostCurve, busiest_cpu_s: float) -> HostFit:
        """From the host's fitted curve and the largest CPU per front-door request (s). The
        figures are kept as they are (a background of ``0`` stays an int in the JSON)."""
        return cls(
            cpus=curve.cpus,
            cpu_per_request_s=curve.cpu_per_request_s,
            rate=curve.rate,
            power=curve.power,
            background=curve.background,
            host_bound_rps=curve.host_bound_rps,
            process_bound_rps=1.0 / busiest_cpu_s if busiest_cpu_s else float("inf"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "cpus": self.cpus,
            "cpu_per_request_s": self.cpu_per_request_s,
            "rate": self.rate,
            "power": self.power,
            "background": self.background,
            "host_bound_rps": self.host_bound_rps,
            "process_bound_rps": self.process_bound_rps,
        }


@dataclass
class Calibration:
    """The fitted values and how each was obtained (``why``, keyed by the attribute's address
    as in ``--set``), ready to write as a profile."""

    architecture: str
    components: dict[str, ComponentFit] = field(default_factory=dict)
    links: dict[str, LinkFit] = field(default_factory=dict)
    graph: GraphFit = field(default_factory=GraphFit)
    why: dict[str, str] = field(default_factory=dict)
    host: HostFit | None = None

    def component(self, cid: str) -> ComponentFit:
        """The fit of component ``cid``, created empty on first use."""
        return self.components.setdefault(cid, ComponentFit())

    def link(self, key: str) -> LinkFit:
        """The fit of the link addressed ``key``, created empty on first use."""
        return self.links.setdefault(key, LinkFit())

    def profile(self) -> dict[str, Any]:
        """The profile mapping (sections components, links, graph) in the profile language."""
        out: dict[str, Any] = {}
        sections = {
            "components": {cid: c.attrs() for cid, c in self.components.items()},
            "links": {key: lk.attrs() for key, lk in self.links.items()},
            "graph": self.graph.attrs(),
        }
        for key, value in sections.items():
            if value:
                out[key] = value
        return out

    def overrides(self) -> list[str]:
        """The same as ``--set`` strings (``comp.attr=value``)."""
        sets = [f"{c}.{k}={v}" for c, fc in self.components.items() for k, v in fc.attrs().items()]
        sets += [f"{lk}.{k}={v}" for lk, fl in self.links.items() for k, v in fl.attrs().items()]
        return sets + [f"{k}={v}" for k, v in self.graph.attrs().items()]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "schema": SCHEMA,
            "architecture": self.architecture,
            "profile": self.profile(),
            "why": self.why,
            "host": self.host.to_dict() if self.host is not None else {},
        }

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = [(f"{comp}.{k}", v) for comp, fc in self.components.items()
                for k, v in fc.attrs().items()]  # fmt: skip
        rows += [(f"{link}.{k}", v) for link, fl in self.links.items()
                 for k, v in fl.attrs().items()]  # fmt: skip
        rows += list(self.graph.attrs().items())
        title = f"{self.architecture}: calibrated values"
        t = Table(title=title, title_justify="left")
        for col in ("what", "value", "from"):
            t.add_column(col)
        for what, value in rows:
            t.add_row(what, value.replace("; ", "\n"), self.why.get(what, ""))
        needed = Measurement.get(console, options.update_width(10_000), t).minimum
        if needed <= options.max_width:
            yield t
        else:  # narrow: one value a line (never cut), where it comes from indented below
            yield Text(title, "italic")
            for what, value in rows:
                parts = value.split("; ")
                yield Text(f"{what} = {parts[0]}" if len(parts) == 1 else f"{what} =")
                for part in parts if len(parts) > 1 else []:
                    yield Text(f"    {part}")
                if self.why.get(what):
                    yield Padding(Text(f"from {self.why[what]}", "dim"), (0, 0, 0, 2))
        if "on_path" in self.why:
            yield Text(f"on path: {self.why['on_path']}", "dim")
        if "cv" in self.why:
            yield Text(f"spread: {self.why['cv']}", "dim")
        h = self.host
        if h is not None:
            yield Text(
                f"host: {h.cpus} cores, {format_duration(h.cpu_per_request_s)} CPU per "
                f"request at {h.rate:.0f} req/s{_falling(h.power)} + {h.background:.2f} "
                "cores → saturates near "
                f"{h.host_bound_rps:.0f} req/s; busiest process alone near "
                f"{h.process_bound_rps:.0f} req/s",
                "dim",
            )


def _falling(power: float) -> str:
    """How CPU per request changes with the rate, in words (nothing when it does not)."""
    return "" if power == 1.0 else f" (busy cores ∝ rate^{power:.2f})"
