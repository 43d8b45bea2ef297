"""The processes of a stack: spawn one in its own process group, tell whether it lives and
answers, wait for a stage to be ready (saying why one died), stop a group of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .auth import client_secret
from .stack_files import Instance, StackError, signing_secret, stack_secret
from .stack_plan import command

__all__ = [
    "Progress",
    "instance_alive",
    "last_error",
    "ready",
    "running",
    "spawn",
    "stop",
    "wait_ready",
]

Progress = Callable[[list[Instance]], None]


def instance_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    if pid <= 0:
        return False
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our child and it just exited: reaped
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def running(state: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The instances of a state file whose process still lives."""
    if not state:
        return []
    return [i for i in state["instances"] if instance_alive(int(i["pid"]))]


def ready(inst: Instance | dict[str, Any]) -> bool:
    """Does the instance answer its health check (HTTP 200, or PONG for Redis) now?"""
    health = inst.health if isinstance(inst, Instance) else inst["health"]
    if health == "redis":
        return _probe_redis(inst.port if isinstance(inst, Instance) else int(inst["port"]))
    url = inst.url if isinstance(inst, Instance) else inst["url"]
    return _probe(url + health)


def _probe_redis(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _probe(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def spawn(inst: Instance, proc: dict[str, Any], stack_dir: Path, env: dict[str, str]) -> None:
    """Start ``inst`` in a session of its own, its output appended to its log."""
    inst_env = dict(env)
    if proc.get("secrets") and not inst_env.get("ARCHSIM_JWT_SECRET"):
        inst_env["ARCHSIM_JWT_SECRET"] = stack_secret(stack_dir)
    if proc.get("token_client"):  # its own credential, in its environment only
        signing = signing_secret(stack_dir, inst_env)
        inst_env["ARCHSIM_CLIENT_SECRET"] = client_secret(signing, inst.component)
    inst_env.update(
        ARCHSIM_SERVICE=inst.component,
        ARCHSIM_INSTANCE=inst.instance,
        ARCHSIM_PORT=str(inst.port),
        ARCHSIM_HOST="127.0.0.1",
    )
    Path(inst.log).parent.mkdir(parents=True, exist_ok=True)
    with open(inst.log, "ab") as log:
        child = subprocess.Popen(
            command(proc, inst, stack_dir),
            cwd=stack_dir,
            env=inst_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    inst.pid = child.pid
    inst.state = "starting"


def wait_ready(
    batch: list[Instance], deadline: float, progress: Progress | None, everything: list[Instance]
) -> None:
    """Poll ``batch`` until each instance is ready; StackError naming why the ones that died
    did, or which were not ready by ``deadline`` (``time.monotonic()``, s)."""
    while True:
        for inst in batch:
            if inst.state != "starting":
                continue
            if not instance_alive(inst.pid):
                inst.state = "failed"
            elif ready(inst):
                inst.state = "ready"
        if progress:
            progress(everything)
        if any(i.state == "failed" for i in batch):
            raise _start_failed(batch)
        if all(i.state == "ready" for i in batch):
            return
        if time.monotonic() > deadline:
            slow = [i.instance for i in batch if i.state != "ready"]
            raise StackError(
                f"not ready in time: {', '.join(slow)}",
                "see archsim logs DIR SERVICE; a slow machine may need --timeout",
            )
        time.sleep(0.1)


def _start_failed(batch: list[Instance]) -> StackError:
    """The error for a stage in which processes exited: each with its last error line."""
    failed = [i for i in batch if i.state == "failed"]
    time.sleep(0.3)  # let the rest of a stage that shares the fault fail too
    for inst in batch:
        if inst.state == "starting" and not instance_alive(inst.pid):
            inst.state = "failed"
            failed.append(inst)
    lines = [f"{i.instance}: {last_error(Path(i.log))} (log: {i.log})" for i in failed]
    folder = Path(failed[0].log).parents[2]  # DIR/.archsim/logs/NAME.log
    return StackError(
        f"{len(failed)} process(es) exited during start-up:\n" + "\n".join(lines),
        f"the whole log: archsim logs {failed[0].component} -d {folder}",
    )


def last_error(path: Path) -> str:
    """One line saying why a process died, from this start's part of its log (JSON lines, or
    raw stderr from before logging was set up): the exception line of the last traceback, else
    the last error message."""
    try:
        lines = [x for x in path.read_text(errors="replace").splitlines()[-400:] if x.strip()]
    except OSError:
        return "exited (no log)"
    if lines and not lines[-1].lstrip().startswith("{"):  # raw stderr: a bare traceback
        return _exception_line("\n".join(lines)) or lines[-1].strip()
    fallback = None
    for raw in reversed(lines):
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        message = str(record.get("error") or record.get("msg") or "")
        if message.startswith("Started server process"):
            break  # uvicorn's first line: what is above belongs to an earlier start
        if "Traceback (most recent call last)" in message or record.get("error"):
            return _exception_line(message) or message.strip().splitlines()[-1]
        if fallback is None and record.get("level") in ("error", "critical") and message:
            fallback = message.strip().splitlines()[-1]
    return fallback or "exited without an error message"


def _exception_line(traceback: str) -> str | None:
    """The ``SomeError: what`` line of a traceback: the last unindented line that is not a
    note such as ``(Background on this error at: ...)``."""
    for line in reversed(traceback.splitlines()):
        if line and not line[0].isspace() and not line.startswith(("(", "Traceback", "The above")):
            return line.strip()
    return None


def stop(instances: list[dict[str, Any]], grace_s: float = 8.0) -> None:
    """SIGTERM each process group (reverse start order), wait, then SIGKILL what is left."""
    for inst in reversed(instances):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(inst["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(instance_alive(int(i["pid"])) for i in instances):
        time.sleep(0.05)
    for inst in instances:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(inst["pid"]), signal.SIGKILL)  # the group: no orphaned children
        instance_alive(int(inst["pid"]))  # reap if it was our child
