"""Slots, assignments and submissions: the hot path of routing."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_tasking.domain.assignments import Assignment, AssignmentState


def _assignment(r: asyncpg.Record) -> Assignment:
    return Assignment(
        assignment_id=r["assignment_id"],
        slot_id=r["slot_id"],
        expert_id=r["expert_id"],
        project_id=r["project_id"],
        task_id=r["task_id"],
        state=AssignmentState(r["state"]),
        acquire_time=r["acquire_time"],
        expire_time=r["expire_time"],
        last_beat=r["last_beat"],
        active_seconds=r["active_seconds"],
    )


async def live_assignment(conn: asyncpg.Connection, expert_id: str, now: dt.datetime) -> Assignment | None:
    row = await conn.fetchrow(
        """SELECT * FROM assignments WHERE expert_id = $1 AND state = 'active' AND expire_time > $2
           ORDER BY acquire_time DESC LIMIT 1""",
        expert_id,
        now,
    )
    return _assignment(row) if row else None


async def under_cap(
    conn: asyncpg.Connection, expert_id: str, project_ids: list[uuid.UUID], caps: list[int]
) -> set[uuid.UUID]:
    """Projects (of those given) where the expert's submissions plus live leases are below the cap."""
    rows = await conn.fetch(
        """SELECT p.id FROM unnest($2::uuid[], $3::int[]) AS p(id, cap)
           LEFT JOIN expert_project_counts c ON c.expert_id = $1 AND c.project_id = p.id
           WHERE p.cap = 0 OR coalesce(c.submissions, 0) +
                 (SELECT count(*) FROM assignments a
                  WHERE a.expert_id = $1 AND a.project_id = p.id AND a.state = 'active') < p.cap""",
        expert_id,
        project_ids,
        caps,
    )
    return {r["id"] for r in rows}


async def claim_slot(
    conn: asyncpg.Connection, project_id: uuid.UUID, expert_id: str, gold: bool
) -> tuple[int, str, bytes] | None:
    """Lock the next open slot of the project for this expert, skipping slots others are locking
    and tasks the expert already held; returns (slot, task, task input). Must run inside the
    acquiring transaction."""
    row = await conn.fetchrow(
        """SELECT s.slot_id, s.task_id, t.input FROM slots s
           JOIN tasks t ON t.project_id = s.project_id AND t.task_id = s.task_id
           WHERE s.project_id = $1 AND s.is_gold = $3 AND s.open
             AND NOT EXISTS (SELECT 1 FROM expert_tasks e
                             WHERE e.expert_id = $2 AND e.project_id = s.project_id AND e.task_id = s.task_id)
           ORDER BY s.started DESC, s.slot_id
           LIMIT 1
           FOR UPDATE OF s SKIP LOCKED""",
        project_id,
        expert_id,
        gold,
    )
    return (row["slot_id"], row["task_id"], bytes(row["input"])) if row else None


async def lease(conn: asyncpg.Connection, a: Assignment) -> None:
    """Close the slot, mark its task started, remember the expert held the task and record the
    assignment: one statement, since this is the hot path.

    Sibling slots that another acquirer holds right now are skipped, not waited for: waiting would
    deadlock two experts leasing two slots of one task at once (each updating the other's)."""
    await conn.execute(
        """WITH this_slot AS (
               UPDATE slots SET open = false, started = true WHERE slot_id = $1
           ), siblings AS (
               UPDATE slots SET started = true WHERE slot_id IN (
                   SELECT slot_id FROM slots
                   WHERE project_id = $2 AND task_id = $3 AND NOT started AND slot_id <> $1
                   FOR UPDATE SKIP LOCKED)
           ), held AS (
               INSERT INTO expert_tasks (expert_id, project_id, task_id) VALUES ($4, $2, $3) ON CONFLICT DO NOTHING
           )
           INSERT INTO assignments (assignment_id, slot_id, expert_id, project_id, task_id, state, acquire_time,
                                    expire_time, last_beat, active_seconds)
           VALUES ($5, $1, $4, $2, $3, 'active', $6, $7, $6, 0)""",
        a.slot_id,
        a.project_id,
        a.task_id,
        a.expert_id,
        a.assignment_id,
        a.acquire_time,
        a.expire_time,
    )


