"""Run Locust headless against a running stack, in its own process, and build ``summary.json``.

Locust monkey-patches the interpreter with gevent, so it never runs inside archsim: it is a
child process (``python -m locust``) in its own process group, stopped with it. Closed model:
``users`` with think time between requests. Open model: ``rps`` arrivals per second on a
schedule fixed in advance (see the locustfile), served by a pool of ``users``. ``processes`` > 1
uses Locust's own master/worker mode (``--processes``). Services' ``/metrics`` and CPU times are
read when the warm-up ends and just before the load stops, so inside and outside figures cover
the same window.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archsim.atomic import write_atomic
from archsim.errors import ScenarioError
from archsim.loadtest.failures import read_errors
from archsim.loadtest.idle import SETTLED_CORES, settled_idle
from archsim.loadtest.metrics import Snapshot, component_deltas, cpu_seconds, scrape, steal_ratio
from archsim.loadtest.progress import Progress
from archsim.loadtest.stack_state import doors, find_stack, tracing_environment
from archsim.loadtest.summary import SCHEMA, merge_histograms, summarise_entries
from archsim.model import Distribution
from archsim.model.distributions import Exponential
from archsim.runtime import launcher
from archsim.runtime.auth import ENTRY_CLIENT

__all__ = ["Live", "LoadSpec", "run_locust"]

Live = Callable[[float, dict[str, float]], None]  # (elapsed s, aggregated live stats)
_START_TIMEOUT_S = 60.0
_STOP_GRACE_S = 20.0
# The end-of-run load snapshot is taken this long before Locust's end: reading every process's
# /metrics takes a second or more on a busy machine, and a snapshot that starts after Locust
# has exited is lost (the run then has no per-component data). The window's own span is
# measured, and calibration scales the front door's count to it, so an earlier end costs
# nothing but a little of the window.
_AFTER_MARGIN_S = 2.0


@dataclass(frozen=True)
class LoadSpec:
    """What Locust does (seconds). Closed when ``rps`` is None, open otherwise."""

    users: int = 20
    spawn_rate: float = 20.0
    duration: float = 60.0
    warmup: float = 5.0
    rps: float | None = None
    arrivals: str = "poisson"
    think: Distribution = field(default_factory=lambda: Exponential(mean_s=1.0))
    processes: int = 1
    seed: int | None = None

    def check(self) -> None:
        """ScenarioError for impossible values, naming the option."""

        def bad(message: str, hint: str) -> ScenarioError:
            return ScenarioError(message, hint=hint, code="bad-load")

        if self.users < 1:
            raise bad(f"--users must be at least 1, got {self.users}", "e.g. --users 20")
        if not self.spawn_rate > 0:
            raise bad(f"--spawn-rate must be > 0, got {self.spawn_rate:g}", "e.g. --spawn-rate 5")
        if not self.duration > 0:
            raise bad(f"--duration must be > 0, got {self.duration:g}s", "e.g. --duration 60s")
        if not 0 <= self.warmup < self.duration:
            raise bad(
                f"--warmup {self.warmup:g}s must be shorter than --duration {self.duration:g}s",
                "e.g. --duration 60s --warmup 5s",
            )
        if self.rps is not None and not self.rps > 0:
            raise bad(f"--rps must be > 0, got {self.rps:g}", "e.g. --rps 100")
        if self.arrivals not in ("poisson", "constant"):
            raise bad(f"unknown --arrivals '{self.arrivals}'", "poisson or constant")
        if self.processes < 1:
            raise bad(f"--processes must be at least 1, got {self.processes}", "e.g. 2")
        if self.processes > self.users:
            raise bad(
                f"--processes {self.processes} needs at least as many users ({self.users})",
                f"e.g. --users {self.processes * 10}",
            )

    def describe(self) -> dict[str, Any]:
        """The workload as summary.json records it (compare rebuilds the simulation from it)."""
        base: dict[str, Any] = {
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "processes": self.processes,
        }
        if self.rps is None:
            return {
                "type": "closed",
                **base,
                "think": str(self.think),
                "think_spec": self.think.model_dump(mode="json"),
                "think_mean_s": self.think.mean,
            }
        return {"type": "open", **base, "rps": self.rps, "arrivals": self.arrivals}


def _command(locustfile: Path, spec: LoadSpec, host: str, out: Path) -> list[str]:
    users = spec.users
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        f"{spec.spawn_rate:g}",
        "--run-time",
        f"{math.ceil(spec.duration)}s",
        "--host",
        host,
        "--csv",
        str(out / "locust"),
        "--html",
        str(out / "report.html"),
        "--stop-timeout",
        "5",
        "--loglevel",
        "WARNING",
        "--only-summary",
    ]
    if spec.processes > 1:
        cmd += ["--processes", str(spec.processes)]
    return cmd


def _environment(spec: LoadSpec, out: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ARCHSIM_OUT_DIR=str(out),
        ARCHSIM_WARMUP_S=f"{spec.warmup:g}",
        ARCHSIM_DURATION_S=f"{spec.duration:g}",
        ARCHSIM_THINK=json.dumps(spec.think.model_dump(mode="json")),
        ARCHSIM_RPS=f"{(spec.rps or 0.0) / spec.processes:.6g}",
        ARCHSIM_ARRIVALS=spec.arrivals,
        PYTHONUNBUFFERED="1",
    )
    if spec.seed is not None:
        env["ARCHSIM_SEED"] = str(spec.seed)
    else:
        env.pop("ARCHSIM_SEED", None)
    return env


def _live_stats(out: Path) -> dict[str, float]:
    """The Aggregated row of Locust's periodically written stats CSV (empty before the first)."""
    with (
        contextlib.suppress(OSError, ValueError, KeyError, csv.Error),
        open(out / "locust_stats.csv", newline="") as fh,
    ):
        for row in csv.DictReader(fh):
            if row.get("Name") == "Aggregated":
                return {
                    "requests": float(row["Request Count"]),
                    "failures": float(row["Failure Count"]),
                    "rps": float(row["Requests/s"]),
                }
    return {}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _started_at(out: Path) -> float | None:
    marks = []
    for path in out.glob("started-*.json"):
        with contextlib.suppress(OSError, ValueError):
            marks.append(float(json.loads(path.read_text())["started"]))
    return min(marks) if marks else None


