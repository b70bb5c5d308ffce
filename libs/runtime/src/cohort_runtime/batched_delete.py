"""Deleting old rows a batch at a time: the inbox's and the outbox's retention purges. One short
transaction per batch, however far behind a purge is (after a long stop, millions of rows), with
the service's own work let in between."""

from __future__ import annotations

import asyncio

import asyncpg

BATCH = 10_000


async def delete_in_batches(pool: asyncpg.Pool, statement: str, retention_seconds: float, batch: int = BATCH) -> int:
    """Run `statement` (a DELETE of at most $2 rows older than $1 seconds) until it deletes fewer
    than `batch`; returns how many rows it deleted in all."""
    deleted = 0
    while True:
        async with pool.acquire() as conn:
            status = await conn.execute(statement, retention_seconds, batch)
        n = int(status.split()[-1])
        deleted += n
        if n < batch:
            return deleted
        await asyncio.sleep(0)
