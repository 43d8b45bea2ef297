"""What one replication records while it runs and the plain data it returns: outcomes per
entry (``EntrySink``), requests in flight and the over-time series (``Recorder``), cumulative
snapshots of every station and consumer (``snapshot``), and ``collect``, which turns them into
the replication's statistics over the measured window.
"""

from __future__ import annotations

from typing import Any

import simpy

from archsim.sim.compiler import CompiledModel
from archsim.sim.stations import OK, REJECTED, TIMEOUT, Station
from archsim.sim.stats import Histogram
from archsim.sim.steps import Frame

__all__ = ["EntrySink", "Recorder", "collect", "snapshot"]


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


def snapshot(model: CompiledModel, rec: Recorder) -> dict[str, Any]:
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


def collect(
    model: CompiledModel,
    rec: Recorder,
    sinks: dict[int, EntrySink],
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
