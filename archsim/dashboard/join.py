"""Measured beside predicted: one verdict per component and link.

Rules (docs/dashboard.md):
- **error**: the component is down (no live process, or its ``/metrics`` does not answer), a
  link's target or source is down, or more than 5% of the window's requests failed;
- **departs**: the measured throughput lies outside the prediction's interval — Poisson
  counting noise at the predicted rate over the window (95%) plus a 25% allowance for the
  model — or, with at least 20 requests, the measured mean latency is off the predicted mean by
  more than a factor of 2;
- **idle**: nothing measured and less than one request predicted in the window;
- **ok** otherwise; **unknown** while there is nothing to judge (the first poll).
"""

from __future__ import annotations

import math

from archsim.dashboard.measure import Measurement
from archsim.dashboard.predict import Prediction
from archsim.dashboard.readings import Frame, Measured, Predicted, Reading, State, link_id
from archsim.model import Architecture
from archsim.render.scene import plain

__all__ = ["ERROR_RATIO", "interval", "join", "judge"]

ERROR_RATIO = 0.05
MIN_ERRORS = 3  # fewer failures than this are not a verdict, whatever the ratio
Z = 1.96
ALLOWANCE = 0.25
LATENCY_FACTOR = 2.0
MIN_COUNT = 20


def interval(predicted: float, window_s: float) -> tuple[float, float]:
    """Band of measured throughput (requests/s) consistent with ``predicted`` over a window."""
    noise = Z * math.sqrt(max(predicted * window_s, 1.0)) / window_s
    slack = noise + ALLOWANCE * predicted
    return max(0.0, predicted - slack), predicted + slack


def judge(
    measured: Measured | None,
    predicted: Predicted | None,
    window_s: float | None,
    down: str | None = None,
) -> tuple[State, tuple[str, ...], tuple[float, float] | None]:
    """(state, reasons, throughput interval) of one component or link; ``down`` names what
    is down (e.g. ``"down"``, ``"target down"``) when something is."""
    band = interval(predicted.throughput, window_s) if predicted and window_s else None
    if down:
        return State.ERROR, (down,), band
    if measured is None or window_s is None:
        return State.UNKNOWN, (), band
    ratio = measured.error_ratio
    if ratio is not None and ratio > ERROR_RATIO and measured.errors >= MIN_ERRORS:
        return State.ERROR, (f"{ratio:.0%} errors",), band
    if predicted is None or band is None:
        return State.UNKNOWN, (), band
    if measured.count <= 0 and predicted.throughput * window_s < 1.0:
        return State.IDLE, (), band
    reasons = []
    if not band[0] <= measured.throughput <= band[1]:
        reasons.append("throughput")
    m, p = measured.mean, predicted.mean
    if (
        m is not None
        and p
        and measured.count >= MIN_COUNT
        and (m > p * LATENCY_FACTOR or m < p / LATENCY_FACTOR)
    ):
        reasons.append("latency")
    return (State.DEPARTS if reasons else State.OK), tuple(reasons), band


def join(
    arch: Architecture,
    measurement: Measurement,
    prediction: Prediction | None,
    *,
    taken_at: float,
    sequence: int = 0,
    refresh_s: float = 2.0,
    loadtest: dict | None = None,
    method_note: str | None = None,
) -> Frame:
    """The frame the page shows: every component and link of ``arch`` judged."""
    window = measurement.window_s
    comps = []
    for comp in arch.components:
        m = measurement.components.get(comp.id)
        p = None
        if prediction is not None:
            by_links = m is not None and m.source == "links"
            p = (prediction.through_links if by_links else prediction.components).get(comp.id)
        is_down = comp.id in measurement.down
        state, reasons, band = judge(m, p, window, "down" if is_down else None)
        up = False if is_down else (True if comp.id in measurement.probed else None)
        comps.append(Reading(comp.id, plain(comp.label), comp.kind.value, m, p, state, reasons,
                             band, up))  # fmt: skip
    links = []
    for lk in arch.links:
        key = (lk.source, lk.target, lk.relation.value)
        m = measurement.links.get(key)
        p = prediction.links.get(key) if prediction is not None else None
        down = ("target down" if lk.target in measurement.down
                else "source down" if lk.source in measurement.down else None)  # fmt: skip
        state, reasons, band = judge(m, p, window, down)
        links.append(Reading(link_id(*key), f"{lk.source} {lk.relation.label} {lk.target}",
                             lk.interaction.value, m, p, state, reasons, band, down is None,
                             lk.source, lk.target, lk.relation.value))  # fmt: skip
    method = prediction.method if prediction is not None else method_note
    if prediction is not None and prediction.note:
        method = f"{method}; {prediction.note}"
    return Frame(
        architecture=arch.name,
        taken_at=taken_at,
        window_s=window,
        arrival_rate=prediction.arrival_rate if prediction is not None else None,
        method=method,
        predict_ms=prediction.elapsed_ms if prediction is not None else None,
        components=comps,
        links=links,
        loadtest=loadtest,
        refresh_s=refresh_s,
        sequence=sequence,
    )