async def get_for_update(conn: asyncpg.Connection, assignment_id: uuid.UUID) -> Assignment | None:
    row = await conn.fetchrow("SELECT * FROM assignments WHERE assignment_id = $1 FOR UPDATE", assignment_id)
    return _assignment(row) if row else None


async def beat(
    conn: asyncpg.Connection, assignment_id: uuid.UUID, expire: dt.datetime, now: dt.datetime, active: int
) -> None:
    await conn.execute(
        "UPDATE assignments SET expire_time = $2, last_beat = $3, active_seconds = $4 WHERE assignment_id = $1",
        assignment_id,
        expire,
        now,
        active,
    )


async def end(conn: asyncpg.Connection, a: Assignment, state: AssignmentState, reopen: bool) -> None:
    await conn.execute("UPDATE assignments SET state = $2 WHERE assignment_id = $1", a.assignment_id, state.value)
    if reopen:
        # A slot of a finalized task, or of a task already submitted in this slot, stays closed.
        await conn.execute(
            """UPDATE slots SET open = true WHERE slot_id = $1
               AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.project_id = slots.project_id
                               AND t.task_id = slots.task_id AND t.finalized)""",
            a.slot_id,
        )


async def insert_submission(
    conn: asyncpg.Connection,
    submission_id: uuid.UUID,
    a: Assignment,
    payload: bytes,
    now: dt.datetime,
    active: int,
) -> None:
    await conn.execute(
        """INSERT INTO submissions (submission_id, assignment_id, expert_id, project_id, task_id, payload,
                                    submit_time, active_seconds)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        submission_id,
        a.assignment_id,
        a.expert_id,
        a.project_id,
        a.task_id,
        payload,
        now,
        active,
    )
    await conn.execute(
        """INSERT INTO expert_project_counts (expert_id, project_id, submissions) VALUES ($1, $2, 1)
           ON CONFLICT (expert_id, project_id) DO UPDATE SET submissions = expert_project_counts.submissions + 1""",
        a.expert_id,
        a.project_id,
    )


async def task_view(conn: asyncpg.Connection, project_id: uuid.UUID, task_id: str) -> tuple[bytes, bool] | None:
    row = await conn.fetchrow(
        "SELECT input, is_gold FROM tasks WHERE project_id = $1 AND task_id = $2", project_id, task_id
    )
    return (bytes(row["input"]), row["is_gold"]) if row else None


async def expire_due(conn: asyncpg.Connection, now: dt.datetime, limit: int) -> list[Assignment]:
    """Lock up to `limit` leases past their expiry (skipping ones a submit is holding)."""
    rows = await conn.fetch(
        """SELECT * FROM assignments WHERE state = 'active' AND expire_time <= $1
           ORDER BY expire_time LIMIT $2 FOR UPDATE SKIP LOCKED""",
        now,
        limit,
    )
    return [_assignment(r) for r in rows]


async def page_for_expert(
    conn: asyncpg.Connection, expert_id: str, after: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[Assignment]:
    rows = await conn.fetch(
        """SELECT * FROM assignments WHERE expert_id = $1
             AND ($2::timestamptz IS NULL OR (acquire_time, assignment_id) < ($2, $3))
           ORDER BY acquire_time DESC, assignment_id DESC LIMIT $4""",
        expert_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_assignment(r) for r in rows]


async def active_for_update(conn: asyncpg.Connection, expert_id: str) -> list[Assignment]:
    rows = await conn.fetch("SELECT * FROM assignments WHERE expert_id = $1 AND state = 'active' FOR UPDATE", expert_id)
    return [_assignment(r) for r in rows]


async def has_open_slot(conn: asyncpg.Connection, project_id: uuid.UUID) -> bool:
    found: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM slots WHERE project_id = $1 AND open)", project_id)
    return found
