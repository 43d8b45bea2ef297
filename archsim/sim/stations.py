"""Where simulated work waits and runs: replicas with worker pools and FIFO queues (optionally
limited), components balancing over replicas, connection pools and broker consumer groups.

The hot path uses plain callbacks on SimPy's event queue (no process per request): a waiter is
a ``(function, context)`` pair called when a worker or connection frees up. Every change of
occupancy updates time-weighted areas, from which utilisation and queue length follow.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy

from archsim.sim.stats import Histogram

__all__ = [
    "ERROR",
    "GRANTED",
    "OK",
    "QUEUED",
    "REJECTED",
    "TIMEOUT",
    "Consumer",
    "Kernel",
    "Lane",
    "Pool",
    "Replica",
    "Station",
]

# Outcome of an operation or interaction (0 is success so ``if status:`` means "failed").
OK, ERROR, TIMEOUT, REJECTED = 0, 1, 2, 3
# Result of asking for a worker.
GRANTED, QUEUED = 0, 1

Callback = Callable[[Any], None]


class Kernel:
    """The run's clock, event queue and randomness, shared by every station and step.

    The queue is a heap of ``(time, sequence, function, context)``: ties run in scheduling
    order, as in SimPy's queue (every wake has SimPy's normal priority), and the sequence
    number is unique, so the function is never compared. A wake calls ``function(context)``:
    no object per wake. The run loop is this module's, not ``Environment.run``: SimPy's
    ``step`` per event (an attribute dance for processes this simulator never starts) was a
    fifth of the wall time. ``env`` stays the clock every station reads (``env._now``).

    Hot paths push onto ``queue`` themselves (``heappush(queue, (now + delay, seq(), fn,
    ctx))``, the same tuple ``later`` builds) when the delay cannot be negative.
    """

    def __init__(self, env: simpy.Environment, rng: Any, warm: float) -> None:
        self.env = env
        self.rng = rng
        self.rand = rng.random
        self.warm = warm
        self.queue: list[tuple[float, int, Callback, Any]] = []
        self.seq = itertools.count().__next__
        # replicas that took a worker or a waiter since the last time bin's snapshot, and those
        # not idle at it (``Replica.acquire`` adds them; ``Snapshots.take_bin`` reads and prunes)
        self.touched: list[Replica] = []

    def later(self, delay: float, fn: Callback, ctx: Any) -> None:
        """Call ``fn(ctx)`` after ``delay`` seconds."""
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        heappush(self.queue, (self.env._now + delay, self.seq(), fn, ctx))

    def run(self, until: float) -> None:
        """Run every wake due before ``until``; the clock ends at ``until``."""
        queue, env, pop = self.queue, self.env, heappop
        # a stop mark before every wake due at ``until`` (sequence -1): no test per wake
        heappush(queue, (until, -1, _stop, None))
        while True:
            t, _, fn, ctx = pop(queue)
            if fn is _stop:
                break
            env._now = t
            fn(ctx)
        env._now = until


def _stop(_: Any) -> None:
    """The stop mark of ``Kernel.run`` (never called)."""


class Lane:
    """Wakes pushed in the order they fall due (by time, then sequence), kept in a FIFO with a
    single entry on the kernel's heap: its head's, with the head's own time and sequence
    number, so the wakes run in exactly the order the heap alone gives them. A thousand
    components' background tasks on the heap made every push and pop of the run ~3 levels
    deeper."""

    __slots__ = ("armed", "k", "q")

    def __init__(self, kernel: Kernel) -> None:
        self.k = kernel
        self.q: deque[tuple[float, int, Callback, Any]] = deque()
        self.armed = False

    def push(self, wake: tuple[float, int, Callback, Any]) -> None:
        """Add ``wake`` (time, sequence, function, context): due no sooner than the last one."""
        self.q.append(wake)
        if not self.armed:
            self.armed = True
            heappush(self.k.queue, (wake[0], wake[1], self.fire, None))

    def fire(self, _: Any) -> None:
        """Run the head's wake, after putting the next one's entry on the heap."""
        q = self.q
        fn, ctx = q.popleft()[2:]
        if q:
            head = q[0]
            heappush(self.k.queue, (head[0], head[1], self.fire, None))
        else:
            self.armed = False
        fn(ctx)


class Replica:
    """One instance of a component: ``workers`` slots and a FIFO queue of waiters."""

    __slots__ = (
        "breakers",
        "busy_area",
        "env",
        "free",
        "index",
        "last",
        "limit",
        "outstanding",
        "queue",
        "queue_area",
        "rejected",
        "seen",
        "touched",
        "workers",
    )

    def __init__(
        self,
        env: simpy.Environment,
        workers: int,
        limit: int | None,
        touched: list[Replica] | None = None,
    ) -> None:
        self.env = env
        self.workers = workers
        self.free = workers
        self.limit = limit
        # No waiters, and no deque until the first one: most replicas of a large architecture
        # never queue, and the empty tuple every hop (and snapshot) tests instead is one object
        # for all of them, where a deque each was one more cache line a hop touched.
        self.queue: deque[tuple[Callback, Any]] | tuple[()] = ()
        self.last = 0.0
        self.busy_area = 0.0
        self.queue_area = 0.0
        self.outstanding = 0  # operations routed here and not finished (least-outstanding)
        self.rejected = 0
        # this instance's circuit breakers by target component, made on first use (calls.py)
        self.breakers: dict[str, Any] = {}
        # A time bin's snapshot reads only the replicas on ``touched`` (the kernel's): an
        # untouched one is idle and its areas are those of the last bin. ``seen``: on the list;
        # ``index``: its place in the snapshots' columns (set by ``Snapshots``).
        self.touched = [] if touched is None else touched
        self.seen = False
        self.index = 0

    def _account(self) -> None:
        now = self.env._now
        dt = now - self.last
        if dt:
            self.busy_area += (self.workers - self.free) * dt
            self.queue_area += len(self.queue) * dt
            self.last = now

    def acquire(self, fn: Callback, ctx: Any) -> int:
        """GRANTED (caller continues now), QUEUED (``fn(ctx)`` runs on grant) or REJECTED.

        The accounting of ``_account`` is written out here and in ``release``: these two run
        on every hop, and a call fewer each is a tenth of the simulator's time."""
        queue = self.queue
        if not self.free and self.limit is not None and len(queue) >= self.limit:
            self.rejected += 1
            return REJECTED
        now = self.env._now
        dt = now - self.last
        if dt:  # adding 0 * dt is skipped: the same sums, bit for bit
            busy = self.workers - self.free
            if busy:
                self.busy_area += busy * dt
            if queue:
                self.queue_area += len(queue) * dt
            self.last = now
        if not self.seen:  # busy or waited for from now: on the time bins' list
            self.seen = True
            self.touched.append(self)
        if self.free:
            self.free -= 1
            return GRANTED
        if not isinstance(queue, deque):  # the first waiter (see __init__)
            queue = self.queue = deque()
        queue.append((fn, ctx))
        return QUEUED

    def release(self) -> None:
        """Free a worker, handing it straight to the first waiter if there is one."""
        queue = self.queue
        now = self.env._now
        dt = now - self.last
        if dt:  # adding 0 * dt is skipped: the same sums, bit for bit
            busy = self.workers - self.free
            if busy:
                self.busy_area += busy * dt
            if queue:
                self.queue_area += len(queue) * dt
            self.last = now
        if queue:
            fn, ctx = queue.popleft()
            fn(ctx)
        else:
            self.free += 1

    def reset_areas(self) -> None:
        """Start time-weighted statistics afresh (end of warm-up)."""
        self._account()
        self.busy_area = self.queue_area = 0.0
        self.rejected = 0


