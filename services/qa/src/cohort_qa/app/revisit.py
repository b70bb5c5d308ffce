"""Revisiting delivered items when experts are suspended in a project (domain/revisit.py): each
item at its current revision with an accepted answer of a newly suspended expert is aggregated
again without them, and reworked (app/rework.py) when it no longer stands. Run by the background
pass, one project per transaction, each suspension once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid

import asyncpg

from cohort_qa.app import rework
from cohort_qa.app.progress import judgments_of
from cohort_qa.db import models as models_repo
from cohort_qa.db import projects as projects_repo
from cohort_qa.db import quality as quality_repo
from cohort_qa.db import revisit as repo
from cohort_qa.db import submissions as submissions_repo
from cohort_qa.db import tasks as tasks_repo
from cohort_qa.domain import consensus
from cohort_qa.domain.revisit import stands
from cohort_qa.domain.states import SubmissionState
from cohort_qa.events import payloads
from cohort_qa.events.outgoing import Outgoing
from cohort_qa.metrics import QaMetrics
from cohort_runtime import add_events

log = logging.getLogger(__name__)

SETTLED_SECONDS = 5.0
"""How long after a suspension its items are revisited (see db/revisit.pending)."""


async def revisit_pending(pool: asyncpg.Pool, metrics: QaMetrics) -> int:
    """Revisit the items of every suspension not revisited yet; returns the items reworked."""
    async with pool.acquire() as conn:
        pending = await repo.pending(conn, SETTLED_SECONDS)
    reworked = 0
    for project_id, experts in pending.items():
        reworked += await revisit(pool, project_id, experts, metrics)
    return reworked


async def revisit(pool: asyncpg.Pool, project_id: uuid.UUID, experts: list[str], metrics: QaMetrics) -> int:
    """Revisit the project's delivered items carrying answers of the suspended `experts`; returns
    how many were reopened for rework (one ReworkRequested each, in the same transaction)."""
    async with pool.acquire() as conn, conn.transaction():
        claimed = await repo.claim(conn, project_id, experts, dt.datetime.now(dt.UTC))
        project = await projects_repo.get(conn, project_id)
        if not claimed or project is None or await projects_repo.state(conn, project_id) == "cancelled":
            return 0  # a cancelled project routes nothing: its items stay as the lab stopped them
        task_ids = await repo.delivered_tasks(conn, project_id, claimed)
        tasks = [t for t in await tasks_repo.lock_many(conn, project_id, task_ids) if t.finalized and not t.is_gold]
        if not tasks:
            return 0
        revisions = {t.task_id: t.revision for t in tasks}
        by_task = await submissions_repo.judgments_of_tasks(conn, project_id, revisions)
        delivered = await repo.delivered_results(conn, project_id, revisions)
        everyone = sorted({s.expert_id for subs in by_task.values() for s in subs})
        estimates = await quality_repo.estimates(conn, project.domain, everyone)
        barred = await quality_repo.barred(conn, project_id, project.domain, everyone)
        priors, matrices = await models_repo.get(conn, project_id, everyone)
        events: list[Outgoing] = []
        for task in tasks:
            accepted = [s for s in by_task.get(task.task_id, []) if s.state is SubmissionState.ACCEPTED]
            judgments = judgments_of(project, accepted, estimates, matrices, barred)
            if not judgments:
                continue
            view = payloads.task_view(task.input)
            candidates = view.candidate_ids if view else ()
            result = delivered.get(task.task_id)
            if result is None:  # delivered before results were recorded: as it would be with everyone counted
                counted = [dataclasses.replace(j, suspended=False) for j in judgments]
                result = consensus.aggregate(
                    project, counted, candidate_ids=candidates, priors=priors, no_more=True
                ).result
            if stands(project, result, judgments, candidate_ids=candidates, priors=priors):
                continue
            _revision, requested = await rework.reopen(conn, project, task.task_id, task.revision)
            events += requested
        await add_events(conn, events)
    if events:
        metrics.items_reworked.labels("suspension").inc(len(events))
        log.warning(
            "project %s: %d of %d delivered items reworked after suspending %s",
            project_id, len(events), len(tasks), claimed,
        )  # fmt: skip
    return len(events)
