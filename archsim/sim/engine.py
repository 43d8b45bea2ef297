"""One replication: compile the architecture's behaviour into steps, drive the workload, and
return plain statistics (picklable, so replications can run in other processes).

The engine executes ``arch.behaviour`` and nothing else: entries start front-door operations,
operations run their steps, event flows connect publishers to consumers.
"""

from __future__ import annotations

import bisect
import gc
import random
from heapq import heappush
from itertools import accumulate
from math import log as _log
from typing import Any

import simpy

from archsim.model import Architecture
from archsim.sim.compiler import CompiledModel, sampler
from archsim.sim.config import SimConfig
from archsim.sim.contention import HostWaits
from archsim.sim.stations import OK, REJECTED, TIMEOUT, Kernel, Station
from archsim.sim.stats import Histogram
from archsim.sim.steps import Frame, Op, Runner
from archsim.sim.workload import Workload, entry_weights

__all__ = ["run_replication"]


class _Entry:
    """Outcomes of one entry point."""

    __slots__ = ("arrived", "errors", "hist", "ok", "rec", "rejected", "sample", "timeouts")

    def __init__(self, rec: _Recorder) -> None:
        self.rec = rec
        self.arrived = self.ok = self.errors = self.timeouts = self.rejected = 0
        self.hist = Histogram()
        self.sample = self.hist.add

    def done(self, f: Frame) -> None:
        rec = self.rec
        now = rec.env._now
        rec.area += rec.inflight * (now - rec.last)  # one request fewer in flight
        rec.last = now
        rec.inflight -= 1
        if f.t0 < rec.warm:
            return
        latency = now - f.t0
        self.sample(latency)
        status = f.status
        if status == OK:
            self.ok += 1
        elif status == TIMEOUT:
            self.timeouts += 1
        elif status == REJECTED:
            self.rejected += 1
        else:
            self.errors += 1
        b = int(now / rec.bin_width)
        if b < rec.bins:
            rec.bin_count[b] += 1
            rec.bin_sum[b] += latency
        if rec.pilot is not None:
            rec.pilot.append((now, latency))


class _Recorder:
    """Requests in the system (for Little's law) and the over-time series."""

    def __init__(self, env: simpy.Environment, warm: float, duration: float, bins: int) -> None:
        self.env, self.warm, self.bins = env, warm, bins
        self.bin_width = duration / bins
        self.bin_count = [0] * bins
        self.bin_sum = [0.0] * bins
        self.inflight = 0
        self.area = 0.0
        self.last = 0.0
        self.pilot: list[tuple[float, float]] | None = None

    def enter(self, now: float) -> None:
        self.area += self.inflight * (now - self.last)
        self.last = now
        self.inflight += 1

    def flush(self) -> float:
        now = self.env._now
        self.area += self.inflight * (now - self.last)
        self.last = now
        return self.area


def _snapshot(model: CompiledModel, rec: _Recorder) -> dict[str, Any]:
    """Cumulative areas and counters now (differences of two snapshots give window values)."""
    out: dict[str, Any] = {"t": model.k.env._now, "inflight_area": rec.flush()}
    for sid, st in model.stations.items():
        busy = queue = 0.0
        rejected = waiting = 0
        for rep in st.replicas:
            if rep.free != rep.workers or rep.queue:  # an idle replica's areas grow by 0
                rep._account()
            busy += rep.busy_area
            queue += rep.queue_area
            rejected += rep.rejected
            waiting += len(rep.queue)
        out[sid] = (busy, queue, rejected, waiting)
    for i, (_, _, consumer) in enumerate(model.consumers):
        consumer._account()
        out[f"consumer:{i}"] = (consumer.backlog_area, len(consumer.backlog))
    return out


