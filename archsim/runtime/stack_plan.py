"""What the launcher starts: one ``Instance`` per process replica (each on a free loopback
port), the command line of each, and the environment every process of the stack shares (where
each component answers, its resources' URLs).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from .ports import free_port
from .settings import env_name
from .stack_files import STATE_DIR, Instance, StackError

__all__ = ["command", "environment", "plan"]


def plan(
    manifest: dict[str, Any], stack_dir: Path, replicas: dict[str, int], external_redis: bool
) -> list[Instance]:
    """The instances to start, in manifest order; StackError for a bad ``replicas`` count."""
    known = {p["id"] for p in manifest["processes"]}
    for name in replicas:
        if name not in known:
            raise StackError(
                f"--replicas names {name!r}, which is not a process of this stack",
                f"processes: {', '.join(sorted(known))}",
            )
    instances: list[Instance] = []
    for proc in manifest["processes"]:
        if proc["role"] == "redis" and external_redis:
            continue
        count = replicas.get(proc["id"], int(proc.get("replicas", 1)))
        if count < 1:
            raise StackError(f"--replicas {proc['id']}={count}: need at least 1")
        if count > 1 and not proc.get("scalable", False):
            raise StackError(f"{proc['id']} ({proc['role']}) runs as one instance only")
        instances += [_instance(proc, n, stack_dir) for n in range(1, count + 1)]
    return instances


def _instance(proc: dict[str, Any], n: int, stack_dir: Path) -> Instance:
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
    return inst


def command(proc: dict[str, Any], inst: Instance, stack_dir: Path) -> list[str]:
    """The command line that runs ``inst`` of the manifest process ``proc``."""
    py, role = sys.executable, proc["role"]
    base = ["--host", "127.0.0.1", "--port", str(inst.port)]
    if role == "service":
        return [py, "-m", "archsim_runtime.serve", proc["app"], *base]
    if role == "registry":
        ttl = ["--ttl", str(proc["ttl_s"])]  # the model's: three heartbeats (stack.json)
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
        data = stack_dir / STATE_DIR / "data" / inst.instance  # as prepare() made it
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


def environment(
    manifest: dict[str, Any],
    instances: list[Instance],
    stack_dir: Path,
    stack_id: str,
    base_env: dict[str, str],
) -> dict[str, str]:
    """``base_env`` plus what every process of the stack reads: ``ARCHSIM_STACK``, each
    component's addresses (``ARCHSIM_ADDR_*``) and resource URLs (``ARCHSIM_URL_*``)."""
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
