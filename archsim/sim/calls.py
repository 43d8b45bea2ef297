"""Synchronous calls with the protections of the generated clients: a timeout per attempt,
retries with exponential backoff and jitter, and a consecutive-failure circuit breaker.

The breaker is the runtime's (``archsim.runtime.breaker`` as ``ServiceClient.call`` uses it):
one per caller instance and target component, shared by every call that instance makes to that
target (the generated service holds one ``ServiceClient`` per process, with a breaker per
target, made by the first call with a breaker policy and keeping that call's threshold and
reset). It is checked once per call, not per retry; an open breaker fails the call fast,
neither counted as a failure nor retried; after ``breaker_reset`` one trial call goes through
(half-open); a success closes it, a failure opens it again. A failed attempt that leaves the
breaker open ends the call (no further retries) with a 503, an ERROR here.

Timeouts do not put one event per call on the heap: calls with the same timeout expire in the
order they started, so each distinct timeout keeps a FIFO lane with a single pending wake-up
and settled calls are dropped lazily when it fires.
"""

from __future__ import annotations

from collections import deque
from heapq import heappush

from archsim.sim.stations import ERROR, OK, TIMEOUT, Kernel
from archsim.sim.steps import Frame, LinkStats, Op, Runner

__all__ = ["Attempt", "Breaker", "CallStep", "TimerLane"]


class Attempt:
    """One try of a call step for a frame; ``settled`` once it answered or timed out (whichever
    came first). A retry is a new attempt carrying the call's start and its retry count."""

    __slots__ = ("f", "n", "settled", "status", "step", "t0")
    f: Frame  # the caller's frame, resumed when the call settles
    n: int  # retries made before this attempt
    t0: float  # when the call's first attempt started
    settled: bool
    status: int
    step: CallStep

    def reply(self, callee: Frame) -> None:
        """The callee operation finished; its answer travels back to the caller."""
        self.status = callee.status
        step = self.step
        if step.lat:
            r = step.runner
            heappush(r.queue, (r.env._now + step.lat, r.seq(), _call_replied, self))
        else:
            step._replied(self)

    def expire(self) -> None:
        """The timeout fired first."""
        if not self.settled:
            self.settled = True
            self.step._outcome(self.f, self.t0, self.n, TIMEOUT)


class TimerLane:
    """Timeouts of one duration: a FIFO of (deadline, attempt) and one wake-up on the heap."""

    __slots__ = ("armed", "env", "k", "q", "timeout")

    def __init__(self, kernel: Kernel, timeout: float) -> None:
        self.k = kernel
        self.env = kernel.env
        self.timeout = timeout
        self.q: deque[tuple[float, Attempt]] = deque()
        self.armed = False

    def add(self, attempt: Attempt) -> None:
        """Start the clock of ``attempt``."""
        self.q.append((self.env._now + self.timeout, attempt))
        if not self.armed:
            self.armed = True
            self.k.later(self.timeout, self.fire, None)

    def fire(self, _: None) -> None:
        """Expire the attempts whose deadline has come; wake again at the next one."""
        q, now = self.q, self.env._now
        while q:
            deadline, attempt = q[0]
            if attempt.settled:
                q.popleft()
            elif deadline <= now:
                q.popleft()
                attempt.expire()
            else:
                self.k.later(deadline - now, self.fire, None)
                return
        self.armed = False


class Breaker:
    """A consecutive-failure circuit breaker of one caller instance for one target: closed
    (``opened_at`` None), open, or half-open after ``reset`` seconds (one ``trial`` call)."""

    __slots__ = ("failures", "opened_at", "reset", "threshold", "trial")

    def __init__(self, threshold: int, reset: float) -> None:
        self.threshold = threshold
        self.reset = reset
        self.failures = 0
        self.opened_at: float | None = None  # None: closed
        self.trial = False  # half-open: the one trial call is in flight

    def allow(self, now: float) -> bool:
        """The breaker is not closed: may this call go through (the half-open trial)?"""
        opened_at = self.opened_at
        if opened_at is not None and now - opened_at >= self.reset and not self.trial:
            self.trial = True
            return True
        return False

    def record(self, status: int, now: float) -> bool:
        """Tell the breaker how an attempt ended; True when it is open now (stop retrying)."""
        if not status:
            self.failures, self.opened_at, self.trial = 0, None, False
            return False
        self.failures += 1
        if self.trial or self.failures >= self.threshold:
            self.opened_at = now
        self.trial = False
        return self.opened_at is not None and now - self.opened_at < self.reset


