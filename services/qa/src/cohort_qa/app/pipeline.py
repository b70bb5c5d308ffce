"""The path of each submission: automatic checks, gold, review sampling, verdict, aggregation.

Runs set-based over a batch of SubmissionCreated events in the inbox's transaction: the checks are
pure functions, and every database step is one statement for the whole batch, which is what
makes thousands of submissions per second possible on a small machine.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg
import numpy as np

from cohort.types.v1 import submissions_pb2
from cohort_qa.app import progress
from cohort_qa.app import quality as quality_app
from cohort_qa.db import projects as projects_repo
from cohort_qa.db import quality as quality_repo
from cohort_qa.db import reviews as reviews_repo
from cohort_qa.db import submissions as repo
from cohort_qa.db import tasks as tasks_repo
from cohort_qa.domain import checks, gold, quality, sampling, similarity
from cohort_qa.domain.checks import CheckLimits, Finding
from cohort_qa.domain.projects import DataKind, QaProject
from cohort_qa.domain.quality import Evidence
from cohort_qa.domain.work import Answer, Decision, NewSubmission, TaskView
from cohort_qa.events import outgoing, payloads
from cohort_qa.events.outgoing import Outgoing
from cohort_qa.metrics import QaMetrics
from cohort_runtime import add_events
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.inbox import after_commit


@dataclass
class _Assessed:
    sub: NewSubmission
    seq: int
    answer: Answer | None
    view: TaskView | None
    findings: list[Finding] = field(default_factory=list)
    signature: np.ndarray | None = None


async def submissions_received(
    conn: asyncpg.Connection,
    subs: list[NewSubmission],
    metrics: QaMetrics,
    limits: CheckLimits,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    if not subs:
        return
    # One verdict per submission, however often sent: a copy re-sent under a new event id may be
    # in the same batch as the original, or come after it (then insert_new skips it).
    first_copies: dict[uuid.UUID, NewSubmission] = {}
    for s in subs:
        first_copies.setdefault(s.submission_id, s)
    unique = list(first_copies.values())
    seqs = await repo.insert_new(conn, unique)
    fresh = [s for s in unique if s.submission_id in seqs]
    if not fresh:
        return
    by_project: dict[uuid.UUID, list[tuple[NewSubmission, int]]] = defaultdict(list)
    for s in fresh:
        by_project[s.project_id].append((s, seqs[s.submission_id]))
    projects = await projects_repo.get_many(conn, list(by_project))
    now = clock.now()
    out: list[Outgoing] = []
    for project_id in sorted(by_project):
        project = projects.get(project_id)
        if project is not None:  # else it waits for ProjectActivated, which evaluates it
            out += await evaluate(conn, project, by_project[project_id], now, metrics, limits)
    await add_events(conn, out)


async def project_known(
    conn: asyncpg.Connection, project: QaProject, metrics: QaMetrics, limits: CheckLimits, clock: Clock = SYSTEM_CLOCK
) -> None:
    waiting = await repo.waiting(conn, project.project_id)
    if waiting:
        await add_events(conn, await evaluate(conn, project, waiting, clock.now(), metrics, limits))


async def evaluate(
    conn: asyncpg.Connection,
    project: QaProject,
    subs: list[tuple[NewSubmission, int]],
    now: dt.datetime,
    metrics: QaMetrics,
    limits: CheckLimits,
) -> list[Outgoing]:
    tasks = await tasks_repo.get_many(conn, [(project.project_id, s.task_id) for s, _ in subs])
    assessed = [_assess(project, s, seq, tasks.get((project.project_id, s.task_id)), limits) for s, seq in subs]
    await _position_bias(conn, project, assessed, limits)
    await _near_duplicates(conn, project, assessed, limits)
    estimates = await quality_repo.estimates(conn, project.domain, sorted({a.sub.expert_id for a in assessed}))

    decisions: list[Decision] = []
    reviews: list[tuple[uuid.UUID, uuid.UUID, str, int, list[str]]] = []
    out: list[Outgoing] = []
    evidence: dict[str, Evidence] = defaultdict(Evidence)
    accepted_tasks: list[str] = []
    rejected_tasks: list[str] = []
    for a in assessed:
        s, answer = a.sub, a.answer
        for f in a.findings:
            after_commit(metrics.findings.labels(f.code).inc)
        hard = [f.code for f in a.findings if f.hard]
        soft = [f.code for f in a.findings if not f.hard]
        task = tasks.get((project.project_id, s.task_id))
        state, reasons, gold_outcome = "accepted", list(hard or soft), None
        if hard or answer is None:
            state = "rejected"
            evidence[s.expert_id] += quality.failed_checks()
        elif s.is_gold or (task is not None and task.is_gold):
            reference = payloads.gold_reference(task.gold if task else None)
            outcome = gold.score(answer, reference, project) if reference else None
            if outcome is gold.GoldOutcome.CORRECT:
                gold_outcome = "correct"
            elif outcome is gold.GoldOutcome.INCORRECT:
                state, gold_outcome, reasons = "rejected", "incorrect", ["gold_mismatch"]
            else:
                state = "in_review"
                reasons = ["gold_free_text" if reference else "gold_reference_missing", *soft]
            if gold_outcome:
                evidence[s.expert_id] += quality.gold(gold_outcome == "correct")
                after_commit(metrics.gold.labels(gold_outcome).inc)
        elif soft:
            state = "in_review"
        else:
            p = sampling.review_probability(
                project.review_sample_rate, estimates.get(s.expert_id), project.minimum_quality
            )
            if sampling.sampled(s.submission_id, p):
                state, reasons = "in_review", ["sampled"]
        decisions.append(
            Decision(
                s.submission_id,
                state,
                tuple(reasons),
                gold_outcome,
                top_choice=answer.ranking[0] if answer and answer.ranking else None,
                scores=answer.scores if answer and project.kind is DataKind.RUBRIC_GRADE else None,
                signature=similarity.to_bytes(a.signature) if a.signature is not None else None,
            )
        )
        if state == "in_review":
            reviews.append((s.submission_id, project.project_id, s.task_id, 0, reasons))
            if sampling.calibration(s.submission_id):
                reviews.append((s.submission_id, project.project_id, s.task_id, 1, reasons))
            after_commit(metrics.verdicts.labels("in_review", "checks").inc)
        else:
            out.append(
                outgoing.verdict(
                    s.submission_id, project.project_id, s.task_id, None if state == "accepted" else reasons, now
                )
            )
            after_commit(metrics.verdicts.labels(state, "gold" if gold_outcome else "checks").inc)
            if state == "accepted":
                accepted_tasks.append(s.task_id)
            else:
                rejected_tasks.append(s.task_id)
    await repo.apply(conn, decisions)
    await reviews_repo.enqueue(conn, reviews)
    out += await quality_app.record(conn, project, dict(evidence), now)
    # Rejected tasks too: a rejection may have used the task's last slot (then it is finalized
    # with the judgments it has, and replace_rejected asks for nothing).
    out += await progress.advance(conn, project, accepted_tasks + rejected_tasks, now, metrics)
    out += await progress.replace_rejected(conn, project, rejected_tasks)
    return out


def _assess(
    project: QaProject, s: NewSubmission, seq: int, task: tasks_repo.TaskRow | None, limits: CheckLimits
) -> _Assessed:
    answer = payloads.answer(submissions_pb2.SubmissionPayload.FromString(s.payload))
    view = payloads.task_view(task.input if task else None)
    a = _Assessed(s, seq, answer, view)
    if answer is None or answer.kind is not project.kind:
        a.findings.append(Finding("wrong_kind", hard=True, detail=answer.kind.value if answer else "no payload"))
        return a
    a.findings += checks.content_findings(answer, view, project, limits)
    pace = checks.pace_finding(answer, view, s.active_seconds, limits)
    if pace:
        a.findings.append(pace)
    return a


async def _position_bias(
    conn: asyncpg.Connection, project: QaProject, assessed: list[_Assessed], limits: CheckLimits
) -> None:
    if project.kind is not DataKind.PREFERENCE:
        return
    counted = [a for a in assessed if a.answer and a.answer.ranking and a.view and a.view.candidates]
    stats = await repo.count_positions(
        conn,
        project.project_id,
        [
            (a.sub.expert_id, a.answer.ranking[0] == a.view.candidate_ids[0], len(a.view.candidates))
            for a in counted
            if a.answer and a.view
        ],
    )
    for a in counted:
        judgments, first_choices, candidates = stats[a.sub.expert_id]
        finding = checks.position_bias_finding(first_choices, judgments, candidates, limits)
        if finding:
            a.findings.append(finding)


async def _near_duplicates(
    conn: asyncpg.Connection, project: QaProject, assessed: list[_Assessed], limits: CheckLimits
) -> None:
    if not project.kind.free_text:
        return
    indexed = {}
    for a in assessed:
        if a.answer is None or any(f.hard for f in a.findings):
            continue
        if len(a.answer.text.strip()) < limits.near_duplicate_min_chars:
            continue
        a.signature = similarity.signature(a.answer.text)
        indexed[a.sub.submission_id] = a
    pairs = await repo.near_duplicates(
        conn,
        project.project_id,
        [(sid, a.seq, similarity.band_keys(a.signature)) for sid, a in indexed.items() if a.signature is not None],
    )
    for sid, other, stored in pairs:
        a = indexed[sid]
        if any(f.code == "near_duplicate" for f in a.findings) or a.signature is None:
            continue
        earlier = indexed[other].signature if other in indexed else similarity.from_bytes(stored) if stored else None
        if (
            earlier is not None
            and similarity.estimated_jaccard(a.signature, earlier) >= limits.near_duplicate_similarity
        ):
            a.findings.append(Finding("near_duplicate", hard=True, detail=str(other)))
