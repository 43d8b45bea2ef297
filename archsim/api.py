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
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archsim.errors import ArchsimError, Diagnostic, Location, ScenarioError
from archsim.model import Architecture, load
from archsim.model.quantities import parse_duration, parse_probability

# The analysis, simulation, rendering, code-generation and load-test cores are imported inside
# the functions that use them: ``import archsim`` must stay as cheap as the CLI's start-up.
if TYPE_CHECKING:
    from archsim.analysis import AnalysisReport
    from archsim.capacity import PlanResult, SweepResult
    from archsim.codegen import WritePlan
    from archsim.loadtest import Calibration, Comparison
    from archsim.loadtest.steps import KneeComparison
    from archsim.sim import SimConfig, SimulationResult, Workload
    from archsim.sim.analytic import Solution

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

#: What a function that reads a model takes: the model, or the path of its DOT file.
Source = Architecture | str | os.PathLike[str]
#: A file's path, as text or a path object.
FilePath = str | os.PathLike[str]
#: A profile: its YAML file, or the mapping itself (sections components, links, graph).
Profile = FilePath | Mapping[str, Any]
#: A measured run: the summary.json (or steps.json) of archsim loadtest, or its document.
Measured = FilePath | Mapping[str, Any]

#: ``inspect`` sections: the command's ``--section`` values.
_SECTIONS = ("all", "components", "links", "operations", "entries", "events", "lifecycle")


@dataclass(frozen=True)
class Generated:
    """What ``generate`` decided per file (``plan``) and which files it wrote."""

    plan: WritePlan
    written: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    pretend: bool = False

    @property
    def root(self) -> Path:
        """The stack's directory."""
        return self.plan.root

    def to_dict(self) -> dict[str, Any]:
        """The document ``archsim generate --json`` prints (without its timing)."""
        return {
            **self.plan.to_dict(),
            "written": list(self.written),
            "pretend": self.pretend,
            "warnings": list(self.warnings),
        }


# --- the model -----------------------------------------------------------------------------


def _arch(source: Source) -> Architecture:
    """The model of ``source``: itself, or loaded from its file (errors raised, warnings kept
    in ``load(path).diagnostics`` for who asks)."""
    if isinstance(source, Architecture):
        return source
    if isinstance(source, str | os.PathLike):
        return load(Path(source)).architecture
    raise TypeError(f"expected an Architecture or a path, got {type(source).__name__}")


def validate(path: FilePath) -> list[Diagnostic]:
    """Every problem of the architecture file at ``path`` (``archsim validate``), errors
    included: an invalid file gives its error diagnostics instead of raising. Usable when no
    diagnostic has ``severity`` ``ERROR``."""
    try:
        return list(load(Path(path)).diagnostics)
    except ArchsimError as exc:
        return list(exc.diagnostics)


def inspect(source: Source, section: str = "all") -> Any:
    """What archsim reads from a model and derives from it, as ``archsim inspect --json``
    prints it: the whole model (``schema_version`` 1), or one ``section`` of it (components,
    links, operations, entries, events, lifecycle)."""
    if section not in _SECTIONS:
        raise ScenarioError(
            f"no section {section!r}", hint=f"one of: {', '.join(_SECTIONS)}", code="bad-option"
        )
    data = _arch(source).model_dump(mode="json")
    data["schema_version"] = 1
    if section == "all":
        return data
    key = {"lifecycle": "lifecycles"}.get(section, section)
    return data[key] if key in data else data["behaviour"][key]


def analyze(
    source: Source,
    *,
    disable: Sequence[str] = (),
    enable: Sequence[str] = (),
    severity: Mapping[str, str] | None = None,
    max_chain_depth: int | None = None,
) -> AnalysisReport:
    """Design risks of a model and each entry's critical path (``archsim analyze``).

    ``disable``/``enable`` name rules (``archsim analyze --list-rules``); ``severity`` re-grades
    rules (``{"hub": "error"}``). ``report.blast.of(component)`` is ``--blast``."""
    from archsim.analysis import RULES, AnalysisConfig, parse_levels, parse_rule_list
    from archsim.analysis import analyze as run

    ids = [r.id for r in RULES]
    rules = [] if severity is None else [f"{k}={v}" for k, v in severity.items()]
    config = AnalysisConfig(
        disable=parse_rule_list(",".join(disable), ids, "disable"),
        enable=parse_rule_list(",".join(enable), ids, "enable"),
        severity=parse_levels(rules, ids, "severity"),
        max_chain_depth=max_chain_depth,
    )
    return run(_arch(source), config)


