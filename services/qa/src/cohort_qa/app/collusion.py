"""Acting on suspected collusion: the pair is recorded for an operator to review and both experts
are suspended in the project (app/suspensions.py) until an operator clears them."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_qa.app import suspensions
from cohort_qa.db import collusion as collusion_repo
from cohort_qa.domain.collusion import SuspectPair
from cohort_qa.domain.projects import QaProject

COLLUSION_SUSPECTED = "collusion_suspected"


async def flag(conn: asyncpg.Connection, project: QaProject, suspects: list[SuspectPair], now: dt.datetime) -> set[str]:
    """Record the pairs (once each) and suspend their experts in the project; returns the experts
    newly suspended. In the caller's transaction, with their announcements."""
    if not suspects:
        return set()
    await collusion_repo.record(conn, project.project_id, suspects, now)
    return await suspensions.suspend(conn, project, (e for s in suspects for e in s.experts), COLLUSION_SUSPECTED, now)
