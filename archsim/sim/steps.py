"""The interpreter: operations compiled to tuples of step objects, run with callbacks.

A ``Frame`` is one execution of an operation at one replica. ``Runner.advance`` runs its steps
in order until one has to wait (a worker, a network hop, a callee); the waiting step resumes
the frame through a callback. A failed step ends the operation with that status, the way a
raised exception ends the generated handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archsim.sim.stations import (
    ERROR,
    GRANTED,
    OK,
    REJECTED,
    Consumer,
    Kernel,
    Pool,
    Replica,
    Station,
)
from archsim.sim.stats import Histogram

__all__ = [
    "MAX_CALL_DEPTH",
    "CacheGetStep",
    "ComputeStep",
    "Frame",
    "LinkStats",
    "Op",
    "PublishStep",
    "Runner",
    "VisitStep",
]


#: Deepest chain of nested synchronous calls the simulator follows (a safety net for cycles
#: with p < 1; a cycle every request takes is a validate error). Also bounds Python's stack
#: when hops have no latency.
MAX_CALL_DEPTH = 100


class LinkStats:
    """Calls over one link, seen by the caller: count, failures and latency histogram."""

    __slots__ = ("count", "failed", "hist", "key", "timeouts", "warm")

    def __init__(self, key: tuple[str, str, str], warm: float) -> None:
        self.key = key
        self.warm = warm
        self.count = 0
        self.failed = 0
        self.timeouts = 0
        self.hist = Histogram()

    def record(self, t0: float, now: float, status: int) -> None:
        """One interaction that started at ``t0`` finished with ``status``."""
        if t0 >= self.warm:
            self.count += 1
            self.hist.add(now - t0)
            if status:
                self.failed += 1
                if status == 2:
                    self.timeouts += 1


class Op:
    """A compiled operation: its steps and where (and how) it runs."""

    __slots__ = ("error_rate", "n", "name", "record", "station", "steps", "threads", "undo")

    def __init__(self, name: str, station: Station, threads: bool, error_rate: float) -> None:
        self.name = name
        self.station = station
        self.threads = threads
        self.error_rate = error_rate
        self.steps: tuple[Any, ...] = ()
        self.n = 0
        self.record = True  # background work (heartbeats) is not a request of the component
        # saga: (compiled index of a compensable step, the operation that undoes it)
        self.undo: tuple[tuple[int, Op], ...] = ()

    def set_steps(self, steps: list[Any]) -> None:
        """Install the compiled steps."""
        self.steps = tuple(steps)
        self.n = len(self.steps)


class Frame:
    """One execution of an operation."""

    __slots__ = (
        "aux", "depth", "done", "op", "pc", "refused", "rep", "st", "status", "t0", "ta", "ts",
    )  # fmt: skip
    op: Op
    pc: int  # index of the next step
    status: int
    t0: float  # start of the operation
    done: Callable[[Frame], None]
    rep: Replica  # left unset on a frame refused before it reached a replica

    def __init__(self) -> None:
        self.depth = 0  # nested synchronous calls above this frame
        self.refused = False  # rejected at its own replica's door: not a latency sample there
        self.aux: Any = None  # replica of the station a visit step is using
        self.st = OK  # status of the interaction in flight
        self.ta = 0.0  # arrival at a visited station
        self.ts = 0.0  # start of the current step


class Runner:
    """Starts, advances and finishes frames."""

    def __init__(self, kernel: Kernel) -> None:
        self.k = kernel
        self.env = kernel.env
        self.truncated = 0  # calls refused at MAX_CALL_DEPTH (the safety net; see the docstring)
        self.compensations = 0  # undo operations run because a saga failed after its step

    def start(self, op: Op, done: Callable[[Frame], None], depth: int = 0) -> None:
        """Run ``op`` at a replica of its component; ``done(frame)`` gets the outcome.

        ``depth`` counts the synchronous calls above it. Past ``MAX_CALL_DEPTH`` the call fails
        at once and is counted in ``truncated``: validate refuses cycles that never end, so
        only a cycle with p < 1 can get there, with probability p^depth."""
        f = Frame()
        f.op, f.pc, f.status, f.t0, f.done, f.depth = op, 0, OK, self.env._now, done, depth
        if depth > MAX_CALL_DEPTH:
            self.truncated += 1
            f.status = ERROR
            done(f)
            return
        st = op.station
        if st.down:  # refused: the caller sees a connection error
            f.status = ERROR
            done(f)
            return
        rep = f.rep = st.pick()
        rep.outstanding += 1
        if op.threads:  # a thread is held for the whole operation
            code = rep.acquire(self._begin, f)
            if code == GRANTED:
                self.advance(f)
            elif code == REJECTED:
                rep.outstanding -= 1
                f.status = REJECTED  # counted by the replica, not a latency sample
                done(f)
            return
        self.advance(f)

    def _begin(self, f: Frame) -> None:
        self.advance(f)

    def advance(self, f: Frame) -> None:
        """Run steps until one waits; finish the frame when none is left or one failed."""
        steps, n = f.op.steps, f.op.n
        while f.status == OK and f.pc < n:
            step = steps[f.pc]
            f.pc += 1
            if step.run(f):
                return
        if f.status != OK and f.op.undo:
            # a saga failed: undo the compensable steps that completed (those before the
            # failed one), last first, before the failure is answered (as rt.saga() does)
            done = [op for at, op in f.op.undo if at < f.pc - 1]
            if done:
                self._compensate(f, done)
                return
        self.finish(f)

    def _compensate(self, f: Frame, pending: list[Op]) -> None:
        """Run the undo operations one after the other, then finish ``f`` as it failed (the
        undo's network hop is left out: its link is the compensated call's, already paid)."""
        if not pending:
            self.finish(f)
            return
        self.compensations += 1
        self.start(pending.pop(), lambda _g: self._compensate(f, pending), f.depth + 1)

    def finish(self, f: Frame) -> None:
        """Release what the frame holds, apply the component's error rate, report."""
        op, rep = f.op, f.rep
        if op.threads and f.status != REJECTED:
            rep.release()
        rep.outstanding -= 1
        if f.status == OK and op.error_rate and self.k.rand() < op.error_rate:
            f.status = ERROR
        if op.record and not f.refused:
            op.station.record(f.t0, self.env._now, f.status)
        f.done(f)


