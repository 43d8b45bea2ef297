"""The transactional outbox: an event published by a write is first a row in the write's own
database, in the write's own transaction, so the event exists if and only if the row does.

After the commit the runtime hands the staged events to the broker at once (``Relay.send``)
and deletes their rows; a relay loop publishes what is left over (the broker was down, the
process died between commit and publish). An event keeps the id it was staged with, so a
relay that publishes it twice (a crash after the publish, before the delete) gives consumers
the same event id again, which they handle once (their inbox, a keyed effect).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from typing import Any

from sqlalchemy import Column, Float, MetaData, String, Table, Text, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from .broker import Broker
from .db import INTERNAL, Database

__all__ = ["Relay", "outbox_table", "stage"]

log = logging.getLogger("archsim.outbox")
#: Rows younger than this are the committing request's own to send; the loop leaves them.
_GRACE_S = 2.0
#: How long a committing request waits for the broker before it leaves its events to the loop.
_SEND_S = 2.0


def outbox_table(metadata: MetaData) -> Table:
    """``archsim_outbox``: events staged by writes, until the broker has them."""
    name = "archsim_outbox"
    if name in metadata.tables:
        return metadata.tables[name]
    return Table(
        name,
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("broker", String(200), nullable=False),
        Column("event", String(200), nullable=False),
        Column("data", Text, nullable=False),
        Column("traceparent", String(64)),
        Column("created_at", Float, nullable=False, index=True),
        info={INTERNAL: True},
    )


async def stage(
    conn: AsyncConnection,
    table: Table,
    broker: str,
    event: str,
    data: dict[str, Any],
    traceparent: str | None,
) -> str:
    """Insert one event into the outbox inside ``conn``'s transaction; its event id."""
    event_id = uuid.uuid4().hex
    row = {
        "event_id": event_id,
        "broker": broker,
        "event": event,
        "data": json.dumps(data, default=str),
        "traceparent": traceparent,
        "created_at": time.time(),
    }
    await conn.execute(insert(table).values(**row))
    return event_id


class Relay:
    """Moves committed outbox rows to their brokers."""

    def __init__(self, table: Table, databases: dict[str, Database], brokers: dict[str, Broker]):
        self.table = table
        self.databases = databases
        self.brokers = brokers
        self.relayed = 0  # events the loop published (not the requests' own sends)
        self._task: asyncio.Task[None] | None = None

    async def send(self, database: str, ids: list[str]) -> None:
        """Publish these committed events now and delete their rows (a failure is left to
        the loop: the rows stay)."""
        query = select(self.table).where(self.table.c.event_id.in_(ids))
        try:  # the row is committed: this must not fail the request, nor hold it for long
            await asyncio.wait_for(self._publish(database, query), _SEND_S)
        except Exception as exc:  # the broker is away: the loop sends them later
            log.warning("outbox: %d event(s) left for the relay: %s", len(ids), exc)

    async def _publish(self, database: str, query: Any) -> int:
        engine = self.databases[database].engine
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        for row in rows:
            await self.brokers[row["broker"]].publish(
                row["event"],
                json.loads(row["data"]),
                event_id=row["event_id"],
                traceparent=row["traceparent"],
            )
            async with engine.begin() as conn:
                await conn.execute(
                    delete(self.table).where(self.table.c.event_id == row["event_id"])
                )
        return len(rows)

    def start(self, interval_s: float = 1.0) -> None:
        """Relay left-over rows every ``interval_s`` in the background."""
        self._task = asyncio.create_task(self._loop(interval_s))

    async def _loop(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            for name in self.databases:
                old = select(self.table).where(self.table.c.created_at < time.time() - _GRACE_S)
                try:
                    self.relayed += await self._publish(name, old.order_by("created_at").limit(100))
                except Exception as exc:
                    log.warning("outbox relay of %s: %s", name, exc)

    async def stop(self) -> None:
        """Stop the loop (rows not yet sent stay for the next start)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
