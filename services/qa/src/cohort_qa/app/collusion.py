"""Acting on suspected collusion: the pair is recorded for an operator to review and both experts
are suspended in the project (app/suspensions.py) until an operator clears them. Preference
projects are tested at each refit (app/models.py); rubric projects here, for pairs who grade
alike, as often."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid

import asyncpg

from cohort_qa.app import suspensions
from cohort_qa.db import collusion as collusion_repo
from cohort_qa.db import projects as projects_repo
from cohort_qa.domain.collusion import SuspectPair, identical_suspects
from cohort_qa.domain.projects import QaProject

log = logging.getLogger(__name__)

COLLUSION_SUSPECTED = "collusion_suspected"


async def flag(conn: asyncpg.Connection, project: QaProject, suspects: list[SuspectPair], now: dt.datetime) -> set[str]:
    """Record the pairs (once each) and suspend their experts in the project; returns the experts
    newly suspended. In the caller's transaction, with their announcements."""
    if not suspects:
        return set()
    await collusion_repo.record(conn, project.project_id, suspects, now)
    return await suspensions.suspend(conn, project, (e for s in suspects for e in s.experts), COLLUSION_SUSPECTED, now)


async def check_rubric(pool: asyncpg.Pool, project_id: uuid.UUID) -> list[SuspectPair]:
    """Test a rubric project's graders for pairs who grade alike (the same score on every
    criterion far more often than the project's pairs do); flag and suspend them. Returns the
    pairs found."""
    async with pool.acquire() as conn:
        project = await projects_repo.get(conn, project_id)
        if project is None:
            return []
        rows = await collusion_repo.decided_grades(conn, project_id)
    # Off the event loop: pure Python over every grade and every pair's shared items.
    suspects = await asyncio.to_thread(_grading_alike, rows)
    async with pool.acquire() as conn, conn.transaction():
        now = dt.datetime.now(dt.UTC)
        await collusion_repo.checked(conn, project_id, len(rows), now)
        newly = await flag(conn, project, suspects, now)
    if newly:
        log.warning("project %s: suspected collusion in grading, suspended %s", project_id, sorted(newly))
    return suspects


def _grading_alike(rows: list[tuple[str, str, str]]) -> list[SuspectPair]:
    """identical_suspects over (task, expert, scores JSON): a grade is the same when every
    criterion's score is."""
    return identical_suspects(
        (task, expert, tuple(sorted(json.loads(scores).items()))) for task, expert, scores in rows
    )
