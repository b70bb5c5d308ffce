"""Handlers of the events QA consumes; each runs inside its inbox transaction."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort.events.v1 import experts_pb2, items_pb2, projects_pb2, submissions_pb2
from cohort.events.v1 import tasks_pb2 as task_events
from cohort_qa.app import catalog, disputes, pipeline, screening
from cohort_qa.domain.checks import CheckLimits
from cohort_qa.domain.work import NewSubmission
from cohort_qa.events.payloads import dispute_from_event, project_from_activated, reviewer_profile
from cohort_qa.events.topics import CONSUMED
from cohort_qa.metrics import QaMetrics
from cohort_runtime import Event, EventRouter, Subscription


def new_submission(m: submissions_pb2.SubmissionCreated, received: dt.datetime) -> NewSubmission:
    return NewSubmission(
        submission_id=uuid.UUID(m.submission_id),
        project_id=uuid.UUID(m.project_id),
        task_id=m.task_id,
        expert_id=m.expert_id,
        payload=m.payload.SerializeToString(),
        is_gold=m.is_gold,
        active_seconds=m.active_seconds,
        submit_time=m.submit_time.ToDatetime(tzinfo=dt.UTC) if m.HasField("submit_time") else received,
        is_screening=m.is_screening,
        shown_order=tuple(m.shown_order),
        revision=max(m.task_revision, 1),
    )


def subscriptions(metrics: QaMetrics, limits: CheckLimits) -> list[Subscription]:
    async def on_activated(conn: asyncpg.Connection, event: Event[projects_pb2.ProjectActivated]) -> None:
        await catalog.project_activated(conn, project_from_activated(event.message), metrics, limits)

    def on_state(state: str):  # type: ignore[no-untyped-def]
        async def handle(conn: asyncpg.Connection, event: Event) -> None:  # type: ignore[type-arg]
            await catalog.project_state(conn, uuid.UUID(event.message.project_id), state)

        return handle

    async def on_tasks(conn: asyncpg.Connection, event: Event[task_events.TasksAdded]) -> None:
        m = event.message
        await catalog.tasks_added(
            conn,
            uuid.UUID(m.project_id),
            [
                (t.task_id, t.input.SerializeToString(), t.is_gold, [c.candidate_id for c in t.input.candidates])
                for t in m.tasks
            ],
        )

    async def on_gold(conn: asyncpg.Connection, event: Event[task_events.GoldReferencesAdded]) -> None:
        m = event.message
        await catalog.gold_added(
            conn, uuid.UUID(m.project_id), [(r.task_id, r.reference.SerializeToString()) for r in m.references]
        )

    async def on_submissions(conn: asyncpg.Connection, batch: list[Event[submissions_pb2.SubmissionCreated]]) -> None:
        subs = [new_submission(e.message, e.time) for e in batch]
        # Screening answers decide an expert's qualification; they are not the project's work.
        await screening.answers_received(conn, [s for s in subs if s.is_screening])
        await pipeline.submissions_received(conn, [s for s in subs if not s.is_screening], metrics, limits)

    async def on_profile(conn: asyncpg.Connection, event: Event[experts_pb2.ExpertProfileChanged]) -> None:
        m = event.message
        changed = m.change_time.ToDatetime(tzinfo=dt.UTC) if m.HasField("change_time") else event.time
        await catalog.profile_changed(conn, reviewer_profile(m), changed)

    async def on_disputed(conn: asyncpg.Connection, event: Event[items_pb2.ItemDisputed]) -> None:
        await disputes.received(conn, dispute_from_event(event.message, event.time))

    router = EventRouter()
    router.on(projects_pb2.ProjectActivated, on_activated)
    router.on(projects_pb2.ProjectPaused, on_state("paused"))
    router.on(projects_pb2.ProjectResumed, on_state("active"))
    router.on(projects_pb2.ProjectCancelled, on_state("cancelled"))
    router.on(projects_pb2.ProjectCompleted, on_state("completed"))
    router.on(task_events.TasksAdded, on_tasks)
    router.on(task_events.GoldReferencesAdded, on_gold)
    router.on(experts_pb2.ExpertProfileChanged, on_profile)
    router.on(items_pb2.ItemDisputed, on_disputed)
    router.on_batch(submissions_pb2.SubmissionCreated, on_submissions)
    # Submissions are judged set-based: a bigger fetch is a bigger batch, fewer statements each.
    return [Subscription(name="events", topics=CONSUMED, router=router, max_records=1000)]
