"""One replication: compile the architecture's behaviour into steps, drive the workload, and
return plain statistics (picklable, so replications can run in other processes).

The engine executes ``arch.behaviour`` and nothing else: entries start front-door operations,
operations run their steps, event flows connect publishers to consumers. What the run records
and returns is ``archsim.sim.recorder``'s.
"""

from __future__ import annotations

import bisect
import gc
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from heapq import heappush
from itertools import accumulate
from math import log as _log
from typing import Any

import simpy

from archsim.model import Architecture
from archsim.sim.compiler import CompiledModel, sampler
from archsim.sim.config import SimConfig
from archsim.sim.contention import HostWaits
from archsim.sim.recorder import Bin, EntrySink, Recorder, Snapshot, Snapshots, collect
from archsim.sim.stations import Kernel, Lane, Station
from archsim.sim.steps import Frame, Op, Runner
from archsim.sim.workload import Workload, entry_weights

__all__ = ["run_replication"]


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
    with _gc_frozen() as running:
        waits = _host_waits(arch, kernel, workload)
        model = CompiledModel(arch, kernel, runner, cfg, waits)
        rec = Recorder(env, warm, duration, cfg.bins)
        if pilot:
            rec.pilot = []
        weights = entry_weights(arch, workload)
        sinks = {i: EntrySink(rec) for i, _ in weights}
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
        with running():  # the compiled model frozen too
            kernel.run(duration + min(30.0, 0.25 * duration))  # plus a drain
        out = collect(
            model, rec, sinks, arch.behaviour.entries, snaps, series, warm, duration, width
        )
    out["truncated"] = runner.truncated
    out["compensations"] = runner.compensations
    return out


