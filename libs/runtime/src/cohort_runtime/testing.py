"""Helpers for the services' tests and benchmarks: a pool on a freshly migrated schema, the same
behind a private event loop for synchronous drivers (hypothesis state machines), and the one
polling helper for what arrives by event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from cohort_runtime.db import create_pool
from cohort_runtime.migrations import Migration, Routine, migrate, migrations_in, runtime_migrations

T = TypeVar("T")


async def migrated_pool(
    dsn: str, schema: str, *, service: str | None = None, migrations_dir: Path | None = None, max_size: int = 4
) -> asyncpg.Pool:
    """A pool on `schema` after the chassis's migrations and, when given, the service's."""
    migrations: list[Migration | Routine] = [*runtime_migrations()]
    if service is not None and migrations_dir is not None:
        migrations += migrations_in(service, migrations_dir)
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, schema, migrations)
    finally:
        await conn.close()
    return await create_pool(dsn, schema, application_name=f"test-{schema}", max_size=max_size)


async def eventually(
    check: Callable[[], Awaitable[T]], within: float = 30.0, what: str = "condition", every: float = 0.1
) -> T:
    """The first truthy value of `await check()`, asked every `every` seconds; AssertionError
    naming `what` when none came within `within` seconds. For effects that arrive by event: a
    test waits for the state it expects instead of sleeping a guessed time."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(every)


class SyncDatabase:
    """A migrated schema and its pool, driven from synchronous code through a private loop."""

    def __init__(self, dsn: str, schema: str, service: str, migrations_dir: Path) -> None:
        self.schema = schema
        self.loop = asyncio.new_event_loop()
        self.pool: asyncpg.Pool = self.run(migrated_pool(dsn, schema, service=service, migrations_dir=migrations_dir))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def transaction(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """fn(conn, *args) inside one transaction, as an event handler runs."""

        async def go() -> None:
            async with self.pool.acquire() as conn, conn.transaction():
                await fn(conn, *args)

        self.run(go())

    def close(self) -> None:
        """Drop the schema, close the pool and the loop."""
        self.run(self.pool.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
        self.run(self.pool.close())
        self.loop.close()
