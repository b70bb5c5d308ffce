"""Acting on suspected collusion: the pair is recorded for an operator to review and both experts
are suspended in the project (tasking stops routing its work to them; their suspension shows in
the project's flagged experts) until an operator clears them."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_qa.db import collusion as collusion_repo
from cohort_qa.db import quality as quality_repo
from cohort_qa.domain import quality
from cohort_qa.domain.collusion import SuspectPair
from cohort_qa.domain.projects import QaProject
from cohort_qa.events import outgoing
from cohort_runtime import add_events

COLLUSION_SUSPECTED = "collusion_suspected"


async def flag(conn: asyncpg.Connection, project: QaProject, suspects: list[SuspectPair], now: dt.datetime) -> set[str]:
    """Record the pairs (once each) and suspend their experts in the project; returns the experts
    newly suspended. In the caller's transaction, with their announcements."""
    if not suspects:
        return set()
    await collusion_repo.record(conn, project.project_id, suspects, now)
    experts = sorted({e for s in suspects for e in s.experts})
    estimates = await quality_repo.estimates(conn, project.domain, experts)
    newly = set()
    for expert_id in experts:
        if await quality_repo.suspend_in_project(conn, expert_id, project.project_id, [COLLUSION_SUSPECTED], now):
            newly.add(expert_id)
    await add_events(
        conn,
        [
            outgoing.quality_updated(
                expert_id,
                project.domain,
                estimates.get(expert_id) or quality.estimate(quality.Evidence()),
                suspended=True,
                project_id=project.project_id,
                reasons=[COLLUSION_SUSPECTED],
                when=now,
            )
            for expert_id in sorted(newly)
        ],
    )
    return newly
