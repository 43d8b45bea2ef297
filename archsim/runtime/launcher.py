"""The local launcher: start a generated stack's processes, watch them, stop them.

Reads the manifest the generator wrote (``stack.json``), gives every process instance a free
loopback port, starts infrastructure first and services stage by stage in dependency order,
waits for each stage to be ready, and records what runs in ``.archsim/state.json`` (format in
docs/up.md). Every process gets its own process group, so ``down`` stops it with everything it
spawned. Also runnable without archsim: ``python -m archsim_runtime.launcher up|down|status .``.

The parts: ``stack_files`` (manifest, state file, secret), ``stack_plan`` (instances, their
commands and environment), ``processes`` (spawn, probe, wait, stop).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .otlp import TracingError, sample_ratio
from .prepare import prepare
from .processes import Progress, instance_alive, ready, running, spawn, stop, wait_ready
from .stack_files import (
    STATE_DIR,
    STATE_FILE,
    Instance,
    StackError,
    client_authorization,
    load_manifest,
    read_state,
    shareable,
    write_state,
)
from .stack_plan import environment, plan

__all__ = [
    "STATE_DIR",
    "Instance",
    "StackError",
    "client_authorization",
    "down",
    "instance_alive",
    "load_manifest",
    "prepare",
    "read_state",
    "start_component",
    "status",
    "stop_component",
    "up",
]


def up(
    stack_dir: Path,
    *,
    replicas: dict[str, int] | None = None,
    timeout_s: float = 90.0,
    progress: Progress | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Start the stack in ``stack_dir``; returns the state written to ``.archsim/state.json``.
    StackError if it already runs or does not come up (then everything started is stopped)."""
    stack_dir = stack_dir.resolve()
    manifest = load_manifest(stack_dir)
    alive = running(read_state(stack_dir))
    if alive:
        raise StackError(
            f"the stack in {stack_dir} is already running ({len(alive)} processes)",
            "archsim status DIR, or archsim down DIR",
        )
    base_env = dict(os.environ if env is None else env)
    external_redis = bool(base_env.get("REDIS_URL"))
    instances = plan(manifest, stack_dir, replicas or {}, external_redis)
    # stable across down/up (streams, groups and keys live on in the data directory), distinct
    # between two directories that share a Redis
    stack_id = f"{manifest['name']}-{hashlib.sha256(str(stack_dir).encode()).hexdigest()[:6]}"
    full_env = environment(manifest, instances, stack_dir, stack_id, base_env)
    state = _first_state(manifest, instances, stack_dir, stack_id, full_env)
    prepare(stack_dir, manifest, [i.to_dict() for i in instances], full_env)
    _start_stages(manifest, instances, stack_dir, full_env, state, timeout_s, progress)
    state["env"] = shareable({k: v for k, v in full_env.items() if k.startswith("ARCHSIM_")})
    state["instances"] = [i.to_dict() for i in instances]
    state["complete"] = True
    write_state(stack_dir, state)
    return state


def _first_state(
    manifest: dict[str, Any],
    instances: list[Instance],
    stack_dir: Path,
    stack_id: str,
    env: dict[str, str],
) -> dict[str, Any]:
    """The state file of an ``up`` that has started nothing yet."""
    front = manifest.get("front_door")
    return {
        "version": 1,
        "stack": stack_id,
        "name": manifest["name"],
        "dir": str(stack_dir),
        "started_at": time.time(),
        "front_door": next((i.url for i in instances if i.component == front), None),
        "front_door_component": front,
        "emulate": env.get("ARCHSIM_EMULATE", "0"),
        "trace": env.get("ARCHSIM_TRACE", "0"),
        # the load generator traces as the stack does: the same sampling, the same folder
        "trace_sample": _trace_sample(env),
        "trace_dir": str(stack_dir / env.get("ARCHSIM_TRACE_DIR", STATE_DIR + "/traces")),
        "resources": shareable({k: v for k, v in env.items() if k.startswith("ARCHSIM_URL_")}),
        "instances": [],
        # until up finishes, status compares what runs with what was planned: an up that
        # died half-way is not a running stack, however ready its first processes are
        "planned": [i.instance for i in instances],
        "launcher_pid": os.getpid(),
        "complete": False,
    }


def _trace_sample(env: dict[str, str]) -> float | None:
    """The share of traces the stack records (``otlp.sample_ratio``); None when tracing is off."""
    on = ("1", "true", "yes", "on")
    if env.get("ARCHSIM_TRACE", "0").lower() not in on:
        return None
    if env.get("OTEL_SDK_DISABLED", "false").lower() in on:
        return None
    try:
        return sample_ratio(env)
    except TracingError:  # the services refuse to start and say why
        return None


