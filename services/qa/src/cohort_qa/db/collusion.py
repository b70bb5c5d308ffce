"""Suspected colluding pairs, recorded for review; the rubric projects' collusion checks."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_qa.domain.collusion import SuspectPair


async def record(
    conn: asyncpg.Connection, project_id: uuid.UUID, suspects: list[SuspectPair], now: dt.datetime
) -> None:
    """Each pair once per project (the first flag is kept)."""
    await conn.executemany(
        """INSERT INTO collusion_flags (project_id, expert_a, expert_b, shared, agreed, expected, p_value, flagged_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING""",
        [(project_id, *s.experts, s.shared, s.agreed, s.expected, s.p_value, now) for s in suspects],
    )


async def stale_rubric_projects(conn: asyncpg.Connection, min_new: int) -> list[uuid.UUID]:
    """Rubric projects still taking work with at least `min_new` decided answers more than their
    last collusion check read."""
    rows = await conn.fetch(
        """SELECT p.project_id FROM projects p
           LEFT JOIN collusion_checks c USING (project_id)
           CROSS JOIN LATERAL (SELECT count(*) AS n FROM submissions s
                               WHERE s.project_id = p.project_id AND s.state IN ('accepted', 'rejected')) d
           WHERE p.data_kind = 'rubric_grade' AND p.state IN ('active', 'paused')
             AND d.n >= coalesce(c.answers, 0) + $1""",
        min_new,
    )
    return [r["project_id"] for r in rows]


async def decided_grades(conn: asyncpg.Connection, project_id: uuid.UUID) -> list[tuple[str, str, str]]:
    """(task, expert, scores as stored JSON) of every decided rubric grade in the project,
    accepted or rejected (the denormalised column: no payload to decode)."""
    rows = await conn.fetch(
        """SELECT task_id, expert_id, scores::text AS scores FROM submissions
           WHERE project_id = $1 AND state IN ('accepted', 'rejected') AND scores IS NOT NULL""",
        project_id,
    )
    return [(r["task_id"], r["expert_id"], r["scores"]) for r in rows]


async def checked(conn: asyncpg.Connection, project_id: uuid.UUID, answers: int, now: dt.datetime) -> None:
    await conn.execute(
        """INSERT INTO collusion_checks (project_id, answers, checked_at) VALUES ($1, $2, $3)
           ON CONFLICT (project_id) DO UPDATE SET answers = EXCLUDED.answers, checked_at = EXCLUDED.checked_at""",
        project_id,
        answers,
        now,
    )
