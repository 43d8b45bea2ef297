"""Compile an architecture's behaviour into run-time objects for one replication: a station per
component, an ``Op`` per operation with its steps, statistics per link, timer lanes per timeout,
connection pools per (client, database) and consumer groups per event flow.

The engine executes ``arch.behaviour`` and nothing else, read through the model's
``StepVisitor`` (``_StepCompiler``); a cache get's miss steps are inlined after it (a hit jumps
over them), and each model step is compiled once per component, when an operation that has it
first runs (the links are all made up front).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archsim.model import Architecture, Distribution, Step, StepVisitor, visit
from archsim.model.distributions import Exponential
from archsim.sim.calls import CallStep, TimerLane
from archsim.sim.config import SimConfig
from archsim.sim.contention import HostWaits
from archsim.sim.stations import Consumer, Kernel, Pool, Station
from archsim.sim.steps import (
    CacheGetStep,
    ComputeStep,
    DelayStep,
    Frame,
    LinkStats,
    Op,
    PublishStep,
    Runner,
    VisitStep,
)

__all__ = ["CompiledModel", "exp_rate", "sampler"]


def sampler(dist: Distribution, rng: random.Random) -> Callable[[], float]:
    """``dist.sampler(rng)``, with the exponential's draw written out: the same expression as
    ``random.expovariate`` (``-log(1 - random()) / rate``) without its Python call."""
    if isinstance(dist, Exponential) and dist.mean_s:
        rate, rand, log = 1.0 / dist.mean_s, rng.random, math.log
        return lambda: -log(1.0 - rand()) / rate
    return dist.sampler(rng)


def exp_rate(dist: Distribution | None) -> float:
    """The rate (1/s) of an exponential with a positive mean, else 0: the hot path draws such
    a service time in place, with ``sampler``'s expression."""
    if isinstance(dist, Exponential) and dist.mean_s:
        return 1.0 / dist.mean_s
    return 0.0


