"""Suspending experts in a project for a pattern in their work (suspected collusion, position
bias): tasking stops routing the project's work to them, the suspension shows among the project's
flagged experts, and it holds until an operator clears it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import asyncpg

from cohort_qa.db import quality as quality_repo
from cohort_qa.domain import quality
from cohort_qa.domain.projects import QaProject
from cohort_qa.events import outgoing
from cohort_runtime import add_events


async def suspend(
    conn: asyncpg.Connection, project: QaProject, experts: Iterable[str], reason: str, now: dt.datetime
) -> set[str]:
    """Suspend `experts` in the project for `reason`; returns those newly suspended, each announced
    (ExpertQualityUpdated) in the caller's transaction. An expert already suspended in the project
    keeps their first reasons and is not announced again."""
    ordered = sorted(set(experts))
    if not ordered:
        return set()
    newly = [e for e in ordered if await quality_repo.suspend_in_project(conn, e, project.project_id, [reason], now)]
    if not newly:
        return set()  # the usual case for position bias: the batch's biased experts were suspended before
    estimates = await quality_repo.estimates(conn, project.domain, newly)
    await add_events(
        conn,
        [
            outgoing.quality_updated(
                expert_id,
                project.domain,
                estimates.get(expert_id) or quality.estimate(quality.Evidence()),
                suspended=True,
                project_id=project.project_id,
                reasons=[reason],
                when=now,
            )
            for expert_id in newly
        ],
    )
    return set(newly)
