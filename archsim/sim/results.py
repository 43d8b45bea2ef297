"""Frozen simulation results: built from replication records, rendered as Rich tables, JSON
(schema ``archsim.simulation/1``, docs/simulation-json.md) and CSV.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from archsim.model import Host
from archsim.narrow import fit_table
from archsim.sim.analytic import Solution
from archsim.sim.host import HostResult, host_load
from archsim.sim.stats import confidence_interval, quantile_from_counts

__all__ = [
    "QUANTILES",
    "SCHEMA",
    "SimulationResult",
    "aggregate",
    "latency_stats",
    "short_duration",
]

SCHEMA = "archsim.simulation/1"
QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999))
_UNSTABLE_UTILISATION = 0.98


def _num(x: float) -> float | None:
    """JSON-safe number (NaN → null)."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def latency_stats(records: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Mean and quantiles (seconds) with 95% CI half-widths over replications (``*_ci``)."""
    out: dict[str, float | None] = {}
    used = [r for r in records if r["count"]]
    mean, hw = confidence_interval([r["sum"] / r["count"] for r in used])
    out["mean"], out["mean_ci"] = _num(mean), _num(hw)
    for name, q in QUANTILES:
        value, hw = confidence_interval([quantile_from_counts(r["hist"], q) for r in used])
        out[name], out[f"{name}_ci"] = _num(value), _num(hw)
    return out