class Station(Replica):
    """A component at run time: its replicas, balancing, service-time draw and statistics.

    A one-replica station is its own replica (``single is self``, ``replicas == [self]``): a
    hop reads the station's fields and the replica's, and one object is one place in memory
    where two were two (a cache miss apiece at 1,600 components). A station of several
    replicas leaves its own replica fields unused and balances over ``Replica`` objects."""

    __slots__ = (
        "down",
        "draw",
        "errors",
        "factor",
        "hist",
        "id",
        "least",
        "rate",
        "replicas",
        "rr",
        "single",
        "warm",
    )

    def __init__(
        self,
        env: simpy.Environment,
        component_id: str,
        *,
        workers: int,
        replicas: int,
        limit: int | None,
        draw: Callable[[], float],
        least_outstanding: bool,
        warm: float,
        rate: float = 0.0,
        touched: list[Replica] | None = None,
    ) -> None:
        super().__init__(env, workers, limit, touched)
        self.id = component_id
        self.replicas: list[Replica] = (
            [self]
            if replicas == 1
            else [Replica(env, workers, limit, self.touched) for _ in range(replicas)]
        )
        self.single: Replica | None = self if replicas == 1 else None
        self.least = least_outstanding
        self.rr = 0
        self.draw = draw
        # exponential service: its rate, so the hot path draws ``-log(1 - rand()) / rate`` (the
        # expression ``draw`` evaluates) without a call; 0 for other distributions
        self.rate = rate
        self.factor = 1.0  # --slow multiplies service times during its window
        self.down = False  # --fail refuses every request during its window
        self.warm = warm
        # A request that arrived at t0 >= warm and finished: hist.add(now - t0) (its count is the
        # completions), errors. ``hist.add`` is looked up per call: a bound method kept here was
        # one more object a hop touched (spread over memory at 1,600 components).
        self.hist = Histogram()
        self.errors = 0

    def pick(self) -> Replica:
        """The replica the next request goes to (round-robin or least outstanding)."""
        if self.single is not None:
            return self.single
        if self.least:
            return min(self.replicas, key=_outstanding)
        self.rr = (self.rr + 1) % len(self.replicas)
        return self.replicas[self.rr]


