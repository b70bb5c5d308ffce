"""Helpers for the chassis's integration tests."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from cohort_runtime import testing


async def migrated_pool(database_url: str, schema: str, max_size: int = 10) -> asyncpg.Pool:
    """A pool on `schema` with the chassis tables and a test `effects` table."""
    pool = await testing.migrated_pool(database_url, schema, max_size=max_size)
    await pool.execute("CREATE TABLE effects (id bigserial PRIMARY KEY, event_id text NOT NULL, label text NOT NULL)")
    return pool


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 30.0, what: str = "condition") -> None:
    await testing.eventually(check, within, what)


async def read_all(bootstrap: str, topic: str, expected: int, within: float = 30.0) -> list[ConsumerRecord]:
    """Read a topic from the beginning until `expected` records arrived (or fail)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + within
    try:
        while len(records) < expected:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(records)} of {expected} records from {topic}")
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
        # Anything beyond `expected` would be a duplicate or a stray: give it a moment to show.
        extra = await consumer.getmany(timeout_ms=500)
        for recs in extra.values():
            records.extend(recs)
    finally:
        await consumer.stop()
    return records
