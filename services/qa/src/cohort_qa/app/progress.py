"""A task's progress after a submission is accepted: aggregate once it has its overlap of
accepted judgments, then either finalize the item or ask tasking for more judgments."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort.types.v1 import submissions_pb2
from cohort_qa.app import quality as quality_app
from cohort_qa.db import items as items_repo
from cohort_qa.db import models as models_repo
from cohort_qa.db import quality as quality_repo
from cohort_qa.db import submissions as submissions_repo
from cohort_qa.db import tasks as tasks_repo
from cohort_qa.domain import consensus, quality
from cohort_qa.domain.consensus import ChosenItem, Judgment
from cohort_qa.domain.projects import QaProject
from cohort_qa.domain.reviews import normalized_total
from cohort_qa.messaging import events, payloads
from cohort_qa.messaging.events import Outgoing
from cohort_qa.metrics import QaMetrics

PRIOR_MEAN = quality.PRIOR_SUCCESSES / (quality.PRIOR_SUCCESSES + quality.PRIOR_FAILURES)


async def advance(
    conn: asyncpg.Connection, project: QaProject, task_ids: list[str], now: dt.datetime, metrics: QaMetrics
) -> list[Outgoing]:
    out: list[Outgoing] = []
    for task_id in sorted(set(task_ids)):  # a fixed lock order: concurrent callers never deadlock
        out += await _advance_one(conn, project, task_id, now, metrics)
    return out


async def _advance_one(
    conn: asyncpg.Connection, project: QaProject, task_id: str, now: dt.datetime, metrics: QaMetrics
) -> list[Outgoing]:
    task = await tasks_repo.lock(conn, project.project_id, task_id)
    if task.finalized:
        return []
    rows = await submissions_repo.task_judgments(conn, project.project_id, task_id)
    accepted = [r for r in rows if r["state"] == "accepted"]
    target = task.target_overlap or project.overlap
    if len(accepted) < target:
        return []
    decided = sum(1 for r in rows if r["state"] in ("accepted", "rejected"))
    experts = sorted({r["expert_id"] for r in accepted})
    estimates = await quality_repo.estimates(conn, project.domain, experts)
    priors, matrices = await models_repo.get(conn, project.project_id, experts)
    judgments = []
    for r in accepted:
        answer = payloads.answer(submissions_pb2.SubmissionPayload.FromString(r["payload"]))
        if answer is None:
            continue
        estimate = estimates.get(r["expert_id"])
        total = r["weighted_total"]
        judgments.append(
            Judgment(
                submission_id=r["submission_id"],
                expert_id=r["expert_id"],
                answer=answer,
                reliability=estimate.mean if estimate else PRIOR_MEAN,
                review_score=normalized_total(project, total) if total is not None else None,
                confusion=matrices.get(r["expert_id"]),
            )
        )
    view = payloads.task_view(task.input)
    with metrics.aggregation_seconds.labels(project.kind.value).time():
        outcome = consensus.aggregate(
            project,
            judgments,
            candidate_ids=view.candidate_ids if view else (),
            acceptance_rate=len(accepted) / decided if decided else 1.0,
            priors=priors,
        )
    if outcome.needs_more:
        await tasks_repo.set_target(conn, project.project_id, task_id, len(accepted) + 1)
        metrics.extra_judgments.inc()
        return [events.extra_judgments(project.project_id, task_id, 1)]
    item_id = events.item_id(project.project_id, task_id)
    if not await items_repo.insert(
        conn, item_id, project.project_id, task_id, outcome.agreement, outcome.confidence, now
    ):
        return []
    await tasks_repo.mark_finalized(conn, project.project_id, task_id)
    chosen = outcome.result.submission_id if isinstance(outcome.result, ChosenItem) else None
    delivered = [chosen] if chosen else [j.submission_id for j in judgments]
    payload = next((r["payload"] for r in accepted if r["submission_id"] == chosen), None)
    out = [
        events.item_finalized(
            project,
            task_id,
            outcome,
            expert_ids=[j.expert_id for j in judgments],
            reviewer_scores=await items_repo.reviewer_scores(conn, delivered),
            chosen_payload=payload,
            when=now,
        )
    ]
    metrics.items_finalized.labels(project.kind.value).inc()
    if len(judgments) >= 2:
        # Agreeing with the others is evidence only when there are others.
        evidence = {expert: quality.agreement(agreed) for expert, agreed in outcome.agreed.items()}
        out += await quality_app.record(conn, project, evidence, now)
    return out