# --- prediction ----------------------------------------------------------------------------


def _seconds(value: float | str, name: str, *, allow_zero: bool = True) -> float:
    if not isinstance(value, str):
        return float(value)
    try:
        return parse_duration(value, allow_zero=allow_zero)
    except ValueError as exc:
        raise ScenarioError(
            f"{name}: {exc}", hint=f"e.g. {name}='60s'", code="bad-option"
        ) from None


def _warmup(value: float | str) -> float | str:
    if isinstance(value, str) and value.strip().lower() == "mser5":
        return "mser5"
    return _seconds(value, "warmup")


def _profile(profile: Profile | None) -> tuple[Any, str]:
    """A profile's data and the name its errors carry: a mapping as given, or a YAML file."""
    if profile is None or isinstance(profile, Mapping):
        return profile, "profile"
    from archsim.model.profile import parse_profile

    path = Path(profile)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(
            f"cannot read profile: {exc.strerror}", Location(str(path)), code="bad-profile"
        ) from None
    return parse_profile(data, str(path)), str(path)


def _prepared(source: Source, sets: Sequence[str], profile: Any) -> Architecture:
    """The model with ``--set`` overrides and a profile applied (as the commands do)."""
    from archsim.sim.scenario import prepare

    arch = _arch(source)
    if not sets and profile is None:
        return arch
    data, name = _profile(profile)
    return prepare(arch, list(sets), data, name)


def _workload(
    arch: Architecture,
    rps: float | None,
    users: int | None,
    think: str,
    mix: str | None,
    arrivals: str = "poisson",
    ramp: str | None = None,
) -> Workload:
    from archsim.sim import Workload
    from archsim.sim.workload import parse_mix, parse_ramp, parse_think

    if rps is not None and users is not None:
        raise ScenarioError(
            "give either rps (open) or users (closed), not both",
            hint="e.g. rps=200, or users=50, think='1s'",
            code="bad-workload",
        )
    points, steps = parse_ramp(ramp) if ramp else ((), False)
    workload = Workload(
        rps=None if users is not None else (rps if rps is not None else 100.0),
        arrivals=arrivals,
        ramp=points,
        ramp_steps=steps,
        users=users,
        think=parse_think(think),
        mix=parse_mix(mix, arch) if mix else None,
    )
    workload.check()
    return workload


def simulate(
    source: Source,
    *,
    rps: float | None = None,
    users: int | None = None,
    think: str = "1s",
    arrivals: str = "poisson",
    ramp: str | None = None,
    mix: str | None = None,
    duration: float | str = "60s",
    warmup: float | str = "5s",
    replications: int = 5,
    precision: float | str | None = None,
    seed: int = 1,
    sets: Sequence[str] = (),
    profile: Profile | None = None,
    fail: Sequence[str] = (),
    slow: Sequence[str] = (),
    balancing: str = "round_robin",
    jobs: int | None = None,
) -> SimulationResult:
    """Simulate a model under load (``archsim simulate``): per-entry latency and throughput,
    per-component utilisation, bottlenecks, with 95% CIs over ``replications``.

    ``rps`` (open, 100 by default) or ``users`` with ``think`` (closed); ``fail``/``slow`` are
    windows as on the command line (``"product_db@30s..60s"``, ``"cache@10s..20s:x5"``). The
    same ``seed`` gives the same result. ``result.to_dict()`` is ``simulate --json``."""
    from archsim.sim import SimConfig
    from archsim.sim import simulate as run
    from archsim.sim.scenario import parse_fault

    arch = _prepared(source, sets, profile)
    workload = _workload(arch, rps, users, think, mix, arrivals, ramp)
    faults = tuple(parse_fault(t, "fail") for t in fail) + tuple(
        parse_fault(t, "slow") for t in slow
    )
    cfg = SimConfig(
        duration=_seconds(duration, "duration", allow_zero=False),
        warmup=_warmup(warmup),
        replications=replications,
        precision=_fraction(precision, "precision"),
        seed=seed,
        balancing=balancing,
        faults=faults,
    )
    cfg.check(arch)
    return run(arch, workload, cfg, jobs=jobs)


