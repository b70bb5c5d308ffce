"""Progress counters and delivered items. Changes notify `intake_progress` with the project id."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_intake.domain.progress import Counters

CHANNEL = "intake_progress"


async def notify(conn: asyncpg.Connection, project_id: uuid.UUID) -> None:
    # Delivered at commit; watchers re-read the counters then.
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(project_id))


async def create(conn: asyncpg.Connection, project_id: uuid.UUID, now: dt.datetime) -> None:
    await conn.execute("INSERT INTO progress (project_id, update_time) VALUES ($1, $2)", project_id, now)


async def add(conn: asyncpg.Connection, project_id: uuid.UUID, column: str, amount: int = 1) -> None:
    if column not in _COUNTERS:  # a column name cannot be a bind parameter
        raise ValueError(f"unknown counter {column}")
    await conn.execute(_COUNTERS[column], project_id, amount)
    await notify(conn, project_id)


_COUNTERS = {
    name: f"UPDATE progress SET {name} = {name} + $2, update_time = now() WHERE project_id = $1"  # noqa: S608 - fixed names
    for name in (
        "tasks_total",
        "tasks_with_submission",
        "submissions_received",
        "submissions_accepted",
        "submissions_rejected",
    )
}


async def record_item(conn: asyncpg.Connection, project_id: uuid.UUID, agreement: float, confidence: float) -> int:
    """Count a delivered item; returns the new number of delivered items."""
    delivered: int = await conn.fetchval(
        """UPDATE progress SET items_delivered = items_delivered + 1, agreement_sum = agreement_sum + $2,
                  confidence_sum = confidence_sum + $3, update_time = now()
           WHERE project_id = $1 RETURNING items_delivered""",
        project_id,
        agreement,
        confidence,
    )
    await notify(conn, project_id)
    return delivered


async def record_spend(
    conn: asyncpg.Connection, project_id: uuid.UUID, committed: int, spent: int, as_of: dt.datetime
) -> bool:
    """Store the figures unless newer ones are already stored; True when stored."""
    status: str = await conn.execute(
        """UPDATE progress SET committed_minor = $2, spent_minor = $3, spend_as_of = $4,
                  update_time = now()
           WHERE project_id = $1 AND (spend_as_of IS NULL OR spend_as_of < $4)""",
        project_id,
        committed,
        spent,
        as_of,
    )
    stored: bool = status == "UPDATE 1"
    if stored:
        await notify(conn, project_id)
    return stored


async def get(conn: asyncpg.Connection, project_id: uuid.UUID) -> Counters | None:
    row = await conn.fetchrow("SELECT * FROM progress WHERE project_id = $1", project_id)
    if row is None:
        return None
    return Counters(
        tasks_total=row["tasks_total"],
        tasks_with_submission=row["tasks_with_submission"],
        submissions_received=row["submissions_received"],
        submissions_accepted=row["submissions_accepted"],
        submissions_rejected=row["submissions_rejected"],
        items_delivered=row["items_delivered"],
        agreement_sum=row["agreement_sum"],
        confidence_sum=row["confidence_sum"],
        committed_minor=row["committed_minor"],
        spent_minor=row["spent_minor"],
        update_time=row["update_time"],
    )


async def mark_task_submitted(conn: asyncpg.Connection, project_id: uuid.UUID, task_id: str) -> bool:
    """True the first time a task gets a submission."""
    status: str = await conn.execute(
        """UPDATE tasks SET has_submission = true
           WHERE project_id = $1 AND task_id = $2 AND NOT has_submission""",
        project_id,
        task_id,
    )
    return status == "UPDATE 1"


async def insert_item(
    conn: asyncpg.Connection,
    item_id: uuid.UUID,
    project_id: uuid.UUID,
    task_id: str,
    record: str,
    now: dt.datetime,
) -> bool:
    status: str = await conn.execute(
        """INSERT INTO items (item_id, project_id, task_id, record_json, deliver_time)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (item_id) DO NOTHING""",
        item_id,
        project_id,
        task_id,
        record,
        now,
    )
    return status == "INSERT 0 1"


async def items_page(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    after_seq: int | None,
    delivered_after: dt.datetime | None,
    delivered_before: dt.datetime | None,
    item_ids: list[uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT item_id, task_id, seq, record_json, deliver_time FROM items
           WHERE project_id = $1
             AND ($2::bigint IS NULL OR seq > $2)
             AND ($3::timestamptz IS NULL OR deliver_time >= $3)
             AND ($4::timestamptz IS NULL OR deliver_time < $4)
             AND ($5::uuid[] IS NULL OR item_id = ANY($5))
           ORDER BY seq LIMIT $6""",
        project_id,
        after_seq,
        delivered_after,
        delivered_before,
        item_ids,
        limit,
    )
    return rows
