"""The shared machine (graph attribute ``host_cores``) in a simulation's results.

The simulator gives every component its own workers; when every process of a system shares one
machine, the machine bounds throughput as well: it is busy ``background + X · cpu(X)`` cores at
``X`` requests/s (``Host.busy``). ``cpu`` is the model's ``host_cpu`` when given (a calibration
measures it, load generator included, and how it falls with the rate), else what the simulated
stations were busy per request. The bound is
a capacity limit, not a queue: below it the host does not slow requests down (docs/model.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archsim.model import Host
from archsim.sim.figures import ComponentFigures

__all__ = ["HostResult", "host_load"]


@dataclass(frozen=True)
class HostResult:
    """The shared machine in a simulation: busy ``utilisation`` × ``cores`` cores (above 1:
    more than it has), CPU per request (s), and the rate (requests/s) that fills it."""

    cores: int
    background: float
    cpu_per_request_s: float
    utilisation: float
    saturation_rps: float
    unstable: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``host`` object of schema ``archsim.simulation/1``)."""
        return {
            "cores": self.cores,
            "background": self.background,
            "cpu_per_request_s": self.cpu_per_request_s,
            "utilisation": self.utilisation,
            "saturation_rps": self.saturation_rps,
            "unstable": self.unstable,
        }


def host_load(
    host: Host | None, throughput: float, components: Mapping[str, ComponentFigures]
) -> HostResult | None:
    """The host's load at ``throughput`` requests/s, from the components' simulated busy
    fractions (``utilisation`` × ``capacity`` workers); None without a shared host."""
    if host is None:
        return None
    busy = sum(c.utilisation * c.capacity for c in components.values())
    simulated = busy / throughput if throughput > 0 else 0.0
    load = host.busy(throughput, simulated) / host.cores
    return HostResult(
        cores=host.cores,
        background=host.background,
        cpu_per_request_s=host.cpu_at(throughput, simulated),
        utilisation=load,
        saturation_rps=host.saturation_rps(simulated),
        unstable=load >= 1.0,
    )
