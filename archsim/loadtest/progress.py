"""A load test's progress, written where a dashboard can read it: ``DIR/.archsim/loadtest.json``.

``run_locust`` keeps the file current (about once a second) while Locust runs: phase, elapsed
and planned seconds, users, current request rate, requests and failures so far. The steps of a
stepped run (``out/step-<rate>/`` directories of one ``out``) accumulate in ``steps`` as each
finishes, so the curve grows; at the end ``reports`` names the files of the run. Writing is
atomic (a temporary file renamed over the old one) and never fails the load test.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

__all__ = ["PROGRESS_FILE", "PROGRESS_SCHEMA", "Progress", "progress_path", "read_progress"]

PROGRESS_SCHEMA = "archsim.loadtest-progress/1"
PROGRESS_FILE = "loadtest.json"
_EVERY_S = 1.0


def progress_path(stack_dir: Path) -> Path:
    """Where the progress of load tests on the stack in ``stack_dir`` is written."""
    return stack_dir / ".archsim" / PROGRESS_FILE


def read_progress(stack_dir: Path) -> dict[str, Any] | None:
    """The last progress written for ``stack_dir`` (None when absent or unreadable)."""
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(progress_path(stack_dir).read_text())
        if isinstance(data, dict) and data.get("schema") == PROGRESS_SCHEMA:
            return data
    return None


def _is_step(out: Path) -> bool:
    return out.name.startswith("step-")


class Progress:
    """The progress file of one run (``spec``: the LoadSpec, ``out``: its results folder)."""

    def __init__(self, stack_dir: Path, spec: Any, out: Path) -> None:
        self.path = progress_path(stack_dir)
        self._last = 0.0
        run = out.parent if _is_step(out) else out
        steps: list[dict[str, Any]] = []
        previous = read_progress(stack_dir)
        if _is_step(out) and previous and previous.get("out") == str(run.resolve()):
            steps = list(previous.get("steps") or [])  # the earlier steps of this stepped run
        self.doc: dict[str, Any] = {
            "schema": PROGRESS_SCHEMA,
            "phase": "running",
            "out": str(run.resolve()),
            "run": out.name if _is_step(out) else None,
            "started_at": time.time(),
            "updated_at": time.time(),
            "duration_s": spec.duration,
            "warmup_s": spec.warmup,
            "workload": spec.describe(),
            "users_target": spec.users,
            "spawn_rate": spec.spawn_rate,
            "elapsed_s": 0.0,
            "users": 0,
            "rps": 0.0,
            "requests": 0,
            "failures": 0,
            "steps": steps,
            "reports": {},
        }
        self._write()

    def update(self, elapsed: float, stats: dict[str, float]) -> None:
        """Record the live figures (throttled: at most about once a second)."""
        now = time.monotonic()
        if now - self._last < _EVERY_S:
            return
        self._last = now
        spawned = self.doc["spawn_rate"] * max(elapsed, 0.0)
        self.doc.update(
            elapsed_s=round(elapsed, 2),
            users=int(min(self.doc["users_target"], spawned)),
            rps=stats.get("rps", 0.0),
            requests=int(stats.get("requests", 0)),
            failures=int(stats.get("failures", 0)),
        )
        self._write()

    def finish(self, summary: dict[str, Any] | None, out: Path) -> None:
        """The run ended (``summary`` None: it failed): final figures, step and reports."""
        self.doc["phase"] = "done" if summary is not None else "failed"
        if summary is not None:
            total = summary.get("total") or {}
            self.doc.update(
                elapsed_s=self.doc["duration_s"],
                requests=int(total.get("requests", 0)),
                failures=int(total.get("failures", 0)),
                rps=total.get("throughput", 0.0),
            )
            if _is_step(out):
                self.doc["steps"].append({
                    "offered_rps": (summary.get("workload") or {}).get("rps"),
                    "throughput": total.get("throughput"),
                    "fail_ratio": total.get("fail_ratio"),
                    "p95": total.get("p95"),
                    "dir": out.name,
                })  # fmt: skip
        prefix = f"{out.name}/" if _is_step(out) else ""
        reports = {"html": f"{prefix}report.html", "summary": f"{prefix}summary.json"}
        if _is_step(out):
            reports["steps"] = "steps.json"
        self.doc["reports"] = reports
        self._write()

    def _write(self) -> None:
        self.doc["updated_at"] = time.time()
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(self.doc, indent=1) + "\n")
            tmp.replace(self.path)
