"""Discovery-aware HTTP client for service-to-service calls (aiohttp: httpx is ~6x slower here).

Each call resolves the target's instances (registry lookup cached with a TTL, or static
addresses), balances round-robin over them, fails over to another instance when one refuses
the connection, and protects itself with a timeout, retries with exponential backoff and a
circuit breaker per target. Request id and traceparent travel on every call.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from .breaker import CircuitBreaker
from .context import BUDGET_HEADER, outbound_headers, remaining
from .http1 import Dropped, Pool, Refused
from .registry import RegistryClient
from .settings import Settings

__all__ = [
    "DEFAULT_POLICY",
    "CallError",
    "CallPolicy",
    "Discovery",
    "Reply",
    "ServiceClient",
    "hop_detail",
]

_bits = random.getrandbits

#: How long an instance that refused a connection is skipped (s).
_DOWN_S = 5.0


@dataclass(frozen=True)
class CallPolicy:
    """Protection of one call site (seconds); mirrors the model's CallPolicy."""

    timeout: float = 5.0
    retries: int = 0
    backoff: float = 0.05
    breaker: int | None = None
    breaker_reset: float = 10.0


DEFAULT_POLICY = CallPolicy()


@dataclass(frozen=True)
class Reply:
    """A response: status, body bytes and content type."""

    status: int
    body: bytes
    content_type: str = "application/json"

    def json(self) -> Any:
        """The body parsed as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None

    @property
    def ok(self) -> bool:
        """True for 2xx."""
        return 200 <= self.status < 300


class CallError(Exception):
    """A call that failed after its retries: ``status`` is what to answer upstream
    (502 bad upstream reply, 503 no instance or breaker open, 504 timeout)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def hop_detail(target: str, status: int, body: bytes) -> str:
    """What failed, as a hop chain: ``order_service → payment_service answered 503: …``.
    A reply marked ``"hop": true`` failed further down (the target's own call failed), so the
    chain goes on with the target's detail; any other 5xx is the target's own failure."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        detail = data.get("detail") or data.get("error")
        if data.get("hop") and isinstance(detail, str):
            return f"{target} → {detail}"
        cause = detail if isinstance(detail, str) else json.dumps(detail or data)[:200]
    else:
        cause = body[:200].decode("utf-8", "replace").strip()
    return f"{target} answered {status}: {cause or 'no body'}"


@functools.lru_cache(maxsize=64)
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


class Discovery:
    """Where instances of a component are: the registry (for components that register) or
    static addresses; round-robin with a short skip-list for instances that are down."""

    def __init__(self, settings: Settings, registered: dict[str, str]) -> None:
        self.settings = settings
        # component id → registry component id, for targets that register with a registry
        self.registered = registered
        self.registries: dict[str, RegistryClient] = {}
        self._down: dict[str, float] = {}
        self._rr: dict[str, itertools.count[int]] = {}

    def attach(self, registry: str, client: RegistryClient) -> None:
        """Use ``client`` for lookups of components registered with ``registry``."""
        self.registries[registry] = client

    async def instances(self, component: str, *, fresh: bool = False) -> list[str]:
        """Base URLs of ``component``: registry lookup if it registers, else static."""
        registry = self.registered.get(component)
        if registry is not None and registry in self.registries:
            try:
                urls = await self.registries[registry].lookup(component, fresh=fresh)
                if urls:
                    return urls
            except ConnectionError:
                pass  # registry down: fall back to what the launcher told us
        return self.settings.addresses(component)

    def mark_down(self, url: str) -> None:
        """Skip ``url`` for a few seconds (it refused a connection)."""
        self._down[url] = time.monotonic() + _DOWN_S

    def _cached(self, component: str) -> list[str] | None:
        """The instances of ``component`` without waiting: static ones, or a registry lookup
        still fresh; None when the registry must be asked (``instances``)."""
        registry = self.registered.get(component)
        if registry is None or registry not in self.registries:
            return self.settings.addresses(component)
        urls = self.registries[registry].cached(component)
        return urls or None  # none registered: ``instances`` asks again, then falls back

    async def pick(self, component: str, exclude: set[str]) -> str | None:
        """The next instance round-robin, skipping excluded and recently-down ones."""
        urls = self._cached(component)
        if urls is None:
            urls = await self.instances(component)
        if not exclude and not self._down and urls:  # the usual case: every instance is live
            counter = self._rr.get(component) or self._rr.setdefault(component, itertools.count())
            return urls[next(counter) % len(urls)]
        now = time.monotonic()
        if self._down and min(self._down.values()) <= now:  # forget skips that have run out
            self._down = {u: until for u, until in self._down.items() if until > now}
        live = [u for u in urls if u not in exclude and self._down.get(u, 0) <= now]
        if not live:
            urls = await self.instances(component, fresh=True)
            live = [u for u in urls if u not in exclude and self._down.get(u, 0) <= now]
        if not live:
            return None
        counter = self._rr.setdefault(component, itertools.count())
        return live[next(counter) % len(live)]


class ServiceClient:
    """Calls other components over a shared, pooled aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession, discovery: Discovery) -> None:
        self.session = session
        self.discovery = discovery
        self.breakers: dict[str, CircuitBreaker] = {}
        # calls go over the lean keep-alive pool; HEAD (no body to parse) and https over aiohttp
        self.pool = Pool()

    def close(self) -> None:
        """Close the pooled connections (the aiohttp session is the owner's to close)."""
        self.pool.close()

    def breaker(self, target: str, policy: CallPolicy) -> CircuitBreaker | None:
        """The breaker guarding calls to ``target`` (None when the policy has none)."""
        if policy.breaker is None:
            return None
        if target not in self.breakers:
            self.breakers[target] = CircuitBreaker(policy.breaker, policy.breaker_reset)
        return self.breakers[target]

    async def call(
        self,
        target: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        policy: CallPolicy = DEFAULT_POLICY,
    ) -> Reply:
        """Send one logical request; 2xx-4xx replies are returned, 5xx/timeouts are retried
        and end in CallError. Retries of one call share an ``idempotency-key``."""
        breaker = self.breaker(target, policy)
        if breaker is None:
            return await self._send(target, method, path, json_body, data, headers, policy, None)
        trial = breaker.state == "half_open"
        if not breaker.allow():
            raise CallError(503, f"circuit to {target} is open")
        try:
            return await self._send(target, method, path, json_body, data, headers, policy, breaker)
        finally:
            # A trial that ended without a verdict (deadline gone before it was sent, cancelled)
            # must not keep the half-open slot: every later call would fail fast for ever.
            if trial:
                breaker.release()

    async def _send(
        self,
        target: str,
        method: str,
        path: str,
        json_body: Any,
        data: bytes | None,
        headers: dict[str, str] | None,
        policy: CallPolicy,
        breaker: CircuitBreaker | None,
    ) -> Reply:
        """The attempts of one call (see ``call``), recording each verdict on ``breaker``."""
        send_headers, data = _request(method, json_body, data, headers)
        failure: CallError | None = None  # built only when a call fails (not per request)
        for attempt in range(policy.retries + 1):
            if attempt:
                await asyncio.sleep(policy.backoff * 2 ** (attempt - 1))
            wait_s = _wait_s(policy, target, failure)
            send_headers[BUDGET_HEADER] = str(max(1, int(wait_s * 1000)))
            reply, failed = await self._attempt(
                target, method, path, data, send_headers, wait_s, policy
            )
            if reply is not None:
                if breaker is not None:
                    breaker.success()
                return reply
            failure = failed or failure  # an attempt that found no instance keeps the last
            if breaker is not None:
                breaker.failure()
                if breaker.state == "open":
                    detail = failure.detail if failure else f"no instance of {target}"
                    raise CallError(503, f"circuit to {target} opened: {detail}")
        raise failure or CallError(503, f"no instance of {target} is available")

    async def _attempt(
        self,
        target: str,
        method: str,
        path: str,
        data: bytes | None,
        headers: dict[str, str],
        wait_s: float,
        policy: CallPolicy,
    ) -> tuple[Reply | None, CallError | None]:
        """One attempt, failing over across instances that refuse the connection: the reply
        (below 500), else the failure (None when no instance was left to try)."""
        tried: set[str] = set()
        stale_retried = False
        while True:
            base = await self.discovery.pick(target, tried)
            if base is None:
                return None, None
            tried.add(base)
            try:
                if method == "HEAD" or not base.startswith("http://"):
                    reply = await self._exchange(base, method, path, data, headers, wait_s)
                else:  # the lean pool, awaited here: one coroutine less per call
                    status, body, ctype = await self.pool.request(
                        base, method, path, headers, data, wait_s
                    )
                    reply = Reply(status, body, ctype)
            except (Refused, aiohttp.ClientConnectorError):
                self.discovery.mark_down(base)
                continue  # never reached the instance: safe to try another
            except (Dropped, aiohttp.ClientConnectionError) as exc:
                if not stale_retried and isinstance(
                    exc, Dropped | aiohttp.ServerDisconnectedError | aiohttp.ClientOSError
                ):
                    # A pooled keep-alive connection the server had closed: the request
                    # did not get through, so send it again once on a fresh connection.
                    stale_retried = True
                    tried.discard(base)
                    continue
                return None, CallError(502, f"{target} dropped the connection: {exc}")
            except TimeoutError:
                why = "" if wait_s == policy.timeout else " (what was left of the deadline)"
                return None, CallError(504, f"{target} did not answer within {wait_s:.3g}s{why}")
            if reply.status >= 500:
                return None, CallError(502, hop_detail(target, reply.status, reply.body))
            return reply, None

    async def _exchange(
        self,
        base: str,
        method: str,
        path: str,
        data: bytes | None,
        headers: dict[str, str],
        wait_s: float,
    ) -> Reply:
        """Send the request to one instance and read its reply (within ``wait_s``, s):
        over aiohttp for HEAD and TLS, else over the lean pool (``_attempt`` calls it itself)."""
        if method == "HEAD" or not base.startswith("http://"):  # TLS: aiohttp
            async with self.session.request(
                method, base + path, data=data, headers=headers, timeout=_timeout(round(wait_s, 3))
            ) as resp:
                return Reply(resp.status, await resp.read(), resp.content_type)
        status, body, ctype = await self.pool.request(base, method, path, headers, data, wait_s)
        return Reply(status, body, ctype)


def _request(
    method: str, json_body: Any, data: bytes | None, headers: dict[str, str] | None
) -> tuple[dict[str, str], bytes | None]:
    """The headers and body of a call: the context's headers, the caller's, an idempotency
    key shared by its retries (not for GET) and the JSON body encoded."""
    send_headers = outbound_headers()
    if headers:
        send_headers.update(headers)
    if method != "GET":
        # unique, not secret: random bits, not uuid4's urandom syscall per call
        send_headers.setdefault("idempotency-key", f"{_bits(128):032x}")
    if json_body is not None:
        data = json.dumps(json_body).encode()
        send_headers["content-type"] = "application/json"
    return send_headers, data


def _wait_s(policy: CallPolicy, target: str, failure: CallError | None) -> float:
    """How long an attempt may wait (s): the policy's timeout within what is left of the
    request's budget (the callee is told it); ``failure`` (or a 504) once nothing is left."""
    wait_s, left = policy.timeout, remaining()
    if left is not None:
        if left <= 0:
            raise failure or CallError(504, f"deadline passed before calling {target}")
        wait_s = min(wait_s, left)
    return wait_s