def run_replication(
    arch: Architecture,
    workload: Workload,
    cfg: SimConfig,
    index: int,
    *,
    warmup: float | None = None,
    pilot: bool = False,
) -> dict[str, Any]:
    """Simulate one independent replication (seeded by ``cfg.seed`` and ``index``).

    Returns plain data: per entry, component, link and event flow counts and histograms over the
    measured window ``[warmup, duration]``, plus over-time series.
    """
    warm = float(cfg.warmup) if warmup is None else warmup
    duration = cfg.duration
    rng = random.Random(f"archsim:{cfg.seed}:{index}")
    env = simpy.Environment()
    kernel = Kernel(env, rng, warm)
    runner = Runner(kernel)
    waits = _host_waits(arch, kernel, workload)
    model = CompiledModel(arch, kernel, runner, cfg, waits)
    rec = _Recorder(env, warm, duration, cfg.bins)
    if pilot:
        rec.pilot = []
    weights = entry_weights(arch, workload)
    sinks = {i: _Entry(rec) for i, _ in weights}
    front = _Front(model, weights, sinks)
    if workload.closed:
        _start_users(kernel, runner, rec, front, waits, workload, duration)
    else:
        _start_arrivals(kernel, runner, rec, front, waits, workload, duration)
    if cfg.lifecycle:
        _background(model, rng)
    for fault in cfg.faults:
        _schedule_fault(kernel, model.stations[fault.component], fault)
    width = duration / cfg.bins
    snaps, series = _schedule_snapshots(model, rec, warm, duration, cfg.bins)
    _run_frozen(kernel, duration + min(30.0, 0.25 * duration))  # plus a drain
    out = _collect(model, rec, sinks, arch.behaviour.entries, snaps, series, warm, duration, width)
    out["truncated"] = runner.truncated
    out["compensations"] = runner.compensations
    return out


class _Front:
    """The front door: per entry of the mix its operation and sink (``choices``), picked by a
    uniform draw bisected into the cumulative weights ``cum``."""

    __slots__ = ("choices", "cum", "last")

    def __init__(
        self, model: CompiledModel, weights: list[tuple[int, float]], sinks: dict[int, _Entry]
    ) -> None:
        entries = model.arch.behaviour.entries
        self.choices = [
            (model.ops[(entries[i].operation.component, entries[i].operation.operation)], sinks[i])
            for i, _ in weights
        ]
        self.cum = list(accumulate(w for _, w in weights))
        self.last = len(self.choices) - 1


def _start_users(
    kernel: Kernel,
    runner: Runner,
    rec: _Recorder,
    front: _Front,
    waits: HostWaits | None,
    workload: Workload,
    duration: float,
) -> None:
    """Closed workload: ``workload.users`` users, each thinking, then sending one request and
    waiting for its answer, until ``duration`` (s)."""
    env, rng, warm = kernel.env, kernel.rng, kernel.warm
    choices, cum, last = front.choices, front.cum, front.last
    rand, later, start = rng.random, kernel.later, runner.start
    think = sampler(workload.think, rng)

    def user(_: None) -> None:
        if env._now >= duration:
            return
        op, sink = choices[min(bisect.bisect_left(cum, rand()), last)]
        now = env._now
        rec.enter(now)
        if now >= warm:
            sink.arrived += 1
        if waits is not None:
            waits.arrived += 1

        def back(f: Frame, sink: _Entry = sink) -> None:
            sink.done(f)
            later(think(), user, None)

        start(op, back)

    for _ in range(workload.users or 0):
        later(think(), user, None)


def _start_arrivals(
    kernel: Kernel,
    runner: Runner,
    rec: _Recorder,
    front: _Front,
    waits: HostWaits | None,
    workload: Workload,
    duration: float,
) -> None:
    """Open workload: Poisson (thinned under a ramp) or evenly spaced arrivals at the
    workload's rate (requests/s) until ``duration`` (s)."""
    env, rng, warm = kernel.env, kernel.rng, kernel.warm
    choices, cum, last = front.choices, front.cum, front.last
    rand, later, start = rng.random, kernel.later, runner.start

    def send() -> None:
        op, sink = choices[min(bisect.bisect_left(cum, rand()), last)]
        now = env._now
        rec.area += rec.inflight * (now - rec.last)  # rec.enter(now), written out
        rec.last = now
        rec.inflight += 1
        if now >= warm:
            sink.arrived += 1
        if waits is not None:
            waits.arrived += 1
        start(op, sink.done)

    peak = workload.peak_rate
    varying = bool(workload.ramp)
    poisson = workload.arrivals == "poisson"
    expo = rng.expovariate
    queue, seq = kernel.queue, kernel.seq

    def arrive(_: Any) -> None:
        now = env._now
        if now >= duration:
            return
        if poisson:
            if not varying or rand() * peak < workload.rate_at(now):
                send()  # thinning keeps a ramped Poisson process exact
            # later(expo(peak), arrive, None), written out: expovariate's own expression
            heappush(queue, (now + -_log(1.0 - rand()) / peak, seq(), arrive, None))
        else:
            rate = workload.rate_at(now)
            if rate > 0:
                send()
            later(1.0 / rate if rate > 0 else duration / 1000, arrive, None)

    later(expo(peak) if poisson else 0.0, arrive, None)