def _load_snapshot(instances: list[dict[str, Any]], locust_pid: int) -> tuple[Snapshot, float]:
    snap = scrape(instances)
    return snap, cpu_seconds([locust_pid]).get(locust_pid, 0.0)


def run_locust(
    stack_dir: Path,
    locustfile_text: str,
    spec: LoadSpec,
    out: Path,
    *,
    architecture: str | None,
    live: Live | None = None,
    idle_s: float = 3.0,
    settle_s: float = 60.0,
) -> dict[str, Any]:
    """Run one load test and return the summary (schema ``archsim.loadtest/1``); writes the
    locustfile, Locust's CSVs and HTML report and the raw histograms into ``out``."""
    spec.check()
    # Locust runs inside ``out`` and is given paths under it: relative ones would resolve twice.
    stack_dir, out = Path(stack_dir).resolve(), Path(out).resolve()
    manifest, state = find_stack(stack_dir)
    _check_architecture(stack_dir, manifest, architecture)
    locustfile = _prepare_out(out, locustfile_text)
    instances = [i for i in state["instances"] if i["state"] != "stopped"]
    front = str(state["front_door"])
    idle, waited = settled_idle(instances, idle_s, settle_s) if idle_s > 0 else ({}, 0.0)
    log = out / "locust.log"
    proc = _launch(stack_dir, manifest, state, front, locustfile, spec, out, log)
    progress = Progress(stack_dir, spec, out)  # DIR/.archsim/loadtest.json, for the dashboard
    try:
        t_launch = time.time()
        started = _wait_started(proc, out, log, t_launch)
        before, after = _follow(proc, spec, instances, out, log, started, t_launch, progress, live)
    except BaseException:
        _stop(proc)
        progress.finish(None, out)
        raise
    try:
        summary = _summary(out, spec, manifest, state, before, after, proc.returncode, log)
    except ScenarioError:
        progress.finish(None, out)
        raise
    summary["idle_cpu"] = idle
    summary["idle_settled"] = sum(idle.values()) <= SETTLED_CORES
    summary["idle_wait_s"] = round(waited, 1)
    progress.finish(summary, out)
    return summary


