"""The local launcher: start a generated stack's processes, watch them, stop them.

Reads the manifest the generator wrote (``stack.json``), gives every process instance a free
loopback port, starts infrastructure first and services stage by stage in dependency order,
waits for each stage to be ready, and records what runs in ``.archsim/state.json`` (format in
docs/up.md). Every process gets its own process group, so ``down`` stops it with everything it
spawned. Also runnable without archsim: ``python -m archsim_runtime.launcher up|down|status .``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .auth import client_header, client_secret
from .ports import free_port
from .prepare import prepare
from .settings import env_name

__all__ = [
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

STATE_DIR = ".archsim"
STATE_FILE = "state.json"
#: Environment names whose values are secrets: never written to state.json (docs/reliability.md).
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN(?!_CACHE|_TTL)|CREDENTIAL|_KEY\b")
_URL_PASSWORD = re.compile(r"//[^/@:]*:[^/@]*@")
Progress = Callable[[list["Instance"]], None]


class StackError(Exception):
    """A stack that cannot be started, stopped or read; ``hint`` says what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass
class Instance:
    """One running process of the stack."""

    component: str
    instance: str
    role: str
    stage: int
    port: int
    url: str
    health: str
    log: str
    pid: int = 0
    smtp_port: int | None = None
    state: str = "pending"  # pending, starting, ready, failed, stopped
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the ``instances`` entries of the state file)."""
        return {k: v for k, v in self.__dict__.items() if k != "extra"} | self.extra


def load_manifest(stack_dir: Path) -> dict[str, Any]:
    """The stack manifest; StackError if ``stack_dir`` is not a generated stack."""
    path = stack_dir / "stack.json"
    if not path.is_file():
        raise StackError(
            f"{stack_dir} is not a generated stack (no stack.json)",
            "generate one first: archsim generate topology.dot -o DIR",
        )
    return json.loads(path.read_text())


def read_state(stack_dir: Path) -> dict[str, Any] | None:
    """The state file of a started stack, or None."""
    path = stack_dir / STATE_DIR / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _write_state(stack_dir: Path, state: dict[str, Any]) -> None:
    path = stack_dir / STATE_DIR / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)  # atomic: readers never see half a file


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


def _probe_redis(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _ready(inst: Instance | dict[str, Any]) -> bool:
    health = inst.health if isinstance(inst, Instance) else inst["health"]
    if health == "redis":
        return _probe_redis(inst.port if isinstance(inst, Instance) else int(inst["port"]))
    url = inst.url if isinstance(inst, Instance) else inst["url"]
    return _probe(url + health)


def _probe(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _command(proc: dict[str, Any], inst: Instance, stack_dir: Path) -> list[str]:
    py, role = sys.executable, proc["role"]
    base = ["--host", "127.0.0.1", "--port", str(inst.port)]
    if role == "service":
        return [py, "-m", "archsim_runtime.serve", proc["app"], *base]
    if role == "registry":
        ttl = ["--ttl", str(proc["ttl_s"])] if "ttl_s" in proc else []  # 3 heartbeats
        return [py, "-m", "archsim_runtime.registry", *base, *ttl]
    if role == "balancer":
        return [
            py,
            "-m",
            "archsim_runtime.balancer",
            *base,
            "--manifest",
            "stack.json",
            "--component",
            proc["id"],
        ]
    if role == "redis":
        # Valkey's config file cannot hold a space in `dir`: "Event Bus-1" becomes Event_Bus-1
        data = stack_dir / STATE_DIR / "data" / inst.instance.replace(" ", "_")
        return [py, "-m", "archsim_runtime.redis_server", *base, "--dir", str(data)]
    if role == "smtp_sink":
        store = stack_dir / STATE_DIR / "data" / f"{inst.instance}.mail.jsonl"
        return [
            py,
            "-m",
            "archsim_runtime.smtp_sink",
            *base,
            "--smtp-port",
            str(inst.smtp_port),
            "--store",
            str(store),
        ]
    if role == "sandbox":
        cmd = [
            py,
            "-m",
            "archsim_runtime.sandbox",
            *base,
            "--name",
            proc["id"],
            "--failure-rate",
            str(proc.get("failure_rate", 0.0)),
        ]
        if proc.get("latency"):
            cmd += ["--latency", json.dumps(proc["latency"])]
        return cmd
    raise StackError(f"unknown process role {role!r} in stack.json")


def _plan(
    manifest: dict[str, Any], stack_dir: Path, replicas: dict[str, int], external_redis: bool
) -> list[Instance]:
    instances: list[Instance] = []
    known = {p["id"] for p in manifest["processes"]}
    for name in replicas:
        if name not in known:
            raise StackError(
                f"--replicas names {name!r}, which is not a process of this stack",
                f"processes: {', '.join(sorted(known))}",
            )
    for proc in manifest["processes"]:
        if proc["role"] == "redis" and external_redis:
            continue
        count = replicas.get(proc["id"], int(proc.get("replicas", 1)))
        if count < 1:
            raise StackError(f"--replicas {proc['id']}={count}: need at least 1")
        if count > 1 and not proc.get("scalable", False):
            raise StackError(f"{proc['id']} ({proc['role']}) runs as one instance only")
        for n in range(1, count + 1):
            port = free_port()
            name = f"{proc['id']}-{n}"
            inst = Instance(
                component=proc["id"],
                instance=name,
                role=proc["role"],
                stage=int(proc["stage"]),
                port=port,
                url=f"http://127.0.0.1:{port}",
                health=proc.get("health", "/health"),
                log=str(stack_dir / STATE_DIR / "logs" / f"{name}.log"),
            )
            if proc["role"] == "smtp_sink":
                inst.smtp_port = free_port()
            instances.append(inst)
    return instances


def _environment(
    manifest: dict[str, Any],
    instances: list[Instance],
    stack_dir: Path,
    stack_id: str,
    base_env: dict[str, str],
) -> dict[str, str]:
    env = dict(base_env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(stack_dir), base_env.get("PYTHONPATH")]))
    env["ARCHSIM_STACK"] = stack_id
    env["PYTHONUNBUFFERED"] = "1"
    # where traced instances write their OTLP-JSON files (ARCHSIM_TRACE=1, archsim up --trace)
    env.setdefault("ARCHSIM_TRACE_DIR", str(stack_dir / STATE_DIR / "traces"))
    env.update({k: str(v) for k, v in manifest.get("env", {}).items() if k not in base_env})
    by_component: dict[str, list[Instance]] = {}
    for inst in instances:
        by_component.setdefault(inst.component, []).append(inst)
    for component, items in by_component.items():
        key = env_name(component)
        env[f"ARCHSIM_ADDR_{key}"] = ",".join(i.url for i in items)
        first = items[0]
        if first.role == "redis":
            env[f"ARCHSIM_URL_{key}"] = f"redis://127.0.0.1:{first.port}/0"
        elif first.role == "smtp_sink":
            env[f"ARCHSIM_URL_{key}"] = f"smtp://127.0.0.1:{first.smtp_port}"
    if not base_env.get("DATABASE_URL"):
        for db in manifest.get("databases", []):
            path = stack_dir / STATE_DIR / "data" / f"{db}.sqlite3"
            env[f"ARCHSIM_URL_{env_name(db)}"] = f"sqlite:///{path}"
    return env


def _shareable(env: dict[str, str]) -> dict[str, str]:
    """The part of ``env`` that may be written to state.json: no secrets by name, no URL that
    carries a password (a restart takes those from its own environment again)."""
    return {
        k: v for k, v in env.items() if not _SECRET_NAME.search(k) and not _URL_PASSWORD.search(v)
    }


def _signing_secret(stack_dir: Path, env: dict[str, str]) -> str:
    return env.get("ARCHSIM_JWT_SECRET") or _secret(stack_dir)


def client_authorization(
    stack_dir: Path, client: str, env: dict[str, str] | None = None
) -> str | None:
    """The ``Authorization`` header with which ``client`` mints tokens at this stack's auth
    service, or None before the stack has a signing secret (it is made at the first ``up``)."""
    env = dict(os.environ if env is None else env)
    path = stack_dir / STATE_DIR / "jwt_secret"
    if not env.get("ARCHSIM_JWT_SECRET") and not path.is_file():
        return None
    secret = _signing_secret(stack_dir, env)
    return client_header(client, client_secret(secret, client))


def _secret(stack_dir: Path) -> str:
    """The stack's token-signing secret: made once, readable only by its owner."""
    path = stack_dir / STATE_DIR / "jwt_secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _spawn(inst: Instance, proc: dict[str, Any], stack_dir: Path, env: dict[str, str]) -> None:
    inst_env = dict(env)
    if proc.get("secrets") and not inst_env.get("ARCHSIM_JWT_SECRET"):
        inst_env["ARCHSIM_JWT_SECRET"] = _secret(stack_dir)
    if proc.get("token_client"):  # its own credential, in its environment only
        signing = _signing_secret(stack_dir, inst_env)
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
            _command(proc, inst, stack_dir),
            cwd=stack_dir,
            env=inst_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    inst.pid = child.pid
    inst.state = "starting"