def _fraction(value: float | str | None, name: str) -> float | None:
    if value is None or not isinstance(value, str):
        return value
    try:
        return parse_probability(value)
    except ValueError as exc:
        raise ScenarioError(f"{name}: {exc}", hint=f"e.g. {name}='2%'", code="bad-option") from None


def solve(
    source: Source,
    *,
    rps: float | None = None,
    users: int | None = None,
    think: str = "1s",
    mix: str | None = None,
    sets: Sequence[str] = (),
    profile: Profile | None = None,
) -> Solution:
    """The analytic solution of a model (``archsim simulate --method analytic``): per entry
    throughput and mean latency, per component offered load and queue, in milliseconds of
    computing instead of seconds of simulation; ``.to_dict()`` is the command's JSON."""
    from archsim.sim import solve as run

    arch = _prepared(source, sets, profile)
    return run(arch, _workload(arch, rps, users, think, mix))


# --- pictures and code ---------------------------------------------------------------------


def render(
    source: Source,
    fmt: str | None = None,
    *,
    output: FilePath | None = None,
    direction: str = "LR",
    theme: str = "light",
    hide: Sequence[str] = (),
    overlay: Sequence[FilePath] = (),
    legend: bool = True,
) -> bytes:
    """Draw a model (``archsim render``): the bytes of an ``svg``, ``png``, ``html`` or styled
    ``dot`` file. ``fmt`` defaults to ``output``'s suffix (then ``svg``); with ``output`` the
    file is written too. ``overlay`` takes files of ``simulate``/``analyze`` ``--json``;
    ``hide`` interactions (``"infra"``, ``"data"``, …)."""
    from archsim.atomic import write_atomic
    from archsim.model import Interaction
    from archsim.render import OUTPUT_FORMATS, Overlay, SceneOptions, ThemeName, parse_overlay
    from archsim.render import render as draw

    if fmt is None:
        fmt = Path(output).suffix.lower().lstrip(".") if output is not None else "svg"
    if fmt not in OUTPUT_FORMATS:
        raise ScenarioError(
            f"cannot render the format {fmt!r}",
            hint=f"one of: {', '.join(OUTPUT_FORMATS)}",
            code="bad-format",
        )
    layers = Overlay()
    for path in overlay:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(
                f"cannot read overlay {path}: {exc.strerror}",
                hint="pass a file written by simulate --json or analyze --json",
                code="no-file",
            ) from None
        layers = layers.merge(parse_overlay(text, str(path)))
    options = SceneOptions(
        direction=direction,
        theme=ThemeName(theme),
        hide=frozenset(Interaction(h) for h in hide),
        overlay=layers,
        legend=legend,
    )
    data = draw(_arch(source), fmt, options)
    if output is not None:
        write_atomic(Path(output), data)
    return data


def generate(
    source: Source,
    output: FilePath,
    *,
    sets: Sequence[str] = (),
    pretend: bool = False,
    force: bool = False,
) -> Generated:
    """Generate a runnable FastAPI stack from a model into ``output`` (``archsim generate``).

    Regenerating is safe: handlers.py files and config/settings.json are created once and
    never overwritten; hand-edited generated files are conflicts unless ``force``. ``pretend``
    decides without writing."""
    from archsim.codegen import apply_writes, plan_writes
    from archsim.codegen import render as render_code
    from archsim.model import apply_overrides
    from archsim.model.dataflow import derive_dataflow

    arch = _arch(source)
    if sets:
        arch = apply_overrides(arch, list(sets))
    name = Path(source).name if isinstance(source, str | os.PathLike) else None
    plan = plan_writes(Path(output), render_code(arch, source=name))
    written = () if pretend else tuple(apply_writes(plan, force=force))
    return Generated(plan, written, tuple(derive_dataflow(arch).warnings), pretend)


# --- the running stack ---------------------------------------------------------------------