def _outstanding(replica: Replica) -> int:
    return replica.outstanding


class Pool:
    """A client's connection pool to a database: ``size`` slots, FIFO waiters, never rejects."""

    __slots__ = ("free", "queue")

    def __init__(self, size: int) -> None:
        self.free = size
        self.queue: deque[tuple[Callback, Any]] | tuple[()] = ()  # no deque yet (see Replica)

    def acquire(self, fn: Callback, ctx: Any) -> bool:
        """True when a connection is free now; else ``fn(ctx)`` runs when one is."""
        if self.free:
            self.free -= 1
            return True
        self.wait(fn, ctx)
        return False

    def wait(self, fn: Callback, ctx: Any) -> None:
        """Queue ``fn(ctx)`` for the next connection freed (none is free now)."""
        queue = self.queue
        if not isinstance(queue, deque):  # the first waiter
            queue = self.queue = deque()
        queue.append((fn, ctx))

    def release(self) -> None:
        """Return a connection, handing it to the first waiter if there is one."""
        if self.queue:
            fn, ctx = self.queue.popleft()
            fn(ctx)
        else:
            self.free += 1


class Consumer:
    """A consumer group draining one event from a broker: ``slots`` concurrent handlers.

    Tracks the backlog (messages waiting, time-weighted) and the end-to-end delay from publish
    to handler finished (e.g. order placed → email sent).
    """

    __slots__ = (
        "backlog",
        "backlog_area",
        "consumed",
        "env",
        "failed",
        "free",
        "hist",
        "last",
        "start",
        "warm",
    )

    def __init__(self, env: simpy.Environment, slots: int, warm: float) -> None:
        self.env = env
        self.free = slots
        self.backlog: deque[float] | tuple[()] = ()  # no deque yet (see Replica)
        self.backlog_area = 0.0
        self.last = 0.0
        self.consumed = 0
        self.failed = 0
        self.hist = Histogram()
        self.warm = warm
        self.start: Callable[[float], None] = lambda published: None  # set by the engine

    def _account(self) -> None:
        now = self.env._now
        self.backlog_area += len(self.backlog) * (now - self.last)
        self.last = now

    def enqueue(self, published: float) -> None:
        """A message published at ``published`` arrives; a free handler takes it at once."""
        if self.free:
            self.free -= 1
            self.start(published)
        else:
            self._account()
            backlog = self.backlog
            if not isinstance(backlog, deque):  # the first message waiting
                backlog = self.backlog = deque()
            backlog.append(published)

    def finished(self, published: float, status: int) -> None:
        """A handler finished the message published at ``published``; take the next one."""
        now = self.env._now
        if published >= self.warm:
            self.consumed += 1
            self.hist.add(now - published)
            if status:
                self.failed += 1
        backlog = self.backlog
        if backlog:
            self._account()
            self.start(backlog.popleft())
        else:
            self.free += 1

    def reset_areas(self) -> None:
        """Start time-weighted statistics afresh (end of warm-up)."""
        self._account()
        self.backlog_area = 0.0