def _start_stages(
    manifest: dict[str, Any],
    instances: list[Instance],
    stack_dir: Path,
    env: dict[str, str],
    state: dict[str, Any],
    timeout_s: float,
    progress: Progress | None,
) -> None:
    """Spawn the stages in order, each once the one before is ready, recording every spawn in
    the state file; on any failure stop all that was started and remove the state file."""
    procs = {p["id"]: p for p in manifest["processes"]}
    deadline = time.monotonic() + timeout_s
    try:
        for stage in sorted({i.stage for i in instances}):
            batch = [i for i in instances if i.stage == stage]
            for inst in batch:
                spawn(inst, procs[inst.component], stack_dir, env)
            state["instances"] = [i.to_dict() for i in instances if i.pid]
            write_state(stack_dir, state)
            wait_ready(batch, deadline, progress, instances)
    except BaseException:
        stop([i.to_dict() for i in instances if i.pid])
        (stack_dir / STATE_DIR / STATE_FILE).unlink(missing_ok=True)
        raise


def down(stack_dir: Path) -> list[str]:
    """Stop every process of the stack gracefully; returns the instances that were running."""
    stack_dir = stack_dir.resolve()
    state = read_state(stack_dir)
    if state is None:
        return []
    stopped = [i["instance"] for i in running(state)]
    stop(state["instances"])
    (stack_dir / STATE_DIR / STATE_FILE).unlink(missing_ok=True)
    return stopped


def status(stack_dir: Path) -> dict[str, Any] | None:
    """The state with each instance's current ``state`` (ready, unhealthy, stopped) and
    ``missing``: planned instances an unfinished ``up`` never started (``starting`` while that
    ``up`` still runs, ``incomplete`` once it died)."""
    state = read_state(stack_dir.resolve())
    if state is None:
        return None
    for inst in state["instances"]:
        if not instance_alive(int(inst["pid"])):
            inst["state"] = "stopped"
        else:
            inst["state"] = "ready" if ready(inst) else "unhealthy"
    started = {i["instance"] for i in state["instances"]}
    state["missing"] = [name for name in state.get("planned", []) if name not in started]
    if state.get("complete", True):
        state["phase"] = "up"
    else:
        launcher = int(state.get("launcher_pid") or 0)
        state["phase"] = "starting" if instance_alive(launcher) else "incomplete"
    return state


def stop_component(stack_dir: Path, component: str, instance: str | None = None) -> list[str]:
    """Stop the instances of one component (or one instance); the rest keeps running."""
    stack_dir = stack_dir.resolve()
    state = read_state(stack_dir)
    if state is None:
        raise StackError(f"the stack in {stack_dir} is not running")
    chosen = [
        i
        for i in state["instances"]
        if i["component"] == component and (instance is None or i["instance"] == instance)
    ]
    if not chosen:
        raise StackError(f"no instance {instance or component!r} in this stack")
    stop(chosen)
    return [i["instance"] for i in chosen]


def start_component(stack_dir: Path, component: str, timeout_s: float = 60.0) -> list[str]:
    """Start again the stopped instances of one component, on their old ports."""
    stack_dir = stack_dir.resolve()
    state, manifest = read_state(stack_dir), load_manifest(stack_dir)
    if state is None:
        raise StackError(f"the stack in {stack_dir} is not running", "archsim up DIR")
    proc = next((p for p in manifest["processes"] if p["id"] == component), None)
    if proc is None:
        raise StackError(f"no component {component!r} in this stack")
    env = {**os.environ, **state.get("env", {})}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(stack_dir), os.environ.get("PYTHONPATH")])
    )
    prepare(stack_dir, manifest, state["instances"], env)
    started = []
    for raw in state["instances"]:
        if raw["component"] != component or instance_alive(int(raw["pid"])):
            continue
        fields = {k: raw[k] for k in Instance.__dataclass_fields__ if k in raw and k != "extra"}
        inst = Instance(**fields)
        spawn(inst, proc, stack_dir, env)
        wait_ready([inst], time.monotonic() + timeout_s, None, [inst])
        raw.update(pid=inst.pid, state="ready")
        started.append(inst.instance)
    write_state(stack_dir, state)
    return started


def _main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="archsim_runtime.launcher")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("dir", type=Path, nargs="?", default=Path("."))
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            state = up(args.dir)
            print(f"front door: {state['front_door']}")
        elif args.command == "down":
            print(f"stopped {len(down(args.dir))} processes")
        else:
            print(json.dumps(status(args.dir), indent=2))
    except StackError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
