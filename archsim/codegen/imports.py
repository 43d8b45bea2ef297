"""Import blocks for generated modules, sorted the way ruff's isort rules expect."""

from __future__ import annotations

import re

__all__ = ["import_block"]

_STDLIB = {"json", "os", "secrets", "time", "typing", "pathlib"}
_FIRST_PARTY = ("archsim_runtime", "services")

# name used in generated code → module it comes from
_KNOWN: dict[str, str] = {
    "Any": "typing",
    "Path": "pathlib",
    "HTTPException": "fastapi",
    "Request": "fastapi",
    "Response": "fastapi",
    "BaseModel": "pydantic",
    "Field": "pydantic",
    "insert": "sqlalchemy",
    "select": "sqlalchemy",
    "CallPolicy": "archsim_runtime.client",
    "Authorize": "archsim_runtime.proxy",
    "Compute": "archsim_runtime.proxy",
    "Forward": "archsim_runtime.proxy",
    "ForwardRoute": "archsim_runtime.proxy",
    "Runtime": "archsim_runtime.service",
    "verify_password": "archsim_runtime.auth",
    "TokenError": "archsim_runtime.auth",
    "TokenService": "archsim_runtime.auth",
    "action_body": "archsim_runtime.rows",
    "action_result": "archsim_runtime.rows",
    "amount": "archsim_runtime.rows",
    "changed_values": "archsim_runtime.rows",
    "create_body": "archsim_runtime.rows",
    "event_ids": "archsim_runtime.rows",
    "need": "archsim_runtime.rows",
    "new_row": "archsim_runtime.rows",
    "public": "archsim_runtime.rows",
    "reference": "archsim_runtime.rows",
}
_PLAIN = ("json", "os", "secrets", "time")


def _section(module: str) -> int:
    top = module.split(".")[0]
    if top in _STDLIB:
        return 0
    if top in _FIRST_PARTY:
        return 2
    return 1


def _type_key(name: str) -> tuple[int, str]:
    # isort's order-by-type: CONSTANTS, then Classes, then functions/variables.
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _from_line(module: str, names: list[str]) -> str:
    ordered = sorted(set(names), key=_type_key)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= 100:
        return line
    inner = "".join(f"    {name},\n" for name in ordered)
    return f"from {module} import (\n{inner})"


def import_block(code: str, extra: dict[str, list[str]] | None = None) -> str:
    """The imports ``code`` needs among the known names, plus ``extra`` (module → names)."""
    wanted: dict[str, list[str]] = {k: list(v) for k, v in (extra or {}).items()}
    for name, module in _KNOWN.items():
        if re.search(rf"(?<![\w.'\"]){re.escape(name)}\b", code):
            wanted.setdefault(module, []).append(name)
    plain = [m for m in _PLAIN if re.search(rf"\b{m}\.", code)]
    sections: list[list[str]] = [[], [], []]
    for module in sorted(plain):
        sections[0].append(f"import {module}")
    for module in sorted(wanted):
        sections[_section(module)].append(_from_line(module, wanted[module]))
    return "\n\n".join("\n".join(lines) for lines in sections if lines)