class _Front:
    """The front door: per entry of the mix its operation and sink (``choices``), picked by a
    uniform draw bisected into the cumulative weights ``cum``."""

    __slots__ = ("choices", "cum", "last")

    def __init__(
        self, model: CompiledModel, weights: list[tuple[int, float]], sinks: dict[int, EntrySink]
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
    rec: Recorder,
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

        def back(f: Frame, sink: EntrySink = sink) -> None:
            sink.done(f)
            later(think(), user, None)

        start(op, back)

    for _ in range(workload.users or 0):
        later(think(), user, None)


def _start_arrivals(
    kernel: Kernel,
    runner: Runner,
    rec: Recorder,
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
    model: CompiledModel, rec: Recorder, warm: float, duration: float, bins: int
) -> tuple[dict[str, Snapshot], list[Bin]]:
    """Schedule the snapshots: ``"warm"`` and ``"end"`` (filled in as the run passes them), and
    a ``Bin`` per time bin of ``duration / bins`` seconds (appended to the series)."""
    snapshots = Snapshots(model, rec)
    later, snapshot, take_bin = model.k.later, snapshots.take, snapshots.take_bin
    snaps: dict[str, Snapshot] = {}
    series: list[Bin] = []
    width = duration / bins

    def take(name: str) -> None:
        snaps[name] = snapshot()

    def sample(k: int) -> None:
        series.append(take_bin())
        if k + 1 < bins:
            later(width, sample, k + 1)

    later(warm, take, "warm")
    later(width, sample, 0)
    later(duration, take, "end")
    return snaps, series


_GEN0 = 100_000  # the GC's first threshold during a run (CPython's default is 700)
_gc_lock = threading.Lock()
_gc_users = [0]  # replications inside _gc_frozen now, in this process's threads


@contextmanager
def _gc_frozen() -> Iterator[Callable[[], AbstractContextManager[None]]]:
    """Keep the cyclic GC off the replication's long-lived objects: off while the block compiles
    and collects, and, inside the context manager it yields, on with the objects alive by then
    frozen and a young pass every ``_GEN0`` allocations (the run)."""
    # The architecture, then the compiled model and its statistics, live through the run:
    # frozen, the GC's full passes (set off by what the run allocates) skip them; unfrozen they
    # are traversed again and again, a cost that grows with the model (at 1,600 components a
    # full pass is ~0.1-0.2 s). A young pass every 700 allocations walks what the run keeps
    # alive (frames and attempts in flight, the timer lanes, new histogram buckets) again and
    # again too; every 100,000, the cyclic garbage waits longer (a few MB). The compile and the
    # collection make what lives on, not garbage: with the GC on, at 1,600 components each
    # set off a young pass over ~100,000 new objects (~8 ms each). What is alive at the end
    # goes to the oldest generation, as the frozen objects do. Only the first replication in
    # when nothing else is frozen changes any of this, and it restores it: unfreezing would
    # release other code's objects.
    with _gc_lock:
        owned = _gc_users[0] == 0 and gc.get_freeze_count() == 0
        _gc_users[0] += 1
    threshold, enabled = gc.get_threshold(), gc.isenabled()

    @contextmanager
    def running() -> Iterator[None]:
        if owned:
            gc.freeze()
            if enabled:
                gc.enable()
        try:
            yield
        finally:
            if owned:
                gc.disable()

    if owned:
        gc.set_threshold(max(threshold[0], _GEN0), *threshold[1:])
        gc.disable()
        gc.freeze()
    try:
        yield running
    finally:
        with _gc_lock:
            _gc_users[0] -= 1
        if owned:
            gc.freeze()  # then unfrozen with the rest: into the oldest generation
            gc.unfreeze()
            gc.set_threshold(*threshold)
            if enabled:
                gc.enable()


def _host_waits(arch: Architecture, kernel: Kernel, workload: Workload) -> HostWaits | None:
    """The shared host's waits for a core, when the model has ``host_wait`` (and ``host_cpu``)."""
    host = arch.host
    if host is None or not host.wait or not host.cpu_per_request:
        return None
    return HostWaits(kernel, host, 0.0 if workload.closed else workload.rate_at(0.0))


def _background(model: CompiledModel, rng: random.Random) -> None:
    """Start-up calls at t=0 and periodic tasks (heartbeats, discovery lookups) per replica.

    Their wakes wait in lanes, not on the heap (``Lane``): the first ones sorted into one lane,
    each task's next ones in the lane of its interval (now + interval only grows)."""
    arch, runner, kernel = model.arch, model.runner, model.k
    env, seq = kernel.env, kernel.seq
    lanes: dict[float, Lane] = {}
    first: list[tuple[float, int, Any, None]] = []
    for lc in arch.behaviour.lifecycles:
        comp = arch.component(lc.component)
        station = model.stations[comp.id]
        tasks = [(0.0, lc.startup)] if lc.startup else []
        tasks += [(t.interval, t.steps) for t in lc.periodic]
        for interval, steps in tasks:
            op = Op(f"{comp.id}.background", station, False, 0.0)
            op.record = False
            op.set_steps(model.compile(steps, comp.id, False))
            lane = lanes.setdefault(interval, Lane(kernel)) if interval else None
            for _ in range(comp.replicas):

                def go(
                    _: None, op: Op = op, lane: Lane | None = lane, interval: float = interval
                ) -> None:
                    def again(f: Frame) -> None:
                        if lane is not None:  # later(interval, go, None) through the lane
                            lane.push((env._now + interval, seq(), go, None))

                    runner.start(op, again)

                delay = rng.uniform(0, interval) if interval else 0.0
                if delay < 0:
                    raise ValueError(f"negative delay {delay}")
                first.append((env._now + delay, seq(), go, None))  # later(delay, go, None)
    start = Lane(kernel)
    for wake in sorted(first, key=_due):
        start.push(wake)


def _due(wake: tuple[float, int, Any, Any]) -> tuple[float, int]:
    """A wake's place in the kernel's order: time, then sequence."""
    return wake[0], wake[1]


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
