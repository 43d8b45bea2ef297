"""The CLI's file edge: writing outputs all-or-nothing and reading profile files.

Commands never leave a half-written report behind: output goes to a temporary file beside the
target and is renamed over it only once complete.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from archsim.errors import ArchsimError, Location, ScenarioError

__all__ = ["read_profile", "write_atomic"]


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (``-`` means stdout)."""
    if str(path) == "-":
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise ArchsimError(
            f"cannot write {path}: {exc.strerror}",
            Location(str(path)),
            "check the folder exists and is writable",
            code="no-file",
        ) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_profile(path: Path) -> Any:
    """Load a profile file (YAML mapping with sections components, links, graph)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ScenarioError(
            f"cannot read profile: {exc.strerror}", Location(str(path)), code="bad-profile"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
        raise ScenarioError(
            f"profile is not valid YAML: {getattr(exc, 'problem', exc)}", where, code="bad-profile"
        ) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            "a profile must be a mapping with sections components, links and graph",
            Location(str(path)),
            "e.g.\ncomponents:\n  product_service: {replicas: 2}",
            code="bad-profile",
        )
    return data