def up(
    stack: FilePath,
    *,
    replicas: Mapping[str, int] | None = None,
    emulate: bool = False,
    trace: bool = False,
    timeout: float = 90.0,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Start a generated stack and wait until every process is ready (``archsim up``); the
    stack's state (``front_door``, ``instances`` with their URLs). Stop it with ``down``.

    ``emulate`` and ``trace`` are ``--emulate`` and ``--trace``; ``env`` adds variables for
    the stack's processes (e.g. ``ARCHSIM_PBKDF2_ROUNDS``), over this process's environment."""
    from archsim.runtime import launcher

    variables = {**os.environ, **(env or {})}
    if emulate:
        variables["ARCHSIM_EMULATE"] = "1"
    if trace:
        variables["ARCHSIM_TRACE"] = "1"
    try:
        return launcher.up(
            Path(stack), replicas=dict(replicas or {}), timeout_s=timeout, env=variables
        )
    except launcher.StackError as exc:
        raise ArchsimError(
            exc.message, Location(str(stack)), exc.hint, code="stack-failed"
        ) from None


def status(stack: FilePath) -> dict[str, Any] | None:
    """The state of a stack's processes (``archsim status --json``), or None when it is not
    running."""
    from archsim.runtime import launcher

    return launcher.status(Path(stack))


def down(stack: FilePath) -> list[str]:
    """Stop a running stack (``archsim down``); the processes stopped."""
    from archsim.runtime import launcher

    return launcher.down(Path(stack))


def loadtest(
    stack: FilePath,
    *,
    model: Source | None = None,
    users: int = 20,
    spawn_rate: float = 20.0,
    duration: float | str = "60s",
    warmup: float | str = "5s",
    rps: float | None = None,
    arrivals: str = "poisson",
    think: str = "1s",
    processes: int = 1,
    seed: int | None = None,
    out: FilePath = "loadtest-results",
    check: Sequence[str] = (),
    start: bool = False,
) -> dict[str, Any]:
    """Load-test a running generated stack with Locust in its own process (``archsim
    loadtest``); the run's summary (``summary.json``, also written to ``out`` with Locust's CSVs
    and report), thresholds (``check``, e.g. ``"p99<300ms"``) evaluated in its ``thresholds``.
    ``start`` starts the stack first and stops it after (``--up``)."""
    from archsim.codegen.locustfile import render_locustfile
    from archsim.loadtest.runner import LoadSpec, run_locust, running_stack, stack_architecture
    from archsim.loadtest.thresholds import evaluate, parse_threshold
    from archsim.sim.workload import parse_think

    folder, target = Path(stack), Path(out)
    thresholds = [parse_threshold(text) for text in check]
    spec = LoadSpec(
        users=users,
        spawn_rate=spawn_rate,
        duration=_seconds(duration, "duration"),
        warmup=_seconds(warmup, "warmup"),
        rps=rps,
        arrivals=arrivals,
        think=parse_think(think),
        processes=processes,
        seed=seed,
    )
    spec.check()
    title: str | None  # the architecture's name, when the stack says it
    if model is not None:
        arch = _arch(model)
        name = Path(model).name if isinstance(model, str | os.PathLike) else None
        text, title = render_locustfile(arch, source=name), arch.name
    elif (folder / "locustfile.py").is_file():
        text, title = (folder / "locustfile.py").read_text(), stack_architecture(folder)
    else:
        raise ScenarioError(
            f"no locustfile in {folder} and no model to render one",
            hint="regenerate the stack or pass model=",
            code="no-model",
        )
    with running_stack(folder, start):
        summary = run_locust(folder, text, spec, target, architecture=title)
    summary["thresholds"] = [
        r.to_dict() for r in evaluate(thresholds, summary["endpoints"], summary["total"])
    ]
    import json

    from archsim.atomic import write_atomic

    write_atomic(target / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


# --- prediction beside measurement ---------------------------------------------------------


def _measured(data: Measured) -> tuple[dict[str, Any], str]:
    """A measured run's document and the name its errors carry."""
    if isinstance(data, Mapping):
        return dict(data), "run"
    import json

    path = Path(data)
    hint = "give the summary.json that archsim loadtest wrote"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(
            f"cannot read the measured run: {exc.strerror}",
            Location(str(path)),
            hint=hint,
            code="bad-measured",
        ) from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"the measured run is not JSON: {exc.msg}",
            Location(str(path), exc.lineno, exc.colno),
            hint=hint,
            code="bad-measured",
        ) from None
    if not isinstance(doc, dict):
        raise ScenarioError(
            "the measured run is not a JSON object", Location(str(path)), code="bad-measured"
        )
    return doc, str(path)


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
    tol = _fraction(tolerance, "tolerance") or 0.0
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


# --- capacity ------------------------------------------------------------------------------


@contextmanager
def _executor(jobs: int | None, scheduler: str | None) -> Iterator[Any]:
    from archsim.capacity import open_executor

    with open_executor(jobs, scheduler) as backend:
        yield backend.executor


