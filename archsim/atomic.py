"""Writing files all-or-nothing, with the permissions the user asked for.

Every file archsim writes (reports, diagrams, the generated stack, state files) goes through
``write_atomic``: a temporary file beside the target, renamed over it once complete, so a reader
never sees half a file. ``tempfile.mkstemp`` creates its file 0600 whatever the umask; the file
is given the mode a plain ``open()`` would have produced (0666, or 0777 for executables, minus
the umask) before the rename, so a 022 umask gives 0644 as users expect; a file rewritten in
place (``fmt --fix``) keeps the mode it had.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

__all__ = ["current_umask", "write_atomic"]

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask (read without changing it where /proc allows, else set and reset)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:  # os.umask can only be read by setting it: keep the window closed
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _mode(path: Path, executable: bool) -> int:
    """A rewritten file keeps its permissions; a new one gets what open() would give it."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return (0o777 if executable else 0o666) & ~current_umask()


def write_atomic(path: Path | str, data: str | bytes, *, executable: bool = False) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` through a temporary file and a rename; a new
    file's mode is 0666 (0777 if ``executable``) minus the umask, a rewritten one keeps its
    mode. Creates missing parent
    folders; OSError propagates (callers turn it into their own error)."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            os.fchmod(out.fileno(), _mode(path, executable))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
