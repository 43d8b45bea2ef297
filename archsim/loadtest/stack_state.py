"""A generated stack as a load test finds it: its manifest and state, whether its front door
answers, the doors its entries use, its tracing switch, and starting and stopping it around a
run (``--up``)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from archsim.errors import ScenarioError
from archsim.runtime import launcher
from archsim.runtime.auth import ROUNDS_ENV

__all__ = [
    "LOAD_TEST_ROUNDS",
    "doors",
    "find_stack",
    "running_stack",
    "stack_architecture",
    "tracing_environment",
]

#: PBKDF2 rounds of a stack that ``--up`` starts for a load test: every simulated user signs
#: up and logs in, which at the OWASP minimum would measure password hashing, not the stack.
LOAD_TEST_ROUNDS = 1_000


def stack_architecture(stack_dir: Path) -> str | None:
    """The name of the architecture a stack was generated from (its manifest), if readable."""
    try:
        return launcher.load_manifest(stack_dir).get("architecture")
    except (launcher.StackError, json.JSONDecodeError, OSError):
        return None  # find_stack reports an unusable stack with a proper message


def find_stack(stack_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest and state of a running stack; ScenarioError naming what is wrong."""
    if not stack_dir.is_dir():
        raise ScenarioError(
            f"{stack_dir} is not a directory",
            hint="give the directory archsim generate wrote, e.g. archsim loadtest ./stack",
            code="no-stack",
        )
    try:
        manifest = launcher.load_manifest(stack_dir)
    except launcher.StackError as exc:
        raise ScenarioError(exc.message, hint=exc.hint, code="no-stack") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{stack_dir / 'stack.json'} is not valid JSON: {exc.msg}",
            hint="generate the stack again: archsim generate MODEL.dot -o DIR",
            code="no-stack",
        ) from None
    state = launcher.status(stack_dir)
    if state is None or not any(i["state"] != "stopped" for i in state["instances"]):
        raise ScenarioError(
            f"no stack is running in {stack_dir}",
            hint=f"start it with: archsim up {stack_dir}  (or add --up to start and stop it)",
            code="not-running",
        )
    front = state.get("front_door")
    if not front or not _reachable(front):
        raise ScenarioError(
            f"the front door {front or '(none)'} of the stack in {stack_dir} does not answer",
            hint=f"check it with: archsim status {stack_dir}; restart with archsim down/up",
            code="unreachable",
        )
    return manifest, state


def _reachable(url: str) -> bool:
    try:
        httpx.get(url.rstrip("/") + "/_lb/health", timeout=3.0)
        return True
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def running_stack(stack_dir: Path, start: bool, timeout_s: float = 120.0) -> Iterator[None]:
    """Start the stack first when ``start`` (and stop it afterwards, whatever happens)."""
    if not start:
        yield
        return
    env = dict(os.environ)
    env.setdefault(ROUNDS_ENV, str(LOAD_TEST_ROUNDS))
    try:
        launcher.up(stack_dir, timeout_s=timeout_s, env=env)
    except launcher.StackError as exc:
        raise ScenarioError(f"--up: {exc.message}", hint=exc.hint, code="no-stack") from None
    try:
        yield
    finally:
        launcher.down(stack_dir)


def tracing_environment(state: dict[str, Any]) -> dict[str, str]:
    """The load generator's tracing switch, as the stack's state says it was started: on
    (its CLIENT spans beside the stack's, sampled alike) or off, whatever this shell says."""
    ratio = state.get("trace_sample")
    if ratio is None or not state.get("trace_dir"):
        return {"ARCHSIM_TRACE": "0"}
    return {
        "ARCHSIM_TRACE": "1",
        "ARCHSIM_TRACE_DIR": str(state["trace_dir"]),
        "ARCHSIM_TRACE_SAMPLE": f"{float(ratio):g}",
    }


def doors(manifest: dict[str, Any], state: dict[str, Any]) -> dict[str, str]:
    """Door component → URL for every entry's door (its first hop): a stack whose traffic
    sources call several components has several front doors."""
    urls: dict[str, str] = {}
    for inst in state.get("instances", []):
        urls.setdefault(inst["component"], inst["url"])
    wanted = {e["hops"][0] for e in manifest.get("entries", []) if e.get("hops")}
    return {door: urls[door] for door in sorted(wanted) if door in urls}
