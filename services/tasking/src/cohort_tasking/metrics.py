"""Tasking's business gauges, refreshed from the database (a scrape never queries it)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from prometheus_client import CollectorRegistry, Gauge

log = logging.getLogger(__name__)


class TaskingGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.open_slots = Gauge(
            "cohort_tasking_open_slots", "Task slots waiting for an expert (queued work).", registry=registry
        )
        self.active_assignments = Gauge(
            "cohort_tasking_active_assignments", "Leases experts hold right now.", registry=registry
        )

    async def refresh_forever(self, pool: asyncpg.Pool, every_seconds: float = 15.0) -> None:
        while True:
            try:
                async with pool.acquire() as conn:
                    row = await conn.fetchrow(
                        """SELECT (SELECT count(*) FROM slots WHERE open) AS open_slots,
                                  (SELECT count(*) FROM assignments WHERE state = 'active') AS active"""
                    )
                self.open_slots.set(row["open_slots"])
                self.active_assignments.set(row["active"])
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("tasking gauges not refreshed", exc_info=True)
            await asyncio.sleep(every_seconds)
