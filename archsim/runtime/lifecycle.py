"""Start-up and background work of a service: the model's lifecycle steps, run in order.

The code generator writes a component's lifecycle (``behaviour.lifecycles``, the same steps
the simulator runs at start-up and periodically) into its SPEC as::

    {"startup": [[target, operation], ...],
     "periodic": [{"name": "heartbeat", "interval": 10.0, "calls": [[registry, "heartbeat"]]},
                  {"name": "discovery", "interval": 30.0, "calls": [[registry, "lookup"], ...]}]}

and ``Runtime.start`` hands it to ``run_startup`` and ``run_periodic``, which decide nothing of
their own. An interval set in the environment (``ARCHSIM_HEARTBEAT_S``,
``ARCHSIM_LOOKUP_TTL_S``) overrides the model's, for tests that need a fast stack.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["LifecycleRuntime", "run_periodic", "run_startup"]


class LifecycleRuntime(Protocol):
    """What lifecycle steps need of a runtime (``service.Runtime`` is one)."""

    async def fetch_config(self, target: str) -> None: ...

    async def register(self, registry: str) -> None: ...

    def start_heartbeats(self, registry: str, interval_s: float) -> None: ...

    def cache_lookups(self, registry: str, ttl_s: float) -> None: ...


async def run_startup(rt: LifecycleRuntime, steps: list[list[str]]) -> None:
    """The start-up calls, in the model's order: ``get_config``, ``register``."""
    for target, operation in steps:
        if operation == "get_config":
            await rt.fetch_config(target)
        elif operation == "register":
            await rt.register(target)
        else:
            raise ValueError(f"no start-up step {operation!r} (on {target})")


def run_periodic(
    rt: LifecycleRuntime, tasks: list[dict[str, Any]], overrides: dict[str, float | None]
) -> None:
    """Start the background work: heartbeats every interval, and discovery lookups cached for
    the interval the model gives (``overrides``: by task name, from the environment)."""
    for task in tasks:
        interval = overrides.get(task["name"]) or float(task["interval"])
        for target, operation in task["calls"]:
            if operation == "heartbeat":
                rt.start_heartbeats(target, interval)
            elif operation == "lookup":
                rt.cache_lookups(target, interval)
            else:
                raise ValueError(f"no periodic step {operation!r} (on {target})")
