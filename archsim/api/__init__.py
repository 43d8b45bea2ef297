"""The pipeline as Python functions: what each ``archsim`` command does, for scripts and notebooks.

Each function is a thin layer over the same core the command uses, with the command's options
as keyword arguments and its defaults; it returns the result record the command prints (a
frozen record with ``to_dict()``, the command's ``--json``) instead of printing it. Where a
command takes a file, a function takes an :class:`~archsim.model.Architecture` too, so a model
loaded once serves every step::

    import archsim
    arch = archsim.load("topology.dot").architecture
    report = archsim.analyze(arch)
    result = archsim.simulate(arch, rps=200, duration="30s")

Durations are seconds (``30.0``) or the command's text (``"30s"``, ``"250ms"``). Bad input
raises the :class:`~archsim.errors.ArchsimError` family the command reports, with a location
and a hint. Nothing here prints; only ``generate``, the ``output=`` of ``render``, ``calibrate``
and ``plan``, and the stack functions touch the disk, and only the stack functions start
processes. docs/api.md walks through it.

One module a job: ``_model`` (validate, inspect, analyze), ``_predict`` (simulate, solve),
``_build`` (render, generate), ``_stack`` (up, status, down, loadtest), ``_measure`` (compare,
calibrate), ``_capacity`` (sweep, plan); ``options`` parses what the commands' options and these
functions' arguments share (the CLI calls it too). The analysis, simulation, rendering,
code-generation and load-test cores are imported inside the functions that use them:
``import archsim`` must stay as cheap as the CLI's start-up.
"""

from archsim.api._base import FilePath, Measured, Profile, Source
from archsim.api._build import Generated, generate, render
from archsim.api._capacity import plan, sweep
from archsim.api._measure import calibrate, compare
from archsim.api._model import analyze, inspect, validate
from archsim.api._predict import simulate, solve
from archsim.api._stack import down, loadtest, status, up
from archsim.model import load

__all__ = [
    "FilePath",
    "Generated",
    "Measured",
    "Profile",
    "Source",
    "analyze",
    "calibrate",
    "compare",
    "down",
    "generate",
    "inspect",
    "load",
    "loadtest",
    "plan",
    "render",
    "simulate",
    "solve",
    "status",
    "sweep",
    "up",
    "validate",
]
