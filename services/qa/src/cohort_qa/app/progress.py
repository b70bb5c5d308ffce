"""Tasks' progress after submissions are accepted: aggregate each task once it has its overlap of
accepted judgments, then either finalize the item or ask tasking for more judgments.

Set-based over all tasks a batch touched: the locks, reads and writes are one statement each,
whatever the number of tasks; only the aggregation itself runs per task (in memory).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

import asyncpg
import numpy as np

from cohort.types.v1 import submissions_pb2
from cohort_qa.app import quality as quality_app
from cohort_qa.db import items as items_repo
from cohort_qa.db import models as models_repo
from cohort_qa.db import quality as quality_repo
from cohort_qa.db import submissions as submissions_repo
from cohort_qa.db import tasks as tasks_repo
from cohort_qa.domain import consensus, quality
from cohort_qa.domain.consensus import ChosenItem, Judgment
from cohort_qa.domain.finalization import Readiness, readiness
from cohort_qa.domain.projects import QaProject
from cohort_qa.domain.quality import Evidence
from cohort_qa.domain.reviews import normalized_total
from cohort_qa.domain.states import SubmissionState
from cohort_qa.domain.work import TaskSubmission
from cohort_qa.events import outgoing, payloads
from cohort_qa.events.outgoing import Outgoing
from cohort_qa.metrics import QaMetrics
from cohort_runtime.inbox import after_commit

PRIOR_MEAN = quality.PRIOR_SUCCESSES / (quality.PRIOR_SUCCESSES + quality.PRIOR_FAILURES)


async def replace_rejected(conn: asyncpg.Connection, project: QaProject, task_ids: list[str]) -> list[Outgoing]:
    """A rejected submission leaves its task a judgment short: ask tasking for one more, unless
    the task is already finalized. The maximum overlap counts answers that can stand, so tasking
    adds a replacement beyond it, up to the slot ceiling (domain/finalization.py)."""
    if not task_ids:
        return []
    finalized = await tasks_repo.finalized(conn, project.project_id, sorted(set(task_ids)))
    return [
        outgoing.extra_judgments(project.project_id, t, 1, replaces_rejected=True)
        for t in task_ids
        if t not in finalized
    ]


@dataclass(frozen=True)
class _Ready:
    task: tasks_repo.TaskRow
    accepted: list[TaskSubmission]
    standing: Readiness


@dataclass(frozen=True)
class _Finalized:
    task_id: str
    outcome: consensus.Outcome
    judgments: list[Judgment]
    accepted: list[TaskSubmission]
    revision: int

    @property
    def delivered(self) -> list[uuid.UUID]:
        """The submissions the item is made of: the chosen one, or every judgment."""
        if isinstance(self.outcome.result, ChosenItem):
            return [self.outcome.result.submission_id]
        return [j.submission_id for j in self.judgments]


async def advance(
    conn: asyncpg.Connection,
    project: QaProject,
    task_ids: list[str],
    now: dt.datetime,
    metrics: QaMetrics,
    learned: dict[str, Evidence] | None = None,
) -> list[Outgoing]:
    """Aggregate every task of `task_ids` that is ready: finalize its item, or ask for one more
    judgment when the aggregation is not confident enough.

    `learned` is what the caller found out about experts in the same transaction (checks, gold,
    a review): it is recorded together with the agreement evidence, in one statement. Two
    statements, each locking its experts in sorted order, deadlocked against another transaction
    doing the same with other experts (a review and a consumer batch did so in a demo run)."""
    ready = await _ready_tasks(conn, project, task_ids)
    if not ready:
        return await quality_app.record(conn, project, dict(learned or {}), now)
    experts = sorted({r.expert_id for t in ready for r in t.accepted})
    estimates = await quality_repo.estimates(conn, project.domain, experts)
    barred = await quality_repo.barred(conn, project.project_id, project.domain, experts)
    priors, matrices = await models_repo.get(conn, project.project_id, experts)

    out: list[Outgoing] = []
    targets: list[tuple[str, int]] = []
    finalized: list[_Finalized] = []
    evidence: dict[str, Evidence] = defaultdict(Evidence, learned or {})
    for t in ready:
        judgments = judgments_of(project, t.accepted, estimates, matrices, barred)
        if not judgments:
            continue
        view = payloads.task_view(t.task.input)
        with metrics.aggregation_seconds.labels(project.kind.value).time():
            outcome = consensus.aggregate(
                project,
                judgments,
                candidate_ids=view.candidate_ids if view else (),
                acceptance_rate=t.standing.acceptance_rate,
                priors=priors,
                no_more=t.standing.exhausted,
            )
        if outcome.needs_more:
            targets.append((t.task.task_id, len(t.accepted) + 1))
            out.append(outgoing.extra_judgments(project.project_id, t.task.task_id, 1))
            after_commit(metrics.extra_judgments.inc)
            continue
        finalized.append(_Finalized(t.task.task_id, outcome, judgments, t.accepted, t.task.revision))
        if len(judgments) >= 2:
            # Agreeing with the others is evidence only when there are others.
            for expert, agreed in outcome.agreed.items():
                evidence[expert] += quality.agreement(agreed)

    await tasks_repo.set_targets(conn, project.project_id, targets)
    out += await _finalize(conn, project, finalized, now, metrics)
    out += await quality_app.record(conn, project, dict(evidence), now)
    return out


async def _ready_tasks(conn: asyncpg.Connection, project: QaProject, task_ids: list[str]) -> list[_Ready]:
    """The open tasks among `task_ids` with enough judgments to aggregate, locked."""
    if not task_ids:
        return []
    tasks = await tasks_repo.lock_many(conn, project.project_id, sorted(set(task_ids)))
    open_tasks = [t for t in tasks if not t.finalized]
    if not open_tasks:
        return []
    by_task = await submissions_repo.judgments_of_tasks(
        conn, project.project_id, {t.task_id: t.revision for t in open_tasks}
    )
    most = max(project.max_overlap, project.overlap)
    ready = []
    for task in open_tasks:
        subs = by_task.get(task.task_id, [])
        standing = readiness([s.state for s in subs], task.target_overlap or project.overlap, most)
        if standing is not None:
            ready.append(_Ready(task, [s for s in subs if s.state is SubmissionState.ACCEPTED], standing))
    return ready


def judgments_of(
    project: QaProject,
    accepted: list[TaskSubmission],
    estimates: dict[str, quality.Estimate],
    matrices: dict[str, np.ndarray],
    barred: set[str],
) -> list[Judgment]:
    """The accepted submissions as the aggregation weighs them: `barred` experts (suspended in the
    project or domain) weigh nothing."""
    judgments = []
    for r in accepted:
        answer = payloads.answer(submissions_pb2.SubmissionPayload.FromString(r.payload))
        if answer is None:
            continue
        estimate = estimates.get(r.expert_id)
        judgments.append(
            Judgment(
                submission_id=r.submission_id,
                expert_id=r.expert_id,
                answer=answer,
                reliability=estimate.mean if estimate else PRIOR_MEAN,
                review_score=normalized_total(project, r.review_total) if r.review_total is not None else None,
                confusion=matrices.get(r.expert_id),
                suspended=r.expert_id in barred,
            )
        )
    return judgments


async def _finalize(
    conn: asyncpg.Connection, project: QaProject, finalized: list[_Finalized], now: dt.datetime, metrics: QaMetrics
) -> list[Outgoing]:
    """Store the items and publish each ItemFinalized, with the scores of the reviews behind it."""
    if not finalized:
        return []
    await items_repo.insert_many(
        conn,
        project.project_id,
        [(outgoing.item_id(project.project_id, f.task_id, f.revision), f.task_id, f.outcome.agreement,
          f.outcome.confidence, f.revision,
          outgoing.item_id(project.project_id, f.task_id, f.revision - 1) if f.revision > 1 else None,
          f.outcome.result)
         for f in finalized],
        now,
    )  # fmt: skip
    await tasks_repo.mark_finalized(conn, project.project_id, [f.task_id for f in finalized])
    scores = await items_repo.reviewer_scores(conn, [s for f in finalized for s in f.delivered])
    out: list[Outgoing] = []
    for f in finalized:
        chosen = f.outcome.result.submission_id if isinstance(f.outcome.result, ChosenItem) else None
        out.append(
            outgoing.item_finalized(
                project,
                f.task_id,
                f.outcome,
                expert_ids=[j.expert_id for j in f.judgments],
                reviewer_scores=[v for s in f.delivered for v in scores.get(s, [])],
                chosen_payload=next((r.payload for r in f.accepted if r.submission_id == chosen), None),
                when=now,
                revision=f.revision,
            )
        )
        after_commit(metrics.items_finalized.labels(project.kind.value).inc)
    return out
