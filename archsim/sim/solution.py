"""What the analytic solver (``archsim.sim.analytic``) answers, as frozen records: per station
(``StationLoad``), per entry (``EntrySolution``), the shared host (``HostLoad``) and the whole
``Solution``, each with ``to_dict()`` for the JSON edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["EntrySolution", "HostLoad", "Solution", "StationLoad"]


@dataclass(frozen=True)
class StationLoad:
    """One station's mean-value figures: rates per second, times in seconds, loads as a
    fraction of its workers. ``wait_mean`` and ``blocking`` come from the open solution only."""

    throughput: float
    utilisation: float
    offered_load: float
    queue_mean: float
    latency_mean: float
    unstable: bool
    wait_mean: float | None = None
    blocking: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the schema's key order."""
        out: dict[str, Any] = {
            "throughput": self.throughput,
            "utilisation": self.utilisation,
            "offered_load": self.offered_load,
            "queue_mean": self.queue_mean,
        }
        if self.wait_mean is not None:
            out["wait_mean"] = self.wait_mean
        out["latency_mean"] = self.latency_mean
        if self.blocking is not None:
            out["blocking"] = self.blocking
        out["unstable"] = self.unstable
        return out


@dataclass(frozen=True)
class EntrySolution:
    """One entry's throughput (requests/s) and mean response time (s)."""

    throughput: float
    latency_mean: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"throughput": self.throughput, "latency_mean": self.latency_mean}


@dataclass(frozen=True)
class HostLoad:
    """The shared machine's load: ``(background + λ·cpu) / cores`` and the rate that fills
    it (requests/s)."""

    cores: int
    background: float
    cpu_per_request_s: float
    utilisation: float
    offered_load: float
    saturation_rps: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "cores": self.cores,
            "background": self.background,
            "cpu_per_request_s": self.cpu_per_request_s,
            "utilisation": self.utilisation,
            "offered_load": self.offered_load,
            "saturation_rps": self.saturation_rps,
        }


@dataclass(frozen=True)
class Solution:
    """What ``solve`` predicts. An open network has ``arrival_rate`` (and ``host`` when the
    model has one); a closed one (MVA) its ``throughput`` and ``response_mean`` instead."""

    method: str
    entries: dict[str, EntrySolution]
    components: dict[str, StationLoad]
    arrival_rate: float | None = None
    host: HostLoad | None = None
    throughput: float | None = None
    response_mean: float | None = None

    @property
    def closed(self) -> bool:
        """Solved as a closed network (a fixed number of users)."""
        return self.arrival_rate is None

    def offered_loads(self) -> dict[str, float]:
        """Per component, its offered load (utilisation without the cap at 1)."""
        return {cid: c.offered_load for cid, c in self.components.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``analytic`` object of schema ``archsim.simulation/1``)."""
        out: dict[str, Any] = {"method": self.method}
        if self.closed:
            out["throughput"] = self.throughput
            out["response_mean"] = self.response_mean
        else:
            out["arrival_rate"] = self.arrival_rate
        out["entries"] = {eid: e.to_dict() for eid, e in self.entries.items()}
        out["components"] = {cid: c.to_dict() for cid, c in self.components.items()}
        if self.host is not None:
            out["host"] = self.host.to_dict()
        return out
