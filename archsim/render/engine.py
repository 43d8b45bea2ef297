"""Find a Graphviz layout engine and run it: the system ``dot`` when on PATH, else the
``graphviz-pure`` command (pip package) on PATH or beside the running interpreter (a virtual
environment that was never activated, pipx), or the one named by ``ARCHSIM_DOT``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from archsim.errors import ArchsimError

__all__ = ["ENGINE_ENV", "FORMATS", "Engine", "find_engine", "layout"]

ENGINE_ENV = "ARCHSIM_DOT"
FORMATS = ("svg", "png")
_CANDIDATES = ("dot", "graphviz-pure")
_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Engine:
    """A dot-compatible command (absolute path)."""

    path: str

    @property
    def name(self) -> str:
        """The command's file name (``dot`` or ``graphviz-pure``)."""
        return os.path.basename(self.path)


def find_engine() -> Engine:
    """The layout engine to use; ArchsimError naming both options when none is installed."""
    forced = os.environ.get(ENGINE_ENV)
    if forced:
        path = shutil.which(forced)
        if path is None:
            raise ArchsimError(f"{ENGINE_ENV}={forced} is not an executable on PATH",
                               hint=f"unset {ENGINE_ENV} or point it at dot / graphviz-pure",
                               code="no-layout-engine")  # fmt: skip
        return Engine(path)
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path is not None:
            return Engine(path)
    # pip installs graphviz-pure's command beside the interpreter, which is not on PATH when
    # archsim is run as venv/bin/archsim or through pipx: look there too (not resolving
    # symlinks: a venv's python links to the base interpreter's folder).
    beside = os.path.dirname(sys.executable)
    for name in _CANDIDATES:
        path = shutil.which(name, path=beside) if beside else None
        if path is not None:
            return Engine(path)
    raise ArchsimError(
        "no Graphviz layout engine found: neither 'dot' (Graphviz) nor 'graphviz-pure' is on "
        f"PATH or in {beside or 'the interpreter folder'}",
        hint="pip install graphviz-pure  (or install Graphviz: apt-get install graphviz); "
        "archsim render -o out.dot writes the styled DOT without one",
        code="no-layout-engine",
    )


def layout(dot_text: str, fmt: str, engine: Engine | None = None) -> bytes:
    """Lay out ``dot_text`` and return the image (``svg`` or ``png``) as bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unsupported format {fmt!r}")
    engine = engine or find_engine()
    try:
        proc = subprocess.run(
            [engine.path, f"-T{fmt}", "-q"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ArchsimError(f"{engine.name} did not finish within {_TIMEOUT_S:g} s",
                           hint="hide interactions (--hide infra) to simplify the layout",
                           code="layout-timeout") from None  # fmt: skip
    except OSError as exc:
        raise ArchsimError(f"cannot run {engine.path}: {exc.strerror}",
                           code="no-layout-engine") from None  # fmt: skip
    if proc.returncode != 0 or not proc.stdout:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise ArchsimError(f"{engine.name} failed: {detail[0]}",
                           hint="archsim render -o out.dot writes the DOT it was given",
                           code="layout-failed")  # fmt: skip
    return proc.stdout
