"""Create, before anything starts, every directory and file a stack's processes expect.

A process must never find its parent directory missing: a SQLite database, a Redis data
directory, an SMTP sink's store, a log file — for whatever combination of components the
architecture has (a database and nothing else must come up as well as the seed). The launcher
calls ``prepare`` before it spawns the first process, and again before it restarts one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["DATA_DIR", "LOGS_DIR", "STATE_DIR", "prepare", "sqlite_file"]

STATE_DIR = ".archsim"
DATA_DIR = "data"
LOGS_DIR = "logs"


def sqlite_file(url: str, cwd: Path) -> Path | None:
    """The file a ``sqlite://`` URL names (relative ones against ``cwd``), else None
    (in-memory databases and other engines have no file)."""
    for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            rest = url[len(prefix) :].split("?", 1)[0]
            if not rest or rest == ":memory:":
                return None
            path = Path(rest)
            return path if path.is_absolute() else cwd / path
    return None


def prepare(
    stack_dir: Path,
    manifest: Mapping[str, Any],
    instances: Iterable[Mapping[str, Any]],
    env: Mapping[str, str],
) -> list[Path]:
    """Create the state, log and data directories, each Redis instance's data directory,
    each SMTP sink's store and the parent directory of every SQLite file that ``env``
    (``ARCHSIM_URL_*``, ``DATABASE_URL``) or a database's default names. Idempotent;
    returns what it created."""
    state = stack_dir / STATE_DIR
    dirs = [state, state / LOGS_DIR, state / DATA_DIR]
    files: list[Path] = []
    for inst in instances:
        name, role = str(inst["instance"]), inst["role"]
        if inst.get("log"):
            dirs.append(Path(str(inst["log"])).parent)
        if role == "redis":
            dirs.append(state / DATA_DIR / name)
        elif role == "smtp_sink":
            files.append(state / DATA_DIR / f"{name}.mail.jsonl")
    urls = [v for k, v in env.items() if k.startswith("ARCHSIM_URL_") or k == "DATABASE_URL"]
    # a service with no URL for its database opens <id>.sqlite3 in its working directory
    urls += [f"sqlite:///{db}.sqlite3" for db in manifest.get("databases", [])]
    for url in urls:
        path = sqlite_file(str(url), stack_dir)
        if path is not None:
            dirs.append(path.parent)
    created: list[Path] = []
    for path in dict.fromkeys(dirs):
        if not path.is_dir():
            path.mkdir(parents=True, exist_ok=True)
            created.append(path)
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            os.close(fd)
            created.append(path)
    return created
