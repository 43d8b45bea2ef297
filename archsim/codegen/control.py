"""The steps of a control operation (auth, config) as the lines its handler runs before its own
work (signing or checking a token, reading settings): the model's steps, so an auth or config
service that ``stores in`` a database reads it in the stack as it does in the simulator.

A read of a store with no table of its own here is a round trip on its pool (``SELECT 1``):
the cost the simulator gives the step, on the real database.
"""

from __future__ import annotations

from dataclasses import dataclass

from archsim.model import Operation, Step, StepAction, StepVisitor, visit

__all__ = ["control_steps", "needs_text"]

_IND = "    "


def control_steps(op: Operation, tables: dict[str, str], depth: int = 2) -> str:
    """The step lines of ``op``, indented ``depth`` levels (``tables``: database → the table
    read there, when the service has one): compute, then each query."""
    pad = _IND * depth
    lines: StepVisitor[list[str]] = _ControlLines(op, tables, pad)
    out: list[str] = []
    for step in op.steps:
        out.append(f"{pad}# step: {step.describe()}")
        out += visit(step, lines)
    return "\n".join(out)


@dataclass(frozen=True)
class _ControlLines:
    """The lines of one step of control operation ``op`` (``StepVisitor``): it computes and
    queries; any other step is one the model never gives a control operation."""

    op: Operation
    tables: dict[str, str]
    pad: str

    def compute(self, step: Step) -> list[str]:
        """The operation's own service time."""
        return [f"{self.pad}rt.compute({self.op.name!r})"]

    def query(self, step: Step) -> list[str]:
        """A read (or a write's transaction) of the store: its table, else ``SELECT 1``."""
        table = self.tables.get(step.target or "")
        query = f"select({table}.c.id).limit(1)" if table else 'text("SELECT 1")'
        opener = "reading" if step.mode == "read" else "transaction"
        return [
            f"{self.pad}async with rt.{opener}({step.target!r}) as conn:",
            f"{self.pad}{_IND}await conn.execute({query})",
        ]

    def _refuse(self, step: Step) -> list[str]:
        raise ValueError(f"{self.op.qualified}: a control operation takes no {step.action} step")

    call = cache_get = cache_set = cache_delete = publish = _refuse


def needs_text(ops: list[Operation], tables: dict[str, str]) -> bool:
    """Whether the rendered steps use ``text`` (a read of a store without a table here)."""
    return any(
        s.action is StepAction.QUERY and (s.target or "") not in tables
        for op in ops
        for s in op.steps
    )
