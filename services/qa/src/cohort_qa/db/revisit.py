"""Suspensions whose projects' delivered items are still to be revisited, and those items."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

import asyncpg

from cohort_qa.db.items import result_from_json
from cohort_qa.domain.consensus import ItemResult


async def pending(conn: asyncpg.Connection, settled_seconds: float) -> dict[uuid.UUID, list[str]]:
    """Per project, the experts suspended there at least `settled_seconds` ago whose delivered items
    were not revisited yet. The wait lets a transaction that aggregated with the expert still
    counted, begun before the suspension committed, commit its items first."""
    rows = await conn.fetch(
        """SELECT project_id, expert_id FROM project_suspensions
           WHERE revisited_at IS NULL AND as_of < now() - make_interval(secs => $1)
           ORDER BY project_id, expert_id""",
        settled_seconds,
    )
    out: dict[uuid.UUID, list[str]] = defaultdict(list)
    for r in rows:
        out[r["project_id"]].append(r["expert_id"])
    return dict(out)


async def claim(conn: asyncpg.Connection, project_id: uuid.UUID, experts: list[str], now: dt.datetime) -> list[str]:
    """Mark the suspensions revisited (locking them in expert order, as suspending does); returns the
    experts this transaction claimed (another pass may have taken them)."""
    rows = await conn.fetch(
        """UPDATE project_suspensions s SET revisited_at = $3
           FROM (SELECT expert_id FROM project_suspensions
                 WHERE project_id = $1 AND expert_id = ANY($2::text[]) AND revisited_at IS NULL
                 ORDER BY expert_id FOR UPDATE) AS mine
           WHERE s.project_id = $1 AND s.expert_id = mine.expert_id
           RETURNING s.expert_id""",
        project_id,
        experts,
        now,
    )
    return sorted(r["expert_id"] for r in rows)


async def delivered_tasks(conn: asyncpg.Connection, project_id: uuid.UUID, experts: list[str]) -> list[str]:
    """The project's tasks whose current, delivered item has an accepted answer of one of
    `experts` (gold tasks aside: their reference decides them, not the experts)."""
    rows = await conn.fetch(
        """SELECT DISTINCT t.task_id FROM submissions s
           JOIN tasks t ON t.project_id = s.project_id AND t.task_id = s.task_id AND t.revision = s.revision
           WHERE s.project_id = $1 AND s.expert_id = ANY($2::text[]) AND s.state = 'accepted'
             AND t.finalized_at IS NOT NULL AND NOT t.is_gold
           ORDER BY t.task_id""",
        project_id,
        experts,
    )
    return [r["task_id"] for r in rows]


async def delivered_results(
    conn: asyncpg.Connection, project_id: uuid.UUID, revisions: dict[str, int]
) -> dict[str, ItemResult]:
    """What each task's item at the given revision delivered, where it was recorded."""
    rows = await conn.fetch(
        """SELECT i.task_id, i.result FROM unnest($2::text[], $3::int[]) AS k(task_id, revision)
           JOIN items i ON i.project_id = $1 AND i.task_id = k.task_id AND i.revision = k.revision
           WHERE i.result IS NOT NULL""",
        project_id,
        list(revisions),
        list(revisions.values()),
    )
    return {r["task_id"]: result_from_json(r["result"]) for r in rows}


async def open_counts(conn: asyncpg.Connection, project_id: uuid.UUID) -> tuple[int, int]:
    """(tasks reopened for rework and not finalized again, suspensions not revisited yet)."""
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM tasks
                   WHERE project_id = $1 AND revision > 1 AND finalized_at IS NULL) AS reworks,
                  (SELECT count(*) FROM project_suspensions
                   WHERE project_id = $1 AND revisited_at IS NULL) AS revisits""",
        project_id,
    )
    return row["reworks"], row["revisits"]
