"""Tune a trace fit by simulating the level the traces were taken at, as the summary-based
calibration does (``archsim.loadtest.tuning``), against what the traces measured there: the
entries' latency of the front door's root spans.

1. **Network latency** by least squares over the entries' relative error in mean latency.
2. **On-path share of the gaps**: each component's gap (``archsim.traces.hops``: its parsing,
   writing and event-loop waits outside its spans, plus the network) is in its service time;
   the share of it kept there — work that queues at the component — is chosen on a grid by
   the entries' mean, the network latency taking what is left.
3. **Spread**: one factor on every fitted cv, chosen by the entries' p95.
4. The network latency again, with the spread.

The entries' latency is what their client measured when the traces hold its spans (a traffic
source's client spans: the load generator of ``archsim loadtest`` writes them), as they are.
Without them it is the front door's root spans, which start after the front door parsed the
request and end before the reply reached the client: the client's side of that first hop is not
in the traces, and those entries' figures are raised by the typical gap of the traced hops for
it (``TraceFit.gaps``). ``why["entries"]`` says which was used.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from archsim.loadtest import tuning
from archsim.loadtest.measured import EndpointMeasured, MeasuredRun
from archsim.loadtest.tuning import Simulate
from archsim.model import Architecture
from archsim.model.quantities import format_duration
from archsim.sim import simulate
from archsim.traces.calibrate import TraceFit, fit_traces
from archsim.traces.discover import discover
from archsim.traces.hops import hop_gaps
from archsim.traces.measured import CLIENT, summary_from_traces
from archsim.traces.records import Span

__all__ = ["calibrate_traces", "measured_at_front", "tune"]


def measured_at_front(arch: Architecture, spans: list[Span], gap_s: float) -> MeasuredRun:
    """The traces' entries as a measured run: their client spans as they are, else the root
    spans at the front door raised by ``gap_s`` (the first hop's client side, no span covers)."""
    return _measured(summary_from_traces(arch, spans), gap_s)


def _measured(summary: dict[str, Any], gap_s: float) -> MeasuredRun:
    run = MeasuredRun.from_dict(summary)
    by = summary["measured_by"]

    def raised(value: float | None, eid: str) -> float | None:
        if value is None or by.get(eid) == CLIENT:
            return value  # what the client measured holds the first hop already
        return value + gap_s

    endpoints = {
        eid: EndpointMeasured(m.requests, raised(m.mean, eid), raised(m.p95, eid))
        for eid, m in run.endpoints.items()
    }
    return replace(run, endpoints=endpoints)


def _entries_why(summary: dict[str, Any], gap_s: float) -> str:
    """What the entries' latency came from (``why["entries"]``)."""
    by = summary["measured_by"]
    clients = [e for e, m in by.items() if m == CLIENT]
    raised = (
        f"root spans at the front door, each raised by {format_duration(gap_s)} (the typical "
        "gap of a traced hop: the client's side of the first hop)"
    )
    if not clients:
        return raised
    seen = (
        f"client spans of {', '.join(summary['clients'])} (the latency the client measured, "
        "no gap added)"
    )
    if len(clients) == len(by):
        return seen
    return f"{seen} for {len(clients)} of {len(by)} entries; the others: {raised}"


def tune(
    arch: Architecture, fit: TraceFit, spans: list[Span], *, run: Simulate | None = None
) -> TraceFit:
    """``fit`` with its network latency, gaps' on-path share and spread fitted by simulating
    the traces' own level (``spans`` are the traces ``fit`` came from)."""
    runner = run or (lambda a, w, c: simulate(a, w, c, jobs=1, analytic=False))
    summary = summary_from_traces(arch, spans)
    measured = _measured(summary, fit.gaps.typical)
    cal = fit.calibration
    times, ops = fit.times, fit.ops
    cal.why["entries"] = _entries_why(summary, fit.gaps.typical)
    tuning.write_times(cal, times, ops, 1.0)
    tuning.set_network(arch, measured, runner, cal)
    if any(fit.outside.values()):
        share, source = tuning.fit_on_path(arch, measured, runner, cal, times, ops, fit.outside)
        times, ops = tuning.on_path(times, ops, fit.outside, share)
        cal.why["on_path"] = source.replace("CPU outside handlers", "gap")
    tuning.write_times(cal, times, ops, 1.0)
    tuning.set_network(arch, measured, runner, cal)
    factor, source = tuning.fit_spread(
        arch, measured, runner, cal, times, ops, tuning.TRACE_SPREAD_FACTORS
    )
    tuning.write_times(cal, times, ops, factor)
    cal.why["cv"] = source.replace("handler cv", "span cv")
    tuning.set_network(arch, measured, runner, cal)
    return replace(fit, calibration=cal, times=times, ops=ops)


def calibrate_traces(
    arch: Architecture, spans: list[Span], *, run: Simulate | None = None, tuned: bool = True
) -> TraceFit:
    """``archsim calibrate --traces``: the fit of ``spans`` (``fit_traces`` with their gaps),
    tuned at their own level unless ``tuned`` is False."""
    fit = fit_traces(arch, discover(spans), hop_gaps(spans))
    return tune(arch, fit, spans, run=run) if tuned else fit
