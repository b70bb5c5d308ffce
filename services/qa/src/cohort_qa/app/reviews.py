"""Reviewers acquire, submit and release reviews; a deciding review decides its submission."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from cohort_qa.app import progress
from cohort_qa.db import projects as projects_repo
from cohort_qa.db import quality as quality_repo
from cohort_qa.db import reviewer_profiles
from cohort_qa.db import reviewer_quality as reviewer_repo
from cohort_qa.db import reviews as repo
from cohort_qa.db import submissions as submissions_repo
from cohort_qa.db import tasks as tasks_repo
from cohort_qa.domain import quality, reviewer_quality, reviewer_routing, reviews
from cohort_qa.domain.errors import NotEligibleToReview, ProjectNotFound, ReviewNotFound, ReviewNotLeased
from cohort_qa.domain.projects import QaProject
from cohort_qa.domain.states import SubmissionState
from cohort_qa.events import outgoing
from cohort_qa.metrics import QaMetrics
from cohort_runtime import add_events
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.inbox import after_commit

LEASE = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class LeasedReview:
    review_id: uuid.UUID
    submission_id: uuid.UUID
    project: QaProject
    task_id: str
    task_input: bytes | None
    payload: bytes
    lease_until: dt.datetime
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Submitted:
    weighted_total: float
    decided_submission: bool


async def acquire(
    pool: asyncpg.Pool, reviewer_id: str, project_id: uuid.UUID | None, clock: Clock = SYSTEM_CLOCK
) -> LeasedReview | None:
    async with pool.acquire() as conn, conn.transaction():
        if project_id is not None:
            project = await projects_repo.get(conn, project_id)
            if project is None:
                raise ProjectNotFound(str(project_id))
            # Asked for one project: say why there is nothing, rather than an empty answer.
            why = reviewer_routing.ineligibility(
                await reviewer_profiles.get(conn, reviewer_id), project.review_requirements()
            )
            if why is not None:
                raise NotEligibleToReview(why)
            reviews.check_reviewer(
                (await quality_repo.estimates(conn, project.domain, [reviewer_id])).get(reviewer_id),
                await reviewer_repo.get(conn, project.domain, reviewer_id),
            )
        row = await repo.lease_next(
            conn,
            reviewer_id,
            project_id,
            clock.now() + LEASE,
            reviews.REVIEWER_MIN_MEAN,
            reviews.REVIEWER_MIN_EVIDENCE,
            reviewer_quality.REVIEWER_FLOOR,
            reviewer_quality.MIN_EVIDENCE,
        )
        if row is None:
            return None
        project = await projects_repo.get(conn, row["project_id"])
        submission = await submissions_repo.get(conn, row["submission_id"])
        task = (await tasks_repo.get_many(conn, [(row["project_id"], row["task_id"])])).get(
            (row["project_id"], row["task_id"])
        )
        assert project is not None and submission is not None  # noqa: S101 - rows reference each other
        return LeasedReview(
            review_id=row["review_id"],
            submission_id=row["submission_id"],
            project=project,
            task_id=row["task_id"],
            task_input=task.input if task else None,
            payload=submission["payload"],
            lease_until=row["lease_until"],
            reasons=tuple(row["reasons"]),
        )


async def submit(
    pool: asyncpg.Pool,
    reviewer_id: str,
    review_id: uuid.UUID,
    scores: Mapping[str, int],
    accept: bool,
    comments: str,
    metrics: QaMetrics,
    clock: Clock = SYSTEM_CLOCK,
) -> Submitted:
    verdict = "accept" if accept else "reject"
    async with pool.acquire() as conn, conn.transaction():
        row = await repo.lock(conn, review_id)
        if row is None or row["reviewer_id"] != reviewer_id:
            raise ReviewNotFound(str(review_id))  # someone else's review is not theirs to know about
        project = await projects_repo.get(conn, row["project_id"])
        if project is None:
            raise ProjectNotFound(str(row["project_id"]))
        total = reviews.weighted_total(project, scores)
        if row["state"] == "done":
            if row["verdict"] == verdict and json.loads(row["scores"]) == dict(scores):
                return Submitted(row["weighted_total"], False)  # a retried call: same answer, no new effect
            raise ReviewNotLeased("the review was already submitted with other scores")
        now = clock.now()
        if row["state"] != "leased" or row["lease_until"] < now:
            raise ReviewNotLeased("the review's lease has ended; acquire a review again")
        await repo.complete(conn, review_id, scores, total, verdict, comments)
        trust = await _judge_reviewers(conn, project, row, reviewer_id, accept, now)
        decided = await submissions_repo.decide_reviewed(conn, row["submission_id"], accept)
        # Every completed review is paid (payout credits the project's review rate once per review).
        completed = outgoing.review_completed(
            review_id, row["submission_id"], project.project_id, row["task_id"], reviewer_id, decided, now
        )
        if not decided:
            await add_events(conn, [completed])
            return Submitted(total, False)  # a calibration review, or the other review decided first
        submission = await submissions_repo.get(conn, row["submission_id"])
        assert submission is not None  # noqa: S101 - the review references it
        after_commit(
            metrics.verdicts.labels(
                (SubmissionState.ACCEPTED if accept else SubmissionState.REJECTED).value, "review"
            ).inc
        )
        out = [
            completed,
            outgoing.verdict(
                row["submission_id"],
                project.project_id,
                row["task_id"],
                None if accept else list(submission["reasons"]),
                now,
            ),
        ]
        # Weighed by how far the reviewer is trusted: a careless reviewer moves an expert less.
        evidence = {submission["expert_id"]: quality.review(reviews.normalized_total(project, total), accept, trust)}
        out += await progress.advance(conn, project, [row["task_id"]], now, metrics, learned=evidence)
        if not accept:
            out += await progress.replace_rejected(conn, project, [row["task_id"]])
        await add_events(conn, out)
        return Submitted(total, True)


async def _judge_reviewers(
    conn: asyncpg.Connection,
    project: QaProject,
    review: asyncpg.Record,
    reviewer_id: str,
    accept: bool,
    now: dt.datetime,
) -> float:
    """Record what this review says about reviewers (against gold, against the other review of a
    double review); returns the reviewer's estimated accuracy after it."""
    gold_outcome, others = await repo.verdict_context(conn, review["submission_id"], review["review_id"])
    # Only gold that decided (correct or incorrect) is a truth; "needs_review" gold is what asks.
    gold_correct = {"correct": True, "incorrect": False}.get(gold_outcome or "")
    evidence = reviewer_quality.evidence_of_review(reviewer_id, accept, gold_correct, others)
    if not evidence:
        current = await reviewer_repo.get(conn, project.domain, reviewer_id)
        return current.mean if current else reviewer_quality.PRIOR_MEAN
    accumulated = await reviewer_repo.add_evidence(conn, project.domain, evidence)
    names = sorted(accumulated)
    estimates = dict(zip(names, reviewer_quality.estimate_all([accumulated[n] for n in names]), strict=True))
    await reviewer_repo.store(conn, project.domain, estimates, now)
    return estimates[reviewer_id].mean  # every piece of evidence of a review is about its reviewer too


async def release(pool: asyncpg.Pool, reviewer_id: str, review_id: uuid.UUID) -> None:
    async with pool.acquire() as conn, conn.transaction():
        row = await repo.lock(conn, review_id)
        if row is None or row["reviewer_id"] != reviewer_id:
            raise ReviewNotFound(str(review_id))
        if row["state"] != "leased":
            raise ReviewNotLeased("only a leased review can be released")
        await repo.release(conn, review_id)
