"""Start a generated stack for a test and run the CLI's load test on it (real processes on
loopback, bounded by timeouts, always stopped)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from archsim.codegen import apply_writes, plan_writes, render
from archsim.model import load

ROOT = Path(__file__).resolve().parent.parent
_CLI = "import sys; from archsim.cli import main; sys.argv[0] = 'archsim'; sys.exit(main())"


def embedded_env(**extra: str) -> dict[str, str]:
    """This process's environment without the machine's REDIS_URL and DATABASE_URL, so a stack
    starts on its embedded parts, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    return {**base, **extra}


@contextmanager
def started_stack(model: Path, directory: Path, env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Generate ``model`` into ``directory``, start it with ``env``, yield the launcher's state
    (front door, instances, resources), then stop every process it started."""
    from archsim.runtime import launcher

    apply_writes(plan_writes(directory, render(load(model).architecture)))
    try:
        yield launcher.up(directory, env=env, timeout_s=120)
    finally:
        launcher.down(directory)


@contextmanager
def running_stack(model: Path, directory: Path, **env: str) -> Iterator[str]:
    """Generate ``model`` into ``directory``, start it on the embedded parts, yield its front
    door URL, then stop it."""
    with started_stack(model, directory, embedded_env(**env)) as state:
        yield state["front_door"]


def run_loadtest(directory: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``archsim loadtest DIRECTORY ARGS -o OUT`` in a process of its own (Locust patches the
    interpreter), with this checkout first on PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", _CLI, "loadtest", str(directory), *args, "-o", str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
