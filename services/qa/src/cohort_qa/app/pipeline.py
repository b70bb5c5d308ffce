"""The path of each submission: automatic checks, gold, review sampling, verdict, aggregation.

Runs set-based over a batch of SubmissionCreated events in the inbox's transaction: the checks are
pure functions, and every database step is one statement for the whole batch, which is what
makes thousands of submissions per second possible on a small machine.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg
import numpy as np

from cohort.types.v1 import submissions_pb2
from cohort_qa.app import progress, suspensions
from cohort_qa.db import projects as projects_repo
from cohort_qa.db import quality as quality_repo
from cohort_qa.db import reviews as reviews_repo
from cohort_qa.db import submissions as repo
from cohort_qa.db import tasks as tasks_repo
from cohort_qa.domain import checks, gold, sampling, similarity, straight_lining, verdicts
from cohort_qa.domain.checks import CheckLimits, Finding
from cohort_qa.domain.projects import DataKind, QaProject
from cohort_qa.domain.quality import Evidence
from cohort_qa.domain.states import SubmissionState
from cohort_qa.domain.work import Answer, Decision, NewSubmission, TaskView, first_shown
from cohort_qa.events import outgoing, payloads
from cohort_qa.events.outgoing import Outgoing
from cohort_qa.metrics import QaMetrics
from cohort_runtime import add_events
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.inbox import after_commit

log = logging.getLogger(__name__)

POSITION_BIAS = "position_bias"
"""The reason of a suspension for first-shown choices beyond doubt (checks.position_bias_beyond_doubt)."""
STRAIGHT_LINING = "straight_lining"
"""The reason of a suspension for flat rubric grades beyond doubt (domain/straight_lining.py)."""


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
    biased = await _position_bias(conn, project, assessed, limits)
    straight_liners = await _straight_lining(conn, project, assessed)
    await _near_duplicates(conn, project, assessed, limits)
    estimates = await quality_repo.estimates(conn, project.domain, sorted({a.sub.expert_id for a in assessed}))

    batch = _Batch()
    for a in assessed:
        for f in a.findings:
            after_commit(metrics.findings.labels(f.code).inc)
        task = tasks.get((project.project_id, a.sub.task_id))
        verdict = verdicts.decide(
            verdicts.Case(
                a.sub.submission_id,
                a.findings,
                answered=a.answer is not None,
                gold=_gold_check(project, a, task) if a.sub.is_gold or (task is not None and task.is_gold) else None,
                review_probability=sampling.review_probability(
                    project.review_sample_rate, estimates.get(a.sub.expert_id), project.minimum_quality
                ),
            )
        )
        batch.add(project, a, verdict, now, metrics)
    await repo.apply(conn, batch.decisions)
    await reviews_repo.enqueue(conn, batch.reviews)
    out = batch.out
    newly = await suspensions.suspend(conn, project, biased, POSITION_BIAS, now)
    if newly:
        log.warning("project %s: suspended for position bias: %s", project.project_id, sorted(newly))
    newly = await suspensions.suspend(conn, project, straight_liners, STRAIGHT_LINING, now)
    if newly:
        log.warning("project %s: suspended for straight-lining: %s", project.project_id, sorted(newly))
    # Rejected tasks too: a rejection may have used the task's last slot (then it is finalized
    # with the judgments it has, and replace_rejected asks for nothing).
    out += await progress.advance(
        conn, project, batch.accepted_tasks + batch.rejected_tasks, now, metrics, learned=dict(batch.evidence)
    )
    out += await progress.replace_rejected(conn, project, batch.rejected_tasks)
    return out


@dataclass
class _Batch:
    """What a batch's verdicts add up to: rows to store, reviews to queue, events to publish."""

    decisions: list[Decision] = field(default_factory=list)
    reviews: list[tuple[uuid.UUID, uuid.UUID, str, int, list[str]]] = field(default_factory=list)
    out: list[Outgoing] = field(default_factory=list)
    evidence: dict[str, Evidence] = field(default_factory=lambda: defaultdict(Evidence))
    accepted_tasks: list[str] = field(default_factory=list)
    rejected_tasks: list[str] = field(default_factory=list)

    def add(
        self, project: QaProject, a: _Assessed, verdict: verdicts.Verdict, now: dt.datetime, metrics: QaMetrics
    ) -> None:
        s, answer, state = a.sub, a.answer, verdict.state
        if verdict.evidence is not None:
            self.evidence[s.expert_id] += verdict.evidence
        if verdict.gold_outcome:
            after_commit(metrics.gold.labels(verdict.gold_outcome).inc)
        self.decisions.append(
            Decision(
                s.submission_id,
                state,
                verdict.reasons,
                verdict.gold_outcome,
                top_choice=answer.ranking[0] if answer and answer.ranking else None,
                scores=answer.scores if answer and project.kind is DataKind.RUBRIC_GRADE else None,
                signature=similarity.to_bytes(a.signature) if a.signature is not None else None,
            )
        )
        reasons = list(verdict.reasons)
        if state is SubmissionState.IN_REVIEW:
            self.reviews.append((s.submission_id, project.project_id, s.task_id, 0, reasons))
            if sampling.calibration(s.submission_id):
                self.reviews.append((s.submission_id, project.project_id, s.task_id, 1, reasons))
            after_commit(metrics.verdicts.labels(SubmissionState.IN_REVIEW.value, "checks").inc)
            return
        accepted = state is SubmissionState.ACCEPTED
        if verdict.gold_outcome and sampling.gold_review(s.submission_id):
            # Decided by gold already; the review measures the reviewer (domain/reviewer_quality.py).
            self.reviews.append((s.submission_id, project.project_id, s.task_id, 1, []))
        self.out.append(
            outgoing.verdict(s.submission_id, project.project_id, s.task_id, None if accepted else reasons, now)
        )
        after_commit(metrics.verdicts.labels(state.value, "gold" if verdict.gold_outcome else "checks").inc)
        (self.accepted_tasks if accepted else self.rejected_tasks).append(s.task_id)


