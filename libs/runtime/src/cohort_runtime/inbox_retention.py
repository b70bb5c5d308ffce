"""Forgetting old inbox rows: the inbox remembers each handled event id so that a redelivery has
no effect, but a redelivery can only come while the record is still in its topic (Kafka deletes
records after the topic's retention, 7 days by default). Ids kept beyond that protect nothing and
cost every later claim: the claim inserts into a primary key of random ids, whose size — and so
the pages each claim touches — grew with the whole history (docs/BENCHMARKS.md, "A year of
history"). Rows received longer ago than the retention are deleted, a batch at a time, by received
time (a BRIN index: rows arrive in time order)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from cohort_runtime.batched_delete import BATCH, delete_in_batches

log = logging.getLogger(__name__)

_PURGE = """DELETE FROM inbox WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM inbox WHERE received_at < now() - make_interval(secs => $1) LIMIT $2))"""


async def purge_inbox(pool: asyncpg.Pool, retention_seconds: float, batch: int = BATCH) -> int:
    """Delete inbox rows received more than `retention_seconds` ago; returns how many."""
    return await delete_in_batches(pool, _PURGE, retention_seconds, batch)


async def purge_inbox_forever(pool: asyncpg.Pool, retention_seconds: float, every_seconds: float = 300.0) -> None:
    while True:
        try:
            n = await purge_inbox(pool, retention_seconds)
            if n:
                log.info("forgot %d inbox rows older than %.0f h", n, retention_seconds / 3600)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.warning("inbox not purged", exc_info=True)
        await asyncio.sleep(every_seconds)