def _config(duration: float | str, warmup: float | str, replications: int, seed: int) -> SimConfig:
    from archsim.sim import SimConfig

    return SimConfig(
        duration=_seconds(duration, "duration", allow_zero=False),
        warmup=_warmup(warmup),
        replications=replications,
        seed=seed,
    )


def sweep(
    source: Source,
    *,
    rps: float | str | None = None,
    users: int | str | None = None,
    think: str = "1s",
    mix: str | None = None,
    sets: Sequence[str] = (),
    profile: Profile | None = None,
    duration: float | str = "5s",
    warmup: float | str = "1s",
    replications: int = 5,
    seed: int = 1,
    jobs: int | None = None,
    scheduler: str | None = None,
) -> SweepResult:
    """Simulate every level of one range (``archsim sweep``): ``rps="100..2000:step=100"``,
    ``users="10..200:points=20"`` or a ``sets`` entry ``"comp.attr=1..6"``; throughput and
    latency per level, the knee and the first component to saturate."""
    from archsim.capacity import parse_axis
    from archsim.capacity import sweep as run
    from archsim.capacity.axis import is_range
    from archsim.sim import Workload
    from archsim.sim.workload import parse_mix, parse_think

    if rps is not None and users is not None:
        raise ScenarioError(
            "give either rps (open) or users (closed), not both",
            hint="e.g. rps='100..2000:step=100'",
            code="bad-workload",
        )
    axes, fixed = [], []
    for text in sets:
        key, sep, value = text.partition("=")
        if sep and is_range(value.strip()):
            axes.append(parse_axis("set", value.strip(), key.strip()))
        else:
            fixed.append(text)
    for kind, given in (("rps", rps), ("users", users)):
        if isinstance(given, str) and is_range(given):
            axes.append(parse_axis(kind, given))
    if len(axes) != 1:
        raise ScenarioError(
            "give exactly one range to sweep" if axes else "nothing to sweep",
            hint="e.g. rps='100..3000:step=100' or sets=['cache.replicas=1..4']",
            code="bad-axis",
        )
    arch = _prepared(source, fixed, profile)

    def single(value: float | str | None, default: float) -> float:
        if value is None or (isinstance(value, str) and is_range(value)):
            return default  # the swept one's placeholder
        return float(value)

    workload = Workload(
        rps=None if users is not None else single(rps, 100.0),
        users=None if users is None else int(single(users, 1.0)),
        think=parse_think(think),
        mix=parse_mix(mix, arch) if mix else None,
    )
    cfg = _config(duration, warmup, replications, seed)
    cfg.check(arch)
    with _executor(jobs, scheduler) as executor:
        return run(arch, axes[0], workload, cfg, executor)


def plan(
    source: Source,
    *,
    target_rps: float,
    slo: str,
    scale: str = "replicas",
    max_replicas: int = 10,
    max_workers: int = 64,
    only: Sequence[str] = (),
    fixed: Sequence[str] = (),
    max_evaluations: int = 60,
    mix: str | None = None,
    sets: Sequence[str] = (),
    profile: Profile | None = None,
    duration: float | str = "5s",
    warmup: float | str = "1s",
    replications: int = 3,
    seed: int = 1,
    jobs: int | None = None,
    scheduler: str | None = None,
    output: FilePath | None = None,
) -> PlanResult:
    """The cheapest replica (and worker) counts that meet ``slo`` (``"p99<300ms"``) at
    ``target_rps``, verified by re-simulating (``archsim plan``); ``result.feasible`` says
    whether any configuration within the limits can, ``result.profile_yaml()`` is the change
    (written to ``output`` when feasible)."""
    from archsim.atomic import write_atomic
    from archsim.capacity import Limits, parse_slos
    from archsim.capacity import plan as search
    from archsim.sim import Workload
    from archsim.sim.workload import parse_mix

    slos = parse_slos(slo)
    arch = _prepared(source, sets, profile)
    limits = Limits(
        max_replicas=max_replicas,
        max_workers=max_workers,
        scale=scale,
        only=tuple(only),
        fixed=tuple(fixed),
        max_evaluations=max_evaluations,
    )
    cfg = _config(duration, warmup, replications, seed)
    with _executor(jobs, scheduler) as executor:
        result = search(
            arch,
            target_rps,
            slos,
            workload=Workload(mix=parse_mix(mix, arch) if mix else None),
            config=cfg,
            limits=limits,
            executor=executor,
        )
    if output is not None and result.feasible:
        write_atomic(Path(output), result.profile_yaml())
    return result
