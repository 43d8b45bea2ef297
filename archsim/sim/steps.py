"""The interpreter: operations compiled to tuples of step objects, run with callbacks.

A ``Frame`` is one execution of an operation at one replica. ``Runner.advance`` runs its steps
in order until one has to wait (a worker, a network hop, a callee); the waiting step resumes
the frame through a callback. A failed step ends the operation with that status, the way a
raised exception ends the generated handler.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from math import log as _log
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
    "DelayStep",
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
    """Calls over one link, seen by the caller: count, failures and latency histogram.

    The steps record an interaction that started at ``t0 >= warm`` themselves: ``hist.add(now
    - t0)`` (its count is the calls'), ``failed`` when its status is not OK and ``timeouts``
    when TIMEOUT; no bound ``add`` kept (see ``Station``)."""

    __slots__ = ("failed", "hist", "key", "timeouts", "warm")

    def __init__(self, key: tuple[str, str, str], warm: float) -> None:
        self.key = key
        self.warm = warm
        self.failed = 0
        self.timeouts = 0
        self.hist = Histogram()


class Op:
    """A compiled operation: its steps and where (and how) it runs."""

    __slots__ = (
        "error_rate", "n", "name", "record", "runs", "station", "steps", "threads", "undo",
    )  # fmt: skip

    def __init__(self, name: str, station: Station, threads: bool, error_rate: float) -> None:
        self.name = name
        self.station = station
        self.threads = threads
        self.error_rate = error_rate
        self.steps: tuple[Any, ...] = ()
        # each step's ``run`` as its class's plain function, called ``runs[i](steps[i], f)``: a
        # bound method per step was one more object a hop read, a cache line apiece at 1,600
        # components (the five step classes share five functions)
        self.runs: tuple[Callable[[Any, Frame], bool], ...] = ()
        self.n = 0
        self.record = True  # background work (heartbeats) is not a request of the component
        # saga: (compiled index of a compensable step, the operation that undoes it)
        self.undo: tuple[tuple[int, Op], ...] = ()

    def set_steps(self, steps: list[Any]) -> None:
        """Install the compiled steps."""
        self.steps = tuple(steps)
        self.runs = tuple(type(step).run for step in self.steps)
        self.n = len(self.steps)


class Frame:
    """One execution of an operation.

    No ``__init__``: ``Runner.start`` sets the fields every frame has; a visit step sets
    ``ts``, ``ta``, ``aux`` and ``st`` before it reads them."""

    __slots__ = (
        "aux", "depth", "done", "op", "pc", "refused", "rep", "st", "status", "step", "t0", "ta",
        "ts",
    )  # fmt: skip
    op: Op
    pc: int  # index of the next step
    status: int
    t0: float  # start of the operation
    done: Callable[[Frame], None]
    depth: int  # nested synchronous calls above this frame
    refused: bool  # rejected at its own replica's door: not a latency sample there
    rep: Replica  # left unset on a frame refused before it reached a replica
    aux: Replica  # replica of the station a visit step is using
    st: int  # status of the interaction in flight
    ta: float  # arrival at a visited station
    ts: float  # start of the current step
    # The compute or visit step the frame waits in: its callbacks are the class's functions,
    # shared by every step and reading the step here, not methods bound per step (one more
    # object per callback a hop touched, spread over memory at 1,600 components).
    step: Any


class Runner:
    """Starts, advances and finishes frames."""

    def __init__(self, kernel: Kernel) -> None:
        self.k = kernel
        self.env = kernel.env
        # the kernel's fields every step reads, here once: a copy in each step was one more
        # cache line of every step a hop read at 1,600 components (a step keeps ``runner``)
        self.queue = kernel.queue
        self.seq = kernel.seq
        self.rand = kernel.rand
        self.truncated = 0  # calls refused at MAX_CALL_DEPTH (the safety net; see the docstring)
        self.compensations = 0  # undo operations run because a saga failed after its step
        # One bound method each, which every step keeps and calls: ``runner.advance`` makes a
        # new one per access, and a step's own copy is one more object a hop touches (a cache
        # miss apiece at 1,600 components).
        self.advance = self.advance  # type: ignore[method-assign]
        self.start = self.start  # type: ignore[method-assign]

    def start(self, op: Op, done: Callable[[Frame], None], depth: int = 0) -> None:
        """Run ``op`` at a replica of its component; ``done(frame)`` gets the outcome.

        ``depth`` counts the synchronous calls above it. Past ``MAX_CALL_DEPTH`` the call fails
        at once and is counted in ``truncated``: validate refuses cycles that never end, so
        only a cycle with p < 1 can get there, with probability p^depth."""
        f = Frame()
        # in threes: an assignment to more names builds a tuple and unpacks it (one per start)
        f.op, f.pc, f.status = op, 0, OK
        f.t0, f.done, f.depth = self.env._now, done, depth
        f.refused = False
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
        rep = st.single
        if rep is None:
            rep = st.pick()
        f.rep = rep
        rep.outstanding += 1
        if op.threads:  # a thread is held for the whole operation
            code = rep.acquire(self.advance, f)
            if code == GRANTED:
                self.advance(f)
            elif code == REJECTED:
                rep.outstanding -= 1
                f.status = REJECTED  # counted by the replica, not a latency sample
                done(f)
            return
        self.advance(f)

    def advance(self, f: Frame) -> None:
        """Run steps until one waits; finish the frame when none is left or one failed."""
        op = f.op
        if not f.status:
            # two assignments: one of four names builds and unpacks a tuple (of three, none)
            runs, steps = op.runs, op.steps
            n, pc = op.n, f.pc
            while pc < n:
                run, step = runs[pc], steps[pc]
                pc += 1
                f.pc = pc
                if run(step, f):
                    return
                if f.status:
                    break
        if f.status and op.undo:
            # a saga failed: undo the compensable steps that completed (those before the
            # failed one), last first, before the failure is answered (as rt.saga() does)
            done = [undo for at, undo in op.undo if at < f.pc - 1]
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
        op, rep, status = f.op, f.rep, f.status
        if op.threads:  # held since ``start`` (a frame refused there never gets here)
            rep.release()
        rep.outstanding -= 1
        if status == OK and op.error_rate and self.rand() < op.error_rate:
            f.status = status = ERROR
        if op.record and not f.refused:
            st = op.station  # a request of the station (see Station)
            t0 = f.t0
            if t0 >= st.warm:
                st.hist.add(self.env._now - t0)
                if status:
                    st.errors += 1
        f.done(f)


class ComputeStep:
    """Hold a worker of the operation's replica for one service time (async), or just take
    the service time when a thread is already held for the whole operation."""

    __slots__ = ("_done", "draw", "held", "rate", "runner", "station")

    def __init__(
        self,
        runner: Runner,
        station: Station,
        held: bool,
        draw: Callable[[], float] | None = None,
        rate: float = 0.0,
    ) -> None:
        self.runner = runner  # the kernel's clock, queue and draws (see Runner.queue)
        self.station = station
        self.held = held
        # The operation's own service time (``operation_time``) or the component's; ``rate``
        # is its exponential rate (drawn in place, see Station.rate) or 0.
        self.draw = draw or station.draw
        self.rate = rate if draw else station.rate
        self._done = runner.advance if held else self._done_release

    def run(self, f: Frame) -> bool:
        """Start the step: True when it waits (it resumes ``f`` itself), False when ``f``
        goes on at once (here: refused at the replica's door)."""
        f.step = self
        if not self.held:
            code = f.rep.acquire(_compute_serve, f)
            if code == REJECTED:
                f.status = REJECTED
                f.refused = True
                return False
            if code != GRANTED:
                return True
        r, rate = self.runner, self.rate
        heappush(
            r.queue,
            (
                r.env._now
                + (-_log(1.0 - r.rand()) / rate if rate else self.draw()) * self.station.factor,
                r.seq(),
                self._done,
                f,
            ),
        )
        return True

    @staticmethod
    def _serve(f: Frame) -> None:
        self: ComputeStep = f.step
        r, rate = self.runner, self.rate
        heappush(
            r.queue,
            (
                r.env._now
                + (-_log(1.0 - r.rand()) / rate if rate else self.draw()) * self.station.factor,
                r.seq(),
                self._done,
                f,
            ),
        )

    @staticmethod
    def _done_release(f: Frame) -> None:
        self: ComputeStep = f.step
        r = self.runner
        rep = f.rep  # rep.release(), written out: this ends most operations' first step
        queue = rep.queue
        now = r.env._now
        dt = now - rep.last
        if dt:
            busy = rep.workers - rep.free
            if busy:
                rep.busy_area += busy * dt
            if queue:
                rep.queue_area += len(queue) * dt
            rep.last = now
        if queue:
            fn, ctx = queue.popleft()
            fn(ctx)
        else:
            rep.free += 1
        r.advance(f)


class DelayStep:
    """Wait a fixed time without holding a worker: the part of a compute step's calibrated
    time that a busier process saves by serving several requests per wake-up, which the
    request still waits (a compute step's ``latency``; archsim.model.rate_curve)."""

    __slots__ = ("delay", "runner")

    def __init__(self, runner: Runner, delay: float) -> None:
        self.runner = runner
        self.delay = delay

    def run(self, f: Frame) -> bool:
        """Resume ``f`` after the delay (True: it waits)."""
        r = self.runner
        heappush(r.queue, (r.env._now + self.delay, r.seq(), r.advance, f))
        return True


class VisitStep:
    """A round trip to an infrastructure station (database query, cache op, publish): optional
    connection-pool slot, network hop, a worker there for one service time, hop back.

    A cache get (``CacheGetStep``) draws its hit on the way back and jumps over its inlined
    miss steps; a publish (``PublishStep``) hands the event to its consumers once the broker
    has it. Both are flags here, not hook calls: this runs for most simulated events."""

    __slots__ = (
        "cache", "draw", "err", "hist", "hit", "lat", "link", "notify", "p", "pool", "rate",
        "runner", "skip", "station", "warm",
    )  # fmt: skip

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
        own: tuple[float, Callable[[], float]] | None = None,
    ) -> None:
        self.runner = runner  # the kernel's clock, queue and draws (see Runner.queue)
        self.station = station
        # the time the station is held: the visit's own (a database write: rate, or 0 and a
        # draw), else the station's
        self.rate, self.draw = own if own is not None else (station.rate, station.draw)
        self.p = p
        self.lat = latency
        self.err = error_rate
        self.link = link
        # the link's histogram and warm-up, read without the link object on success (see
        # CallStep.hist)
        self.hist, self.warm = link.hist, link.warm
        self.pool = pool
        self.cache = self.notify = False
        self.hit = 0.0
        self.skip = 0

    def run(self, f: Frame) -> bool:
        """Start the round trip (True: it resumes ``f``), or skip it (False, probability
        ``1 - p``)."""
        r = self.runner
        if self.p < 1.0 and r.rand() >= self.p:
            return False
        now = f.ts = r.env._now
        f.step = self
        pool = self.pool
        if pool is not None:
            if not pool.free:
                pool.wait(self._go, f)
                return True
            pool.free -= 1
        if self.lat:
            heappush(r.queue, (now + self.lat, r.seq(), _visit_arrive, f))
        else:
            _visit_arrive(f)
        return True

    @staticmethod
    def _go(f: Frame) -> None:
        self: VisitStep = f.step
        if self.lat:
            r = self.runner
            heappush(r.queue, (r.env._now + self.lat, r.seq(), _visit_arrive, f))
        else:
            _visit_arrive(f)

    @staticmethod
    def _arrive(f: Frame) -> None:
        self: VisitStep = f.step
        st = self.station
        if st.down:
            self._back(f, ERROR)
            return
        rep = st.single
        if rep is None:
            rep = st.pick()
        r = self.runner
        f.aux = rep
        now = f.ta = r.env._now
        code = rep.acquire(_visit_serve, f)
        if code == GRANTED:
            rate = self.rate
            heappush(
                r.queue,
                (
                    now + (-_log(1.0 - r.rand()) / rate if rate else self.draw()) * st.factor,
                    r.seq(),
                    _visit_served,
                    f,
                ),
            )
        elif code == REJECTED:
            self._back(f, REJECTED)

    @staticmethod
    def _serve(f: Frame) -> None:
        self: VisitStep = f.step
        r, st, rate = self.runner, self.station, self.rate
        heappush(
            r.queue,
            (
                r.env._now + (-_log(1.0 - r.rand()) / rate if rate else self.draw()) * st.factor,
                r.seq(),
                _visit_served,
                f,
            ),
        )

    @staticmethod
    def _served(f: Frame) -> None:
        self: VisitStep = f.step
        r = self.runner
        f.aux.release()
        status = ERROR if self.err and r.rand() < self.err else OK
        st = self.station  # a request of the station (see Station)
        now = r.env._now
        ta = f.ta
        if ta >= st.warm:
            st.hist.add(now - ta)
            if status:
                st.errors += 1
        if self.notify and not status:
            self.arrived(now)
        f.st = status
        if self.lat:
            heappush(r.queue, (now + self.lat, r.seq(), _visit_returned, f))
        else:
            _visit_returned(f)

    def arrived(self, now: float) -> None:
        """The station has done its work (a publish enqueues the event here)."""

    @staticmethod
    def _back(f: Frame, status: int) -> None:
        self: VisitStep = f.step
        f.st = status
        if self.lat:
            r = self.runner
            heappush(r.queue, (r.env._now + self.lat, r.seq(), _visit_returned, f))
        else:
            _visit_returned(f)

    @staticmethod
    def _returned(f: Frame) -> None:
        self: VisitStep = f.step
        r = self.runner
        if self.pool is not None:
            self.pool.release()
        status, ts = f.st, f.ts  # an interaction of the link (see LinkStats)
        if ts >= self.warm:
            self.hist.add(r.env._now - ts)
            if status:
                link = self.link
                link.failed += 1
                if status == 2:
                    link.timeouts += 1
        if status:
            f.status = status
        elif self.cache and r.rand() < self.hit:
            f.pc += self.skip  # a hit: the miss steps inlined after it are not run
        r.advance(f)


# The callbacks the hot path schedules on every compute and visit (the classes' functions,
# reading the step from the frame, see Frame.step), as module names: a copy in each step was
# one more slot, and a cache line, of every step at 1,600 components
_compute_serve = ComputeStep._serve
_visit_arrive = VisitStep._arrive
_visit_serve = VisitStep._serve
_visit_served = VisitStep._served
_visit_returned = VisitStep._returned


class CacheGetStep(VisitStep):
    """Read-through cache: a hit (probability ``hit``) skips the ``skip`` miss steps after it."""

    __slots__ = ()

    def __init__(self, runner: Runner, station: Station, *, hit: float, skip: int, **kw: Any):
        super().__init__(runner, station, **kw)
        self.cache = True
        self.hit = hit
        self.skip = skip


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
        self.notify = True
        self.consumers = consumers
        self.counter = counter  # [published after warm-up], shared by the event flow

    def arrived(self, now: float) -> None:
        if now >= self.runner.k.warm:
            self.counter[0] += 1
        for consumer in self.consumers:
            consumer.enqueue(now)
