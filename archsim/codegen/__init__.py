"""Code generation: from an architecture to a runnable FastAPI stack.

``render(arch)`` is pure (path → text); ``plan_writes``/``apply_writes`` decide per file and
write, never overwriting files the user owns (handler bodies, settings).
"""

from __future__ import annotations

from archsim.codegen.generator import GENERATED_HEADER, USER_OWNED, render
from archsim.codegen.writer import FileAction, WritePlan, apply_writes, plan_writes

__all__ = [
    "GENERATED_HEADER",
    "USER_OWNED",
    "FileAction",
    "WritePlan",
    "apply_writes",
    "plan_writes",
    "render",
]
