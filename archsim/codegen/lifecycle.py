"""A component's lifecycle (``behaviour.lifecycles``) as the SPEC of its generated service
carries it: the runtime (``archsim_runtime.lifecycle``) runs exactly these steps at start-up
and in the background, as the simulator does; nothing is rebuilt from links or passed
through the environment."""

from __future__ import annotations

from typing import Any

from archsim.model.behaviour import Lifecycle

__all__ = ["lifecycle_spec"]


def lifecycle_spec(lifecycle: Lifecycle | None) -> dict[str, Any]:
    """A component's lifecycle (rules lifecycle.*) as its SPEC carries it for
    ``archsim_runtime.lifecycle``: start-up calls, then periodic tasks with their intervals."""
    if lifecycle is None:
        return {"startup": [], "periodic": []}
    return {
        "startup": [[s.target, s.operation] for s in lifecycle.startup],
        "periodic": [
            {"name": t.name, "interval": t.interval,
             "calls": [[s.target, s.operation] for s in t.steps]}
            for t in lifecycle.periodic
        ],
    }  # fmt: skip
