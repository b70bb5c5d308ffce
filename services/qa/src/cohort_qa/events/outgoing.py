"""The events QA publishes, built from domain values: (topic, key, message) for the outbox."""

from __future__ import annotations

import datetime as dt
import uuid

from google.protobuf.message import Message

from cohort.events.v1 import items_pb2, quality_pb2, reviews_pb2, verdicts_pb2
from cohort.types.v1 import submissions_pb2
from cohort_qa.domain.consensus import ChosenItem, Outcome, PreferenceItem, RubricItem
from cohort_qa.domain.projects import DataKind, QaProject
from cohort_qa.domain.quality import Estimate
from cohort_qa.domain.screening import ScreeningResult
from cohort_qa.events.topics import EXPERT_QUALITY, ITEMS, REQUESTS, REVIEWS, VERDICTS
from cohort_runtime.fields import timestamp

Outgoing = tuple[str, str | None, Message]


def verdict(
    submission_id: uuid.UUID, project_id: uuid.UUID, task_id: str, reasons: list[str] | None, when: dt.datetime
) -> Outgoing:
    """Accepted when `reasons` is None, else rejected with them. Keyed by task, like submissions."""
    message: Message
    if reasons is None:
        message = verdicts_pb2.SubmissionAccepted(
            submission_id=str(submission_id), project_id=str(project_id), task_id=task_id, decide_time=timestamp(when)
        )
    else:
        message = verdicts_pb2.SubmissionRejected(
            submission_id=str(submission_id),
            project_id=str(project_id),
            task_id=task_id,
            reasons=reasons,
            decide_time=timestamp(when),
        )
    return VERDICTS, task_id, message


def qualification_decided(result: ScreeningResult, when: dt.datetime) -> Outgoing:
    """Keyed by expert, like quality updates: routing reads both in order per expert."""
    return (
        EXPERT_QUALITY,
        result.expert_id,
        quality_pb2.QualificationDecided(
            expert_id=result.expert_id,
            project_id=str(result.project_id),
            passed=result.passed,
            correct=result.correct,
            answered=result.answered,
            decide_time=timestamp(when),
        ),
    )


def quality_updated(
    expert_id: str,
    domain: str,
    estimate: Estimate,
    *,
    suspended: bool,
    project_id: uuid.UUID | None,
    reasons: list[str],
    when: dt.datetime,
) -> Outgoing:
    return (
        EXPERT_QUALITY,
        expert_id,
        quality_pb2.ExpertQualityUpdated(
            expert_id=expert_id,
            domain=domain,
            mean=estimate.mean,
            lower=estimate.lower,
            upper=estimate.upper,
            evidence=estimate.evidence,
            suspended=suspended,
            project_id=str(project_id) if project_id else "",
            reasons=reasons,
            as_of=timestamp(when),
        ),
    )


def review_completed(
    review_id: uuid.UUID,
    submission_id: uuid.UUID,
    project_id: uuid.UUID,
    task_id: str,
    reviewer_id: str,
    deciding: bool,
    when: dt.datetime,
) -> Outgoing:
    return (
        REVIEWS,
        str(project_id),
        reviews_pb2.ReviewCompleted(
            review_id=str(review_id),
            submission_id=str(submission_id),
            project_id=str(project_id),
            task_id=task_id,
            reviewer_id=reviewer_id,
            deciding=deciding,
            complete_time=timestamp(when),
        ),
    )


def extra_judgments(project_id: uuid.UUID, task_id: str, additional: int, replaces_rejected: bool = False) -> Outgoing:
    return (
        REQUESTS,
        str(project_id),
        quality_pb2.ExtraJudgmentsRequested(
            project_id=str(project_id), task_id=task_id, additional=additional, replaces_rejected=replaces_rejected
        ),
    )


def item_id(project_id: uuid.UUID, task_id: str, revision: int = 1) -> uuid.UUID:
    """One item per task and revision, the same id however often QA finalizes it (redeliveries,
    retries); a rework's item has an id of its own."""
    return uuid.uuid5(project_id, task_id if revision <= 1 else f"{task_id}#revision-{revision}")


def rework_requested(project_id: uuid.UUID, task_id: str, revision: int, judgments: int, item: uuid.UUID) -> Outgoing:
    message = quality_pb2.ReworkRequested(
        project_id=str(project_id), task_id=task_id, revision=revision, judgments=judgments, item_id=str(item)
    )
    return (REQUESTS, str(project_id), message)


def item_finalized(
    project: QaProject,
    task_id: str,
    outcome: Outcome,
    *,
    expert_ids: list[str],
    reviewer_scores: list[float],
    chosen_payload: bytes | None,
    when: dt.datetime,
    revision: int = 1,
) -> Outgoing:
    supersedes = str(item_id(project.project_id, task_id, revision - 1)) if revision > 1 else ""
    item = items_pb2.ItemFinalized(
        project_id=str(project.project_id),
        task_id=task_id,
        item_id=str(item_id(project.project_id, task_id, revision)),
        revision=revision,
        supersedes_item_id=supersedes,
        quality=items_pb2.ItemQuality(
            agreement=outcome.agreement, confidence=outcome.confidence, reviewer_scores=reviewer_scores
        ),
        expert_ids=expert_ids,
        instructions_version=project.instructions_version,
        rubric_version=project.rubric_version,
        finalize_time=timestamp(when),
    )
    result = outcome.result
    if isinstance(result, PreferenceItem):
        item.preference.ranking.extend(result.ranking)
    elif isinstance(result, RubricItem):
        item.rubric_grade.overall = result.overall
        for name, value in result.scores.items():
            item.rubric_grade.scores[name] = value
    elif isinstance(result, ChosenItem) and chosen_payload is not None:
        payload = submissions_pb2.SubmissionPayload.FromString(chosen_payload)
        if project.kind is DataKind.SFT:
            item.sft.response, item.sft.reasoning = payload.sft.response, payload.sft.reasoning
        elif project.kind is DataKind.TRAJECTORY:
            item.trajectory.steps.extend(payload.trajectory.steps)
            item.trajectory.final_answer = payload.trajectory.final_answer
        elif project.kind is DataKind.ADVERSARIAL:
            a = payload.adversarial
            item.adversarial.prompt, item.adversarial.reference, item.adversarial.failure = (
                a.prompt,
                a.reference,
                a.failure,
            )
    return ITEMS, str(project.project_id), item
