"""The sweep report: one self-contained HTML file (inline SVG and CSS, no scripts, no network)
with latency vs load (p99 with its 95% CI band), utilisation vs load for the busiest
components, throughput vs load, the knee marked on each, and the table of levels."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence

from archsim.capacity.results import SweepPoint, SweepResult, ci_text
from archsim.sim.results import short_duration

__all__ = ["render_sweep_report"]

_W, _H, _PAD, _RIGHT = 820, 280, 56, 150  # _RIGHT leaves room for the series names
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf")
_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 860px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
svg text { font-size: 11px; } svg text:not([fill]) { fill: #444; } .dim { color: #777; }
table { border-collapse: collapse; font-size: 12px; } td, th { padding: 2px 8px; }
td { text-align: right; border-top: 1px solid #eee; } .sat { color: #c00; font-weight: bold; }
"""

Series = tuple[str, Sequence[tuple[float, float]]]


def _esc(text: object) -> str:
    return html.escape(str(text))


def _chart(
    series: Sequence[Series],
    *,
    yfmt: Callable[[float], str],
    band: Sequence[tuple[float, float, float]] = (),
    knee: float | None = None,
    xlabel: str = "",
    ymax: float | None = None,
) -> str:
    """An SVG line chart of named (x, y) series, an optional (x, low, high) band and knee."""
    pts = [p for _, s in series for p in s if p[1] == p[1]]
    if not pts:
        return "<p class='dim'>no data</p>"
    x0, x1 = min(x for x, _ in pts), max(x for x, _ in pts)
    x1 = x1 if x1 > x0 else x0 + 1
    top = ymax or max([y for _, y in pts] + [h for _, _, h in band]) or 1.0

    def px(x: float) -> float:
        return _PAD + (x - x0) / (x1 - x0) * (_W - _PAD - _RIGHT)

    def py(y: float) -> float:
        return _H - _PAD - min(y, top) / top * (_H - 2 * _PAD)

    out = [
        f'<svg width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" role="img">',
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _RIGHT}" y2="{_H - _PAD}" stroke="#999"/>',
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" stroke="#999"/>',
        f'<text x="{_W / 2}" y="{_H - 14}" text-anchor="middle">{_esc(xlabel)}</text>',
    ]
    for k in range(5):
        xv, yv = x0 + (x1 - x0) * k / 4, top * k / 4
        out.append(
            f'<text x="{px(xv):.1f}" y="{_H - _PAD + 16}" text-anchor="middle">{xv:.4g}</text>'
        )
        out.append(
            f'<text x="{_PAD - 6}" y="{py(yv) + 4:.1f}" text-anchor="end">{_esc(yfmt(yv))}</text>'
        )
    if band:
        upper = " ".join(f"{px(x):.1f},{py(h):.1f}" for x, _, h in band)
        lower = " ".join(f"{px(x):.1f},{py(lo):.1f}" for x, lo, _ in reversed(band))
        out.append(f'<polygon points="{upper} {lower}" fill="{_COLOURS[0]}" opacity="0.15"/>')
    if knee is not None and x0 <= knee <= x1:
        out.append(
            f'<line x1="{px(knee):.1f}" y1="{_PAD}" x2="{px(knee):.1f}" y2="{_H - _PAD}" '
            'stroke="#c00" stroke-dasharray="4 3"/>'
            f'<text x="{px(knee) + 4:.1f}" y="{_PAD + 10}" fill="#c00">knee</text>'
        )
    for i, (name, s) in enumerate(series):
        colour = _COLOURS[i % len(_COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s if y == y)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.append(
            f'<text x="{_W - _RIGHT + 6}" y="{_PAD + 14 * i}" fill="{colour}">{_esc(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _busiest(pts: Sequence[SweepPoint], most: int = 6) -> list[str]:
    """The components worth a utilisation curve: each level's busiest, then the last level's
    in order, at most ``most``."""
    busiest: list[str] = []
    for p in pts:
        for cid in p.measurement.utilisation:
            if cid not in busiest and len(busiest) < most:
                busiest.append(cid)
            break
    if pts:
        for cid in pts[-1].measurement.utilisation:
            if cid not in busiest and len(busiest) < most:
                busiest.append(cid)
    return busiest


def _level_row(p: SweepPoint) -> str:
    """One level of the sweep as a table row: rate, errors, latency and its busiest station."""
    m = p.measurement
    busy = (
        f"<span class='sat'>{_esc(m.saturated)} saturated</span>"
        if m.saturated
        else f"{_esc(m.bottleneck)} {m.bottleneck_utilisation:.0%}"
    )
    return (
        f"<tr><td>{_esc(p.text)}</td><td>{ci_text(m.throughput, m.throughput_ci, fmt='num')}"
        f"</td><td>{m.error_rate:.1%}</td><td>{short_duration(m.latency['mean'])}</td>"
        f"<td>{short_duration(m.latency['p50'])}</td>"
        f"<td>{_esc(ci_text(m.latency['p99'], m.latency['p99_ci']))}</td>"
        f"<td style='text-align:left'>{busy}</td></tr>"
    )


def render_sweep_report(result: SweepResult) -> str:
    """The whole report as one HTML string (no external resources)."""
    pts = result.points
    label = result.axis.label
    knee = result.knee.value if result.axis.kind != "set" or result.knee.value else None
    lat = [
        (name, [(p.value, p.measurement.latency[name] or math.nan) for p in pts])
        for name in ("p99", "p95", "p50", "mean")
    ]
    band = [
        (p.value, (v or 0.0) - (hw or 0.0), (v or 0.0) + (hw or 0.0))
        for p in pts
        for v, hw in [(p.measurement.latency["p99"], p.measurement.latency["p99_ci"])]
    ]
    util = [
        (cid, [(p.value, p.measurement.utilisation.get(cid, 0.0)) for p in pts])
        for cid in _busiest(pts)
    ]
    thr = [("throughput", [(p.value, p.measurement.throughput) for p in pts])]
    if result.axis.kind == "rps":
        thr.append(("offered", [(p.value, p.value) for p in pts]))
    rows = [_level_row(p) for p in pts]
    cfg = result.config
    interrupted = (
        f"<p class='sat'>interrupted: {len(pts)} of {result.levels} levels finished</p>"
        if result.interrupted
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>archsim sweep: {_esc(result.architecture)}</title><style>{_CSS}</style></head>
<body>
<h1>Sweep of {_esc(label)}: {_esc(result.architecture)}</h1>
<p class="dim">{len(pts)} levels × {cfg.get("replications")} replications of
{cfg.get("duration_s")} s simulated (warm-up {_esc(cfg.get("warmup"))}), seed {result.seed};
95% confidence intervals across replications.</p>
{interrupted}
<p><b>Knee:</b> {_esc(result.knee.note)}</p>
<h2>Latency vs {_esc(label)}</h2>
{_chart(lat, yfmt=short_duration, band=band, knee=knee, xlabel=label)}
<h2>Utilisation vs {_esc(label)}</h2>
{_chart(util, yfmt=lambda y: f"{y:.0%}", knee=knee, xlabel=label, ymax=1.0)}
<h2>Throughput vs {_esc(label)}</h2>
{_chart(thr, yfmt=lambda y: f"{y:.4g}", knee=knee, xlabel=label)}
<h2>Levels</h2>
<table><tr><th>{_esc(result.axis.name)}</th><th>req/s</th><th>errors</th><th>mean</th>
<th>p50</th><th>p99</th><th>busiest</th></tr>
{"".join(rows)}
</table>
</body></html>
"""
