"""The measured result of a load test (``summary.json``, schema ``archsim.loadtest/1``).

Built from the histograms the generated locustfile writes (log buckets 2% wide, measurement
window only), so percentiles are exact to about 1% — Locust's own CSV rounds to whole
milliseconds, too coarse for a stack whose requests take a few. Pure: no disk, no network.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "BUCKET_RATIO",
    "QUANTILES",
    "SCHEMA",
    "bucket_seconds",
    "cdf_points",
    "endpoint_stats",
    "merge_histograms",
    "quantile",
    "steal_warning",
    "summarise_entries",
]

SCHEMA = "archsim.loadtest/1"
#: Width of one latency bucket of the locustfile's histograms (must match the template).
BUCKET_RATIO = 1.02
_FLOOR_S = 1e-6
QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999))


def bucket_seconds(index: int) -> float:
    """The representative latency (seconds) of bucket ``index``: its geometric middle."""
    return _FLOOR_S * BUCKET_RATIO ** (index + 0.5)


def merge_histograms(parts: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Merge per-process ``entries`` maps (count, failures, sum_s, max_s, hist) by entry."""
    merged: dict[str, dict[str, Any]] = {}
    for part in parts:
        for name, e in part.items():
            m = merged.setdefault(
                name, {"count": 0, "failures": 0, "sum_s": 0.0, "max_s": 0.0, "hist": {}}
            )
            m["count"] += int(e["count"])
            m["failures"] += int(e["failures"])
            m["sum_s"] += float(e["sum_s"])
            m["max_s"] = max(m["max_s"], float(e["max_s"]))
            for k, c in e["hist"].items():
                m["hist"][int(k)] = m["hist"].get(int(k), 0) + int(c)
    return merged


def quantile(hist: Mapping[int, int], q: float) -> float | None:
    """The ``q`` quantile (seconds) of a bucket histogram, None when it is empty."""
    total = sum(hist.values())
    if total == 0:
        return None
    rank, seen = q * total, 0
    for k in sorted(hist):
        seen += hist[k]
        if seen >= rank:
            return bucket_seconds(k)
    return bucket_seconds(max(hist))


def cdf_points(hist: Mapping[int, int], points: int = 120) -> list[tuple[float, float]]:
    """(latency s, cumulative fraction) pairs for plots, at most about ``points`` of them."""
    total = sum(hist.values())
    if not total:
        return []
    items = sorted(hist.items())
    step = max(1, math.ceil(len(items) / points))
    out, seen = [], 0
    for j, (k, c) in enumerate(items):
        seen += c
        if j % step == 0 or j == len(items) - 1:
            out.append((bucket_seconds(k) * math.sqrt(BUCKET_RATIO), seen / total))
    return out


def endpoint_stats(e: Mapping[str, Any], window_s: float) -> dict[str, Any]:
    """Requests, failures, throughput (req/s) and latency (s) of one entry's histogram."""
    count = int(e["count"])
    hist = {int(k): int(c) for k, c in e["hist"].items()}
    out: dict[str, Any] = {
        "requests": count,
        "failures": int(e["failures"]),
        "fail_ratio": e["failures"] / count if count else 0.0,
        "throughput": count / window_s if window_s > 0 else 0.0,
        "mean": e["sum_s"] / count if count else None,
        "max": e["max_s"] if count else None,
    }
    for name, q in QUANTILES:
        out[name] = quantile(hist, q)
    out["cdf"] = cdf_points(hist)
    return out


def summarise_entries(
    merged: Mapping[str, Mapping[str, Any]], window_s: float
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Per-entry stats and the total over all entries."""
    endpoints = {name: endpoint_stats(e, window_s) for name, e in sorted(merged.items())}
    total = merge_histograms([{"all": e} for e in merged.values()]).get(
        "all", {"count": 0, "failures": 0, "sum_s": 0.0, "max_s": 0.0, "hist": {}}
    )
    return endpoints, endpoint_stats(total, window_s)


#: A machine that lost more of its CPU time than this to a hypervisor is said to be slower.
STEAL_WARN = 0.05


def steal_warning(summary: Mapping[str, Any]) -> str | None:
    """What a run's stolen CPU time means for its figures, or None when there was little."""
    steal = (summary.get("host") or {}).get("steal_ratio")
    if steal is None or steal <= STEAL_WARN:
        return None
    return (
        f"a hypervisor took {steal:.0%} of this machine's CPU time during the window: its "
        "latencies and capacity are a slower machine's, and may not repeat"
    )
