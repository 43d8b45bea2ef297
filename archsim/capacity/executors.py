"""Where sweep and plan tasks run: in this process (``jobs=1``), a local process pool (default:
all cores), or a Dask cluster (``scheduler="tcp://host:8786"``, or ``"local"`` for a Dask
LocalCluster on this machine).

Every executor is a ``concurrent.futures.Executor``; results never depend on which one ran a
task (each replication is seeded by the run's seed and its index). Local workers ignore Ctrl-C
so that the parent alone decides what to keep when the user interrupts.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from archsim.errors import ScenarioError

__all__ = ["Backend", "default_jobs", "open_executor"]


@dataclass(frozen=True)
class Backend:
    """An open executor (None: run tasks in this process) and what it is, for messages."""

    executor: Executor | None
    description: str
    workers: int


def default_jobs() -> int:
    """Worker processes when none are asked for: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; workers finish their task, the parent stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def open_executor(jobs: int | None = None, scheduler: str | None = None) -> Iterator[Backend]:
    """Open the executor for ``jobs`` local workers or a Dask ``scheduler`` and close it after.

    Raises ScenarioError when Dask is missing or the scheduler cannot be reached.
    """
    if jobs is not None and jobs < 1:
        raise ScenarioError(
            f"--jobs must be >= 1, got {jobs}", hint="e.g. --jobs 2", code="bad-jobs"
        )
    if scheduler:
        with _dask(scheduler, jobs) as backend:
            yield backend
        return
    workers = jobs or default_jobs()
    if workers == 1:
        yield Backend(None, "in-process (1 worker)", 1)
        return
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint)
    try:
        yield Backend(pool, f"local process pool ({workers} workers)", workers)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _dask(scheduler: str, jobs: int | None) -> Iterator[Backend]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ScenarioError(
            "--scheduler needs Dask's distributed package",
            hint="pip install 'dask[distributed]'",
            code="no-dask",
        ) from None
    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(
                n_workers=jobs or default_jobs(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ScenarioError(
            f"cannot reach the Dask scheduler at {scheduler}: {exc}",
            hint="start one with `dask scheduler` and `dask worker tcp://host:8786`, "
            "or use --scheduler local",
            code="no-scheduler",
        ) from None
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        yield Backend(client.get_executor(), f"Dask at {scheduler} ({workers} workers)", workers)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
