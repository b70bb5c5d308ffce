"""Finalized items (one per task)."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg


async def insert_many(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    items: list[tuple[uuid.UUID, str, float, float]],
    now: dt.datetime,
) -> None:
    """(item id, task, agreement, confidence); the caller holds the tasks' locks, so none exists yet."""
    await conn.execute(
        """INSERT INTO items (item_id, project_id, task_id, agreement, confidence, finalized_at)
           SELECT i.item_id, $1, i.task_id, i.agreement, i.confidence, $6
           FROM unnest($2::uuid[], $3::text[], $4::float8[], $5::float8[])
                AS i(item_id, task_id, agreement, confidence)""",
        project_id,
        [i[0] for i in items],
        [i[1] for i in items],
        [i[2] for i in items],
        [i[3] for i in items],
        now,
    )


async def reviewer_scores(conn: asyncpg.Connection, submission_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[float]]:
    rows = await conn.fetch(
        """SELECT submission_id, weighted_total FROM reviews WHERE submission_id = ANY($1::uuid[]) AND state = 'done'
           ORDER BY done_at""",
        submission_ids,
    )
    out: dict[uuid.UUID, list[float]] = {}
    for r in rows:
        out.setdefault(r["submission_id"], []).append(r["weighted_total"])
    return out
