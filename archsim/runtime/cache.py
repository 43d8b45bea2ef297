"""Read-through cache on a Redis-protocol server: JSON values with a TTL, invalidation on write."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

from .resp import RespPool, lean_url

__all__ = ["Cache", "RawJSON"]


class RawJSON(bytes):
    """A cached value as the JSON bytes it was stored as: a handler can send it unparsed."""


class Cache:
    """One cache component: keys are namespaced ``<stack>:<cache>:<key>``; counts hits/misses."""

    def __init__(self, url: str, namespace: str) -> None:
        self.url = url
        self.namespace = namespace
        self.redis = aioredis.Redis.from_url(url)
        # reads (every request's hot path) over the lean client; the rest over redis-py
        self._reads = RespPool(url) if lean_url(url) else None
        self.hits = 0
        self.misses = 0

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def get(self, key: str) -> RawJSON | None:
        """The cached value as JSON bytes (``json.loads`` it to read it), or None on a miss."""
        key = self._key(key)
        raw = await (self.redis.get(key) if self._reads is None else self._reads.get(key))
        if raw is None:
            self.misses += 1
            return None
        self.hits += 1
        # bytes from this client; str only from one built with decode_responses=True
        return RawJSON(raw if isinstance(raw, bytes) else raw.encode())

    async def set(self, key: str, value: Any, ttl_s: float) -> None:
        """Store ``value`` as JSON for ``ttl_s`` seconds."""
        await self.redis.set(self._key(key), json.dumps(value, default=str), px=int(ttl_s * 1000))

    async def delete(self, *keys: str) -> None:
        """Invalidate keys (after a write)."""
        if keys:
            await self.redis.delete(*(self._key(k) for k in keys))

    async def ping(self) -> bool:
        """True when the server answers."""
        return bool(await self.redis.ping())

    async def close(self) -> None:
        """Close the connection pools."""
        if self._reads is not None:
            self._reads.close()
        await self.redis.aclose()
