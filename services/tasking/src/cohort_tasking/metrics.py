"""Tasking's business gauges, refreshed from the database (a scrape never queries it)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from prometheus_client import CollectorRegistry, Gauge

log = logging.getLogger(__name__)


# Per active project with gold: its pool, and over the experts who worked it (handed in work, or
# were shown gold), the fewest gold tasks one has not seen and the mean share seen. Only gold rows
# of expert_tasks are read (partial index expert_tasks_gold), not every task the experts held.
GOLD_EXPOSURE = """
    WITH pool AS (
        SELECT t.project_id, count(*) AS gold FROM tasks t JOIN projects p USING (project_id)
        WHERE p.state = 'active' AND t.is_gold AND NOT t.is_screening GROUP BY t.project_id),
    seen AS (
        SELECT e.project_id, e.expert_id, count(*) AS seen
        FROM expert_tasks e JOIN pool USING (project_id) WHERE e.is_gold
        GROUP BY e.project_id, e.expert_id),
    workers AS (
        SELECT c.project_id, c.expert_id FROM expert_project_counts c JOIN pool USING (project_id)
        UNION SELECT project_id, expert_id FROM seen),
    per_expert AS (
        SELECT w.project_id, coalesce(s.seen, 0) AS seen
        FROM workers w LEFT JOIN seen s USING (project_id, expert_id))
    SELECT pool.project_id, pool.gold, min(pool.gold - pe.seen) AS unseen_min,
           avg(pe.seen::float8 / pool.gold) AS exposure
    FROM pool LEFT JOIN per_expert pe USING (project_id) GROUP BY pool.project_id, pool.gold"""


class TaskingGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.open_slots = Gauge(
            "cohort_tasking_open_slots", "Task slots waiting for an expert (queued work).", registry=registry
        )
        self.active_assignments = Gauge(
            "cohort_tasking_active_assignments", "Leases experts hold right now.", registry=registry
        )
        # Gold lasts (each expert sees a gold task once): these say when a pool runs dry.
        self.gold_pool = Gauge(
            "cohort_tasking_gold_pool", "Gold tasks of an active project.", ["project_id"], registry=registry
        )
        self.gold_unseen_min = Gauge(
            "cohort_tasking_gold_unseen_min",
            "The fewest gold tasks any expert who worked an active project has not seen yet (at 0 that "
            "expert gets no more control tasks there).",
            ["project_id"],
            registry=registry,
        )
        self.gold_exposure = Gauge(
            "cohort_tasking_gold_exposure_ratio",
            "Mean share of an active project's gold pool its experts have seen.",
            ["project_id"],
            registry=registry,
        )

    def _set_gold(self, rows: list[asyncpg.Record]) -> None:
        for gauge in (self.gold_pool, self.gold_unseen_min, self.gold_exposure):
            gauge.clear()  # a project no longer active drops out
        for r in rows:
            project = str(r["project_id"])
            self.gold_pool.labels(project).set(r["gold"])
            self.gold_unseen_min.labels(project).set(r["gold"] if r["unseen_min"] is None else r["unseen_min"])
            self.gold_exposure.labels(project).set(r["exposure"] or 0.0)

    async def refresh(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            row = await conn.fetchrow(
                """SELECT (SELECT count(*) FROM slots WHERE open) AS open_slots,
                          (SELECT count(*) FROM assignments WHERE state = 'active') AS active"""
            )
            gold = await conn.fetch(GOLD_EXPOSURE)
        self.open_slots.set(row["open_slots"])
        self.active_assignments.set(row["active"])
        self._set_gold(gold)

    async def refresh_forever(self, pool: asyncpg.Pool, every_seconds: float = 15.0) -> None:
        while True:
            try:
                await self.refresh(pool)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("tasking gauges not refreshed", exc_info=True)
            await asyncio.sleep(every_seconds)
