"""From replication records (``engine.run_replication``, plain data crossing process
boundaries) to a SimulationResult: means and 95% confidence intervals over the replications."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from archsim.model import Host
from archsim.sim.analytic import Solution
from archsim.sim.config import Fault, SimConfig
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
    WindowFigures,
)
from archsim.sim.host import host_load
from archsim.sim.results import QUANTILES, SimulationResult
from archsim.sim.stats import bucket_value, confidence_interval, quantile_from_counts
from archsim.sim.workload import Workload

__all__ = ["aggregate", "latency_stats"]

_UNSTABLE_UTILISATION = 0.98


def _num(x: float | None) -> float | None:
    """JSON-safe number (NaN → None)."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def latency_stats(records: Sequence[dict[str, Any]]) -> Latency:
    """Mean and quantiles (seconds) with 95% CI half-widths over replications."""
    out: dict[str, float | None] = {}
    used = [r for r in records if r["count"]]
    mean, hw = confidence_interval([r["sum"] / r["count"] for r in used])
    out["mean"], out["mean_ci"] = _num(mean), _num(hw)
    for name, q in QUANTILES:
        value, hw = confidence_interval([quantile_from_counts(r["hist"], q) for r in used])
        out[name], out[f"{name}_ci"] = _num(value), _num(hw)
    return Latency(**out)


