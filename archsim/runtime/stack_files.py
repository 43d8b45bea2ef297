"""The files of a generated stack that the launcher reads and writes: the manifest
(``stack.json``), the state file (``.archsim/state.json``, format in docs/up.md) and the stack's
token-signing secret (``.archsim/jwt_secret``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .auth import client_header, client_secret
from .prepare import STATE_DIR

__all__ = [
    "STATE_DIR",
    "STATE_FILE",
    "Instance",
    "StackError",
    "client_authorization",
    "load_manifest",
    "read_state",
    "shareable",
    "signing_secret",
    "stack_secret",
    "write_state",
]

STATE_FILE = "state.json"
#: Environment names whose values are secrets: never written to state.json (docs/reliability.md).
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN(?!_CACHE|_TTL)|CREDENTIAL|_KEY\b")
_URL_PASSWORD = re.compile(r"//[^/@:]*:[^/@]*@")


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


def write_state(stack_dir: Path, state: dict[str, Any]) -> None:
    """Replace the state file with ``state`` (atomically: readers never see half a file)."""
    path = stack_dir / STATE_DIR / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)


def shareable(env: dict[str, str]) -> dict[str, str]:
    """The part of ``env`` that may be written to state.json: no secrets by name, no URL that
    carries a password (a restart takes those from its own environment again)."""
    return {
        k: v for k, v in env.items() if not _SECRET_NAME.search(k) and not _URL_PASSWORD.search(v)
    }


def signing_secret(stack_dir: Path, env: dict[str, str]) -> str:
    """The secret tokens are signed with: ``ARCHSIM_JWT_SECRET``, else the stack's own."""
    return env.get("ARCHSIM_JWT_SECRET") or stack_secret(stack_dir)


def client_authorization(
    stack_dir: Path, client: str, env: dict[str, str] | None = None
) -> str | None:
    """The ``Authorization`` header with which ``client`` mints tokens at this stack's auth
    service, or None before the stack has a signing secret (it is made at the first ``up``)."""
    env = dict(os.environ if env is None else env)
    path = stack_dir / STATE_DIR / "jwt_secret"
    if not env.get("ARCHSIM_JWT_SECRET") and not path.is_file():
        return None
    secret = signing_secret(stack_dir, env)
    return client_header(client, client_secret(secret, client))


def stack_secret(stack_dir: Path) -> str:
    """The stack's token-signing secret: made once, readable only by its owner."""
    path = stack_dir / STATE_DIR / "jwt_secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
