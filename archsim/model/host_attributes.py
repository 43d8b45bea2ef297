"""The shared host's graph attributes (``host_cores``, ``host_cpu``, ``host_background``,
``host_wait``, ``host_cpu_power``, ``host_cpu_at``; docs/model.md): checked together, since each
means something only beside the others, and read into the model's ``Host``."""

from __future__ import annotations

from typing import Any

from archsim.model.architecture import Host
from archsim.model.checks import Reader
from archsim.model.dot.ast import DotGraph

__all__ = ["check_host", "host_of"]

_HOST_ATTRIBUTES = ("host_cpu", "host_background", "host_wait", "host_cpu_power", "host_cpu_at")


def check_host(values: dict[str, Any], graph: DotGraph, reader: Reader) -> None:
    """The host attributes only mean something with ``host_cores``, and must leave a core."""
    loose = [name for name in _HOST_ATTRIBUTES if name in values]
    if loose and "host_cores" not in values:
        reader.warn(
            f"{loose[0]} is ignored without host_cores",
            graph.attrs[loose[0]].location,
            "add host_cores=N (the machine's cores) to model a shared host",
            "ignored-attribute",
        )
    if "host_wait" in values and "host_cpu" not in values and "host_cores" in values:
        reader.error(
            "host_wait needs host_cpu: the wait for a core grows with the host's load, "
            "which host_cpu gives",
            graph.attrs["host_wait"].location,
            "add host_cpu (CPU per entry request; archsim calibrate measures both)",
            "invalid-host",
        )
    if "host_cores" in values:
        _check_cpu_curve(values, graph, reader)
    cores, busy = values.get("host_cores"), values.get("host_background", 0.0)
    if cores is not None and busy >= cores:
        reader.error(
            f"host_background {busy:g} leaves none of the {cores} host_cores for requests",
            graph.attrs["host_background"].location,
            f"give fewer than {cores} background cores",
            "invalid-host",
        )


def _check_cpu_curve(values: dict[str, Any], graph: DotGraph, reader: Reader) -> None:
    """``host_cpu_power`` and ``host_cpu_at`` describe ``host_cpu``'s curve: all three or none."""
    power, at = values.get("host_cpu_power"), values.get("host_cpu_at")
    if power is None and at is None:
        return
    given = "host_cpu_power" if power is not None else "host_cpu_at"
    if "host_cpu" not in values:
        reader.error(
            f"{given} needs host_cpu: it says how host_cpu changes with the rate",
            graph.attrs[given].location,
            "add host_cpu (CPU per entry request at host_cpu_at; archsim calibrate measures it)",
            "invalid-host",
        )
    elif power is not None and at is None and power != 1.0:
        reader.error(
            "host_cpu_power needs host_cpu_at: the rate host_cpu was measured at",
            graph.attrs["host_cpu_power"].location,
            "add host_cpu_at=RATE (requests/s), or drop host_cpu_power",
            "invalid-host",
        )


def host_of(values: dict[str, Any]) -> Host | None:
    """The shared machine the graph attributes describe (``host_cpu`` alone means nothing)."""
    if "host_cores" not in values:
        return None
    return Host(
        cores=values["host_cores"],
        cpu_per_request=values.get("host_cpu"),
        background=values.get("host_background", 0.0),
        wait=values.get("host_wait", 0.0),
        cpu_power=values.get("host_cpu_power", 1.0),
        cpu_rate=values.get("host_cpu_at"),
    )
