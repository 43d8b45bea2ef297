"""The typed attributes archsim reads from DOT, their units, ranges and per-kind defaults.

Every attribute not listed here is a Graphviz display attribute (``color``, ``style``, …):
kept as written and passed through to drawings, never interpreted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archsim.model.distributions import Distribution, parse_distribution
from archsim.model.kinds import Kind
from archsim.model.quantities import (
    parse_count,
    parse_duration,
    parse_positive_number,
    parse_probability,
)

__all__ = [
    "EDGE_ATTRIBUTES",
    "GRAPH_ATTRIBUTES",
    "KIND_DEFAULTS",
    "NODE_ATTRIBUTES",
    "AttributeSpec",
    "KindDefaults",
    "parse_mix",
    "parse_operation_times",
]


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """How to read one attribute: its parser, the model field it fills, and its documentation."""

    name: str
    parse: Callable[[str], Any]
    doc: str
    example: str


def _choice(*options: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in options:
            raise ValueError(f"'{text}' is not one of {', '.join(options)}")
        return value

    return parse


def _kind(text: str) -> Kind:
    try:
        return Kind(text.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        raise ValueError(
            f"unknown kind '{text}'; use one of {', '.join(k.value for k in Kind)}"
        ) from None


def _name(text: str) -> str:
    value = text.strip()
    if not value.replace("_", "").isalnum():
        raise ValueError(f"'{text}' must be a name of letters, digits and underscores")
    return value


_EVENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$")


def _event(text: str) -> str:
    value = text.strip()
    if not _EVENT.match(value):
        raise ValueError(
            f"'{text}' must be an event name of letters, digits, '_', '.', '-' or ':' "
            "(e.g. OrderPlaced or order.created)"
        )
    return value


def _events(text: str) -> tuple[str, ...]:
    names = tuple(_event(part) for part in text.split(",") if part.strip())
    if not names:
        raise ValueError(f"'{text}' names no event")
    return names


#: Upper bounds of the counts (docs/model.md, "Ranges"): far past any real deployment, small
#: enough that the simulator's per-replica state and the solver's per-worker terms stay cheap.
MAX_WORKERS = 10_000
MAX_REPLICAS = 1_000
MAX_CONNECTIONS = 10_000
MAX_QUEUE_LIMIT = 1_000_000
MAX_RETRIES = 10
MAX_BREAKER = 1_000_000
MAX_HOST_CORES = 4096
MAX_WEIGHT = 1e9


def _count(minimum: int, maximum: int) -> Callable[[str], int]:
    return lambda t: parse_count(t, minimum=minimum, maximum=maximum)


def parse_mix(text: str) -> dict[str, float]:
    """Parse a request mix ``get_product:6, list_products:3, create_product:1`` (weights >= 0)."""
    mix: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, weight = part.partition(":")
        if not sep:
            raise ValueError(f"'{part}' in mix needs a weight, e.g. {part}:1")
        try:
            value = float(weight)
        except ValueError:
            raise ValueError(f"weight '{weight}' of '{name.strip()}' is not a number") from None
        if not 0 <= value <= MAX_WEIGHT:
            raise ValueError(f"weight of '{name.strip()}' must be >= 0 and at most {MAX_WEIGHT:g}")
        mix[_name(name)] = value
    if not mix:
        raise ValueError("mix is empty; write e.g. get_product:6,create_product:1")
    if sum(mix.values()) <= 0:
        raise ValueError("mix weights add up to 0; give at least one operation a positive weight")
    return mix


def parse_operation_times(text: str) -> dict[str, Distribution]:
    """Parse ``login=gamma(mean=20ms,cv=0.3); get_user=1ms`` into per-operation distributions."""
    times: dict[str, Distribution] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, sep, dist = part.partition("=")
        if not sep or not dist.strip():
            raise ValueError(f"'{part}' needs a distribution, e.g. {part.strip()}=exp(5ms)")
        op = _name(name)
        if op in times:
            raise ValueError(f"operation '{op}' is given twice")
        times[op] = parse_distribution(dist.strip())
    if not times:
        raise ValueError("no operation times; write e.g. login=exp(20ms); get_user=1ms")
    return times


def _spec(name: str, parse: Callable[[str], Any], doc: str, example: str) -> AttributeSpec:
    return AttributeSpec(name, parse, doc, example)


_DIST = parse_distribution


def _weight(text: str) -> float:
    return parse_positive_number(text, maximum=MAX_WEIGHT)


_POSITIVE_DURATION = lambda t: parse_duration(t, allow_zero=False)  # noqa: E731

MIN_CPU_POWER, MAX_CPU_POWER = 0.1, 2.0
MAX_RATE = 1e9  # requests/s


def _cpu_power(text: str) -> float:
    value = parse_positive_number(text, maximum=MAX_CPU_POWER)
    if value < MIN_CPU_POWER:
        raise ValueError(f"{text} is below the minimum of {MIN_CPU_POWER:g}")
    return value


NODE_ATTRIBUTES: dict[str, AttributeSpec] = {
    s.name: s
    for s in (
        _spec("kind", _kind, "force the component kind", 'kind="cache"'),
        _spec("service_time", _DIST, "time one request holds a worker (CPU)", "exp(5ms)"),
        _spec(
            "write_time",
            _DIST,
            "database: time one write holds a worker (the statement and its commit); reads, "
            "and writes without it, take service_time",
            "exp(3ms)",
        ),
        _spec("workers", _count(1, MAX_WORKERS), "concurrency per replica", "4"),
        _spec("replicas", _count(1, MAX_REPLICAS), "instances behind balancing", "2"),
        _spec(
            "connections",
            _count(1, MAX_CONNECTIONS),
            "database: connection-pool size each client service opens",
            "10",
        ),
        _spec(
            "queue_limit",
            _count(0, MAX_QUEUE_LIMIT),
            "requests that may wait per replica before rejection (none = unbounded)",
            "100",
        ),
        _spec("timeout", _POSITIVE_DURATION, "default timeout of calls into it", "2s"),
        _spec("retries", _count(0, MAX_RETRIES), "default retries of calls into it", "2"),
        _spec("error_rate", parse_probability, "probability a request fails", "0.01"),
        _spec("hit_ratio", parse_probability, "cache: default hit ratio", "0.9"),
        _spec("latency", parse_duration, "extra network latency to reach it", "20ms"),
        _spec("cost", parse_positive_number, "cost of one replica per month (planning)", "40"),
        _spec(
            "concurrency",
            _choice("async", "threads"),
            "async: a request holds a worker only while computing; threads: for the whole call",
            "async",
        ),
        _spec(
            "operation_time",
            parse_operation_times,
            "service time of named operations (others use service_time)",
            "login=gamma(mean=20ms,cv=0.3); get_user=1ms",
        ),
        _spec(
            "mix", parse_mix, "request mix over its operations", "get_product:6,create_product:1"
        ),
        _spec(
            "cpu_power",
            _cpu_power,
            "with cpu_at: its busy time grows as the entry rate to this power (below 1: "
            "service and operation times fall as the rate rises; archsim calibrate fits it)",
            "0.7",
        ),
        _spec(
            "cpu_at",
            lambda t: parse_positive_number(t, maximum=MAX_RATE),
            "with cpu_power: the entry rate (requests/s) its service_time was measured at",
            "80",
        ),
        _spec("resource", _name, "resource name its operations are named after", "item"),
    )
}

EDGE_ATTRIBUTES: dict[str, AttributeSpec] = {
    s.name: s
    for s in (
        _spec("relation", lambda t: t, "relation, when the label says something else", "calls"),
        _spec("weight", _weight, "share of traffic (distributes/routes)", "2"),
        _spec("p", parse_probability, "probability the step happens per request", "0.3"),
        _spec("timeout", _POSITIVE_DURATION, "timeout of this call", "500ms"),
        _spec("retries", _count(0, MAX_RETRIES), "retries after a failure or timeout", "2"),
        _spec("backoff", parse_duration, "first retry delay (doubles, with jitter)", "50ms"),
        _spec(
            "breaker",
            _count(1, MAX_BREAKER),
            "circuit breaker: consecutive failures that open it",
            "5",
        ),
        _spec("breaker_reset", _POSITIVE_DURATION, "time an open breaker waits", "10s"),
        _spec("error_rate", parse_probability, "probability this interaction fails", "0.02"),
        _spec("hit_ratio", parse_probability, "caches in: probability of a hit", "0.8"),
        _spec("ttl", _POSITIVE_DURATION, "caches in: time an entry lives", "60s"),
        _spec("latency", parse_duration, "network latency of this hop", "1ms"),
        _spec("operation", _name, "calls/uses: the callee's operation to invoke", "get_user"),
        _spec(
            "mode",
            _choice("lookup", "action"),
            "calls: read the callee's resource (lookup) or ask it to act (action)",
            "action",
        ),
        _spec("event", _event, "publishes/subscribes to: the event's name", "order.created"),
        _spec("events", _events, "subscribes to: the events it takes", "OrderPlaced,OrderPaid"),
    )
}


def _cores(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a number of cores") from None
    if not 0 <= value <= MAX_HOST_CORES:
        raise ValueError(f"{text} must be a number of cores, 0 or more (at most {MAX_HOST_CORES})")
    return value


GRAPH_ATTRIBUTES: dict[str, AttributeSpec] = {
    s.name: s
    for s in (
        _spec("network_latency", parse_duration, "one-way latency of every hop", "0.2ms"),
        _spec("default_timeout", _POSITIVE_DURATION, "timeout of sync calls", "5s"),
        _spec(
            "host_cores",
            _count(1, MAX_HOST_CORES),
            "every process shares one machine with this many cores: bounds throughput",
            "2",
        ),
        _spec(
            "host_cpu",
            _POSITIVE_DURATION,
            "with host_cores: CPU per entry request over every process on the machine "
            "(default: the model's own compute per request)",
            "2.1ms",
        ),
        _spec(
            "host_background",
            _cores,
            "with host_cores: cores busy whatever the load (timers, a load generator's base)",
            "0.1",
        ),
        _spec(
            "host_cpu_power",
            _cpu_power,
            "with host_cpu and host_cpu_at: the host's busy cores grow as the rate to this power "
            "(below 1: CPU per request falls as the rate rises; 1: it does not)",
            "0.85",
        ),
        _spec(
            "host_cpu_at",
            lambda t: parse_positive_number(t, maximum=MAX_RATE),
            "with host_cpu_power: the rate (requests/s) host_cpu was measured at",
            "500",
        ),
        _spec(
            "host_wait",
            parse_duration,
            "with host_cores and host_cpu: the CPU burst a process that wakes to a full machine "
            "waits behind; each compute step then waits for a core with the Erlang C "
            "probability of the host's load (0: no waiting)",
            "4ms",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class KindDefaults:
    """Defaults for one kind (seconds; counts per replica)."""

    service_time: Distribution
    workers: int
    concurrency: str
    cost: float


def _d(text: str) -> Distribution:
    return parse_distribution(text)


# Async for application components because the generated FastAPI services are async: a request
# holds the event loop only while it computes, not while it awaits a downstream call.
KIND_DEFAULTS: dict[Kind, KindDefaults] = {
    Kind.LOAD_BALANCER: KindDefaults(_d("exp(0.2ms)"), 1, "async", 20.0),
    Kind.GATEWAY: KindDefaults(_d("exp(1ms)"), 1, "async", 40.0),
    Kind.SERVICE: KindDefaults(_d("exp(2ms)"), 1, "async", 40.0),
    Kind.AUTH: KindDefaults(_d("exp(1ms)"), 1, "async", 40.0),
    Kind.CONFIG: KindDefaults(_d("exp(1ms)"), 1, "async", 20.0),
    Kind.REGISTRY: KindDefaults(_d("exp(0.5ms)"), 1, "async", 20.0),
    Kind.DATABASE: KindDefaults(_d("exp(2ms)"), 4, "threads", 100.0),
    Kind.CACHE: KindDefaults(_d("exp(0.2ms)"), 1, "threads", 50.0),
    Kind.BROKER: KindDefaults(_d("exp(0.5ms)"), 1, "threads", 50.0),
    Kind.EXTERNAL: KindDefaults(_d("lognormal(mean=100ms,cv=0.5)"), 1000, "threads", 0.0),
    Kind.CLIENT: KindDefaults(_d("exp(0.1ms)"), 1000, "async", 0.0),  # not simulated: it sends
}

#: Defaults shared by every kind unless the file says otherwise.
DEFAULT_REPLICAS = 1
DEFAULT_CONNECTIONS = 5
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_RETRIES = 0
DEFAULT_BACKOFF_S = 0.05
DEFAULT_BREAKER_RESET_S = 10.0
DEFAULT_HIT_RATIO = 0.8
DEFAULT_TTL_S = 60.0
DEFAULT_NETWORK_LATENCY_S = 0.0002
