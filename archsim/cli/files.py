"""The CLI's file edge: writing outputs all-or-nothing and reading profile files.

Commands never leave a half-written report behind: output goes to a temporary file beside the
target and is renamed over it only once complete.
"""

from __future__ import annotations

import sys
from pathlib import Path

from archsim.atomic import write_atomic as _write
from archsim.errors import ArchsimError, Location
from archsim.model.profile import read_profile

__all__ = ["read_profile", "write_atomic"]


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, with the umask's
    permissions (``-`` means stdout); ArchsimError when it cannot be written."""
    if str(path) == "-":
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return
    try:
        _write(path, data)
    except OSError as exc:
        raise ArchsimError(
            f"cannot write {path}: {exc.strerror}",
            Location(str(path)),
            "check the folder exists and is writable",
            code="no-file",
        ) from None