def _gold_check(project: QaProject, a: _Assessed, task: tasks_repo.TaskRow | None) -> verdicts.GoldCheck:
    reference = payloads.gold_reference(task.gold if task else None)
    outcome = None
    # An answer of another kind is rejected by the checks; only one of the project's kind is scored.
    if reference is not None and a.answer is not None and a.answer.kind is project.kind:
        outcome = gold.score(a.answer, reference, project)
    return verdicts.GoldCheck(has_reference=reference is not None, outcome=outcome)


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
) -> set[str]:
    """Sends work to review while an expert's first-shown choices look improbable; returns the
    experts for whom they are beyond doubt (to suspend in the project)."""
    if project.kind is not DataKind.PREFERENCE:
        return set()
    counted = [a for a in assessed if a.answer and a.answer.ranking and a.view and a.view.candidates]
    stats = await repo.count_positions(
        conn,
        project.project_id,
        [
            (a.sub.expert_id, a.answer.ranking[0] == first_shown(a.sub, a.view), len(a.view.candidates))
            for a in counted
            if a.answer and a.view
        ],
    )
    for a in counted:
        judgments, first_choices, candidates = stats[a.sub.expert_id]
        finding = checks.position_bias_finding(first_choices, judgments, candidates, limits)
        if finding:
            a.findings.append(finding)
    return {
        expert
        for expert, (judgments, first_choices, candidates) in stats.items()
        if checks.position_bias_beyond_doubt(first_choices, judgments, candidates, limits)
    }


async def _straight_lining(conn: asyncpg.Connection, project: QaProject, assessed: list[_Assessed]) -> set[str]:
    """Counts each rubric grade as flat or not; returns the experts whose flat grades are beyond
    doubt against the project's other graders (to suspend in the project)."""
    if project.kind is not DataKind.RUBRIC_GRADE:
        return set()
    entries = [
        (a.sub.expert_id, straight_lining.is_flat(a.answer.scores))
        for a in assessed
        if a.answer and len(a.answer.scores) >= 2
    ]
    experts, (graded, flat) = await repo.count_flat_grades(conn, project.project_id, entries)
    return {
        expert
        for expert, (own_graded, own_flat) in experts.items()
        if straight_lining.beyond_doubt(own_flat, own_graded, flat - own_flat, graded - own_graded)
    }


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
