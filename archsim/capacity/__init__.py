"""Capacity planning on the simulator: sweeps (curves over load, users or any attribute, with
the knee and the first component to saturate) and plans (the cheapest replica/worker counts
that meet service-level objectives at a target load), run in parallel locally or on Dask."""

from archsim.capacity.axis import Axis, parse_axis
from archsim.capacity.executors import Backend, open_executor
from archsim.capacity.plan import Limits, plan, sizing_cost
from archsim.capacity.report import render_sweep_report
from archsim.capacity.results import Knee, Measurement, PlanResult, SweepPoint, SweepResult
from archsim.capacity.slo import Slo, parse_slos
from archsim.capacity.sweep import find_knee, sweep

__all__ = [
    "Axis",
    "Backend",
    "Knee",
    "Limits",
    "Measurement",
    "PlanResult",
    "Slo",
    "SweepPoint",
    "SweepResult",
    "find_knee",
    "open_executor",
    "parse_axis",
    "parse_slos",
    "plan",
    "render_sweep_report",
    "sizing_cost",
    "sweep",
]
