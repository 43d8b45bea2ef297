"""`status` tells the truth (issue 10, item 6): an `up` killed half-way leaves a stack that is
not ready (exit 1, naming what never started), and `down` still stops what is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from archsim.codegen import apply_writes, plan_writes, render
from archsim.model import load
from archsim.runtime import launcher

LIBRARY = Path(__file__).resolve().parent / "stack_models" / "library.dot"
ARCHSIM = [sys.executable, "-c", "from archsim.cli import main; main()"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    env["NO_COLOR"] = "1"
    return env


def _kill_up_half_way(stack: Path) -> subprocess.Popen:
    """Start ``archsim up`` and SIGKILL it once some, not all, processes are running."""
    up = subprocess.Popen(
        [*ARCHSIM, "up", str(stack), "--timeout", "120"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state_file = stack / ".archsim" / "state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and up.poll() is None:
        try:
            state = json.loads(state_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            state = {}
        started = len(state.get("instances", []))
        if 0 < started < len(state.get("planned", [])):
            up.send_signal(signal.SIGKILL)
            up.wait(10)
            return up
        time.sleep(0.01)
    up.kill()
    raise AssertionError("up finished (or never started) before it could be killed half-way")


def test_a_half_started_stack_is_not_ready_and_down_stops_the_rest(tmp_path: Path) -> None:
    apply_writes(plan_writes(tmp_path, render(load(LIBRARY).architecture)))
    _kill_up_half_way(tmp_path)
    try:
        state = launcher.status(tmp_path)
        assert state is not None and state["phase"] == "incomplete" and state["missing"]
        shown = subprocess.run(
            [*ARCHSIM, "status", str(tmp_path)], env=_env(), capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert shown.returncode == 1, shown.stdout + shown.stderr
        assert "did not finish" in shown.stdout and "archsim down" in shown.stdout
        as_json = subprocess.run(
            [*ARCHSIM, "status", str(tmp_path), "--json"], env=_env(), capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        assert as_json.returncode == 1
        assert json.loads(as_json.stdout)["missing"] == state["missing"]
        pids = [int(i["pid"]) for i in state["instances"]]
    finally:
        stopped = subprocess.run(
            [*ARCHSIM, "down", str(tmp_path)], env=_env(), capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not [pid for pid in pids if launcher.instance_alive(pid)]


def test_a_finished_up_is_ready(tmp_path: Path) -> None:
    apply_writes(plan_writes(tmp_path, render(load(LIBRARY).architecture)))
    try:
        launcher.up(tmp_path, env=_env(), timeout_s=120)
        state = launcher.status(tmp_path)
        assert state["phase"] == "up" and state["missing"] == []
        assert all(i["state"] == "ready" for i in state["instances"])
    finally:
        launcher.down(tmp_path)
