"""The option parsing the commands and the Python API share: durations, fractions, workloads,
``--fail``/``--slow`` windows and simulation settings, each checked once.

Every parser takes the option's name as its caller spells it — ``"--duration"`` on the command
line, ``"duration"`` in Python — and a bad value raises :class:`~archsim.errors.ScenarioError`
naming it, with a hint in the caller's spelling (``e.g. --duration 60s`` or
``e.g. duration='60s'``). The CLI and ``archsim.api`` call these, so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from archsim.errors import ScenarioError
from archsim.model.quantities import parse_duration, parse_probability

if TYPE_CHECKING:
    from archsim.loadtest.runner import LoadSpec
    from archsim.model import Architecture
    from archsim.sim import SimConfig, Workload
    from archsim.sim.config import Fault

__all__ = [
    "example",
    "exclusive",
    "faults",
    "fraction",
    "load_spec",
    "seconds",
    "sim_config",
    "warmup",
    "workload",
]


def example(name: str, value: str) -> str:
    """``name`` given ``value`` as its caller writes it: ``--rps 200`` or ``rps='200'``."""
    return f"{name} {value}" if name.startswith("--") else f"{name}={value!r}"


def seconds(value: float | str, name: str, *, allow_zero: bool = True) -> float:
    """A duration in seconds: a number as given, or text (``"30s"``, ``"250ms"``)."""
    if not isinstance(value, str):
        return float(value)
    try:
        return parse_duration(value, allow_zero=allow_zero)
    except ValueError as exc:
        raise ScenarioError(
            f"{name}: {exc}", hint=f"e.g. {example(name, '60s')}", code="bad-option"
        ) from None


def warmup(value: float | str, name: str) -> float | str:
    """A warm-up: a duration in seconds, or ``"mser5"`` to let the data choose (MSER-5)."""
    if isinstance(value, str) and value.strip().lower() == "mser5":
        return "mser5"
    return seconds(value, name)


def fraction(value: float | str | None, name: str, *, eg: str = "2%") -> float | None:
    """A share: a number as given, or text (``"2%"``, ``"0.02"``); None stays None. ``eg`` is
    the example the error's hint gives."""
    if value is None or not isinstance(value, str):
        return value
    try:
        return parse_probability(value)
    except ValueError as exc:
        raise ScenarioError(
            f"{name}: {exc}", hint=f"e.g. {example(name, eg)}", code="bad-option"
        ) from None


def faults(fail: Sequence[str], slow: Sequence[str]) -> tuple[Fault, ...]:
    """The ``fail`` windows (``comp@30s..60s``) then the ``slow`` ones (``comp@10s..20s:x5``)."""
    from archsim.sim.scenario import parse_fault

    return tuple(parse_fault(t, "fail") for t in fail) + tuple(parse_fault(t, "slow") for t in slow)


def exclusive(rps: float | str | None, users: int | str | None, *, cli: bool = False) -> None:
    """An open (``rps``) or a closed (``users``) workload, not both."""
    if rps is not None and users is not None:
        hint = ("e.g. --rps 200, or --users 50 --think 1s" if cli
                else "e.g. rps=200, or users=50, think='1s'")  # fmt: skip
        name = ("--rps", "--users") if cli else ("rps", "users")
        raise ScenarioError(
            f"give either {name[0]} (open) or {name[1]} (closed), not both",
            hint=hint,
            code="bad-workload",
        )


def workload(
    arch: Architecture,
    *,
    rps: float | None,
    users: int | None,
    think: str,
    mix: str | None,
    arrivals: str = "poisson",
    ramp: str | None = None,
    cli: bool = False,
) -> Workload:
    """The open (``rps``, 100 by default) or closed (``users`` with ``think``) workload, checked;
    ``cli`` spells the error's names as options (``--rps``)."""
    from archsim.sim import Workload
    from archsim.sim.workload import parse_mix, parse_ramp, parse_think

    exclusive(rps, users, cli=cli)
    points, steps = parse_ramp(ramp) if ramp else ((), False)
    result = Workload(
        rps=None if users is not None else (rps if rps is not None else 100.0),
        arrivals=arrivals,
        ramp=points,
        ramp_steps=steps,
        users=users,
        think=parse_think(think),
        mix=parse_mix(mix, arch) if mix else None,
    )
    result.check()
    return result


def sim_config(
    *,
    duration: float | str,
    warmup_: float | str,
    replications: int,
    seed: int,
    precision: float | str | None = None,
    balancing: str = "round_robin",
    fault_windows: tuple[Fault, ...] = (),
    cli: bool = False,
) -> SimConfig:
    """The simulation settings (duration > 0, warm-up or mser5, precision as a share), unchecked
    against a model (``SimConfig.check(arch)`` does that)."""
    from archsim.sim import SimConfig

    dash = "--" if cli else ""
    return SimConfig(
        duration=seconds(duration, f"{dash}duration", allow_zero=False),
        warmup=warmup(warmup_, f"{dash}warmup"),
        replications=replications,
        precision=fraction(precision, f"{dash}precision"),
        seed=seed,
        balancing=balancing,
        faults=fault_windows,
    )


def load_spec(
    *,
    users: int,
    spawn_rate: float,
    duration: float | str,
    warmup_: float | str,
    rps: float | None,
    arrivals: str,
    think: str,
    processes: int,
    seed: int | None,
    cli: bool = False,
) -> LoadSpec:
    """A Locust run's settings (``archsim loadtest``), checked."""
    from archsim.loadtest.runner import LoadSpec
    from archsim.sim.workload import parse_think

    dash = "--" if cli else ""
    spec = LoadSpec(
        users=users,
        spawn_rate=spawn_rate,
        duration=seconds(duration, f"{dash}duration"),
        warmup=seconds(warmup_, f"{dash}warmup"),
        rps=rps,
        arrivals=arrivals,
        think=parse_think(think),
        processes=processes,
        seed=seed,
    )
    spec.check()
    return spec
