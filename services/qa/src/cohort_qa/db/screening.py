"""Screening answers and qualification decisions."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from cohort_qa.domain.screening import ScreeningResult
from cohort_qa.domain.work import NewSubmission


@dataclass(frozen=True)
class WaitingAnswer:
    submission_id: uuid.UUID
    expert_id: str
    payload: bytes
    gold: bytes  # the task's reference


async def insert_answers(conn: asyncpg.Connection, subs: list[NewSubmission]) -> None:
    """Store answers once each, however often their event is delivered."""
    await conn.execute(
        """INSERT INTO screening_answers (submission_id, project_id, expert_id, task_id, payload)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bytea[])
           ON CONFLICT DO NOTHING""",
        [s.submission_id for s in subs],
        [s.project_id for s in subs],
        [s.expert_id for s in subs],
        [s.task_id for s in subs],
        [s.payload for s in subs],
    )


async def scorable(conn: asyncpg.Connection, project_id: uuid.UUID) -> list[WaitingAnswer]:
    """The project's unscored answers whose task's gold reference has arrived (locked)."""
    rows = await conn.fetch(
        """SELECT a.submission_id, a.expert_id, a.payload, t.gold FROM screening_answers a
           JOIN tasks t ON t.project_id = a.project_id AND t.task_id = a.task_id AND t.gold IS NOT NULL
           WHERE a.project_id = $1 AND a.correct IS NULL
           ORDER BY a.received_at, a.submission_id
           FOR UPDATE OF a""",
        project_id,
    )
    return [WaitingAnswer(r["submission_id"], r["expert_id"], bytes(r["payload"]), bytes(r["gold"])) for r in rows]


async def record_scores(conn: asyncpg.Connection, scores: list[tuple[uuid.UUID, bool]]) -> None:
    await conn.execute(
        """UPDATE screening_answers a SET correct = s.correct
           FROM unnest($1::uuid[], $2::boolean[]) AS s(submission_id, correct)
           WHERE a.submission_id = s.submission_id""",
        [s[0] for s in scores],
        [s[1] for s in scores],
    )


async def tallies_undecided(
    conn: asyncpg.Connection, project_id: uuid.UUID, expert_ids: list[str]
) -> list[tuple[str, int, int]]:
    """(expert, right, scored) of the given experts who have no decision yet."""
    rows = await conn.fetch(
        """SELECT a.expert_id, count(*) FILTER (WHERE a.correct) AS right_, count(*) AS scored
           FROM screening_answers a
           WHERE a.project_id = $1 AND a.expert_id = ANY($2::text[]) AND a.correct IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM qualifications q WHERE q.project_id = a.project_id
                             AND q.expert_id = a.expert_id)
           GROUP BY a.expert_id ORDER BY a.expert_id""",
        project_id,
        expert_ids,
    )
    return [(r["expert_id"], r["right_"], r["scored"]) for r in rows]


async def record_decisions(conn: asyncpg.Connection, results: list[ScreeningResult], when: dt.datetime) -> None:
    await conn.execute(
        """INSERT INTO qualifications (project_id, expert_id, passed, correct, answered, decided_at)
           SELECT r.project_id, r.expert_id, r.passed, r.correct, r.answered, $6
           FROM unnest($1::uuid[], $2::text[], $3::boolean[], $4::int[], $5::int[])
                AS r(project_id, expert_id, passed, correct, answered)
           ON CONFLICT DO NOTHING""",
        [r.project_id for r in results],
        [r.expert_id for r in results],
        [r.passed for r in results],
        [r.correct for r in results],
        [r.answered for r in results],
        when,
    )
