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

from archsim.errors import ArchsimError, Location, ScenarioError
from archsim.model.profile import parse_profile

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
    """Load a profile file (YAML mapping with sections components, links, graph), with the
    line of every value for located errors (``archsim.model.parse_profile``)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(
            f"cannot read profile: {exc.strerror}", Location(str(path)), code="bad-profile"
        ) from None
    return parse_profile(data, str(path))