class CompiledModel:
    """The compiled architecture: stations, operations and statistics objects of one run."""

    def __init__(
        self,
        arch: Architecture,
        kernel: Kernel,
        runner: Runner,
        cfg: SimConfig,
        waits: HostWaits | None = None,
    ):
        self.arch, self.k, self.runner = arch, kernel, runner
        self.waits = waits  # each compute step waits for a core on a busy shared host
        env, warm = kernel.env, kernel.warm
        least = cfg.balancing == "least_outstanding"
        # One float object per value for what the steps read on every hop (see ``const``)
        self._consts: dict[float, float] = {}
        const = self.const
        self.stations = {
            c.id: Station(
                env,
                c.id,
                workers=c.workers,
                replicas=c.replicas,
                limit=c.queue_limit,
                draw=sampler(c.service_time, kernel.rng),
                rate=const(exp_rate(c.service_time)),
                least_outstanding=least,
                warm=warm,
                touched=kernel.touched,
            )
            for c in arch.all_components  # implied stores too (rule auth.accounts)
        }
        self.ops: dict[tuple[str, str], Op] = {}
        for op in arch.behaviour.operations:
            comp = arch.component(op.component)
            self.ops[(op.component, op.name)] = Op(
                op.qualified,
                self.stations[comp.id],
                comp.concurrency == "threads",
                const(comp.error_rate),
            )
        self.links: dict[tuple[str, str, str], LinkStats] = {}
        self.lanes: dict[float, TimerLane] = {}
        self.pools: dict[tuple[str, str], Pool] = {}
        self.flows: dict[tuple[str, str], tuple[list[Consumer], list[int]]] = {}
        self.consumers: list[tuple[str, str, Consumer]] = []
        for flow in arch.behaviour.events:
            group = []
            for ref in flow.consumers:
                comp = arch.component(ref.component)
                consumer = Consumer(env, comp.workers * comp.replicas, warm)
                consumer.start = self._consume_starter(
                    consumer, self.ops[(ref.component, ref.operation)]
                )
                group.append(consumer)
                self.consumers.append((flow.event, str(ref), consumer))
            self.flows[(flow.broker, flow.event)] = (group, [0])
        self._memo: dict[tuple[int, str], Any] = {}
        self._compilers: dict[tuple[str, bool], _StepCompiler] = {}
        # An operation's steps are compiled when it first runs (``_first``): at 1,600
        # components most of the 4,600 operations run rarely or never in a run, and their
        # compile was a third of the replication's fixed cost. The links are made now, in the
        # order compiling every operation made them (the collection lists them in this order,
        # a link never used among them).
        self._later: dict[Op, Any] = {}
        first = CompiledModel._first  # run as ``first(self, f)`` (see Op.runs)
        for op in arch.behaviour.operations:
            compiled = self.ops[(op.component, op.name)]
            self._later[compiled] = op
            compiled.runs, compiled.steps, compiled.n = (first,), (self,), 1
            declare = _LinkDeclarer(self, op.component)
            for step in op.steps:
                visit(step, declare)

    def _first(self, f: Frame) -> bool:
        """The only step of an operation not compiled yet: compile it, then run it from its
        first step (True: ``advance`` returns, the run goes on in the nested one)."""
        compiled = f.op
        op = self._later.pop(compiled)
        compiler = self._compiler(op.component, compiled.threads)
        steps: list[Any] = []
        undo: list[tuple[int, Op]] = []
        for step in op.steps:  # one by one: where each model step starts once compiled
            if step.compensation is not None:
                cancel = step.compensation
                undo.append((len(steps), self.ops[(cancel.target or "", cancel.operation or "")]))
            steps += visit(step, compiler)
        compiled.set_steps(steps)
        compiled.undo = tuple(undo)
        f.pc = 0
        self.runner.advance(f)
        return True

    def _consume_starter(self, consumer: Consumer, op: Op) -> Any:
        runner = self.runner

        def start(published: float) -> None:
            runner.start(op, lambda f: consumer.finished(published, f.status))

        return start

    def const(self, value: float) -> float:
        """``value`` as the one object of its type, value and sign in this model.

        The model parses every step's and component's figures on their own, so 3,400 steps at
        1,600 components held 2,264 objects for one latency and a hop read each from its own
        place in memory (a cache miss apiece); shared, they stay in the cache. Same value,
        same arithmetic: the results do not change."""
        shared = self._consts.setdefault(value, value)
        if shared is value or (
            type(shared) is type(value)
            and (shared or math.copysign(1.0, shared) == math.copysign(1.0, value))
        ):
            return shared  # the same type and value, and the same sign of a zero
        return value

    def link(self, source: str, step: Step) -> LinkStats:
        """Statistics of the link ``source -> step.target`` (shared by all its steps)."""
        key = (source, step.target or "", step.relation.value if step.relation else "")
        if key not in self.links:
            self.links[key] = LinkStats(key, self.k.warm)
        return self.links[key]

    def compile(self, steps: tuple[Step, ...], comp: str, threads: bool) -> list[Any]:
        """Compile model steps run by ``comp``; a cache get's miss steps are inlined after it."""
        compiler = self._compiler(comp, threads)
        return [compiled for step in steps for compiled in visit(step, compiler)]

    def _compiler(self, comp: str, threads: bool) -> StepVisitor[list[Any]]:
        """The step compiler of ``comp`` (one per component and ``threads``: ~12,600 model
        steps at 1,600 components)."""
        compiler = self._compilers.get((comp, threads))
        if compiler is None:
            compiler = self._compilers[(comp, threads)] = _StepCompiler(self, comp, threads)
        return compiler

    def once(self, step: Step, comp: str, build: Callable[[], Any]) -> Any:
        """The run-time step of ``step`` run by ``comp``, built by ``build`` the first time."""
        key = (id(step), comp)
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def visit_args(self, comp: str, step: Step) -> dict[str, Any]:
        """Arguments every visit of a station shares: chance, latency, failures, the link."""
        const = self.const
        return {
            "p": const(step.p),
            "latency": const(step.latency),
            "error_rate": const(step.error_rate),
            "link": self.link(comp, step),
        }