def _check_architecture(
    stack_dir: Path, manifest: dict[str, Any], architecture: str | None
) -> None:
    """Refuse a stack generated from another model than ``architecture`` (None: any)."""
    if architecture is not None and manifest.get("architecture") != architecture:
        raise ScenarioError(
            f"the stack in {stack_dir} was generated from '{manifest.get('architecture')}', "
            f"not from '{architecture}'",
            hint="give the model the stack was generated from, or generate it again",
            code="wrong-architecture",
        )


def _prepare_out(out: Path, locustfile_text: str) -> Path:
    """Create ``out``, remove a previous run's histograms and Locust files, write the
    locustfile; returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("hist-*.json"), *out.glob("started-*.json"), *out.glob("locust_*")]:
        stale.unlink()
    locustfile = out / "locustfile.py"
    write_atomic(locustfile, locustfile_text)
    return locustfile


def _launch(
    stack_dir: Path,
    manifest: dict[str, Any],
    state: dict[str, Any],
    front: str,
    locustfile: Path,
    spec: LoadSpec,
    out: Path,
    log: Path,
) -> subprocess.Popen[bytes]:
    """Start Locust against the stack's front door, in its own process group, its output to
    ``log``."""
    with open(log, "wb") as fh:
        return subprocess.Popen(
            _command(locustfile, spec, front, out),
            cwd=out,
            env={
                **_environment(spec, out),
                "ARCHSIM_DOORS": json.dumps(doors(manifest, state)),
                **tracing_environment(state),
                # signing in at the auth service itself (an entry) takes a client credential
                "ARCHSIM_CLIENT_AUTH": launcher.client_authorization(stack_dir, ENTRY_CLIENT) or "",
            },
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: stopping it stops its workers too
        )


def _wait_started(
    proc: subprocess.Popen[bytes], out: Path, log: Path, t_launch: float
) -> float | None:
    """When Locust started generating load (epoch s), or None when it exited first; a
    ScenarioError when it has not started within ``_START_TIMEOUT_S``."""
    started = None
    while started is None:
        if proc.poll() is not None:
            break
        if time.time() - t_launch > _START_TIMEOUT_S:
            raise ScenarioError(
                f"Locust did not start within {_START_TIMEOUT_S:g}s",
                hint=f"see {log}",
                code="locust-failed",
            )
        time.sleep(0.1)
        started = _started_at(out)
    return started


def _end_snapshot_at(spec: LoadSpec) -> float:
    """Seconds into the run for the end-of-run snapshot: ``_AFTER_MARGIN_S`` before the end,
    keeping at least three quarters of the measured window."""
    window = spec.duration - spec.warmup
    return max(spec.duration - _AFTER_MARGIN_S, spec.warmup + 0.75 * window)


def _follow(
    proc: subprocess.Popen[bytes],
    spec: LoadSpec,
    instances: list[dict[str, Any]],
    out: Path,
    log: Path,
    started: float | None,
    t_launch: float,
    progress: Progress,
    live: Live | None,
) -> tuple[tuple[Snapshot, float] | None, tuple[Snapshot, float] | None]:
    """Follow the run until Locust exits: report progress, and take the load snapshots at
    the end of warm-up and just before the end (None when the run did not reach them); a
    ScenarioError when Locust outlives the run by ``_STOP_GRACE_S``."""
    before: tuple[Snapshot, float] | None = None
    after: tuple[Snapshot, float] | None = None
    deadline = (started or t_launch) + spec.duration + _STOP_GRACE_S
    while proc.poll() is None:
        now = time.time()
        elapsed = now - (started or now)
        if before is None and started and elapsed >= spec.warmup:
            before = _load_snapshot(instances, proc.pid)
        if after is None and before is not None and elapsed >= _end_snapshot_at(spec):
            after = _load_snapshot(instances, proc.pid)
        stats = _live_stats(out)
        progress.update(min(elapsed, spec.duration), stats)
        if live is not None:
            live(min(elapsed, spec.duration), stats)
        if now > deadline:
            raise ScenarioError(
                f"Locust did not stop {_STOP_GRACE_S:g}s after the run's end",
                hint=f"see {log}",
                code="locust-failed",
            )
        time.sleep(0.2)
    return before, after


def _summary(
    out: Path,
    spec: LoadSpec,
    manifest: dict[str, Any],
    state: dict[str, Any],
    before: tuple[Snapshot, float] | None,
    after: tuple[Snapshot, float] | None,
    exit_code: int | None,
    log: Path,
) -> dict[str, Any]:
    """The run's summary (schema ``archsim.loadtest/1``) from the workers' histograms in
    ``out``, the stack's load snapshots and Locust's exit code."""
    parts, lags, starts = _worker_histograms(out, exit_code, log)
    window = max(spec.duration - spec.warmup, 1e-9)
    endpoints, total = summarise_entries(merge_histograms(parts), window)
    components, generator = _window_load(before, after)
    lag = _lag(lags)
    return {
        "schema": SCHEMA,
        "architecture": manifest.get("architecture"),
        "stack": state.get("stack"),
        "front_door": state.get("front_door"),
        "entries_model": [e["id"] for e in manifest.get("entries", [])],
        "workload": spec.describe(),
        "duration_s": spec.duration,
        "warmup_s": spec.warmup,
        "window_s": window,
        "started_at": min(starts),
        "endpoints": endpoints,
        "total": total,
        "errors": read_errors(out / "locust_failures.csv"),
        "components": components,
        "load_generator": generator,
        "open_model": lag if spec.rps is not None else None,
        "host": _host(before, after),
        "locust": {
            "exit_code": exit_code,
            "files": {
                "stats_csv": "locust_stats.csv",
                "failures_csv": "locust_failures.csv",
                "history_csv": "locust_stats_history.csv",
                "html": "report.html",
                "log": log.name,
                "locustfile": "locustfile.py",
            },
        },
    }


def _worker_histograms(
    out: Path, exit_code: int | None, log: Path
) -> tuple[list[Any], list[dict[str, Any]], list[float]]:
    """Per Locust worker (``hist-*.json``): its entries' histograms, its lag record and when it
    started (epoch s); a ScenarioError, with the log's tail, when none recorded a request."""
    parts, lags, starts = [], [], []
    for path in sorted(out.glob("hist-*.json")):
        data = json.loads(path.read_text())
        parts.append(data["entries"])
        lags.append(data["lag"])
        starts.append(float(data["started"]))
    if not parts:
        lines = log.read_text(errors="replace").splitlines() if log.is_file() else []
        tail = "\n".join(lines[-12:])
        raise ScenarioError(
            f"Locust recorded no requests (exit code {exit_code})" + (f":\n{tail}" if tail else ""),
            hint=f"full log: {log}; is --duration longer than --warmup?",
            code="locust-failed",
        )
    return parts, lags, starts


