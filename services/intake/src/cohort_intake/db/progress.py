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


# The counters callers may add to; column names cannot be bind parameters, so they come from here.
COUNTERS = frozenset(
    {"tasks_total", "tasks_with_submission", "submissions_received", "submissions_accepted", "submissions_rejected"}
)


async def add(conn: asyncpg.Connection, project_id: uuid.UUID, amounts: dict[str, int]) -> None:
    """Add to counters of COUNTERS in one statement; zero amounts change nothing."""
    changed = {name: n for name, n in amounts.items() if n}
    if not changed:
        return
    unknown = set(changed) - COUNTERS
    if unknown:
        raise ValueError(f"unknown counters {sorted(unknown)}")
    names = sorted(changed)
    assignments = ", ".join(f"{name} = {name} + ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE progress SET {assignments}, update_time = now() WHERE project_id = $1",  # noqa: S608 - fixed names
        project_id,
        *(changed[name] for name in names),
    )
    await notify(conn, project_id)


async def record_items(
    conn: asyncpg.Connection, project_id: uuid.UUID, count: int, agreement_sum: float, confidence_sum: float
) -> int:
    """Count delivered items; returns the new number of delivered items."""
    delivered: int = await conn.fetchval(
        """UPDATE progress SET items_delivered = items_delivered + $2, agreement_sum = agreement_sum + $3,
                  confidence_sum = confidence_sum + $4, update_time = now()
           WHERE project_id = $1 RETURNING items_delivered""",
        project_id,
        count,
        agreement_sum,
        confidence_sum,
    )
    await notify(conn, project_id)
    return delivered


async def record_spend(
    conn: asyncpg.Connection, project_id: uuid.UUID, committed: int, spent: int, as_of: dt.datetime
) -> int | None:
    """Store the figures unless newer ones are already stored; the spend they replace when stored,
    None when not. (The row is locked by the caller's lock on the project.)"""
    before: int | None = await conn.fetchval(
        """UPDATE progress p SET committed_minor = $2, spent_minor = $3, spend_as_of = $4, update_time = now()
           FROM (SELECT spent_minor FROM progress WHERE project_id = $1) old
           WHERE p.project_id = $1 AND (p.spend_as_of IS NULL OR p.spend_as_of < $4)
           RETURNING old.spent_minor""",
        project_id,
        committed,
        spent,
        as_of,
    )
    if before is not None:
        await notify(conn, project_id)
    return before


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


async def mark_tasks_submitted(conn: asyncpg.Connection, project_id: uuid.UUID, task_ids: list[str]) -> int:
    """Flag the tasks as having a submission; returns how many got their first one now."""
    status: str = await conn.execute(
        """UPDATE tasks SET has_submission = true
           WHERE project_id = $1 AND task_id = ANY($2::text[]) AND NOT has_submission""",
        project_id,
        task_ids,
    )
    return int(status.rsplit(maxsplit=1)[-1])


async def insert_items(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    items: list[tuple[uuid.UUID, str, str, int, uuid.UUID | None]],
    now: dt.datetime,
) -> set[uuid.UUID]:
    """(item, task, record, revision, item superseded) rows; returns the ids that were new (a
    redelivered item is stored once)."""
    rows = await conn.fetch(
        """INSERT INTO items (item_id, project_id, task_id, record_json, deliver_time, revision, supersedes)
           SELECT i.item_id, $1, i.task_id, i.record_json, $5, i.revision, i.supersedes
           FROM unnest($2::uuid[], $3::text[], $4::text[], $6::int[], $7::uuid[]) WITH ORDINALITY
                AS i(item_id, task_id, record_json, revision, supersedes, n)
           ORDER BY i.n
           ON CONFLICT (item_id) DO NOTHING
           RETURNING item_id""",
        project_id,
        [i[0] for i in items],
        [i[1] for i in items],
        [i[2] for i in items],
        now,
        [i[3] for i in items],
        [i[4] for i in items],
    )
    return {r["item_id"] for r in rows}


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
        """SELECT item_id, task_id, seq, record_json, deliver_time, revision, supersedes FROM items
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