def _schedule_snapshots(
    model: CompiledModel, rec: _Recorder, warm: float, duration: float, bins: int
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Schedule the snapshots: ``"warm"`` and ``"end"`` (filled in as the run passes them) and
    one per time bin of ``duration / bins`` seconds (appended to the series)."""
    later = model.k.later
    snaps: dict[str, dict[str, Any]] = {}
    series: list[dict[str, Any]] = []
    width = duration / bins

    def take(name: str) -> None:
        snaps[name] = _snapshot(model, rec)

    def sample(k: int) -> None:
        series.append(_snapshot(model, rec))
        if k + 1 < bins:
            later(width, sample, k + 1)

    later(warm, take, "warm")
    later(width, sample, 0)
    later(duration, take, "end")
    return snaps, series


def _run_frozen(kernel: Kernel, until: float) -> None:
    """Run the kernel until ``until`` (s) with the objects alive so far frozen out of the GC."""
    # The model, the compiled stations and steps and their statistics live through the run:
    # frozen, the cyclic GC's full passes (triggered by the frames the run allocates) skip them;
    # unfrozen they are traversed again and again, a cost per hop that grows with the model.
    # Skipped when something else keeps objects frozen: unfreezing would release theirs.
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        kernel.run(until)
    finally:
        if freeze:
            gc.unfreeze()


def _host_waits(arch: Architecture, kernel: Kernel, workload: Workload) -> HostWaits | None:
    """The shared host's waits for a core, when the model has ``host_wait`` (and ``host_cpu``)."""
    host = arch.host
    if host is None or not host.wait or not host.cpu_per_request:
        return None
    return HostWaits(kernel, host, 0.0 if workload.closed else workload.rate_at(0.0))


def _background(model: CompiledModel, rng: random.Random) -> None:
    """Start-up calls at t=0 and periodic tasks (heartbeats, discovery lookups) per replica."""
    arch, runner, later = model.arch, model.runner, model.k.later
    for lc in arch.behaviour.lifecycles:
        comp = arch.component(lc.component)
        station = model.stations[comp.id]
        tasks = [(0.0, lc.startup)] if lc.startup else []
        tasks += [(t.interval, t.steps) for t in lc.periodic]
        for interval, steps in tasks:
            op = Op(f"{comp.id}.background", station, False, 0.0)
            op.record = False
            op.set_steps(model.compile(steps, comp.id, False))
            for _ in range(comp.replicas):

                def go(_: None, op: Op = op, interval: float = interval) -> None:
                    def again(f: Frame) -> None:
                        if interval:
                            later(interval, go, None)

                    runner.start(op, again)

                later(rng.uniform(0, interval) if interval else 0.0, go, None)


def _schedule_fault(kernel: Kernel, station: Station, fault: Any) -> None:
    def begin(_: None) -> None:
        if fault.kind == "fail":
            station.down = True
        else:
            station.factor = fault.factor

    def end(_: None) -> None:
        station.down = False
        station.factor = 1.0

    kernel.later(fault.start, begin, None)
    kernel.later(fault.end, end, None)


def _collect(
    model: CompiledModel,
    rec: _Recorder,
    sinks: dict[int, _Entry],
    entries: Any,
    snaps: dict[str, dict[str, Any]],
    series: list[dict[str, Any]],
    warm: float,
    duration: float,
    width: float,
) -> dict[str, Any]:
    """The replication's plain data over the window ``[warm, duration]`` (s), from the sinks,
    the model's counters and the difference of the ``"warm"`` and ``"end"`` snapshots."""
    a, b = snaps["warm"], snaps["end"]
    out: dict[str, Any] = {"window": duration - warm, "warmup": warm}
    out["entries"] = {entries[i].id: _entry_stats(s) for i, s in sinks.items()}
    out["components"] = {
        sid: _station_stats(st, a[sid], b[sid], [snap[sid] for snap in series], width)
        for sid, st in model.stations.items()
    }
    out["links"] = [
        {
            "source": s,
            "target": t,
            "relation": r,
            "count": ls.count,
            "failed": ls.failed,
            "timeouts": ls.timeouts,
            "sum": ls.hist.total,
            "hist": ls.hist.sparse(),
        }
        for (s, t, r), ls in model.links.items()
    ]
    out["events"] = _event_stats(model, a, b)
    out["inflight_area"] = b["inflight_area"] - a["inflight_area"]
    out["series"] = {
        "t": [(k + 1) * width for k in range(len(series))],
        "throughput": [c / width for c in rec.bin_count],
        "latency_mean": [
            s / c if c else 0.0 for s, c in zip(rec.bin_sum, rec.bin_count, strict=True)
        ],
    }
    if rec.pilot is not None:
        out["pilot"] = rec.pilot
    return out


def _entry_stats(s: _Entry) -> dict[str, Any]:
    """One entry's outcome counts and latency histogram (s)."""
    return {
        "arrived": s.arrived,
        "ok": s.ok,
        "errors": s.errors,
        "timeouts": s.timeouts,
        "rejected": s.rejected,
        "count": s.hist.count,
        "sum": s.hist.total,
        "hist": s.hist.sparse(),
    }


def _station_stats(
    st: Station, a: tuple[Any, ...], b: tuple[Any, ...], samples: list[Any], width: float
) -> dict[str, Any]:
    """One station's window figures from its snapshots at warm-up end ``a`` and run end ``b``,
    and its utilisation and queue series from the per-bin ``samples`` (bins of ``width`` s)."""
    capacity = st.workers * len(st.replicas)
    busy, queue, rejected, _ = (y - x for x, y in zip(a, b, strict=True))
    prev = 0.0
    util_series, queue_series = [], []
    for snap in samples:
        util_series.append((snap[0] - prev) / (width * capacity))
        prev = snap[0]
        queue_series.append(snap[3])
    return {
        "busy_area": busy,
        "queue_area": queue,
        "capacity": capacity,
        "rejected": rejected,
        "completions": st.completions,
        "count": st.hist.count,
        "errors": st.errors,
        "sum": st.hist.total,
        "hist": st.hist.sparse(),
        "queue_end": b[3],
        "util_series": util_series,
        "queue_series": queue_series,
    }


def _event_stats(
    model: CompiledModel, a: dict[str, Any], b: dict[str, Any]
) -> list[dict[str, Any]]:
    """Per consumer of an event flow: published, consumed and failed counts, its backlog over
    the window (snapshots ``a`` to ``b``) and its processing-time histogram (s)."""
    events = []
    flows: dict[str, Any] = {}
    for f in model.arch.behaviour.events:
        flows.setdefault(f.event, f)  # the first flow of each event (a scan per consumer was
        # O(consumers x events))
    for i, (event, consumer_ref, consumer) in enumerate(model.consumers):
        flow = flows[event]
        _, counter = model.flows[(flow.broker, event)]
        events.append(
            {
                "event": event,
                "broker": flow.broker,
                "consumer": consumer_ref,
                "published": counter[0],
                "consumed": consumer.consumed,
                "failed": consumer.failed,
                "backlog_area": b[f"consumer:{i}"][0] - a[f"consumer:{i}"][0],
                "backlog_end": b[f"consumer:{i}"][1],
                "sum": consumer.hist.total,
                "count": consumer.hist.count,
                "hist": consumer.hist.sparse(),
            }
        )
    return events