def _merge_hist(records: Sequence[dict[str, Any]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for r in records:
        for k, c in r["hist"].items():
            merged[k] = merged.get(k, 0) + c
    return merged


def _rate(records: Sequence[dict[str, Any]], key: str, window: Sequence[float]) -> tuple:
    return confidence_interval([r[key] / w for r, w in zip(records, window, strict=True)])


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _growing(series: Sequence[float], warm_bins: int) -> bool:
    """A queue that keeps growing: the last quarter holds far more than the first."""
    tail = series[warm_bins:]
    if len(tail) < 8:
        return False
    q = len(tail) // 4
    first, last = sum(tail[:q]) / q, sum(tail[-q:]) / q
    return last >= 10 and last >= 3 * first + 5


def aggregate(
    reps: list[dict[str, Any]],
    *,
    architecture: str,
    workload: Workload,
    config: SimConfig,
    seed: int,
    offered: dict[str, float] | None = None,
    analytic: Solution | None = None,
    host: Host | None = None,
) -> SimulationResult:
    """Combine replication records (``engine.run_replication``) into a SimulationResult of
    ``workload`` under ``config`` (``seed``: the run's, echoed)."""
    windows = [r["window"] for r in reps]
    entries = _entry_figures(reps, windows)
    components = _component_figures(reps, windows, offered or {})
    series = _mean_series(reps)
    warmup = reps[0]["warmup"]
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
        warmup=warmup,
        series=series,
        architecture=architecture,
        analytic=analytic,
        cdf={eid: _cdf(_merge_hist([r["entries"][eid] for r in reps])) for eid in entries},
        host=host_load(host, sum(e.throughput for e in entries.values()), components),
        truncated=sum(r.get("truncated", 0) for r in reps),
        compensations=sum(r.get("compensations", 0) for r in reps),
        windows=tuple(_window(f, series, components, warmup) for f in config.faults),
    )


def _entry_figures(reps: list[dict[str, Any]], windows: list[float]) -> dict[str, EntryFigures]:
    """Per entry: requests, throughput, failure rates and latency over the replications."""
    entries: dict[str, EntryFigures] = {}
    for eid in reps[0]["entries"]:
        rs = [r["entries"][eid] for r in reps]
        count = sum(r["count"] for r in rs)
        thr, thr_ci = _rate(rs, "count", windows)
        entries[eid] = EntryFigures(
            count=count,
            throughput=thr,
            throughput_ci=_num(thr_ci),
            error_rate=_share(sum(r["errors"] for r in rs), count),
            timeout_rate=_share(sum(r["timeouts"] for r in rs), count),
            rejection_rate=_share(sum(r["rejected"] for r in rs), count),
            latency=latency_stats(rs),
        )
    return entries


def _warm_bins(rep: dict[str, Any]) -> int:
    """How many of a replication's series bins fall in its warm-up."""
    bins = len(rep["series"]["t"])
    if not bins:
        return 0
    return int(rep["warmup"] / (rep["window"] + rep["warmup"]) * bins + 0.999)


def _bin_means(rs: list[dict[str, Any]], key: str) -> tuple[float, ...]:
    bins = len(rs[0][key])
    return tuple(sum(r[key][i] for r in rs) / len(rs) for i in range(bins))


def _component_figures(
    reps: list[dict[str, Any]], windows: list[float], offered: dict[str, float]
) -> dict[str, ComponentFigures]:
    """Per component: utilisation, throughput, queue, failures and latency (with 95% CIs),
    its series, and whether it keeps up (``offered``: the analytic offered load, if known)."""
    components: dict[str, ComponentFigures] = {}
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
        queue_series = _bin_means(rs, "queue_series")
        rho = offered.get(cid)
        unstable = (
            util >= _UNSTABLE_UTILISATION
            or _growing(queue_series, warm_bins)
            or (rho is not None and rho >= 1.0)
        )
        components[cid] = ComponentFigures(
            utilisation=util,
            utilisation_ci=_num(util_ci),
            throughput=thr,
            throughput_ci=_num(thr_ci),
            count=count,
            queue_mean=queue,
            queue_mean_ci=_num(queue_ci),
            queue_end=sum(r["queue_end"] for r in rs) / len(rs),
            error_rate=_share(sum(r["errors"] for r in rs), count),
            rejection_rate=_share(sum(r["rejected"] for r in rs), arrivals),
            capacity=rs[0]["capacity"],
            offered_load=rho,
            latency=latency_stats(rs),
            unstable=bool(unstable),
            util_series=_bin_means(rs, "util_series"),
            queue_series=queue_series,
        )
    return components


def _link_figures(reps: list[dict[str, Any]], windows: list[float]) -> list[LinkFigures]:
    """Per link, as its caller sees the calls: throughput, latency and failure rates."""
    links = []
    for i, link in enumerate(reps[0]["links"]):
        rs = [r["links"][i] for r in reps]
        count = sum(r["count"] for r in rs)
        thr, _ = _rate(rs, "count", windows)
        lat = latency_stats(rs)
        links.append(
            LinkFigures(
                source=link["source"],
                target=link["target"],
                relation=link["relation"],
                throughput=thr,
                p99=lat.p99,
                mean=lat.mean,
                count=count,
                error_rate=_share(sum(r["failed"] for r in rs), count),
                timeout_rate=_share(sum(r["timeouts"] for r in rs), count),
                latency=lat,
            )
        )
    return links


def _event_figures(reps: list[dict[str, Any]], windows: list[float]) -> list[EventFigures]:
    """Per event flow (event, broker, consumer): counts, rates, backlog and delay."""
    events = []
    for i, ev in enumerate(reps[0]["events"]):
        rs = [r["events"][i] for r in reps]
        backlog = [r["backlog_area"] / w for r, w in zip(rs, windows, strict=True)]
        events.append(
            EventFigures(
                event=ev["event"],
                broker=ev["broker"],
                consumer=ev["consumer"],
                published=sum(r["published"] for r in rs),
                consumed=sum(r["consumed"] for r in rs),
                failed=sum(r["failed"] for r in rs),
                published_rate=_rate(rs, "published", windows)[0],
                consumed_rate=_rate(rs, "consumed", windows)[0],
                backlog_mean=sum(backlog) / len(rs),
                backlog_end=sum(r["backlog_end"] for r in rs) / len(rs),
                delay=latency_stats(rs),
            )
        )
    return events


def _bottlenecks(components: dict[str, ComponentFigures]) -> list[Bottleneck]:
    """The five busiest components that did any work, the unstable ones first."""
    ranked = sorted(components.items(), key=lambda kv: (-kv[1].unstable, -kv[1].utilisation))
    return [
        Bottleneck(cid, c.utilisation, c.unstable, c.queue_mean, c.offered_load)
        for cid, c in ranked[:5]
        if c.utilisation > 0
    ]


def _mean_series(reps: list[dict[str, Any]]) -> Series:
    """Throughput and mean latency over time, bin by bin, averaged over the replications."""
    series = [r["series"] for r in reps]
    return Series(
        t=tuple(reps[0]["series"]["t"]),
        throughput=_bin_means(series, "throughput"),
        latency_mean=_bin_means(series, "latency_mean"),
    )


def _window(
    fault: Fault, series: Series, components: dict[str, ComponentFigures], warmup: float
) -> FaultWindow:
    """The series bins inside ``fault``'s window beside those outside it, after the warm-up."""
    t = series.t
    inside = [i for i, x in enumerate(t) if fault.start < x <= fault.end and x > warmup]
    outside = [i for i, x in enumerate(t) if not fault.start < x <= fault.end and x > warmup]
    comp = components.get(fault.component)
    util = comp.util_series if comp is not None else ()

    def means(idx: list[int]) -> WindowFigures:
        return WindowFigures(
            throughput=_mean_at(series.throughput, idx),
            latency_mean=_mean_at(series.latency_mean, idx),
            utilisation=_mean_at(util, idx),
        )

    return FaultWindow(
        component=fault.component,
        kind=fault.kind,
        start_s=fault.start,
        end_s=fault.end,
        factor=fault.factor,
        inside=means(inside),
        outside=means(outside),
    )


def _mean_at(values: tuple[float, ...], idx: list[int]) -> float | None:
    """The mean of ``values`` at the indexes ``idx`` (NaN skipped), None when none is there."""
    picked = [values[i] for i in idx if i < len(values) and values[i] == values[i]]
    return sum(picked) / len(picked) if picked else None


def _littles(reps: list[dict[str, Any]], windows: list[float]) -> LittlesLaw:
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
    return LittlesLaw(
        L=big_l,
        lam=lam,
        W=w_mean,
        W_ci=_num(w_ci),
        lambda_W=lw,
        relative_error=abs(big_l - lw) / lw if lw else 0.0,
    )


def _cdf(hist: dict[int, int], points: int = 200) -> list[tuple[float, float]]:
    """(latency s, cumulative fraction) pairs for the report's CDF plot."""
    total = sum(hist.values())
    out, seen = [], 0
    items = sorted(hist.items())
    step = max(1, len(items) // points)
    for j, (k, c) in enumerate(items):
        seen += c
        if j % step == 0 or j == len(items) - 1:
            out.append((bucket_value(k), seen / total))
    return out
