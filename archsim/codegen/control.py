"""The steps of a control operation (auth, config) as the lines its handler runs before its own
work (signing or checking a token, reading settings): the model's steps, so an auth or config
service that ``stores in`` a database reads it in the stack as it does in the simulator.

A read of a store with no table of its own here is a round trip on its pool (``SELECT 1``):
the cost the simulator gives the step, on the real database.
"""

from __future__ import annotations

from archsim.model import Operation, StepAction

__all__ = ["control_steps", "needs_text"]

_IND = "    "


def control_steps(op: Operation, tables: dict[str, str], depth: int = 2) -> str:
    """The step lines of ``op``, indented ``depth`` levels (``tables``: database → the table
    read there, when the service has one): compute, then each query."""
    pad = _IND * depth
    lines: list[str] = []
    for step in op.steps:
        lines.append(f"{pad}# step: {step.describe()}")
        if step.action is StepAction.COMPUTE:
            lines.append(f"{pad}rt.compute({op.name!r})")
        elif step.action is StepAction.QUERY:
            table = tables.get(step.target or "")
            query = f"select({table}.c.id).limit(1)" if table else 'text("SELECT 1")'
            opener = "reading" if step.mode == "read" else "transaction"
            lines.append(f"{pad}async with rt.{opener}({step.target!r}) as conn:")
            lines.append(f"{pad}{_IND}await conn.execute({query})")
        else:
            raise ValueError(f"{op.qualified}: a control operation takes no {step.action} step")
    return "\n".join(lines)


def needs_text(ops: list[Operation], tables: dict[str, str]) -> bool:
    """Whether the rendered steps use ``text`` (a read of a store without a table here)."""
    return any(
        s.action is StepAction.QUERY and (s.target or "") not in tables
        for op in ops
        for s in op.steps
    )