def _window_load(
    before: tuple[Snapshot, float] | None, after: tuple[Snapshot, float] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(per component load, the load generator's CPU) over the measured window; both empty
    when a snapshot is missing."""
    components: dict[str, Any] = {}
    generator: dict[str, Any] = {}
    if before is not None and after is not None:
        components = component_deltas(before[0], after[0])
        span = max(after[0].taken_at - before[0].taken_at, 1e-9)
        cpu = max(0.0, after[1] - before[1])
        generator = {"cpu_s": cpu, "cpu_utilisation": cpu / span, "window_s": span}
    return components, generator


def _host(
    before: tuple[Snapshot, float] | None, after: tuple[Snapshot, float] | None
) -> dict[str, Any]:
    """The machine: its cores, and the share of its CPU time a hypervisor gave to other
    guests over the window (``steal_ratio``, None where not measured): a machine that lost
    a tenth of its CPU serves and saturates as a slower one (docs/calibrate.md)."""
    steal = None
    if before is not None and after is not None:
        steal = steal_ratio(before[0].machine, after[0].machine)
    return {"cpus": os.cpu_count() or 1, "steal_ratio": steal}


def _lag(lags: list[dict[str, Any]]) -> dict[str, Any]:
    """The open model's schedule lag over all workers: requests, late ones, mean and max (s)."""
    return {
        "count": sum(x["count"] for x in lags),
        "late": sum(x["late"] for x in lags),
        "mean_s": sum(x["sum_s"] for x in lags) / max(1, sum(x["count"] for x in lags)),
        "max_s": max((x["max_s"] for x in lags), default=0.0),
    }
