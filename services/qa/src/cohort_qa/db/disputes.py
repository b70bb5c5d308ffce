"""The disputes table, and what QA knows of a disputed item."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_qa.domain.disputes import Dispute, DisputeState


def _dispute(r: asyncpg.Record) -> Dispute:
    return Dispute(
        r["item_id"], r["project_id"], r["task_id"], r["audit_id"], r["lab_reason"], DisputeState(r["state"]),
        r["comments"], r["decided_by"], r["dispute_time"], r["decide_time"], r["rework_revision"],
    )  # fmt: skip


async def insert(conn: asyncpg.Connection, d: Dispute) -> None:
    """Once per item: a redelivered event adds nothing."""
    await conn.execute(
        """INSERT INTO disputes (item_id, project_id, task_id, audit_id, lab_reason, state, dispute_time)
           VALUES ($1, $2, $3, $4, $5, 'open', $6) ON CONFLICT (item_id) DO NOTHING""",
        d.item_id, d.project_id, d.task_id, d.audit_id, d.lab_reason, d.dispute_time,
    )  # fmt: skip


async def get(conn: asyncpg.Connection, item_id: uuid.UUID, *, for_update: bool = False) -> Dispute | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM disputes WHERE item_id = $1{lock}", item_id)  # noqa: S608 - constant
    return _dispute(row) if row else None


async def listed(
    conn: asyncpg.Connection,
    project_id: uuid.UUID | None,
    state: DisputeState,
    after: tuple[dt.datetime, uuid.UUID] | None,
    size: int,
) -> list[Dispute]:
    """Up to size + 1 disputes, oldest first, after the (dispute_time, item_id) `after`."""
    rows = await conn.fetch(
        """SELECT * FROM disputes WHERE state = $1 AND ($2::uuid IS NULL OR project_id = $2)
             AND ($3::timestamptz IS NULL OR (dispute_time, item_id) > ($3, $4::uuid))
           ORDER BY dispute_time, item_id LIMIT $5""",
        state.value,
        project_id,
        after and after[0],
        after and after[1],
        size + 1,
    )
    return [_dispute(r) for r in rows]


async def decide(
    conn: asyncpg.Connection,
    item_id: uuid.UUID,
    state: DisputeState,
    comments: str,
    by: str,
    now: dt.datetime,
    rework_revision: int,
) -> None:
    await conn.execute(
        """UPDATE disputes SET state = $2, comments = $3, decided_by = $4, decide_time = $5, rework_revision = $6
           WHERE item_id = $1""",
        item_id,
        state.value,
        comments,
        by,
        now,
        rework_revision,
    )


async def item_revision(conn: asyncpg.Connection, item_id: uuid.UUID) -> int | None:
    """The task revision QA's item answers; None when QA has no such item."""
    revision: int | None = await conn.fetchval("SELECT revision FROM items WHERE item_id = $1", item_id)
    return revision


async def item_context(
    conn: asyncpg.Connection, d: Dispute
) -> tuple[tuple[float, float] | None, list[str], bytes | None]:
    """((agreement, confidence) of QA's item, the experts of the task's accepted work, the task input)."""
    quality = await conn.fetchrow("SELECT agreement, confidence, revision FROM items WHERE item_id = $1", d.item_id)
    experts = await conn.fetch(
        """SELECT DISTINCT expert_id FROM submissions
           WHERE project_id = $1 AND task_id = $2 AND state = 'accepted' AND revision = $3 ORDER BY expert_id""",
        d.project_id,
        d.task_id,
        quality["revision"] if quality else 1,
    )
    task_input = await conn.fetchval(
        "SELECT input FROM tasks WHERE project_id = $1 AND task_id = $2", d.project_id, d.task_id
    )
    figures = (quality["agreement"], quality["confidence"]) if quality else None
    return figures, [r["expert_id"] for r in experts], task_input
