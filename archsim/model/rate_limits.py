"""A rate limiter: a counter in a cache per request a gateway forwards or a service takes
(rules gateway.rate_limit and rate_limit.count).

Kong, Envoy and API Gateway drawings put a Redis beside the gateway for its rate-limit
counters (``kong -> redis [label="rate limiting"]``). Read as ``caches in``, the link was an
``unused-link``: a gateway's operations only forward. A gateway's ``caches in`` link whose
label or cache says rate limiting (``rate limit``, ``throttling``, ``quota``, ``counters``)
is its limiter: each route it forwards first writes the counter (``cache set`` of
``ratelimit:<route>``, kept RATE_WINDOW_S, a fixed window), so the cache carries one write per
request. A service's limiter (a chat API's ``api -> ratelimit [label="INCR per user"]``) is
the same counter, written first in each of its request operations, and not the read-through
cache of its data. How many requests the limit lets through is not simulated (the load is
``simulate --rps``'s): what the drawing costs is.
"""

from __future__ import annotations

from archsim.model.architecture import Architecture, Component, Link
from archsim.model.kinds import Kind, Relation, name_has

__all__ = ["RATE_LIMIT_WORDS", "RATE_WINDOW_S", "rate_limiters"]

#: Words that say a cache keeps a gateway's rate-limit counters (the edge's label or its name).
RATE_LIMIT_WORDS = (
    "rate limit", "rate limits", "rate limiting", "rate limiter", "ratelimit", "ratelimiting",
    "throttle", "throttling", "quota", "quotas", "counters", "request counters",
)  # fmt: skip
#: The window a counter is kept for (s): one second, the common unit of a limit (100 req/s).
RATE_WINDOW_S = 1.0


def rate_limiters(arch: Architecture, comp: Component) -> list[Link]:
    """The ``caches in`` links of gateway or service ``comp`` that keep its rate-limit
    counters."""
    if comp.kind not in (Kind.GATEWAY, Kind.SERVICE):
        return []
    found = []
    for link in arch.links_from(comp.id, Relation.CACHES_IN):
        cache = arch.component(link.target)
        if name_has("", link.label, RATE_LIMIT_WORDS) or name_has(
            cache.id, cache.title, RATE_LIMIT_WORDS
        ):
            found.append(link)
    return found
