"""Prediction beside measurement: ``compare`` and ``calibrate``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from archsim.api import options
from archsim.api._base import FilePath, Measured, Profile, Source, _arch, _measured, _prepared
from archsim.errors import ScenarioError

if TYPE_CHECKING:
    from archsim.loadtest import Calibration, Comparison
    from archsim.loadtest.steps import KneeComparison

__all__ = ["calibrate", "compare"]


def compare(
    source: Source,
    measured: Measured,
    *,
    profile: Profile | None = None,
    replications: int = 5,
    seed: int = 1,
    tolerance: float | str = 0.25,
    allow_failures: bool = False,
) -> Comparison | KneeComparison:
    """Predicted beside measured (``archsim compare``): simulate the measured run's workload
    and compare per entry and component; given a stepped run (``steps.json``), the predicted
    saturation throughput beside the measured knee. ``measured`` is the file or its document.
    A run with more than 5% failed requests is refused unless ``allow_failures``."""
    from archsim.loadtest.compare import check_measured, sim_config_of, workload_of
    from archsim.loadtest.compare import compare as put_beside
    from archsim.loadtest.failures import check_failures
    from archsim.loadtest.steps import check_steps, compare_knee
    from archsim.sim import simulate as run

    arch = _arch(source)
    data, name = _measured(measured)
    tol = options.fraction(tolerance, "tolerance", eg="25%") or 0.0
    if data.get("schema") == "archsim.steps/1":
        check_steps(arch, data, name)
        return compare_knee(_prepared(arch, (), profile), data, tol)
    check_measured(arch, data, name)
    check_failures(data, name, allow=allow_failures)
    arch = _prepared(arch, (), profile)
    workload, cfg = workload_of(data), sim_config_of(data, replications, seed)
    cfg.check(arch)
    workload.check()
    return put_beside(arch, data, run(arch, workload, cfg), tol)


def calibrate(
    source: Source,
    measured: Measured | Sequence[Measured],
    *,
    output: FilePath | None = None,
    allow_failures: bool = False,
) -> Calibration:
    """Fit service times (and what else the data identify) to measured runs (``archsim
    calibrate``); ``fit.profile()`` is the profile, for ``simulate(profile=fit.profile())``,
    and ``output`` writes it as the command does (YAML, for ``profile="file.yaml"``). Several
    runs at different rates separate the host's CPU per request; the first is fitted in
    detail."""
    from archsim.atomic import write_atomic
    from archsim.loadtest.calibrate import calibrate as fit_to
    from archsim.loadtest.calibrate import profile_yaml
    from archsim.loadtest.compare import check_measured
    from archsim.loadtest.failures import check_failures

    arch = _arch(source)
    items: Sequence[Measured]
    if isinstance(measured, Sequence) and not isinstance(measured, str):
        items = measured
    else:
        items = [measured]
    runs, names = [], []
    for item in items:
        data, name = _measured(item)
        check_measured(arch, data, name)
        check_failures(data, name, allow=allow_failures)
        runs.append(data)
        names.append(name)
    if not runs:
        raise ScenarioError(
            "no measured run to fit", hint="give a summary.json", code="bad-measured"
        )
    fit = fit_to(arch, runs[0], more=runs[1:])
    if output is not None:
        write_atomic(Path(output), profile_yaml(fit, source=" + ".join(names)))
    return fit
