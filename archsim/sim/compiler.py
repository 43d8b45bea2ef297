"""Compile an architecture's behaviour into run-time objects for one replication: a station per
component, an ``Op`` per operation with its steps, statistics per link, timer lanes per timeout,
connection pools per (client, database) and consumer groups per event flow.

The engine executes ``arch.behaviour`` and nothing else; a cache get's miss steps are inlined
after it (a hit jumps over them), and each model step is compiled once per component.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from archsim.model import Architecture, Distribution, Step, StepAction
from archsim.model.distributions import Exponential
from archsim.sim.calls import CallStep, TimerLane
from archsim.sim.config import SimConfig
from archsim.sim.contention import HostWaits
from archsim.sim.stations import Consumer, Kernel, Pool, Station
from archsim.sim.steps import (
    CacheGetStep,
    ComputeStep,
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
        self.stations = {
            c.id: Station(
                env,
                c.id,
                workers=c.workers,
                replicas=c.replicas,
                limit=c.queue_limit,
                draw=sampler(c.service_time, kernel.rng),
                rate=exp_rate(c.service_time),
                least_outstanding=least,
                warm=warm,
            )
            for c in arch.all_components  # implied stores too (rule auth.accounts)
        }
        self.ops: dict[tuple[str, str], Op] = {}
        for op in arch.behaviour.operations:
            comp = arch.component(op.component)
            self.ops[(op.component, op.name)] = Op(
                op.qualified, self.stations[comp.id], comp.concurrency == "threads", comp.error_rate
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
        for op in arch.behaviour.operations:
            compiled = self.ops[(op.component, op.name)]
            steps: list[Any] = []
            undo: list[tuple[int, Op]] = []
            for step in op.steps:  # one by one: where each model step starts once compiled
                if step.compensation is not None:
                    cancel = step.compensation
                    undo.append(
                        (len(steps), self.ops[(cancel.target or "", cancel.operation or "")])
                    )
                steps += self.compile((step,), op.component, compiled.threads)
            compiled.set_steps(steps)
            compiled.undo = tuple(undo)

    def _consume_starter(self, consumer: Consumer, op: Op) -> Any:
        runner = self.runner

        def start(published: float) -> None:
            runner.start(op, lambda f: consumer.finished(published, f.status))

        return start

    def link(self, source: str, step: Step) -> LinkStats:
        """Statistics of the link ``source -> step.target`` (shared by all its steps)."""
        key = (source, step.target or "", step.relation.value if step.relation else "")
        if key not in self.links:
            self.links[key] = LinkStats(key, self.k.warm)
        return self.links[key]

    def compile(self, steps: tuple[Step, ...], comp: str, threads: bool) -> list[Any]:
        """Compile model steps run by ``comp``; a cache get's miss steps are inlined after it."""
        out: list[Any] = []
        for step in steps:
            key = (id(step), comp)
            if step.action is StepAction.CACHE_GET:
                miss = self.compile(step.on_miss, comp, threads)
                if key not in self._memo:
                    self._memo[key] = CacheGetStep(
                        self.runner,
                        self.stations[step.target or ""],
                        hit=step.hit_ratio if step.hit_ratio is not None else 0.0,
                        skip=len(miss),
                        **self._visit_args(comp, step),
                    )
                out += [self._memo[key], *miss]
                continue
            if key not in self._memo:
                self._memo[key] = self._compile_one(step, comp, threads)
            out.append(self._memo[key])
        return out

    def _visit_args(self, comp: str, step: Step) -> dict[str, Any]:
        return {
            "p": step.p,
            "latency": step.latency,
            "error_rate": step.error_rate,
            "link": self.link(comp, step),
        }

    def _compile_one(self, step: Step, comp: str, threads: bool) -> Any:
        action = step.action
        if action is StepAction.COMPUTE:
            station = self.stations[comp]
            if step.service_time is None and self.waits is None:
                return ComputeStep(self.runner, station, held=threads)
            own = sampler(step.service_time, self.k.rng) if step.service_time else None
            rate = exp_rate(step.service_time)  # drawn in place (0: call ``own``)
            if self.waits is not None:
                own, rate = _with_waits(own or station.draw, self.waits.draw), 0.0
            return ComputeStep(self.runner, station, held=threads, draw=own, rate=rate)
        target = step.target or ""
        if action is StepAction.CALL:
            policy = step.policy
            assert policy is not None and step.operation is not None
            if policy.timeout not in self.lanes:
                self.lanes[policy.timeout] = TimerLane(self.k, policy.timeout)
            return CallStep(
                self.runner,
                self.ops[(target, step.operation)],
                p=step.p,
                latency=step.latency,
                error_rate=step.error_rate,
                lane=self.lanes[policy.timeout],
                retries=policy.retries,
                backoff=policy.backoff,
                breaker=policy.breaker,
                breaker_reset=policy.breaker_reset,
                link=self.link(comp, step),
            )
        if action is StepAction.QUERY:
            if (comp, target) not in self.pools:
                size = self.arch.component(target).connections * self.arch.component(comp).replicas
                self.pools[(comp, target)] = Pool(size)
            return VisitStep(
                self.runner,
                self.stations[target],
                pool=self.pools[(comp, target)],
                **self._visit_args(comp, step),
            )
        if action is StepAction.PUBLISH:
            group, counter = self.flows.get((target, step.event or ""), ([], [0]))
            return PublishStep(
                self.runner,
                self.stations[target],
                consumers=group,
                counter=counter,
                **self._visit_args(comp, step),
            )
        # cache set / delete: a plain round trip to the cache
        return VisitStep(self.runner, self.stations[target], **self._visit_args(comp, step))


def _with_waits(draw: Callable[[], float], wait: Callable[[], float]) -> Callable[[], float]:
    """A service time with the wait for a core added (both s): the worker holds through it."""
    return lambda: draw() + wait()
