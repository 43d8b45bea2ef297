"""The data steps of a service's runtime: cache get/set/delete, database reads and write
transactions, publishing events (through the outbox inside a write) and the consumer's inbox —
each of their waits inside the request's budget.

``DataSteps`` is a part of ``service.Runtime`` (which sets the attributes declared here).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from .broker import Broker
from .cache import Cache
from .context import current_traceparent, remaining
from .db import SQLITE_BUSY_MS, Database, first_delivery
from .metrics import Metrics
from .outbox import Relay, stage
from .proxy import HopError

__all__ = ["DataSteps", "within"]


async def within(what: str, work: Coroutine[Any, Any, Any]) -> Any:
    """Await ``work`` no longer than this request's budget: a wait for a resource never
    outlasts the call that waits for it (504 naming ``what`` when the budget runs out)."""
    left = remaining()
    if left is None:
        return await work
    if left <= 0:
        work.close()
        raise HopError(504, f"deadline passed before {what}")
    try:
        # a timeout scope, not wait_for: no task per step (wait_for made one per cache read)
        async with asyncio.timeout(left):
            return await work
    except TimeoutError:
        raise HopError(504, f"deadline passed waiting for {what}") from None


class DataSteps:
    """The steps that read or write a cache, a database or a broker."""

    component: str
    metrics: Metrics
    databases: dict[str, Database]
    caches: dict[str, Cache]
    brokers: dict[str, Broker]
    relay: Relay | None
    _inbox: Table | None
    _outbox: Table | None
    _staged: dict[int, list[str]]  # id(conn) → events staged in its transaction

    async def within(self, what: str, work: Coroutine[Any, Any, Any]) -> Any:
        """Await ``work`` no longer than this request's budget (see ``within``)."""
        return await within(what, work)

    async def cache_get(self, cache: str, key: str) -> Any | None:
        """A cache-get step: the cached value or None (a miss)."""
        value = await within(f"cache {cache}", self.caches[cache].get(key))
        self.metrics.cache(cache, value is not None)
        return value

    async def cache_set(self, cache: str, key: str, value: Any, ttl_s: float) -> None:
        """A cache-set step (fill after a miss)."""
        await within(f"cache {cache}", self.caches[cache].set(key, value, ttl_s))

    async def cache_delete(self, cache: str, *keys: str) -> None:
        """A cache-delete step (invalidate after a write)."""
        await within(f"cache {cache}", self.caches[cache].delete(*keys))

    def db(self, name: str) -> Database:
        """The database component ``name``."""
        return self.databases[name]

    @contextlib.asynccontextmanager
    async def transaction(self, name: str) -> AsyncIterator[AsyncConnection]:
        """A write step's transaction on database ``name``, inside this request's budget: the
        pool wait and SQLite's busy wait end with the budget, and work whose deadline passed
        is rolled back, not committed (the caller has stopped waiting for it)."""
        async with self._connection(name) as conn:
            staged: list[str] = []
            self._staged[id(conn)] = staged
            try:
                async with conn.begin():
                    left = remaining()
                    if left is not None and conn.dialect.name == "postgresql":
                        ms = max(1, int(left * 1000))  # LOCAL: ends with this transaction
                        await conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
                    yield conn
                    left = remaining()
                    if left is not None and left <= 0:
                        raise HopError(
                            504, f"deadline passed before the commit to {name}: rolled back"
                        )
            finally:
                self._staged.pop(id(conn), None)
        if staged and self.relay is not None:  # committed: hand the events to the broker now
            await self.relay.send(name, staged)

    @contextlib.asynccontextmanager
    async def reading(self, name: str) -> AsyncIterator[AsyncConnection]:
        """A read step's connection on database ``name`` (its waits inside the budget)."""
        async with self._connection(name) as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def _connection(self, name: str) -> AsyncIterator[AsyncConnection]:
        conn = self.databases[name].engine.connect()
        await within(f"a connection to {name}", conn.start())
        bounded = False
        try:
            left = remaining()
            if left is not None and conn.dialect.name == "sqlite":
                bounded = True
                # a locked file is waited for only as long as our caller waits for us
                await conn.exec_driver_sql(f"PRAGMA busy_timeout = {max(1, int(left * 1000))}")
                await conn.commit()  # ends the autobegun transaction: the step begins its own
            yield conn
        finally:
            if bounded:  # the pooled connection's next user gets the usual wait again
                with contextlib.suppress(Exception):
                    await conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            await conn.close()

    async def publish(
        self, broker: str, event: str, data: dict[str, Any], conn: AsyncConnection | None = None
    ) -> str:
        """A publish step: returns the event id once the broker has the event. Inside a
        write's transaction (``conn``) the event is staged in the outbox instead and sent
        once that transaction commits: no event without its row, no row without its event."""
        if conn is not None and self._outbox is not None and id(conn) in self._staged:
            staged = await stage(conn, self._outbox, broker, event, data, current_traceparent())
            self._staged[id(conn)].append(staged)
            self.metrics.event(event, "published")
            return staged
        event_id = await within(f"broker {broker}", self.brokers[broker].publish(event, data))
        self.metrics.event(event, "published")
        return event_id

    async def first_delivery(self, conn: Any, event: dict[str, Any]) -> bool:
        """A consume step's write: record the event in this service's inbox, in the write's
        own transaction; False for a redelivery whose write was already committed."""
        assert self._inbox is not None, "no consumer here"
        return await first_delivery(conn, self._inbox, self.component, str(event["event_id"]))
