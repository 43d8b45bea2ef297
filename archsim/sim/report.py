"""The HTML report: one self-contained file (inline SVG, no scripts, no network) with a latency
CDF per endpoint, utilisation per component, throughput and latency over time, growing queues
of unstable stations, and the analytic solution beside the simulated one."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from importlib.resources import files
from string import Template

from archsim.sim.figures import ComponentFigures
from archsim.sim.results import SimulationResult, short_duration
from archsim.sim.workload import Workload

__all__ = ["render_report"]

_W, _H, _PAD = 760, 260, 48
_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _esc(text: object) -> str:
    return html.escape(str(text))


_dur = short_duration


def _lines(
    series: list[tuple[str, list[tuple[float, float]]]],
    *,
    logx: bool = False,
    xfmt: Callable[[float], str] = _dur,
    yfmt: Callable[[float], str] = lambda y: f"{y:g}",
    ymax: float | None = None,
) -> str:
    """An SVG line chart of named (x, y) series."""
    pts = [(x, y) for _, s in series for x, y in s if not logx or x > 0]
    if not pts:
        return "<p class='dim'>no data</p>"
    fx = (lambda v: math.log10(v)) if logx else (lambda v: v)
    x0, x1 = min(fx(x) for x, _ in pts), max(fx(x) for x, _ in pts)
    y1 = ymax if ymax is not None else max(y for _, y in pts) or 1.0
    x1 = x1 if x1 > x0 else x0 + 1

    def px(x: float) -> float:
        return _PAD + (fx(x) - x0) / (x1 - x0) * (_W - 2 * _PAD)

    def py(y: float) -> float:
        return _H - _PAD + -(y / y1) * (_H - 2 * _PAD)

    out = [
        f'<svg width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" role="img">',
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#999"/>',
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" stroke="#999"/>',
    ]
    for k in range(5):
        xv = x0 + (x1 - x0) * k / 4
        label = xfmt(10**xv if logx else xv)
        out.append(
            f'<text x="{_PAD + k * (_W - 2 * _PAD) / 4:.1f}" y="{_H - _PAD + 16}" '
            f'text-anchor="middle">{_esc(label)}</text>'
        )
        yv = y1 * k / 4
        out.append(
            f'<text x="{_PAD - 6}" y="{py(yv) + 4:.1f}" text-anchor="end">{_esc(yfmt(yv))}</text>'
        )
    legend = []
    for i, (name, s) in enumerate(series):
        colour = _COLOURS[i % len(_COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s if not logx or x > 0)
        out.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}">'
            f"<title>{_esc(name)}</title></polyline>"
        )
        legend.append(f'<span style="color:{colour}">■ {_esc(name)}</span>')
    out.append("</svg>")
    return "".join(out) + f'<div class="legend">{"".join(legend)}</div>'


def _bars(rows: list[tuple[str, float, float | None, bool]]) -> str:
    """Horizontal utilisation bars (0..1), an analytic tick where known, unstable in red."""
    height = 18 * len(rows) + 20
    label_w, bar_w = 190, _W - 190 - 70
    out = [f'<svg width="{_W}" height="{height}" role="img">']
    for i, (name, value, analytic, bad) in enumerate(rows):
        y = 10 + i * 18
        width = min(value, 1.0) * bar_w
        colour = "#d62728" if bad else ("#ff7f0e" if value > 0.8 else "#1f77b4")
        out.append(
            f'<text x="{label_w - 6}" y="{y + 11}" text-anchor="end">{_esc(name)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="13" fill="{colour}"/>'
            f'<text x="{label_w + width + 4:.1f}" y="{y + 11}">{value:.1%}</text>'
        )
        if analytic is not None:
            ax = label_w + min(analytic, 1.0) * bar_w
            out.append(
                f'<line x1="{ax:.1f}" x2="{ax:.1f}" y1="{y - 1}" y2="{y + 14}" '
                f'stroke="#000" stroke-width="2"><title>analytic {analytic:.1%}'
                "</title></line>"
            )
    out.append("</svg>")
    return "".join(out)


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{_esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def render_report(result: SimulationResult) -> str:
    """The whole report as one HTML string (the caller writes it)."""
    order = sorted(result.components.items(), key=lambda kv: -kv[1].utilisation)
    # Requests are only recorded after the warm-up: plot from there, not a false zero before it.
    kept = [i for i, at in enumerate(result.series.t) if at > result.warmup]
    warnings, queues = _instability(result, [result.series.t[i] for i in kept])
    ll = result.littles_law
    template = Template(files("archsim.sim").joinpath("report_template.html").read_text("utf-8"))
    return template.substitute(
        title=_esc(result.architecture),
        subtitle=_esc(
            f"{_workload_text(result.workload)}; {result.replications} replications, "
            f"warm-up {result.warmup:g}s, seed {result.seed}"
        ),
        warnings=warnings,
        entries=_entry_table(result),
        cdf=_lines(
            [(eid, pts) for eid, pts in result.cdf.items()],
            logx=True,
            yfmt=lambda y: f"{y:.0%}",
            ymax=1.0,
        ),
        utilisation=_utilisation_bars(result, order),
        over_time=_over_time(result, kept),
        queues=queues,
        analytic=_analytic_side(result),
        components=_component_table(order),
        littles=_esc(f"L = {ll.L:.3f}, λ·W = {ll.lambda_W:.3f} ({ll.relative_error:.1%} apart)"),
    )


def _entry_table(result: SimulationResult) -> str:
    """Per entry: rate, failures, mean with its CI and the percentiles."""
    return _table(
        ["entry", "req/s", "errors", "mean (95% CI)", "p50", "p90", "p99", "p99.9"],
        [
            [
                _esc(eid),
                f"{e.throughput:.1f}",
                f"{e.failed_rate:.1%}",
                f"{_dur(e.latency.mean)} ±{_dur(e.latency.mean_ci)}",
                _dur(e.latency.p50),
                _dur(e.latency.p90),
                _dur(e.latency.p99),
                _dur(e.latency.p999),
            ]
            for eid, e in result.entries.items()
        ],
    )


def _utilisation_bars(result: SimulationResult, order: list[tuple[str, ComponentFigures]]) -> str:
    """Utilisation per station, busiest first, beside the analytic offered load; the shared
    host as one more bar."""
    analytic = result.analytic.offered_loads() if result.analytic is not None else {}
    bars = [(cid, c.utilisation, analytic.get(cid), c.unstable) for cid, c in order]
    if result.host is not None:  # the shared machine, as a bar among the stations
        h = result.host
        bars.append(("host (shared)", min(h.utilisation, 1.0), None, h.unstable))
        bars.sort(key=lambda bar: -bar[1])
    return _bars(bars)


def _over_time(result: SimulationResult, kept: list[int]) -> str:
    """Throughput and mean latency over the bins ``kept`` (those after the warm-up)."""
    t = [result.series.t[i] for i in kept]
    over_time = _lines(
        [
            (
                "throughput (req/s)",
                [(t[j], result.series.throughput[i]) for j, i in enumerate(kept)],
            )
        ],
        xfmt=_secs,
    )
    over_time += _lines(
        [("mean latency", [(t[j], result.series.latency_mean[i]) for j, i in enumerate(kept)])],
        xfmt=_secs,
        yfmt=_dur,
    )
    return over_time


def _instability(result: SimulationResult, t: list[float]) -> tuple[str, str]:
    """(warnings, queue charts) for a host or stations that cannot keep up."""
    warnings, queues = "", ""
    host = result.host
    if host is not None and host.unstable:
        warnings += (
            f'<p class="bad">the shared host cannot keep up: {host.utilisation:.0%} of '
            f"{host.cores} cores (saturates near {host.saturation_rps:.0f} req/s)</p>"
        )
    if result.unstable:
        warnings += "".join(
            f'<p class="bad">unstable: {_esc(c)} cannot keep up; its queue grows</p>'
            for c in result.unstable
        )
        queues = "<h2>Queues of unstable stations</h2>" + _lines(
            [
                (c, list(zip(t, result.components[c].queue_series, strict=False)))
                for c in result.unstable
            ],
            xfmt=_secs,
        )
    return warnings, queues


def _analytic_side(result: SimulationResult) -> str:
    """The analytic mean of each entry beside the simulated one (empty without a solution)."""
    if result.analytic is None:
        return ""
    a = result.analytic
    rows = [
        [
            _esc(eid),
            _dur(v.latency_mean),
            f"{_dur(result.entries[eid].latency.mean)} "
            f"±{_dur(result.entries[eid].latency.mean_ci)}",
        ]
        for eid, v in a.entries.items()
        if eid in result.entries
    ]
    return f"<h2>Analytic vs simulated ({_esc(a.method)})</h2>" + _table(
        ["entry", "analytic mean", "simulated mean"], rows
    )


def _component_table(order: list[tuple[str, ComponentFigures]]) -> str:
    """Per station: utilisation, rate, queue, latency and whether it keeps up."""
    return _table(
        ["component", "utilisation", "req/s", "queue", "mean", "p99", "state"],
        [
            [
                _esc(cid),
                f"{c.utilisation:.1%}",
                f"{c.throughput:.1f}",
                f"{c.queue_mean:.2f}",
                _dur(c.latency.mean),
                _dur(c.latency.p99),
                '<span class="bad">UNSTABLE</span>' if c.unstable else "ok",
            ]
            for cid, c in order
        ],
    )


def _secs(x: float) -> str:
    return f"{x:g}s"


def _workload_text(w: Workload) -> str:
    """The workload in words: ``open, poisson arrivals at 300 req/s`` or ``closed, 50 users``."""
    if w.closed:
        text = f"closed workload: {w.users} users, think time {w.think}"
    elif w.ramp:
        points = ", ".join(f"{rps:g} req/s at {t:g}s" for t, rps in w.ramp)
        text = f"open workload, {w.arrivals} arrivals ramping: {points}"
    else:
        text = f"open workload, {w.arrivals} arrivals at {w.rps:g} req/s"
    mix = dict(w.mix or ())  # a weight named twice counts once, the last one
    if mix:
        text += ", mix " + ", ".join(f"{k}={v:g}" for k, v in mix.items())
    return text
