"""What one replication records while it runs and the plain data it returns: outcomes per
entry (``EntrySink``), requests in flight and the over-time series (``Recorder``), cumulative
snapshots of every station and consumer (``snapshot``), and ``collect``, which turns them into
the replication's statistics over the measured window.
"""

from __future__ import annotations

from itertools import chain, compress, repeat
from operator import add, attrgetter, ne, or_, sub, truediv
from typing import Any, NamedTuple

import simpy

from archsim.sim.compiler import CompiledModel
from archsim.sim.stations import OK, REJECTED, TIMEOUT, Station
from archsim.sim.stats import Histogram
from archsim.sim.steps import Frame

__all__ = ["Bin", "EntrySink", "Recorder", "Snapshot", "Snapshots", "collect"]


class EntrySink:
    """Outcomes of one entry point."""

    __slots__ = ("arrived", "errors", "hist", "ok", "rec", "rejected", "sample", "timeouts")

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.arrived = self.ok = self.errors = self.timeouts = self.rejected = 0
        self.hist = Histogram()
        self.sample = self.hist.add

    def done(self, f: Frame) -> None:
        """A request of this entry answered: counted by status, its latency (s) sampled, once
        it started after the warm-up."""
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


class Recorder:
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
        """A request arrives at ``now`` (s): one more in flight."""
        self.area += self.inflight * (now - self.last)
        self.last = now
        self.inflight += 1

    def flush(self) -> float:
        """The area of requests in flight over time (request-seconds) up to now."""
        now = self.env._now
        self.area += self.inflight * (now - self.last)
        self.last = now
        return self.area


class Snapshot(NamedTuple):
    """Cumulative figures at time ``t`` (s): per replica (every station's, in station order)
    busy and queue areas (worker-s, request-s), rejections and requests waiting; per consumer
    its backlog area (message-s) and backlog. Differences of two give window values. A time
    bin's snapshot leaves the queue areas, rejections and the consumers' figures empty."""

    t: float
    inflight_area: float
    busy: list[float]
    queue: list[float]
    rejected: list[int]
    waiting: list[int]
    backlog_area: list[float]
    backlog: list[int]


_free, _queue, _backlog = attrgetter("free"), attrgetter("queue"), attrgetter("backlog")
_busy_area, _queue_area = attrgetter("busy_area"), attrgetter("queue_area")
_rejected, _backlog_area = attrgetter("rejected"), attrgetter("backlog_area")


class Bin(NamedTuple):
    """A time bin's end: the replicas whose figures changed since the last bin (``at``: their
    places in the snapshots' columns), with their busy areas (worker-s) and requests waiting.
    Every other replica was idle since: its figures are the last bin's."""

    at: list[int]
    busy: list[float]
    waiting: list[int]


class Snapshots:
    """Takes ``Snapshot``s and ``Bin``s of a compiled model. A snapshot reads every replica's
    and consumer's figures in C (``map`` over attribute getters); only a replica or consumer
    that is not idle is brought up to date first (an idle one's areas grow by 0, bit for bit):
    at 1,600 components a Python loop over every station was 1.3 ms a snapshot, 62 a run. A
    bin reads only the replicas on the kernel's ``touched`` list (see ``take_bin``)."""

    def __init__(self, model: CompiledModel, rec: Recorder) -> None:
        self.env, self.rec = model.k.env, rec
        self.replicas = [rep for st in model.stations.values() for rep in st.replicas]
        for i, rep in enumerate(self.replicas):
            rep.index = i
        self.workers = [rep.workers for rep in self.replicas]
        self.consumers = [consumer for _, _, consumer in model.consumers]
        self.touched = model.k.touched

    def take(self) -> Snapshot:
        """The cumulative figures now (every figure brought up to date first)."""
        reps, consumers = self.replicas, self.consumers
        waiting = list(map(len, map(_queue, reps)))
        for rep in compress(reps, map(or_, map(ne, map(_free, reps), self.workers), waiting)):
            rep._account()
        backlog = list(map(len, map(_backlog, consumers)))
        for consumer in compress(consumers, backlog):
            consumer._account()
        return Snapshot(
            self.env._now,
            self.rec.flush(),
            list(map(_busy_area, reps)),
            list(map(_queue_area, reps)),
            list(map(_rejected, reps)),
            waiting,
            list(map(_backlog_area, consumers)),
            backlog,
        )

    def take_bin(self) -> Bin:
        """A time bin's end: the busy areas and requests waiting of the replicas that took a
        worker or a waiter since the last bin or were not idle at it, each brought up to date
        as ``take`` would (the same sums, bit for bit). Those idle now leave the list; an idle
        replica's figures do not change until it is on it again. At 1,600 components a third of
        the replicas are touched in a bin, and reading every one was most of a bin's cost."""
        touched = self.touched
        consumers = self.consumers
        for consumer in compress(consumers, map(len, map(_backlog, consumers))):
            consumer._account()  # the rest of ``take``'s updates: a full snapshot reads them
        self.rec.flush()
        at, busy, waiting, keep = [], [], [], []
        for rep in touched:
            n = len(rep.queue)
            if n or rep.free != rep.workers:
                rep._account()
                keep.append(rep)
            else:
                rep.seen = False
            at.append(rep.index)
            busy.append(rep.busy_area)
            waiting.append(n)
        touched[:] = keep
        return Bin(at, busy, waiting)


