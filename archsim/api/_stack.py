"""The running stack: ``up``, ``status``, ``down`` and ``loadtest``; the only functions that start
processes."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archsim.api import options
from archsim.api._base import FilePath, Source, _arch
from archsim.errors import ArchsimError, Location, ScenarioError

__all__ = ["down", "loadtest", "status", "up"]


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
    from archsim.loadtest.runner import run_locust
    from archsim.loadtest.stack_state import running_stack, stack_architecture
    from archsim.loadtest.thresholds import evaluate, parse_threshold

    folder, target = Path(stack), Path(out)
    thresholds = [parse_threshold(text) for text in check]
    spec = options.load_spec(
        users=users,
        spawn_rate=spawn_rate,
        duration=duration,
        warmup_=warmup,
        rps=rps,
        arrivals=arrivals,
        think=think,
        processes=processes,
        seed=seed,
    )
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
