"""One error family for archsim: every problem carries a location and a hint.

The core raises these; only the CLI renders them (once), so library users get
structured data and terminal users get ``file:line:col: error: message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "ArchsimError",
    "Diagnostic",
    "DotSyntaxError",
    "InvalidModelError",
    "Location",
    "ScenarioError",
    "Severity",
]


class Severity(StrEnum):
    """How bad a diagnostic is; errors make a file unusable, warnings do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Location:
    """A position in a source file: 1-based line and column (``file`` may be None for strings)."""

    file: str | None = None
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.file is None and self.line <= 0:
            return ""  # not about a place in a file (e.g. a command-line option)
        name = self.file or "<input>"
        if self.line <= 0:
            return name
        return f"{name}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about an input: what, where, and how to fix it."""

    severity: Severity
    message: str
    location: Location = field(default_factory=Location)
    hint: str | None = None
    code: str = "invalid"

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{where + ': ' if where else ''}{self.severity.value}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view (stable keys, documented in docs/json.md)."""
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "col": self.location.col,
            "hint": self.hint,
        }


class ArchsimError(Exception):
    """Root of every error archsim raises on purpose; carries one or more diagnostics."""

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        hint: str | None = None,
        *,
        code: str = "invalid",
        diagnostics: list[Diagnostic] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.hint = hint
        self.code = code
        self.diagnostics: list[Diagnostic] = diagnostics or [
            Diagnostic(Severity.ERROR, message, self.location, hint, code)
        ]

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)


class DotSyntaxError(ArchsimError):
    """The file is not DOT that archsim can read (lexing, parsing, encoding)."""


class InvalidModelError(ArchsimError):
    """The DOT is well formed but does not describe a usable architecture."""


class ScenarioError(ArchsimError):
    """A run's parameters (load, what-ifs, profiles) are impossible or unknown."""