def collect(
    model: CompiledModel,
    rec: Recorder,
    sinks: dict[int, EntrySink],
    entries: Any,
    snaps: dict[str, Snapshot],
    series: list[Bin],
    warm: float,
    duration: float,
    width: float,
) -> dict[str, Any]:
    """The replication's plain data over the window ``[warm, duration]`` (s), from the sinks,
    the model's counters and the difference of the ``"warm"`` and ``"end"`` snapshots."""
    a, b = snaps["warm"], snaps["end"]
    out: dict[str, Any] = {"window": duration - warm, "warmup": warm}
    out["entries"] = {entries[i].id: _entry_stats(s) for i, s in sinks.items()}
    out["components"] = _components(model, a, b, series, width)
    out["links"] = [
        {
            "source": s,
            "target": t,
            "relation": r,
            "count": ls.hist.count,
            "failed": ls.failed,
            "timeouts": ls.timeouts,
            "sum": ls.hist.total,
            "hist": ls.hist.sparse(),
        }
        for (s, t, r), ls in model.links.items()
    ]
    out["events"] = _event_stats(model, a, b)
    out["inflight_area"] = b.inflight_area - a.inflight_area
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


def _entry_stats(s: EntrySink) -> dict[str, Any]:
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


def _components(
    model: CompiledModel, a: Snapshot, b: Snapshot, series: list[Bin], width: float
) -> dict[str, dict[str, Any]]:
    """Per station its window figures (snapshots ``a`` to ``b``) and its utilisation and queue
    series (one sample per bin of ``width`` s), its replicas' figures added up in order."""
    # per replica, its busy area and requests waiting at each bin's end (transposed in C)
    busy_rows, wait_rows = _rows(series, len(a.busy))
    busy_cols = list(zip(*busy_rows, strict=True)) or None
    wait_cols = list(zip(*wait_rows, strict=True)) or None
    out, j = {}, 0
    for sid, st in model.stations.items():
        r = len(st.replicas)
        busy = _added_cols(busy_cols, j, r, 0.0)
        waiting = _added_cols(wait_cols, j, r, 0)
        out[sid] = _station_stats(st, _sums(a, j, r), _sums(b, j, r), busy, waiting, width)
        j += r
    return out


def _rows(series: list[Bin], n: int) -> tuple[list[list[float]], list[list[int]]]:
    """Every one of the ``n`` replicas' busy area and requests waiting at each bin's end: the
    last bin's figures with the bin's changes written over them (all 0 before the first)."""
    busy, waiting = [0.0] * n, [0] * n
    busy_rows, wait_rows = [], []
    for changed in series:
        for i, area, queued in zip(changed.at, changed.busy, changed.waiting, strict=True):
            busy[i] = area
            waiting[i] = queued
        busy_rows.append(busy.copy())
        wait_rows.append(waiting.copy())
    return busy_rows, wait_rows


def _sums(snap: Snapshot, j: int, r: int) -> tuple[float, float, int, int]:
    """Busy and queue areas, rejections and requests waiting of the replicas ``j .. j + r - 1``
    in ``snap``, added up."""
    if r == 1:  # most stations; zero + x is x (areas and counts are never -0.0)
        return snap.busy[j], snap.queue[j], snap.rejected[j], snap.waiting[j]
    return (
        _added(snap.busy, j, r, 0.0),
        _added(snap.queue, j, r, 0.0),
        _added(snap.rejected, j, r, 0),
        _added(snap.waiting, j, r, 0),
    )


def _added(values: list[Any], j: int, r: int, zero: Any) -> Any:
    """``values[j] + ... + values[j + r - 1]``, added in order from ``zero``."""
    total = zero
    for v in values[j : j + r]:
        total += v
    return total


def _added_cols(cols: list[tuple[Any, ...]] | None, j: int, r: int, zero: Any) -> list[Any]:
    """The columns ``cols[j:j + r]`` added up element by element, in order from ``zero``."""
    if cols is None:
        return []
    if r == 1:
        return list(cols[j])  # zero + x is x: areas and counts are never -0.0
    total: list[Any] = [zero] * len(cols[j])
    for col in cols[j : j + r]:
        total = list(map(add, total, col))
    return total


def _station_stats(
    st: Station,
    a: tuple[Any, ...],
    b: tuple[Any, ...],
    busy: list[float],
    waiting: list[int],
    width: float,
) -> dict[str, Any]:
    """One station's window figures from its sums at warm-up end ``a`` and run end ``b``, and
    its utilisation and queue series from its busy area and requests waiting at each bin's end
    (bins of ``width`` s)."""
    capacity = st.workers * len(st.replicas)
    busy_w, queue_w, rejected, _ = (y - x for x, y in zip(a, b, strict=True))
    # (area - area at the bin before) / (width * capacity) per bin, walked in C
    deltas = map(sub, busy, chain((0.0,), busy))
    util_series = list(map(truediv, deltas, repeat(width * capacity)))
    return {
        "busy_area": busy_w,
        "queue_area": queue_w,
        "capacity": capacity,
        "rejected": rejected,
        "completions": st.hist.count,
        "count": st.hist.count,
        "errors": st.errors,
        "sum": st.hist.total,
        "hist": st.hist.sparse(),
        "queue_end": b[3],
        "util_series": util_series,
        "queue_series": waiting,
    }


def _event_stats(model: CompiledModel, a: Snapshot, b: Snapshot) -> list[dict[str, Any]]:
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
                "backlog_area": b.backlog_area[i] - a.backlog_area[i],
                "backlog_end": b.backlog[i],
                "sum": consumer.hist.total,
                "count": consumer.hist.count,
                "hist": consumer.hist.sparse(),
            }
        )
    return events
