"""Sagas: an operation that had another component act (a charge) and then failed undoes it.

Generated handlers of operations whose steps the model marks with a ``compensation`` run in
``rt.saga()``: each compensable call registers its undo (``Saga.undo``) once it succeeded, and
when the operation fails afterwards, for whatever reason (a locked database, a deadline, a
conflict), the undos run, last first, before the error goes to the caller. They run outside
the request's deadline (the caller stopped waiting, the charge must still be undone), are
retried a few times, and each one is logged (``compensated`` or ``compensation_failed``) and
counted (``archsim_calls_total{outcome="compensated"|"compensation_failed"}``).

Not covered: a process killed between the charge and its write leaves the charge (a durable
saga log would be needed); docs/reliability.md says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .client import CallPolicy
from .context import set_budget

__all__ = ["Saga"]

Call = Callable[..., Awaitable[Any]]
_ATTEMPTS = 4


class Saga:
    """The undo calls of one operation, in the order their steps ran."""

    def __init__(self, call: Call, log: Any, metrics: Any) -> None:
        self._call = call  # Runtime.call_json
        self.log = log
        self.metrics = metrics
        self._undo: list[tuple[str, str, dict[str, Any], CallPolicy]] = []

    def undo(self, target: str, path: str, body: dict[str, Any], policy: CallPolicy) -> None:
        """Register ``POST target path`` with ``body`` (what the step asked) as the undo of
        the step that just succeeded."""
        self._undo.append((target, path, body, policy))

    async def compensate(self, cause: BaseException) -> None:
        """Run the undos, last first (in a task of its own: the request's deadline and a
        cancellation of the request do not stop a refund half-way)."""
        if self._undo:
            await asyncio.shield(asyncio.create_task(self._run(cause)))

    async def _run(self, cause: BaseException) -> None:
        set_budget(None)  # this task's own context: the undo has its policy's timeouts only
        for target, path, body, policy in reversed(self._undo):
            fields = {"target": target, "path": path, "reference": body.get("reference")}
            fields["cause"] = str(getattr(cause, "detail", cause))[:200]
            for attempt in range(_ATTEMPTS):
                try:
                    await self._call(target, "POST", path, json=body, policy=policy)
                except Exception as exc:  # retried; the last failure is logged below
                    error = str(getattr(exc, "detail", exc))
                    await asyncio.sleep(0.2 * 2**attempt)
                    continue
                self.metrics.call(target, "compensated")
                self.log.warning(
                    f"compensated: {target} {path}",
                    extra={"fields": {"event": "compensated", **fields}},
                )
                break
            else:
                self.metrics.call(target, "compensation_failed")
                self.log.error(
                    f"compensation failed: {target} {path}: {error}",
                    extra={"fields": {"event": "compensation_failed", **fields, "error": error}},
                )