def _wait_ready(
    batch: list[Instance], deadline: float, progress: Progress | None, everything: list[Instance]
) -> None:
    while True:
        for inst in batch:
            if inst.state != "starting":
                continue
            if not instance_alive(inst.pid):
                inst.state = "failed"
            elif _ready(inst):
                inst.state = "ready"
        if progress:
            progress(everything)
        failed = [i for i in batch if i.state == "failed"]
        if failed:
            time.sleep(0.3)  # let the rest of a stage that shares the fault fail too
            for inst in batch:
                if inst.state == "starting" and not instance_alive(inst.pid):
                    inst.state = "failed"
                    failed.append(inst)
            lines = [f"{i.instance}: {_last_error(Path(i.log))} (log: {i.log})" for i in failed]
            folder = Path(failed[0].log).parents[2]  # DIR/.archsim/logs/NAME.log
            raise StackError(
                f"{len(failed)} process(es) exited during start-up:\n" + "\n".join(lines),
                f"the whole log: archsim logs {failed[0].component} -d {folder}",
            )
        if all(i.state == "ready" for i in batch):
            return
        if time.monotonic() > deadline:
            slow = [i.instance for i in batch if i.state != "ready"]
            raise StackError(
                f"not ready in time: {', '.join(slow)}",
                "see archsim logs DIR SERVICE; a slow machine may need --timeout",
            )
        time.sleep(0.1)


