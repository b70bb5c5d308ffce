"""Tasks' progress after submissions are accepted: aggregate each task once it has its overlap of
accepted judgments, then either finalize the item or ask tasking for more judgments.

Set-based over all tasks a batch touched: the locks, reads and writes are one statement each,
whatever the number of tasks; only the aggregation itself runs per task (in memory).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

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
from cohort_qa.domain.quality import Evidence
from cohort_qa.domain.reviews import normalized_total
from cohort_qa.events import outgoing, payloads
from cohort_qa.events.outgoing import Outgoing
from cohort_qa.metrics import QaMetrics
from cohort_runtime.inbox import after_commit

PRIOR_MEAN = quality.PRIOR_SUCCESSES / (quality.PRIOR_SUCCESSES + quality.PRIOR_FAILURES)


async def replace_rejected(conn: asyncpg.Connection, project: QaProject, task_ids: list[str]) -> list[Outgoing]:
    """A rejected submission leaves its task a judgment short: ask tasking for one more (it adds
    slots up to the project's maximum overlap), unless the task is already finalized."""
    if not task_ids:
        return []
    finalized = await tasks_repo.finalized(conn, project.project_id, sorted(set(task_ids)))
    return [outgoing.extra_judgments(project.project_id, t, 1) for t in task_ids if t not in finalized]


async def advance(
    conn: asyncpg.Connection, project: QaProject, task_ids: list[str], now: dt.datetime, metrics: QaMetrics
) -> list[Outgoing]:
    if not task_ids:
        return []
    tasks = await tasks_repo.lock_many(conn, project.project_id, sorted(set(task_ids)))
    open_tasks = [t for t in tasks if not t.finalized]
    if not open_tasks:
        return []
    rows_by_task = await submissions_repo.judgments_of_tasks(conn, project.project_id, [t.task_id for t in open_tasks])
    ready = []
    most = max(project.max_overlap, project.overlap)
    for task in open_tasks:
        rows = rows_by_task.get(task.task_id, [])
        accepted = [r for r in rows if r["state"] == "accepted"]
        decided = sum(1 for r in rows if r["state"] in ("accepted", "rejected"))
        # Rejected submissions used up slots too, and tasking never opens more than the maximum
        # overlap: once that many are decided, no judgment will come; finalize with what there is.
        exhausted = decided >= most
        if accepted and (len(accepted) >= (task.target_overlap or project.overlap) or exhausted):
            ready.append((task, accepted, decided, exhausted))
    if not ready:
        return []
    experts = sorted({r["expert_id"] for _, accepted, _, _ in ready for r in accepted})
    estimates = await quality_repo.estimates(conn, project.domain, experts)
    priors, matrices = await models_repo.get(conn, project.project_id, experts)

    out: list[Outgoing] = []
    targets: list[tuple[str, int]] = []
    finalized: list[tuple[str, consensus.Outcome, list[Judgment], list[asyncpg.Record]]] = []
    evidence: dict[str, Evidence] = defaultdict(Evidence)
    for task, accepted, decided, exhausted in ready:
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
        if not judgments:
            continue
        view = payloads.task_view(task.input)
        with metrics.aggregation_seconds.labels(project.kind.value).time():
            outcome = consensus.aggregate(
                project,
                judgments,
                candidate_ids=view.candidate_ids if view else (),
                acceptance_rate=len(accepted) / decided if decided else 1.0,
                priors=priors,
                no_more=exhausted,
            )
        if outcome.needs_more:
            targets.append((task.task_id, len(accepted) + 1))
            out.append(outgoing.extra_judgments(project.project_id, task.task_id, 1))
            after_commit(metrics.extra_judgments.inc)
            continue
        finalized.append((task.task_id, outcome, judgments, accepted))
        if len(judgments) >= 2:
            # Agreeing with the others is evidence only when there are others.
            for expert, agreed in outcome.agreed.items():
                evidence[expert] += quality.agreement(agreed)

    await tasks_repo.set_targets(conn, project.project_id, targets)
    if finalized:
        await items_repo.insert_many(
            conn,
            project.project_id,
            [(outgoing.item_id(project.project_id, t), t, o.agreement, o.confidence) for t, o, _, _ in finalized],
            now,
        )
        await tasks_repo.mark_finalized(conn, project.project_id, [t for t, _, _, _ in finalized])
        delivered_by_task = {
            t: [o.result.submission_id] if isinstance(o.result, ChosenItem) else [j.submission_id for j in js]
            for t, o, js, _ in finalized
        }
        scores = await items_repo.reviewer_scores(conn, [s for ids in delivered_by_task.values() for s in ids])
        for task_id, outcome, judgments, accepted in finalized:
            chosen = outcome.result.submission_id if isinstance(outcome.result, ChosenItem) else None
            out.append(
                outgoing.item_finalized(
                    project,
                    task_id,
                    outcome,
                    expert_ids=[j.expert_id for j in judgments],
                    reviewer_scores=[v for s in delivered_by_task[task_id] for v in scores.get(s, [])],
                    chosen_payload=next((r["payload"] for r in accepted if r["submission_id"] == chosen), None),
                    when=now,
                )
            )
            after_commit(metrics.items_finalized.labels(project.kind.value).inc)
    out += await quality_app.record(conn, project, dict(evidence), now)
    return out
