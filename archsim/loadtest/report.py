"""The comparison report: one self-contained HTML file (inline SVG, no scripts, no network)
with measured vs predicted latency CDFs per entry, throughput per entry, and the tables."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

from archsim.loadtest.comparison import Comparison, ComponentRow, EntryRow, LatencyCell
from archsim.sim.results import short_duration

__all__ = ["render_compare_report"]

_W, _H, _PAD = 360, 200, 40
_MEASURED, _PREDICTED = "#1f77b4", "#ff7f0e"
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.grid{display:flex;flex-wrap:wrap;gap:12px}.grid figure{margin:0}
figcaption{font-size:12px;text-align:center}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #ddd}
td{text-align:right}td:first-child,th:first-child{text-align:left}
.bad{color:#c00}.ok{color:#080}.legend span{margin-right:16px}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _cdf_svg(
    title: str, measured: Sequence[Sequence[float]], predicted: Sequence[Sequence[float]]
) -> str:
    xs = [p[0] for p in (*measured, *predicted) if p[0] > 0]
    if not xs:
        return ""
    lo, hi = math.log10(min(xs)), math.log10(max(xs))
    if hi - lo < 0.5:
        lo, hi = lo - 0.25, hi + 0.25

    def x(v: float) -> float:
        return _PAD + (math.log10(max(v, 10**lo)) - lo) / (hi - lo) * (_W - _PAD - 10)

    def y(f: float) -> float:
        return _H - 24 - f * (_H - 24 - 10)

    def path(points: Sequence[Sequence[float]], colour: str, dash: str) -> str:
        if not points:
            return ""
        d = " ".join(f"{x(p[0]):.1f},{y(p[1]):.1f}" for p in points if p[0] > 0)
        return f'<polyline fill="none" stroke="{colour}" stroke-width="2" {dash} points="{d}"/>'

    ticks = []
    for k in range(math.floor(lo), math.ceil(hi) + 1):
        if lo <= k <= hi:
            tx = x(10**k)
            ticks.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="10" y2="{_H - 24}" stroke="#eee"/>'
                f'<text x="{tx:.1f}" y="{_H - 8}" font-size="10" text-anchor="middle">'
                f"{short_duration(10**k)}</text>"
            )
    for f in (0.5, 0.95):
        ticks.append(
            f'<line x1="{_PAD}" x2="{_W - 10}" y1="{y(f):.1f}" y2="{y(f):.1f}" stroke="#eee"/>'
            f'<text x="{_PAD - 4}" y="{y(f) + 3:.1f}" font-size="10" text-anchor="end">'
            f"p{f * 100:g}</text>"
        )
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'role="img" aria-label="latency CDF {_esc(title)}">{"".join(ticks)}'
        f'<rect x="{_PAD}" y="10" width="{_W - _PAD - 10}" height="{_H - 34}" fill="none" '
        f'stroke="#999"/>{path(measured, _MEASURED, "")}'
        f"{path(predicted, _PREDICTED, 'stroke-dasharray=' + chr(34) + '5,3' + chr(34))}</svg>"
        f"<figcaption>{_esc(title)}</figcaption></figure>"
    )


def _bars_svg(rows: list[tuple[str, float, float]]) -> str:
    top = max((max(m, p) for _, m, p in rows), default=0.0) or 1.0
    bar, gap, left = 9, 6, 210
    height = len(rows) * (2 * bar + gap) + 30
    parts = []
    for i, (name, m, p) in enumerate(rows):
        y0 = 10 + i * (2 * bar + gap)
        parts.append(
            f'<text x="{left - 6}" y="{y0 + bar + 3}" font-size="11" text-anchor="end">'
            f"{_esc(name)}</text>"
        )
        for j, (v, colour) in enumerate(((m, _MEASURED), (p, _PREDICTED))):
            w = v / top * (_W * 2 - left - 70)
            parts.append(
                f'<rect x="{left}" y="{y0 + j * bar}" width="{w:.1f}" height="{bar - 1}" '
                f'fill="{colour}"/><text x="{left + w + 4:.1f}" y="{y0 + j * bar + bar - 2}" '
                f'font-size="10">{v:.1f}</text>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W * 2}" height="{height}" role="img" '
        f'aria-label="throughput per entry">{"".join(parts)}</svg>'
    )


def _cell(c: LatencyCell, tolerance: float) -> str:
    e = c.rel_error
    err = "–" if e is None else f"{e:+.0%}" + (" ✓" if c.inside_ci else "")
    cls = "" if e is None else ("ok" if abs(e) <= tolerance else "bad")
    return (
        f"<td>{short_duration(c.measured)}</td><td>{short_duration(c.predicted)}</td>"
        f'<td class="{cls}">{err}</td>'
    )


def _table(rows: Mapping[str, EntryRow | ComponentRow], tolerance: float, what: str) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            what,
            "req/s measured",
            "req/s predicted",
            "mean m",
            "mean p",
            "err",
            "p95 m",
            "p95 p",
            "err",
            "p99 m",
            "p99 p",
            "err",
        )
    )
    body = []
    for name, r in rows.items():
        t = r.throughput
        body.append(
            f"<tr><td>{_esc(name)}</td><td>{t.measured:.1f}</td><td>{t.predicted:.1f}</td>"
            + "".join(_cell(cell, tolerance) for cell in (r.mean, r.p95, r.p99))
            + "</tr>"
        )
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_compare_report(comparison: Comparison) -> str:
    """The whole HTML document for one comparison."""
    c = comparison
    s = c.summary()
    figures = "".join(
        _cdf_svg(eid, c.cdf[eid].measured, c.cdf[eid].predicted) for eid in c.entries
    )
    bars = _bars_svg(
        [(eid, r.throughput.measured, r.throughput.predicted) for eid, r in c.entries.items()]
    )
    workload = ", ".join(f"{k}={v}" for k, v in c.workload.items() if k != "think_spec")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>archsim compare: {_esc(c.architecture)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_esc(c.architecture)}: predicted vs measured</h1>"
        f"<p>Workload: {_esc(workload)}. Entries within ±{c.tolerance:.0%}: mean "
        f"{s.mean_within}/{s.entries}, p95 {s.p95_within}/{s.entries}. "
        "✓ marks a measurement inside the prediction's 95% confidence interval.</p>"
        f"<p class='legend'><span style='color:{_MEASURED}'>━ measured</span>"
        f"<span style='color:{_PREDICTED}'>╍ predicted</span></p>"
        f"<h2>Latency CDF per entry (log time axis)</h2><div class='grid'>{figures}</div>"
        f"<h2>Throughput per entry (requests/s)</h2>{bars}"
        f"<h2>Entries</h2>{_table(c.entries, c.tolerance, 'entry')}"
        f"<h2>Components (service-side time per request)</h2>"
        f"{_table(c.components, c.tolerance, 'component')}"
        "</body></html>\n"
    )
