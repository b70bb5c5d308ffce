"""Handlers of the events intake consumes; each runs inside its inbox transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from cohort.events.v1 import items_pb2, quality_pb2, spend_pb2, submissions_pb2, verdicts_pb2
from cohort_intake.app import audits, delivery
from cohort_intake.domain.items import (
    AdversarialResult,
    FinalizedItem,
    PreferenceResult,
    Quality,
    Result,
    RubricGradeResult,
    SftResult,
    TrajectoryResult,
    TrajectoryStep,
)
from cohort_intake.events.topics import CONSUMED
from cohort_intake.metrics import IntakeMetrics
from cohort_runtime import Event, EventRouter, Subscription
from cohort_runtime.inbox import after_commit
from cohort_runtime.pseudonyms import LabView


async def on_submissions_created(
    conn: asyncpg.Connection, batch: list[Event[submissions_pb2.SubmissionCreated]]
) -> None:
    # Screening answers test experts; they are not work on the project.
    await delivery.submissions_created(
        conn, [(uuid.UUID(e.message.project_id), e.message.task_id) for e in batch if not e.message.is_screening]
    )


async def on_verdicts(conn: asyncpg.Connection, batch: list[Event[Any]]) -> None:
    """SubmissionAccepted and SubmissionRejected alike."""
    await delivery.submissions_decided(
        conn,
        [(uuid.UUID(e.message.project_id), isinstance(e.message, verdicts_pb2.SubmissionAccepted)) for e in batch],
    )


def _on_items_finalized(
    metrics: IntakeMetrics, lab_view: LabView
) -> Callable[[asyncpg.Connection, list[Event[items_pb2.ItemFinalized]]], Awaitable[None]]:
    async def handle(conn: asyncpg.Connection, batch: list[Event[items_pb2.ItemFinalized]]) -> None:
        new = await delivery.items_finalized(conn, [item_from_proto(e.message, e.time) for e in batch], lab_view)
        # Once the transaction commits: a batch settled again one by one must not count twice.
        after_commit(lambda: metrics.items_delivered.inc(new))

    return handle


async def on_spend_updated(conn: asyncpg.Connection, event: Event[spend_pb2.ProjectSpendUpdated]) -> None:
    m = event.message
    as_of = m.as_of.ToDatetime(tzinfo=dt.UTC) if m.HasField("as_of") else event.time
    await delivery.spend_updated(conn, uuid.UUID(m.project_id), m.committed_minor, m.spent_minor, m.cap_reached, as_of)


def item_from_proto(m: items_pb2.ItemFinalized, fallback_time: dt.datetime) -> FinalizedItem:
    return FinalizedItem(
        item_id=uuid.UUID(m.item_id),
        project_id=uuid.UUID(m.project_id),
        task_id=m.task_id,
        result=_result(m),
        quality=Quality(m.quality.agreement, m.quality.confidence, tuple(m.quality.reviewer_scores)),
        expert_ids=tuple(m.expert_ids),
        instructions_version=m.instructions_version,
        rubric_version=m.rubric_version,
        finalize_time=m.finalize_time.ToDatetime(tzinfo=dt.UTC) if m.HasField("finalize_time") else fallback_time,
        revision=max(m.revision, 1),
        supersedes=uuid.UUID(m.supersedes_item_id) if m.supersedes_item_id else None,
    )


def _result(m: items_pb2.ItemFinalized) -> Result | None:
    which = m.WhichOneof("result")
    if which == "sft":
        return SftResult(m.sft.response, m.sft.reasoning)
    if which == "preference":
        return PreferenceResult(tuple(m.preference.ranking))
    if which == "trajectory":
        steps = tuple(TrajectoryStep(s.kind, s.content, s.tool_name, s.tool_arguments_json) for s in m.trajectory.steps)
        return TrajectoryResult(steps, m.trajectory.final_answer)
    if which == "rubric_grade":
        return RubricGradeResult(tuple(sorted(m.rubric_grade.scores.items())), m.rubric_grade.overall)
    if which == "adversarial":
        return AdversarialResult(m.adversarial.prompt, m.adversarial.reference, m.adversarial.failure)
    return None


def _on_qualification(
    lab_view: LabView,
) -> Callable[[asyncpg.Connection, Event[quality_pb2.QualificationDecided]], Awaitable[None]]:
    async def handle(conn: asyncpg.Connection, event: Event[quality_pb2.QualificationDecided]) -> None:
        m = event.message
        when = m.decide_time.ToDatetime(tzinfo=dt.UTC) if m.HasField("decide_time") else event.time
        await delivery.screening_finished(
            conn, uuid.UUID(m.project_id), m.expert_id, m.passed, m.correct, m.answered, lab_view, when
        )

    return handle


async def on_dispute_decided(conn: asyncpg.Connection, event: Event[items_pb2.DisputeDecided]) -> None:
    m = event.message
    await audits.dispute_decided(
        conn, uuid.UUID(m.audit_id), uuid.UUID(m.item_id), m.upheld, m.comments, rework_revision=m.rework_revision
    )


def subscriptions(metrics: IntakeMetrics, lab_view: LabView) -> list[Subscription]:
    router = EventRouter()
    # Set-based: a fetch's consecutive events of one type in one call.
    router.on_batch(submissions_pb2.SubmissionCreated, on_submissions_created)
    router.on_batch(verdicts_pb2.SubmissionAccepted, on_verdicts)
    router.on_batch(verdicts_pb2.SubmissionRejected, on_verdicts)
    router.on_batch(items_pb2.ItemFinalized, _on_items_finalized(metrics, lab_view))
    router.on(spend_pb2.ProjectSpendUpdated, on_spend_updated)
    router.on(quality_pb2.QualificationDecided, _on_qualification(lab_view))
    router.on(items_pb2.DisputeDecided, on_dispute_decided)
    return [Subscription(name="events", topics=CONSUMED, router=router, max_records=1000)]
