"""SQL through SQLAlchemy (async): SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Column, Float, MetaData, String, Table, event, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

__all__ = ["INTERNAL", "SQLITE_BUSY_MS", "Database", "async_url", "first_delivery", "inbox_table"]

#: How long SQLite waits for a locked file when the work has no deadline (a consumer's).
SQLITE_BUSY_MS = 15_000
#: ``Table.info`` key of the runtime's own tables (inbox, outbox): never seeded with rows.
INTERNAL = "archsim_internal"


def inbox_table(metadata: MetaData) -> Table:
    """The consumer's inbox: one row per (consumer, event) it handled, written in the same
    transaction as the handler's own write, so an event's effect happens at most once."""
    name = "archsim_inbox"
    if name in metadata.tables:
        return metadata.tables[name]
    return Table(
        name,
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("handled_at", Float, nullable=False),
        info={INTERNAL: True},
    )


async def first_delivery(conn: AsyncConnection, inbox: Table, consumer: str, event_id: str) -> bool:
    """Record ``event_id`` in ``inbox`` inside ``conn``'s transaction; False when it was
    recorded before (a redelivery: the handler's write is already committed)."""
    values = {"consumer": consumer, "event_id": event_id, "handled_at": time.time()}
    dialect = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    query = dialect(inbox).values(**values).on_conflict_do_nothing()
    return (await conn.execute(query)).rowcount == 1


def async_url(url: str) -> str:
    """Pick the async driver for a URL: ``postgresql://`` → asyncpg, ``sqlite://`` → aiosqlite."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class Database:
    """One database component: an engine with a pool of ``pool_size`` connections."""

    def __init__(self, url: str, metadata: MetaData, pool_size: int) -> None:
        self.url = async_url(url)
        self.metadata = metadata
        kwargs: dict[str, Any] = {}
        if self.url.startswith("sqlite"):
            # Replicas share one file: WAL lets readers run beside a writer; wait, don't fail.
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_MS / 1000}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=0, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    async def create_schema(self) -> None:
        """Create the tables that do not exist yet (replicas may race: losing is fine)."""
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(self.metadata.create_all, checkfirst=True)
        except (OperationalError, ProgrammingError, IntegrityError) as exc:
            if "already exists" not in str(exc) and "duplicate" not in str(exc).lower():
                raise

    async def seed(self, rows: int) -> int:
        """Give every empty table ``rows`` rows (ids 1…rows), so what the front door reads
        exists though nothing there creates it; returns the rows added. On SQLite the ids are
        explicit, so a replica seeding the same table at the same time adds nothing."""
        from .rows import seed_values

        explicit = self.url.startswith("sqlite")  # PostgreSQL: let its sequence number them
        added = 0
        for table in self.metadata.sorted_tables:
            if table.info.get(INTERNAL):
                continue
            try:
                async with self.engine.begin() as conn:
                    query = select(func.count()).select_from(table)
                    if (await conn.execute(query)).scalar():
                        continue
                    values = [
                        {**seed_values(table, n), **({"id": n} if explicit else {})}
                        for n in range(1, rows + 1)
                    ]
                    await conn.execute(insert(table), values)
                    added += rows
            except IntegrityError:
                continue  # another replica seeded it first
        return added

    async def ping(self) -> bool:
        """True when a trivial query succeeds."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def close(self) -> None:
        """Dispose of the pool."""
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