class CallStep:
    """``call target.operation``: network hop, the callee's operation, hop back; with policy."""

    __slots__ = (
        "backoff", "callee", "err", "hist", "lane", "lat", "link", "p", "reset", "retries",
        "runner", "target", "threshold", "warm",
    )  # fmt: skip

    def __init__(
        self,
        runner: Runner,
        callee: Op,
        *,
        p: float,
        latency: float,
        error_rate: float,
        lane: TimerLane,
        retries: int,
        backoff: float,
        breaker: int | None,
        breaker_reset: float,
        link: LinkStats,
    ) -> None:
        # the kernel's clock, queue and draws, and the runner's ``start`` and ``advance``, read
        # through the runner: a copy of each in every step was one more cache line a call read
        # at 1,600 components (see Runner.queue)
        self.runner = runner
        self.callee = callee
        self.target = callee.station.id  # the breaker's key at the caller's instance
        self.p = p
        self.lat = latency
        self.err = error_rate
        self.lane = lane
        self.retries = retries
        self.backoff = backoff
        self.threshold = breaker or 0  # 0: this call has no breaker
        self.reset = breaker_reset
        self.link = link
        # the link's histogram and warm-up, read by every successful call without the link
        # object (one more object a hop touched, spread over memory at 1,600 components)
        self.hist, self.warm = link.hist, link.warm

    def run(self, f: Frame) -> bool:
        """Start the call (True: it resumes ``f``), or skip it (False, probability ``1 - p``)."""
        if self.p < 1.0 and self.runner.rand() >= self.p:
            return False
        self._attempt(f, self.runner.env._now, 0)
        return True

    def breaker(self, f: Frame) -> Breaker:
        """The breaker of ``f``'s instance for this call's target, made on first use."""
        breakers = f.rep.breakers
        b = breakers.get(self.target)
        if b is None:
            b = breakers[self.target] = Breaker(self.threshold, self.reset)
        return b

    def _attempt(self, f: Frame, t0: float, n: int) -> None:
        r = self.runner
        now = r.env._now
        if not n and self.threshold:
            b = self.breaker(f)
            if b.opened_at is not None and not b.allow(now):
                self._settle(f, t0, ERROR)  # breaker open: fail fast, not counted, not retried
                return
        a = Attempt()
        a.f, a.t0, a.n = f, t0, n  # in threes: more names build a tuple and unpack it
        a.step, a.settled = self, False
        lane = self.lane  # TimerLane.add, written out
        lane.q.append((now + lane.timeout, a))
        if not lane.armed:
            lane.armed = True
            r.k.later(lane.timeout, lane.fire, None)
        if self.lat:
            heappush(r.queue, (now + self.lat, r.seq(), _call_arrive, a))
        else:
            r.start(self.callee, a.reply, f.depth + 1)

    @staticmethod
    def _arrive(a: Attempt) -> None:
        self = a.step
        self.runner.start(self.callee, a.reply, a.f.depth + 1)

    @staticmethod
    def _replied(a: Attempt) -> None:
        self = a.step
        if a.settled:
            return  # the caller gave up already (timeout); the late answer is dropped
        a.settled = True
        r = self.runner
        status = a.status
        if status == OK and self.err and r.rand() < self.err:
            status = ERROR
        if status or self.threshold:
            self._outcome(a.f, a.t0, a.n, status)
            return
        t0 = a.t0  # a success without a breaker: _settle, written out
        if t0 >= self.warm:
            self.hist.add(r.env._now - t0)
        r.advance(a.f)

    def _retry(self, call: tuple[Frame, float, int]) -> None:
        self._attempt(*call)

    def _outcome(self, f: Frame, t0: float, n: int, status: int) -> None:
        r = self.runner
        if self.threshold and self.breaker(f).record(status, r.env._now):
            self._settle(f, t0, ERROR)  # the circuit opened: 503, no more retries
            return
        if status and n < self.retries:
            n += 1
            delay = self.backoff * (1 << (n - 1)) * (0.5 + r.rand())  # jitter ±50%
            r.k.later(delay, self._retry, (f, t0, n))
            return
        self._settle(f, t0, status)

    def _settle(self, f: Frame, t0: float, status: int) -> None:
        """The call is over: record the link's interaction and resume the caller."""
        r = self.runner
        link = self.link  # an interaction of the link (see LinkStats)
        if t0 >= link.warm:
            link.hist.add(r.env._now - t0)
            if status:
                link.failed += 1
                if status == 2:
                    link.timeouts += 1
        if status:
            f.status = status
        r.advance(f)


# The callbacks a call schedules (the class's functions, reading the step from the attempt, see
# Frame.step), as module names: not methods bound per step, nor a copy in each step (one more
# object, then one more slot, a hop touched at 1,600 components)
_call_arrive = CallStep._arrive
_call_replied = CallStep._replied