def _merge_hist(records: Sequence[dict[str, Any]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for r in records:
        for k, c in r["hist"].items():
            merged[k] = merged.get(k, 0) + c
    return merged


def _rate(records: Sequence[dict[str, Any]], key: str, window: Sequence[float]) -> tuple:
    return confidence_interval([r[key] / w for r, w in zip(records, window, strict=True)])


def _growing(series: list[float], warm_bins: int) -> bool:
    """A queue that keeps growing: the last quarter holds far more than the first."""
    tail = series[warm_bins:]
    if len(tail) < 8:
        return False
    q = len(tail) // 4
    first, last = sum(tail[:q]) / q, sum(tail[-q:]) / q
    return last >= 10 and last >= 3 * first + 5


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation predicts: per entry, component, link and event flow (see schema)."""

    entries: dict[str, dict[str, Any]]
    components: dict[str, dict[str, Any]]
    links: list[dict[str, Any]]
    events: list[dict[str, Any]]
    bottlenecks: list[dict[str, Any]]
    littles_law: dict[str, Any]
    workload: dict[str, Any]
    config: dict[str, Any]
    seed: int
    replications: int
    warmup: float
    series: dict[str, list[float]]
    architecture: str
    analytic: Solution | None = None
    cdf: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    host: HostResult | None = None
    truncated: int = 0  # calls cut at the simulator's call-depth cap (sim.steps.MAX_CALL_DEPTH)
    compensations: int = 0  # saga undos run (a write failed after a charge), all replications

    @property
    def unstable(self) -> list[str]:
        """Components that cannot keep up (utilisation ~1 or a growing queue)."""
        return [c for c, v in self.components.items() if v["unstable"]]

    @property
    def mean_latency(self) -> tuple[float, float]:
        """Overall mean response time over all entries (seconds) and its CI half-width."""
        m = self.littles_law
        return m["W"], m.get("W_ci") or math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (schema ``archsim.simulation/1``)."""
        return {
            "schema": SCHEMA,
            "architecture": self.architecture,
            "seed": self.seed,
            "replications": self.replications,
            "warmup_s": self.warmup,
            "workload": self.workload,
            "config": self.config,
            "entries": self.entries,
            "components": self.components,
            "links": self.links,
            "events": self.events,
            "bottlenecks": self.bottlenecks,
            "littles_law": self.littles_law,
            "series": self.series,
            "analytic": self.analytic.to_dict() if self.analytic is not None else None,
            "host": self.host.to_dict() if self.host is not None else None,
            "truncated_calls": self.truncated,
            "compensations": self.compensations,
            "windows": self.windows,
        }

    @property
    def windows(self) -> list[dict[str, Any]]:
        """Each --fail/--slow window with the figures inside it beside those outside (after the
        warm-up): overall throughput and mean latency, and the faulted component's utilisation,
        from the time series (means over replications)."""
        t = self.series.get("t") or []
        out = []
        for fault in self.config.get("faults") or ():
            start, end = fault["start_s"], fault["end_s"]
            comp = self.components.get(fault["component"], {})
            inside = [i for i, x in enumerate(t) if start < x <= end and x > self.warmup]
            outside = [i for i, x in enumerate(t) if not start < x <= end and x > self.warmup]
            series = {"throughput": self.series.get("throughput") or [],
                      "latency_mean": self.series.get("latency_mean") or [],
                      "utilisation": comp.get("util_series") or []}  # fmt: skip

            def mean(values: list[float], idx: list[int]) -> float | None:
                picked = [values[i] for i in idx if i < len(values) and values[i] == values[i]]
                return sum(picked) / len(picked) if picked else None

            out.append({**fault,
                        "inside": {k: mean(v, inside) for k, v in series.items()},
                        "outside": {k: mean(v, outside) for k, v in series.items()}})  # fmt: skip
        return out

    def to_csv(self) -> str:
        """One row per entry and per component: scope, id, count, throughput, rates, latency."""
        buf = io.StringIO()
        names = ["mean", *(n for n, _ in QUANTILES)]
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(
            [
                "scope",
                "id",
                "count",
                "throughput",
                "error_rate",
                "timeout_rate",
                "rejection_rate",
                "utilisation",
                "queue_mean",
                *(f"{n}_s" for n in names),
                *(f"{n}_ci_s" for n in names),
            ]
        )
        for eid, e in self.entries.items():
            lat = e["latency"]
            writer.writerow(
                [
                    "entry",
                    eid,
                    e["count"],
                    e["throughput"],
                    e["error_rate"],
                    e["timeout_rate"],
                    e["rejection_rate"],
                    "",
                    "",
                    *(lat[n] for n in names),
                    *(lat[f"{n}_ci"] for n in names),
                ]
            )
        for cid, c in self.components.items():
            lat = c["latency"]
            writer.writerow(
                [
                    "component",
                    cid,
                    c["count"],
                    c["throughput"],
                    c["error_rate"],
                    "",
                    c["rejection_rate"],
                    c["utilisation"],
                    c["queue_mean"],
                    *(lat[n] for n in names),
                    *(lat[f"{n}_ci"] for n in names),
                ]
            )
        return buf.getvalue()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for t in self._entry_table():
            yield fit_table(t, console, options, optional=("p50", "p99.9"))
        for t in self._component_table():
            yield fit_table(t, console, options, optional=("queue",))
        if self.events:
            yield fit_table(self._event_table(), console, options, optional=("delay p50",))
        if self.windows:
            yield fit_table(self._window_table(), console, options)
        yield from self._summary()
        if self.truncated:
            yield Text(
                f"warning: {self.truncated:,} calls were cut at the call-depth cap "
                "(a cycle with p < 1 nested more than 100 deep); they count as errors",
                "yellow",
            )

    def _entry_table(self) -> Iterator[Table]:
        t = Table(
            title=f"{self.architecture}: entries ({self.replications} replications, 95% CI)",
            title_justify="left",
        )
        t.add_column("entry", no_wrap=True)  # the request must stay readable; numbers wrap
        for col in ("req/s", "errors", "mean", "p50", "p99", "p99.9"):
            t.add_column(col, justify="right", overflow="fold")
        for eid, e in self.entries.items():
            lat = e["latency"]
            failed = e["error_rate"] + e["timeout_rate"] + e["rejection_rate"]
            t.add_row(
                eid,
                f"{e['throughput']:.1f}",
                f"{failed:.1%}",
                _ci(lat["mean"], lat["mean_ci"]),
                _dur(lat["p50"]),
                _ci(lat["p99"], lat["p99_ci"]),
                _dur(lat["p999"]),
            )
        yield t

    def _component_table(self) -> Iterator[Table]:
        t = Table(title="components (busiest first)", title_justify="left")
        t.add_column("component", no_wrap=True)
        for col in ("util", "req/s", "queue", "mean", "p99"):
            t.add_column(col, justify="right")
        t.add_column("state")
        order = sorted(self.components.items(), key=lambda kv: -kv[1]["utilisation"])
        for cid, c in order:
            lat = c["latency"]
            state = Text("UNSTABLE", "bold red") if c["unstable"] else Text("ok", "green")
            for f in self.config.get("faults") or ():
                if f["component"] == cid and not c["unstable"]:
                    what = "failed" if f["kind"] == "fail" else f"slow x{f['factor']:g}"
                    state = Text(f"{what} {f['start_s']:g}s..{f['end_s']:g}s", "yellow")
            if c["unstable"] and c["queue_end"]:
                state.append(f" queue {c['queue_end']:.0f} at end", "red")
            util = Text(f"{c['utilisation']:.1%}", "red" if c["utilisation"] > 0.8 else "")
            t.add_row(
                cid,
                util,
                f"{c['throughput']:.1f}",
                f"{c['queue_mean']:.2f}",
                _dur(lat["mean"]),
                _dur(lat["p99"]),
                state,
            )
        yield t

    def _window_table(self) -> Table:
        t = Table(title="failure and slowdown windows (inside vs outside)", title_justify="left")
        t.add_column("window", no_wrap=True)
        for col in ("req/s in", "out", "mean in", "out", "util in", "out"):
            t.add_column(col, justify="right")
        for w in self.windows:
            what = "fails" if w["kind"] == "fail" else f"slow x{w['factor']:g}"
            i, o = w["inside"], w["outside"]

            def pct(x: float | None) -> str:
                return "–" if x is None else f"{x:.0%}"

            def rate(x: float | None) -> str:
                return "–" if x is None else f"{x:.1f}"

            t.add_row(
                f"{w['component']} {what} {w['start_s']:g}s..{w['end_s']:g}s",
                rate(i["throughput"]), rate(o["throughput"]),
                _dur(i["latency_mean"]), _dur(o["latency_mean"]),
                pct(i["utilisation"]), pct(o["utilisation"]),
            )  # fmt: skip
        return t

    def _event_table(self) -> Table:
        t = Table(title="event flows", title_justify="left")
        t.add_column("event / consumer", overflow="fold")
        for col in ("in/s", "out/s", "backlog", "delay p50", "delay p99"):
            t.add_column(col, justify="right")
        for ev in self.events:
            d = ev["delay"]
            t.add_row(
                f"{ev['event']}\n[dim]{ev['consumer']}[/]",
                f"{ev['published_rate']:.1f}",
                f"{ev['consumed_rate']:.1f}",
                f"{ev['backlog_mean']:.2f}",
                _dur(d["p50"]),
                _dur(d["p99"]),
            )
        return t

    def _summary(self) -> Iterator[Text]:
        if self.bottlenecks:
            top = self.bottlenecks[0]
            yield Text.assemble(
                ("bottleneck: ", "bold"),
                f"{top['component']} at {top['utilisation']:.0%} utilisation",
            )
        if self.host is not None:
            h = self.host
            yield Text(
                f"host: {h.cores} cores at {h.utilisation:.0%} "
                f"({h.cpu_per_request_s * 1e3:.2f} ms CPU per request"
                + (f" + {h.background:g} cores background" if h.background else "")
                + f"; saturates near {h.saturation_rps:.0f} req/s)"
                + (" — cannot keep up" if h.unstable else ""),
                "bold red" if h.unstable else "",
            )
        for cid in self.unstable:
            c = self.components[cid]
            queue = ", ".join(f"{q:.0f}" for q in c["queue_series"][-6:])
            yield Text(
                f"unstable: {cid} cannot keep up (utilisation {c['utilisation']:.0%}"
                f"); its queue grows: … {queue}",
                "bold red",
            )
        ll = self.littles_law
        yield Text(
            f"Little's law: L = {ll['L']:.3f} in system, λ·W = {ll['lambda_W']:.3f} "
            f"({ll['relative_error']:.1%} apart)",
            "dim",
        )


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


def aggregate(
    reps: list[dict[str, Any]],
    *,
    architecture: str,
    workload: dict[str, Any],
    config: dict[str, Any],
    seed: int,
    offered: dict[str, float] | None = None,
    analytic: Solution | None = None,
    host: Host | None = None,
) -> SimulationResult:
    """Combine replication records (``engine.run_replication``) into a SimulationResult."""
    windows = [r["window"] for r in reps]
    entries = _entry_figures(reps, windows)
    components = _component_figures(reps, windows, offered or {})
    return SimulationResult(
        entries=entries,
        components=components,
        links=_link_figures(reps, windows),
        events=_event_figures(reps, windows),
        bottlenecks=_bottlenecks(components),
        littles_law=_littles(reps, windows),
        workload=workload,
        config=config,
        seed=seed,
        replications=len(reps),
        warmup=reps[0]["warmup"],
        series=_mean_series(reps),
        architecture=architecture,
        analytic=analytic,
        cdf={eid: _cdf(_merge_hist([r["entries"][eid] for r in reps])) for eid in entries},
        host=host_load(host, sum(e["throughput"] for e in entries.values()), components),
        truncated=sum(r.get("truncated", 0) for r in reps),
        compensations=sum(r.get("compensations", 0) for r in reps),
    )


def _entry_figures(reps: list[dict[str, Any]], windows: list[float]) -> dict[str, dict[str, Any]]:
    """Per entry: requests, throughput, failure rates and latency over the replications."""
    entries: dict[str, dict[str, Any]] = {}
    for eid in reps[0]["entries"]:
        rs = [r["entries"][eid] for r in reps]
        count = sum(r["count"] for r in rs)
        thr, thr_ci = _rate(rs, "count", windows)
        entries[eid] = {
            "count": count,
            "throughput": thr,
            "throughput_ci": _num(thr_ci),
            "error_rate": sum(r["errors"] for r in rs) / count if count else 0.0,
            "timeout_rate": sum(r["timeouts"] for r in rs) / count if count else 0.0,
            "rejection_rate": sum(r["rejected"] for r in rs) / count if count else 0.0,
            "latency": latency_stats(rs),
        }
    return entries


def _warm_bins(rep: dict[str, Any]) -> int:
    """How many of a replication's series bins fall in its warm-up."""
    bins = len(rep["series"]["t"])
    if not bins:
        return 0
    return int(rep["warmup"] / (rep["window"] + rep["warmup"]) * bins + 0.999)


def _component_figures(
    reps: list[dict[str, Any]], windows: list[float], offered: dict[str, float]
) -> dict[str, dict[str, Any]]:
    """Per component: utilisation, throughput, queue, failures and latency (with 95% CIs),
    its series, and whether it keeps up (``offered``: the analytic offered load, if known)."""
    components: dict[str, dict[str, Any]] = {}
    warm_bins = _warm_bins(reps[0])
    for cid in reps[0]["components"]:
        rs = [r["components"][cid] for r in reps]
        util, util_ci = confidence_interval(
            [r["busy_area"] / (r["capacity"] * w) for r, w in zip(rs, windows, strict=True)]
        )
        queue, queue_ci = confidence_interval(
            [r["queue_area"] / w for r, w in zip(rs, windows, strict=True)]
        )
        thr, thr_ci = _rate(rs, "completions", windows)
        count = sum(r["completions"] for r in rs)
        arrivals = count + sum(r["rejected"] for r in rs)
        bins = len(rs[0]["queue_series"])
        queue_series = [sum(r["queue_series"][i] for r in rs) / len(rs) for i in range(bins)]
        util_series = [sum(r["util_series"][i] for r in rs) / len(rs) for i in range(bins)]
        rho = offered.get(cid)
        unstable = (
            util >= _UNSTABLE_UTILISATION
            or _growing(queue_series, warm_bins)
            or (rho is not None and rho >= 1.0)
        )
        components[cid] = {
            "utilisation": util,
            "utilisation_ci": _num(util_ci),
            "throughput": thr,
            "throughput_ci": _num(thr_ci),
            "count": count,
            "queue_mean": queue,
            "queue_mean_ci": _num(queue_ci),
            "queue_end": sum(r["queue_end"] for r in rs) / len(rs),
            "error_rate": sum(r["errors"] for r in rs) / count if count else 0.0,
            "rejection_rate": sum(r["rejected"] for r in rs) / arrivals if arrivals else 0.0,
            "capacity": rs[0]["capacity"],
            "offered_load": rho,
            "latency": latency_stats(rs),
            "unstable": bool(unstable),
            "util_series": util_series,
            "queue_series": queue_series,
        }
    return components


def _link_figures(reps: list[dict[str, Any]], windows: list[float]) -> list[dict[str, Any]]:
    """Per link, as its caller sees the calls: throughput, latency and failure rates."""
    links = []
    for i, link in enumerate(reps[0]["links"]):
        rs = [r["links"][i] for r in reps]
        count = sum(r["count"] for r in rs)
        thr, _ = _rate(rs, "count", windows)
        lat = latency_stats(rs)
        links.append(
            {
                "source": link["source"],
                "target": link["target"],
                "relation": link["relation"],
                "throughput": thr,
                "p99": lat["p99"],
                "mean": lat["mean"],
                "count": count,
                "error_rate": sum(r["failed"] for r in rs) / count if count else 0.0,
                "timeout_rate": sum(r["timeouts"] for r in rs) / count if count else 0.0,
                "latency": lat,
            }
        )
    return links


def _event_figures(reps: list[dict[str, Any]], windows: list[float]) -> list[dict[str, Any]]:
    """Per event flow (event, broker, consumer): counts, rates, backlog and delay."""
    events = []
    for i, ev in enumerate(reps[0]["events"]):
        rs = [r["events"][i] for r in reps]
        events.append(
            {
                "event": ev["event"],
                "broker": ev["broker"],
                "consumer": ev["consumer"],
                "published": sum(r["published"] for r in rs),
                "consumed": sum(r["consumed"] for r in rs),
                "failed": sum(r["failed"] for r in rs),
                "published_rate": _rate(rs, "published", windows)[0],
                "consumed_rate": _rate(rs, "consumed", windows)[0],
                "backlog_mean": sum(r["backlog_area"] / w for r, w in zip(rs, windows, strict=True))
                / len(rs),
                "backlog_end": sum(r["backlog_end"] for r in rs) / len(rs),
                "delay": latency_stats(rs),
            }
        )
    return events


def _bottlenecks(components: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The five busiest components that did any work, the unstable ones first."""
    ranked = sorted(components.items(), key=lambda kv: (-kv[1]["unstable"], -kv[1]["utilisation"]))
    return [
        {
            "component": cid,
            "utilisation": c["utilisation"],
            "unstable": c["unstable"],
            "queue_mean": c["queue_mean"],
            "offered_load": c["offered_load"],
        }
        for cid, c in ranked[:5]
        if c["utilisation"] > 0
    ]


def _mean_series(reps: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Throughput and mean latency over time, bin by bin, averaged over the replications."""
    n = len(reps)
    series = reps[0]["series"]
    return {
        "t": series["t"],
        "throughput": [
            sum(r["series"]["throughput"][i] for r in reps) / n
            for i in range(len(series["throughput"]))
        ],
        "latency_mean": [
            sum(r["series"]["latency_mean"][i] for r in reps) / n
            for i in range(len(series["latency_mean"]))
        ],
    }


def _littles(reps: list[dict[str, Any]], windows: list[float]) -> dict[str, Any]:
    """L (time-average requests in system) against λ·W (arrival rate × mean response time)."""
    ls, lams, ws = [], [], []
    for r, w in zip(reps, windows, strict=True):
        count = sum(e["count"] for e in r["entries"].values())
        arrived = sum(e["arrived"] for e in r["entries"].values())
        ls.append(r["inflight_area"] / w)
        lams.append(arrived / w)
        ws.append(sum(e["sum"] for e in r["entries"].values()) / count if count else 0.0)
    big_l, lam = sum(ls) / len(ls), sum(lams) / len(lams)
    w_mean, w_ci = confidence_interval(ws)
    lw = lam * w_mean
    return {
        "L": big_l,
        "lambda": lam,
        "W": w_mean,
        "W_ci": _num(w_ci),
        "lambda_W": lw,
        "relative_error": abs(big_l - lw) / lw if lw else 0.0,
    }


def _cdf(hist: dict[int, int], points: int = 200) -> list[tuple[float, float]]:
    """(latency s, cumulative fraction) pairs for the report's CDF plot."""
    from archsim.sim.stats import bucket_value

    total = sum(hist.values())
    out, seen = [], 0
    items = sorted(hist.items())
    step = max(1, len(items) // points)
    for j, (k, c) in enumerate(items):
        seen += c
        if j % step == 0 or j == len(items) - 1:
            out.append((bucket_value(k), seen / total))
    return out