@dataclass(frozen=True)
class _StepCompiler:
    """Compiles the steps ``comp`` runs (``threads``: its workers are held through calls):
    each model step becomes its run-time steps, in order (``StepVisitor``)."""

    model: CompiledModel
    comp: str
    threads: bool

    def compute(self, step: Step) -> list[Any]:
        """A compute step on ``comp``'s station (its own service time, host waits added),
        then the wait beside it that holds no worker (its ``latency``), if any."""
        held = self.model.once(step, self.comp, lambda: self._compute(step))
        if not step.latency:
            return [held]
        m = self.model
        return [held, m.once(step, "", lambda: DelayStep(m.runner, m.const(step.latency)))]

    def _compute(self, step: Step) -> ComputeStep:
        m, threads = self.model, self.threads
        station = m.stations[self.comp]
        if step.service_time is None and m.waits is None:
            return ComputeStep(m.runner, station, held=threads)
        own = sampler(step.service_time, m.k.rng) if step.service_time else None
        rate = m.const(exp_rate(step.service_time))  # drawn in place (0: call ``own``)
        if m.waits is not None:
            own, rate = _with_waits(own or station.draw, m.waits.draw), 0.0
        return ComputeStep(m.runner, station, held=threads, draw=own, rate=rate)

    def call(self, step: Step) -> list[Any]:
        """A call to the callee's ``Op`` with its policy's timer lane, retries and breaker."""
        return [self.model.once(step, self.comp, lambda: self._call(step))]

    def _call(self, step: Step) -> CallStep:
        m, policy = self.model, step.policy
        assert policy is not None and step.operation is not None
        if policy.timeout not in m.lanes:
            m.lanes[policy.timeout] = TimerLane(m.k, policy.timeout)
        return CallStep(
            m.runner,
            m.ops[(step.target or "", step.operation)],
            p=m.const(step.p),
            latency=m.const(step.latency),
            error_rate=m.const(step.error_rate),
            lane=m.lanes[policy.timeout],
            retries=policy.retries,
            backoff=m.const(policy.backoff),
            breaker=policy.breaker,
            breaker_reset=m.const(policy.breaker_reset),
            link=m.link(self.comp, step),
        )

    def query(self, step: Step) -> list[Any]:
        """A visit of the database through the (client, database) connection pool."""
        return [self.model.once(step, self.comp, lambda: self._query(step))]

    def _query(self, step: Step) -> VisitStep:
        m, comp, target = self.model, self.comp, step.target or ""
        if (comp, target) not in m.pools:
            size = m.arch.component(target).connections * m.arch.component(comp).replicas
            m.pools[(comp, target)] = Pool(size)
        pool = m.pools[(comp, target)]
        own = None
        if step.service_time is not None:  # a write's own time (write_time)
            own = (m.const(exp_rate(step.service_time)), sampler(step.service_time, m.k.rng))
        return VisitStep(
            m.runner, m.stations[target], pool=pool, own=own, **m.visit_args(comp, step)
        )

    def cache_get(self, step: Step) -> list[Any]:
        """The get, then its miss steps inlined (a hit jumps over them)."""
        m = self.model
        miss = m.compile(step.on_miss, self.comp, self.threads)
        get = m.once(
            step,
            self.comp,
            lambda: CacheGetStep(
                m.runner,
                m.stations[step.target or ""],
                hit=m.const(step.hit_ratio if step.hit_ratio is not None else 0.0),
                skip=len(miss),
                **m.visit_args(self.comp, step),
            ),
        )
        return [get, *miss]

    def cache_set(self, step: Step) -> list[Any]:
        """A plain round trip to the cache."""
        return [self.model.once(step, self.comp, lambda: self._round_trip(step))]

    def cache_delete(self, step: Step) -> list[Any]:
        """A plain round trip to the cache."""
        return [self.model.once(step, self.comp, lambda: self._round_trip(step))]

    def _round_trip(self, step: Step) -> VisitStep:
        m = self.model
        return VisitStep(m.runner, m.stations[step.target or ""], **m.visit_args(self.comp, step))

    def publish(self, step: Step) -> list[Any]:
        """A visit of the broker that hands the event to the flow's consumer group."""
        return [self.model.once(step, self.comp, lambda: self._publish(step))]

    def _publish(self, step: Step) -> PublishStep:
        m, target = self.model, step.target or ""
        group, counter = m.flows.get((target, step.event or ""), ([], [0]))
        return PublishStep(
            m.runner,
            m.stations[target],
            consumers=group,
            counter=counter,
            **m.visit_args(self.comp, step),
        )


@dataclass(frozen=True)
class _LinkDeclarer:
    """Makes the links ``comp``'s steps use, in the order ``_StepCompiler`` makes them (a
    cache get's miss steps before the get's own link)."""

    model: CompiledModel
    comp: str

    def compute(self, step: Step) -> None:
        """No link: the component's own station."""

    def call(self, step: Step) -> None:
        """The call's link."""
        self.model.link(self.comp, step)

    def cache_get(self, step: Step) -> None:
        """The miss steps' links, then the get's."""
        for miss in step.on_miss:
            visit(miss, self)
        self.model.link(self.comp, step)

    query = cache_set = cache_delete = publish = call


def _with_waits(draw: Callable[[], float], wait: Callable[[], float]) -> Callable[[], float]:
    """A service time with the wait for a core added (both s): the worker holds through it."""
    return lambda: draw() + wait()
