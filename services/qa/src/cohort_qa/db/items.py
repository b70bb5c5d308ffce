"""Finalized items (one per task)."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    item_id: uuid.UUID,
    project_id: uuid.UUID,
    task_id: str,
    agreement: float,
    confidence: float,
    now: dt.datetime,
) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO items (item_id, project_id, task_id, agreement, confidence, finalized_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true""",
        item_id,
        project_id,
        task_id,
        agreement,
        confidence,
        now,
    )
    return bool(inserted)


async def reviewer_scores(conn: asyncpg.Connection, submission_ids: list[uuid.UUID]) -> list[float]:
    rows = await conn.fetch(
        """SELECT weighted_total FROM reviews WHERE submission_id = ANY($1::uuid[]) AND state = 'done'
           ORDER BY done_at""",
        submission_ids,
    )
    return [r["weighted_total"] for r in rows]
