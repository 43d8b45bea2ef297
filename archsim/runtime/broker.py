"""Events on a Redis-protocol broker: streams, consumer groups, acks, redelivery, idempotency.

``publish`` appends ``{event_id, event, data, traceparent}`` to ``<stack>:<broker>:<Event>``.
A consumer reads with its group; a message is acked only after its handler succeeded. On start
it first re-reads its own pending messages (it died holding them), and periodically claims
messages other consumers left unacked for longer than ``redeliver_s`` (XAUTOCLAIM). A handled
event id is remembered, so a redelivered event is acked without running the handler again.
That memory is written after the handler, so it is a shortcut, not the guarantee: handlers make
their effects keyed by the event (an inbox row in the transaction of their write, a mail's
Message-ID), so the redelivery of an event whose handler finished but was not acked is a no-op.

A broker that goes away and comes back (restarted, possibly empty) is survived: the consumer
loop re-creates its group on ``NOGROUP`` and resumes; ``healthy`` is False while reads fail,
so the service's ``/ready`` says not ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from .context import child_traceparent, current_traceparent, set_context

__all__ = ["Broker", "EventHandler"]

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
log = logging.getLogger("archsim.broker")
_SEEN_TTL_S = 7 * 24 * 3600


def _messages(reply: object) -> Iterator[tuple[Any, dict[Any, Any]]]:
    """The (id, fields) pairs of an XREADGROUP reply. The client speaks RESP2 (redis-py's
    default): ``[[stream, [(id, fields), ...]], ...]``, or None when the block timed out.
    redis-py's annotation also admits RESP3's dict shape, which this client never gets."""
    if not reply:
        return
    if not isinstance(reply, list):
        raise TypeError(f"unexpected XREADGROUP reply of type {type(reply).__name__}")
    for _, messages in reply:
        yield from messages


class Broker:
    """One broker component (a Redis-protocol server) seen from one service instance."""

    def __init__(self, url: str, namespace: str, redeliver_s: float) -> None:
        self.url = url
        self.namespace = namespace
        self.redeliver_s = redeliver_s
        self.redis = aioredis.Redis.from_url(url)
        self.handled = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._failing: set[str] = set()  # streams whose consumer's last read failed

    def stream(self, event: str) -> str:
        """The stream that carries ``event``."""
        return f"{self.namespace}:{event}"

    async def publish(
        self,
        event: str,
        data: dict[str, Any],
        *,
        event_id: str | None = None,
        traceparent: str | None = None,
    ) -> str:
        """Append an event; returns its event id once the broker has it (``event_id`` and
        ``traceparent`` given: an outbox row published with the identity it was staged with)."""
        event_id = event_id or uuid.uuid4().hex
        payload = {
            "event_id": event_id,
            "event": event,
            "data": data,
            "traceparent": traceparent or current_traceparent(),
            "published_at": time.time(),
        }
        await self.redis.xadd(
            self.stream(event),
            {"payload": json.dumps(payload, default=str)},
            maxlen=100_000,
            approximate=True,
        )
        return event_id

    async def ensure_group(self, event: str, group: str) -> None:
        """Create the consumer group from the start of the stream (idempotent)."""
        try:
            await self.redis.xgroup_create(self.stream(event), group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def subscribe(self, event: str, group: str, consumer: str, handler: EventHandler) -> None:
        """Run ``handler`` for every ``event`` delivered to ``group`` (in the background)."""
        self._tasks.append(asyncio.create_task(self._consume(event, group, consumer, handler)))

    @property
    def healthy(self) -> bool:
        """False while any consumer's last read failed (the broker is gone or lost our group)."""
        return not self._failing

    async def _consume(self, event: str, group: str, consumer: str, handler: EventHandler) -> None:
        stream = self.stream(event)
        joined = False  # group ensured and own pending re-read (again after a broker restart)
        last_claim = 0.0
        while not self._stopping.is_set():
            try:
                if not joined:
                    await self.ensure_group(event, group)
                    # what this consumer was given before it (or the broker) died, never acked
                    await self._drain(stream, group, consumer, handler, "0")
                    joined = True
                if time.monotonic() - last_claim >= min(self.redeliver_s, 5.0):
                    last_claim = time.monotonic()
                    await self._claim(stream, group, consumer, handler)
                reply = await self.redis.xreadgroup(
                    group, consumer, {stream: ">"}, count=16, block=500
                )
                self._failing.discard(stream)
                for message_id, fields in _messages(reply):
                    await self._handle(stream, group, message_id, fields, handler)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a broker hiccup must not end the consumer
                self._failing.add(stream)
                if isinstance(exc, ResponseError) and "NOGROUP" in str(exc):
                    log.warning("consumer group %s of %s is gone: creating it again", group, stream)
                    joined = False
                elif isinstance(exc, RedisConnectionError):
                    log.warning("broker unreachable: %s", exc)
                    joined = False  # it may come back empty: ensure the group then
                else:
                    log.exception("consumer loop error")
                await asyncio.sleep(0.5)

    async def _drain(
        self, stream: str, group: str, consumer: str, handler: EventHandler, start: str
    ) -> None:
        reply = await self.redis.xreadgroup(group, consumer, {stream: start}, count=100)
        for message_id, fields in _messages(reply):
            await self._handle(stream, group, message_id, fields, handler)

    async def _claim(self, stream: str, group: str, consumer: str, handler: EventHandler) -> None:
        idle_ms = int(self.redeliver_s * 1000)
        result = await self.redis.xautoclaim(stream, group, consumer, idle_ms, "0-0", count=50)
        for message_id, fields in result[1]:
            if fields:  # deleted entries come back empty
                await self._handle(stream, group, message_id, fields, handler)

    async def _handle(
        self,
        stream: str,
        group: str,
        message_id: Any,
        fields: dict[Any, Any],
        handler: EventHandler,
    ) -> None:
        payload = json.loads(fields.get(b"payload") or fields.get("payload") or "{}")
        seen = f"{self.namespace}:seen:{group}:{payload.get('event_id')}"
        if await self.redis.exists(seen):
            await self.redis.xack(stream, group, message_id)  # a redelivery of handled work
            return
        parent = payload.get("traceparent")
        set_context(payload.get("event_id"), child_traceparent(parent) if parent else None)
        try:
            await handler(payload)
        except Exception:
            log.exception("event handler failed; left pending for redelivery")
            return
        await self.redis.set(seen, "1", ex=_SEEN_TTL_S)
        await self.redis.xack(stream, group, message_id)
        self.handled += 1

    async def ping(self) -> bool:
        """True when the server answers."""
        return bool(await self.redis.ping())

    async def close(self) -> None:
        """Stop consumers (after their current message) and close the pool."""
        self._stopping.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=2.0)
        await self.redis.aclose()