def _last_error(path: Path) -> str:
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


def _running(state: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not state:
        return []
    return [i for i in state["instances"] if instance_alive(int(i["pid"]))]


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
    alive = _running(read_state(stack_dir))
    if alive:
        raise StackError(
            f"the stack in {stack_dir} is already running ({len(alive)} processes)",
            "archsim status DIR, or archsim down DIR",
        )
    base_env = dict(os.environ if env is None else env)
    external_redis = bool(base_env.get("REDIS_URL"))
    instances = _plan(manifest, stack_dir, replicas or {}, external_redis)
    # stable across down/up (streams, groups and keys live on in the data directory), distinct
    # between two directories that share a Redis
    stack_id = f"{manifest['name']}-{hashlib.sha256(str(stack_dir).encode()).hexdigest()[:6]}"
    full_env = _environment(manifest, instances, stack_dir, stack_id, base_env)
    procs = {p["id"]: p for p in manifest["processes"]}
    front = manifest.get("front_door")
    front_url = next((i.url for i in instances if i.component == front), None)
    state = {
        "version": 1,
        "stack": stack_id,
        "name": manifest["name"],
        "dir": str(stack_dir),
        "started_at": time.time(),
        "front_door": front_url,
        "front_door_component": front,
        "emulate": full_env.get("ARCHSIM_EMULATE", "0"),
        "trace": full_env.get("ARCHSIM_TRACE", "0"),
        "resources": _shareable(
            {k: v for k, v in full_env.items() if k.startswith("ARCHSIM_URL_")}
        ),
        "instances": [],
        # until up finishes, status compares what runs with what was planned: an up that
        # died half-way is not a running stack, however ready its first processes are
        "planned": [i.instance for i in instances],
        "launcher_pid": os.getpid(),
        "complete": False,
    }
    prepare(stack_dir, manifest, [i.to_dict() for i in instances], full_env)
    deadline = time.monotonic() + timeout_s
    try:
        for stage in sorted({i.stage for i in instances}):
            batch = [i for i in instances if i.stage == stage]
            for inst in batch:
                _spawn(inst, procs[inst.component], stack_dir, full_env)
            state["instances"] = [i.to_dict() for i in instances if i.pid]
            _write_state(stack_dir, state)
            _wait_ready(batch, deadline, progress, instances)
    except BaseException:
        _stop([i.to_dict() for i in instances if i.pid])
        (stack_dir / STATE_DIR / STATE_FILE).unlink(missing_ok=True)
        raise
    state["env"] = _shareable({k: v for k, v in full_env.items() if k.startswith("ARCHSIM_")})
    state["instances"] = [i.to_dict() for i in instances]
    state["complete"] = True
    _write_state(stack_dir, state)
    return state


def _stop(instances: list[dict[str, Any]], grace_s: float = 8.0) -> None:
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


def down(stack_dir: Path) -> list[str]:
    """Stop every process of the stack gracefully; returns the instances that were running."""
    stack_dir = stack_dir.resolve()
    state = read_state(stack_dir)
    if state is None:
        return []
    running = [i["instance"] for i in _running(state)]
    _stop(state["instances"])
    (stack_dir / STATE_DIR / STATE_FILE).unlink(missing_ok=True)
    return running


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
            inst["state"] = "ready" if _ready(inst) else "unhealthy"
    started = {i["instance"] for i in state["instances"]}
    state["missing"] = [name for name in state.get("planned", []) if name not in started]
    if state.get("complete", True):
        state["phase"] = "up"
    else:
        launcher = int(state.get("launcher_pid") or 0)
        state["phase"] = "starting" if instance_alive(launcher) else "incomplete"
    return state

    return True


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
    _stop(chosen)
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
        _spawn(inst, proc, stack_dir, env)
        _wait_ready([inst], time.monotonic() + timeout_s, None, [inst])
        raw.update(pid=inst.pid, state="ready")
        started.append(inst.instance)
    _write_state(stack_dir, state)
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
