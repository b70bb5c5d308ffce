"""Handlers of the events payout consumes; each runs inside its inbox transaction."""

from __future__ import annotations

import uuid

import asyncpg

from cohort.events.v1 import projects_pb2, submissions_pb2, verdicts_pb2
from cohort_payout.app import earnings
from cohort_payout.domain.earnings import RateCard
from cohort_payout.messaging.topics import CONSUMED
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
    )


def subscriptions(fee_bps: int) -> list[Subscription]:
    async def on_activated(conn: asyncpg.Connection, event: Event[projects_pb2.ProjectActivated]) -> None:
        await earnings.project_activated(conn, card_from_activated(event.message, fee_bps))

    async def on_created(conn: asyncpg.Connection, event: Event[submissions_pb2.SubmissionCreated]) -> None:
        m = event.message
        await earnings.submission_created(
            conn, uuid.UUID(m.submission_id), uuid.UUID(m.project_id), m.expert_id, m.active_seconds
        )

    async def on_accepted(conn: asyncpg.Connection, event: Event[verdicts_pb2.SubmissionAccepted]) -> None:
        m = event.message
        await earnings.submission_decided(conn, uuid.UUID(m.submission_id), uuid.UUID(m.project_id), True)

    async def on_rejected(conn: asyncpg.Connection, event: Event[verdicts_pb2.SubmissionRejected]) -> None:
        m = event.message
        await earnings.submission_decided(conn, uuid.UUID(m.submission_id), uuid.UUID(m.project_id), False)

    router = EventRouter()
    router.on(projects_pb2.ProjectActivated, on_activated)
    router.on(submissions_pb2.SubmissionCreated, on_created)
    router.on(verdicts_pb2.SubmissionAccepted, on_accepted)
    router.on(verdicts_pb2.SubmissionRejected, on_rejected)
    return [Subscription(name="events", topics=CONSUMED, router=router)]
