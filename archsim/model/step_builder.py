"""The steps the derivation rules put in operations: calls, queries, cache reads, publications.

Each builder turns one link (and what the rule asks of it) into a Step with the link's
latency, policy and rates resolved, so no consumer of the model works them out again. Steps
are immutable, so equal ones are one shared object: every caller of one service with the
default policy makes the same call step (900,000 calls at 1,000,000 links, ~10,000 distinct),
built and validated once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archsim.model import attributes as A
from archsim.model.architecture import Architecture, Component, Link
from archsim.model.behaviour import RATE_KEY, CallPolicy, Step, StepAction
from archsim.model.dead_letters import dead_letter_p
from archsim.model.events import Publication
from archsim.model.kinds import Relation
from archsim.model.naming import snake
from archsim.model.rate_limits import RATE_WINDOW_S
from archsim.model.records import build

__all__ = ["COMPUTE", "StepBuilder"]

#: The compute step of an operation that keeps its component's service time.
COMPUTE = Step(action=StepAction.COMPUTE)


@dataclass
class StepBuilder:
    """Builds the steps of ``arch``'s links, one shared object per distinct step."""

    arch: Architecture
    _steps: dict[tuple[Any, ...], Step] = field(default_factory=dict)
    _policies: dict[tuple[Any, ...], CallPolicy] = field(default_factory=dict)

    def latency(self, link: Link | None, target: Component) -> float:
        """One-way time to ``target`` over ``link`` (s): the link's or the network's, plus the
        target's own."""
        hop = link.latency if link is not None and link.latency is not None else None
        return (hop if hop is not None else self.arch.network_latency) + target.latency

    def policy(self, link: Link, target: Component) -> CallPolicy:
        """The timeout, retries, backoff and breaker of a call over ``link``: the link's, else
        the target's, else the defaults."""
        values = (
            link.timeout or target.timeout or self.arch.default_timeout,
            link.retries if link.retries is not None else (target.retries or 0),
            link.backoff if link.backoff is not None else A.DEFAULT_BACKOFF_S,
            link.breaker,
            link.breaker_reset or A.DEFAULT_BREAKER_RESET_S,
        )
        if values not in self._policies:  # most calls share the default policy: build it once
            timeout, retries, backoff, breaker, reset = values
            self._policies[values] = CallPolicy(timeout=timeout, retries=retries, backoff=backoff,
                                                breaker=breaker, breaker_reset=reset)  # fmt: skip
        return self._policies[values]

    def call(self, link: Link, operation: str) -> Step:
        """The call step of ``link`` to ``operation`` (the key is its fields; ``x or str(x)``
        tells 0.0 from -0.0, written apart)."""
        arch = self.arch
        target = arch.by_id.get(link.target) or arch.component(link.target)
        policy = self.policy(link, target)
        hop = link.latency
        latency = (hop if hop is not None else arch.network_latency) + target.latency
        p, error_rate = link.p, link.error_rate
        key = (StepAction.CALL, link.target, operation, link.relation, p or str(p), id(policy),
               error_rate or str(error_rate), latency or str(latency))  # fmt: skip
        step = self._steps.get(key)  # most calls repeat one: no fields dict for them
        if step is not None:
            return step
        return self._shared(key, action=StepAction.CALL, target=link.target, operation=operation,
                            relation=link.relation, p=p, policy=policy, error_rate=error_rate,
                            latency=latency)  # fmt: skip

    def query(self, link: Link, mode: str) -> Step:
        """The query step of ``link`` in ``mode`` (``read``, ``write``, ``update``, ``delete``)."""
        target = self.arch.component(link.target)
        latency = self.latency(link, target)
        error_rate = link.error_rate
        # a change (insert, update, delete) holds the database for its commit (write_time); a
        # read for its service_time
        time = target.write_time if mode != "read" else None
        key = (StepAction.QUERY, link.target, link.relation, mode, error_rate or str(error_rate),
               latency or str(latency))  # fmt: skip
        return self._shared(key, action=StepAction.QUERY, target=link.target,
                            relation=link.relation, mode=mode, error_rate=error_rate,
                            latency=latency, service_time=time)  # fmt: skip

    def cached_read(self, cache: Link, key: str, miss: list[Step]) -> Step:
        """A read of ``key`` in the cache of ``cache``; a miss runs ``miss`` then fills it."""
        node = self.arch.component(cache.target)
        hit = cache.hit_ratio
        if hit is None:
            hit = node.hit_ratio if node.hit_ratio is not None else A.DEFAULT_HIT_RATIO
        ttl = cache.ttl or A.DEFAULT_TTL_S
        common: dict[str, Any] = {"target": cache.target, "relation": cache.relation, "key": key}
        latency = self.latency(cache, node)
        fill = Step(action=StepAction.CACHE_SET, ttl=ttl, latency=latency, **common)
        return Step(
            action=StepAction.CACHE_GET,
            hit_ratio=hit,
            ttl=ttl,
            on_miss=(*miss, fill),
            latency=latency,
            **common,
        )

    def invalidate(self, cache: Link, key: str) -> Step:
        """The delete of ``key`` in the cache of ``cache`` (a write's list invalidation)."""
        latency = self.latency(cache, self.arch.component(cache.target))
        return Step(action=StepAction.CACHE_DELETE, target=cache.target, relation=cache.relation,
                    key=key, latency=latency)  # fmt: skip

    def counts(self, counters: list[Link], comp: Component) -> list[Step]:
        """The counter writes of ``comp``'s rate limiters, one per request it takes."""
        return [self.count(link, f"{RATE_KEY}{snake(comp.id)}") for link in counters]

    def count(self, counter: Link, key: str) -> Step:
        """A rate-limit counter's write of ``key``, kept for one window (RATE_WINDOW_S)."""
        latency = self.latency(counter, self.arch.component(counter.target))
        return Step(action=StepAction.CACHE_SET, target=counter.target, relation=counter.relation,
                    key=key, ttl=RATE_WINDOW_S, latency=latency)  # fmt: skip

    def publish(self, pub: Publication) -> Step:
        """The publication of ``pub``'s event; to a dead-letter queue only what fails."""
        link = pub.link
        latency = self.latency(link, self.arch.component(link.target))
        p = dead_letter_p(self.arch, link)  # archsim.model.dead_letters
        p = link.p if p is None else p
        key = (StepAction.PUBLISH, link.target, link.relation, pub.event, p or str(p),
               latency or str(latency))  # fmt: skip
        return self._shared(key, action=StepAction.PUBLISH, target=link.target,
                            relation=link.relation, event=pub.event, p=p,
                            latency=latency)  # fmt: skip

    def validation(self, comp: Component) -> list[Step]:
        """The token checks of ``comp``'s requests: a call per ``validates with`` link."""
        return [
            self.call(link, "validate_token")
            for link in self.arch.links_from(comp.id, Relation.VALIDATES_WITH)
        ]

    @staticmethod
    def compute(comp: Component, name: str) -> Step:
        """The compute step of ``comp.name``: its own time if ``operation_time`` names it."""
        own = comp.operation_time.get(name) if comp.operation_time else None
        return COMPUTE if own is None else Step(action=StepAction.COMPUTE, service_time=own)

    def _shared(self, key: tuple[object, ...], **fields: Any) -> Step:
        """The step of these ``fields``, built and validated once per ``key``."""
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = build(Step, **fields)
        return step
