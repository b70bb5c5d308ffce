"""Handlers of the events payout consumes; each runs inside its inbox transaction."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from cohort.events.v1 import projects_pb2, reviews_pb2, submissions_pb2, verdicts_pb2
from cohort_payout.app import earnings
from cohort_payout.domain.earnings import RateCard
from cohort_payout.events.topics import CONSUMED
from cohort_runtime import Event, EventRouter, Subscription


def card_from_activated(m: projects_pb2.ProjectActivated, fee_bps: int) -> RateCard:
    model = m.pay.WhichOneof("model")
    return RateCard(
        project_id=uuid.UUID(m.project_id),
        currency=m.currency_code,
        per_submission=m.pay.per_submission.rate_minor if model == "per_submission" else None,
        hourly_rate=m.pay.hourly.hourly_rate_minor if model == "hourly" else None,
        per_task_cap_secs=m.pay.hourly.per_task_cap_minutes * 60 if model == "hourly" else 0,
        review_rate=m.pay.review_rate_minor,
        budget_cap=m.budget_cap_minor,
        fee_bps=fee_bps,
        lab_id=uuid.UUID(m.lab_id) if m.lab_id else None,
    )


def fact_from(event: Event[Any]) -> earnings.Fact:
    m = event.message
    if isinstance(m, submissions_pb2.SubmissionCreated):
        return earnings.Fact(
            earnings.FactKind.CREATED,
            uuid.UUID(m.submission_id),
            uuid.UUID(m.project_id),
            m.expert_id,
            m.active_seconds,
            rework=m.task_revision > 1,
        )
    kind = earnings.FactKind.ACCEPTED if isinstance(m, verdicts_pb2.SubmissionAccepted) else earnings.FactKind.REJECTED
    return earnings.Fact(kind, uuid.UUID(m.submission_id), uuid.UUID(m.project_id))


def subscriptions(fee_bps: int) -> list[Subscription]:
    async def on_activated(conn: asyncpg.Connection, event: Event[projects_pb2.ProjectActivated]) -> None:
        await earnings.project_activated(conn, card_from_activated(event.message, fee_bps))

    async def on_facts(conn: asyncpg.Connection, batch: list[Event[Any]]) -> None:
        await earnings.facts_received(conn, [fact_from(e) for e in batch])

    async def on_submissions(conn: asyncpg.Connection, batch: list[Event[submissions_pb2.SubmissionCreated]]) -> None:
        # Screening answers earn nothing and get no verdict: they test the expert, not the project.
        await on_facts(conn, [e for e in batch if not e.message.is_screening])

    async def on_review(conn: asyncpg.Connection, event: Event[reviews_pb2.ReviewCompleted]) -> None:
        m = event.message
        await earnings.review_completed(conn, uuid.UUID(m.review_id), uuid.UUID(m.project_id), m.reviewer_id)

    router = EventRouter()
    router.on(projects_pb2.ProjectActivated, on_activated)
    router.on(reviews_pb2.ReviewCompleted, on_review)
    # Set-based: a fetch's consecutive submissions or verdicts are posted together.
    router.on_batch(submissions_pb2.SubmissionCreated, on_submissions)
    router.on_batch(verdicts_pb2.SubmissionAccepted, on_facts)
    router.on_batch(verdicts_pb2.SubmissionRejected, on_facts)
    return [Subscription(name="events", topics=CONSUMED, router=router, max_records=1000)]