class ComputeStep:
    """Hold a worker of the operation's replica for one service time (async), or just take
    the service time when a thread is already held for the whole operation."""

    __slots__ = ("_done", "draw", "held", "k", "runner", "station")

    def __init__(
        self, runner: Runner, station: Station, held: bool, draw: Callable[[], float] | None = None
    ) -> None:
        self.runner = runner
        self.k = runner.k
        self.station = station
        self.held = held
        # The operation's own service time (``operation_time``) or the component's.
        self.draw = draw or station.draw
        self._done = self._done_held if held else self._done_release

    def run(self, f: Frame) -> bool:
        if self.held:
            self._serve(f)
            return True
        code = f.rep.acquire(self._serve, f)
        if code == GRANTED:
            self._serve(f)
            return True
        if code == REJECTED:
            f.status = REJECTED
            f.refused = True
            return False
        return True

    def _serve(self, f: Frame) -> None:
        self.k.later(self.draw() * self.station.factor, self._done, f)

    def _done_release(self, f: Frame) -> None:
        f.rep.release()
        self.runner.advance(f)

    def _done_held(self, f: Frame) -> None:
        self.runner.advance(f)


class VisitStep:
    """A round trip to an infrastructure station (database query, cache op, publish): optional
    connection-pool slot, network hop, a worker there for one service time, hop back."""

    __slots__ = ("err", "k", "lat", "link", "p", "pool", "runner", "station")

    def __init__(
        self,
        runner: Runner,
        station: Station,
        *,
        p: float,
        latency: float,
        error_rate: float,
        link: LinkStats,
        pool: Pool | None = None,
    ) -> None:
        self.runner = runner
        self.k = runner.k
        self.station = station
        self.p = p
        self.lat = latency
        self.err = error_rate
        self.link = link
        self.pool = pool

    def run(self, f: Frame) -> bool:
        if self.p < 1.0 and self.k.rand() >= self.p:
            return False
        f.ts = self.runner.env._now
        if self.pool is not None and not self.pool.acquire(self._go, f):
            return True
        self._go(f)
        return True

    def _go(self, f: Frame) -> None:
        if self.lat:
            self.k.later(self.lat, self._arrive, f)
        else:
            self._arrive(f)

    def _arrive(self, f: Frame) -> None:
        st = self.station
        if st.down:
            self._back(f, ERROR)
            return
        rep: Replica = st.pick()
        f.aux = rep
        f.ta = self.runner.env._now
        code = rep.acquire(self._serve, f)
        if code == GRANTED:
            self._serve(f)
        elif code == REJECTED:
            self._back(f, REJECTED)

    def _serve(self, f: Frame) -> None:
        st = self.station
        self.k.later(st.draw() * st.factor, self._served, f)

    def _served(self, f: Frame) -> None:
        f.aux.release()
        status = ERROR if self.err and self.k.rand() < self.err else OK
        self.station.record(f.ta, self.runner.env._now, status)
        if not status:
            self.arrived(f)
        self._back(f, status)

    def arrived(self, f: Frame) -> None:
        """Hook: the station has done its work (publish enqueues the event here)."""

    def _back(self, f: Frame, status: int) -> None:
        f.st = status
        if self.lat:
            self.k.later(self.lat, self._returned, f)
        else:
            self._returned(f)

    def _returned(self, f: Frame) -> None:
        if self.pool is not None:
            self.pool.release()
        self.link.record(f.ts, self.runner.env._now, f.st)
        if f.st:
            f.status = f.st
        else:
            self.after(f)
        self.runner.advance(f)

    def after(self, f: Frame) -> None:
        """Hook: the caller has the answer (a cache hit skips the miss steps here)."""


class CacheGetStep(VisitStep):
    """Read-through cache: a hit (probability ``hit``) skips the ``skip`` miss steps after it."""

    __slots__ = ("hit", "skip")

    def __init__(self, runner: Runner, station: Station, *, hit: float, skip: int, **kw: Any):
        super().__init__(runner, station, **kw)
        self.hit = hit
        self.skip = skip

    def after(self, f: Frame) -> None:
        if self.k.rand() < self.hit:
            f.pc += self.skip


class PublishStep(VisitStep):
    """Put an event on a broker; every consumer group of it gets a copy once the broker has it."""

    __slots__ = ("consumers", "counter")

    def __init__(
        self,
        runner: Runner,
        station: Station,
        *,
        consumers: list[Consumer],
        counter: list[int],
        **kw: Any,
    ):
        super().__init__(runner, station, **kw)
        self.consumers = consumers
        self.counter = counter  # [published after warm-up], shared by the event flow

    def arrived(self, f: Frame) -> None:
        now = self.runner.env._now
        if now >= self.k.warm:
            self.counter[0] += 1
        for consumer in self.consumers:
            consumer.enqueue(now)
