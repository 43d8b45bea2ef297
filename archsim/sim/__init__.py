"""Simulation: a SimPy engine that executes the derived behaviour, with statistics you can
trust, and an analytic cross-check. ``simulate(arch, workload, config) -> SimulationResult``."""

from archsim.sim.analytic import solve
from archsim.sim.config import Fault, SimConfig
from archsim.sim.replicate import simulate
from archsim.sim.results import SCHEMA, SimulationResult
from archsim.sim.workload import Workload

__all__ = ["SCHEMA", "Fault", "SimConfig", "SimulationResult", "Workload", "simulate", "solve"]
