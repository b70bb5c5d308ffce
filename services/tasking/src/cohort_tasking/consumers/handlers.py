"""Handlers of the events tasking consumes; each runs inside its inbox transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from cohort.events.v1 import items_pb2, labs_pb2, quality_pb2
from cohort.events.v1 import projects_pb2 as project_events
from cohort.events.v1 import tasks_pb2 as task_events
from cohort_runtime import Event, EventRouter
from cohort_tasking.app import catalog
from cohort_tasking.app.eligibility import EligibilityCache
from cohort_tasking.app.labs import record_lab
from cohort_tasking.domain.experts import Qualification
from cohort_tasking.domain.labs import KnownLab
from cohort_tasking.domain.tasks import NewTask

Handler = Callable[[asyncpg.Connection, Event], Awaitable[None]]  # type: ignore[type-arg]


async def on_lab_created(conn: asyncpg.Connection, event: Event[labs_pb2.LabCreated]) -> None:
    msg = event.message
    await record_lab(
        conn,
        KnownLab(
            lab_id=uuid.UUID(msg.lab_id),
            display_name=msg.display_name,
            create_time=msg.create_time.ToDatetime(tzinfo=event.time.tzinfo),
        ),
    )


async def on_project_activated(conn: asyncpg.Connection, event: Event[project_events.ProjectActivated]) -> None:
    await catalog.project_activated(conn, event.message)


def _state(state: str):  # type: ignore[no-untyped-def]
    async def handle(conn: asyncpg.Connection, event: Event) -> None:  # type: ignore[type-arg]
        await catalog.project_state(conn, uuid.UUID(event.message.project_id), state)

    return handle


async def on_tasks_added(conn: asyncpg.Connection, event: Event[task_events.TasksAdded]) -> None:
    m = event.message
    await catalog.tasks_added(
        conn,
        uuid.UUID(m.project_id),
        [NewTask(t.task_id, t.input.SerializeToString(), t.is_gold, t.is_screening) for t in m.tasks],
    )


async def on_items_finalized(conn: asyncpg.Connection, events: list[Event[items_pb2.ItemFinalized]]) -> None:
    # One per delivered item, as many as submissions: handled a fetch at a time.
    await catalog.items_finalized(
        conn, [(uuid.UUID(e.message.project_id), e.message.task_id, max(e.message.revision, 1)) for e in events]
    )


async def on_quality_updated(conn: asyncpg.Connection, event: Event[quality_pb2.ExpertQualityUpdated]) -> None:
    m = event.message
    await catalog.quality_updated(
        conn,
        m.expert_id,
        m.domain,
        m.mean,
        # An update without an upper bound (proto3 reads it as 0) gates on its mean: a bound is
        # never below the mean, so the larger of the two is the bound or, lacking one, the mean.
        max(m.upper, m.mean),
        m.suspended,
        uuid.UUID(m.project_id) if m.project_id else None,
        list(m.reasons),
        m.as_of.ToDatetime(tzinfo=dt.UTC) if m.HasField("as_of") else event.time,
    )


async def on_extra_judgments(conn: asyncpg.Connection, event: Event[quality_pb2.ExtraJudgmentsRequested]) -> None:
    m = event.message
    await catalog.extra_judgments(conn, uuid.UUID(m.project_id), m.task_id, m.additional, m.replaces_rejected)


async def on_rework_requested(conn: asyncpg.Connection, event: Event[quality_pb2.ReworkRequested]) -> None:
    m = event.message
    await catalog.rework_requested(conn, uuid.UUID(m.project_id), m.task_id, m.revision, m.judgments)


async def on_qualification_decided(conn: asyncpg.Connection, event: Event[quality_pb2.QualificationDecided]) -> None:
    m = event.message
    await catalog.qualification_decided(
        conn,
        Qualification(
            expert_id=m.expert_id,
            project_id=uuid.UUID(m.project_id),
            passed=m.passed,
            correct=m.correct,
            answered=m.answered,
            decide_time=m.decide_time.ToDatetime(tzinfo=dt.UTC) if m.HasField("decide_time") else event.time,
        ),
    )


def _then_clear(handler: Handler, eligibility: EligibilityCache) -> Handler:
    """A project change alters who may work on what: drop every cached eligibility list."""

    async def handle(conn: asyncpg.Connection, event: Event) -> None:  # type: ignore[type-arg]
        await handler(conn, event)
        eligibility.clear()

    return handle


def _then_forget(handler: Handler, eligibility: EligibilityCache) -> Handler:
    """A change about one expert (quality, suspension, screening): drop their cached list."""

    async def handle(conn: asyncpg.Connection, event: Event) -> None:  # type: ignore[type-arg]
        await handler(conn, event)
        eligibility.forget(event.message.expert_id)

    return handle


def router(eligibility: EligibilityCache) -> EventRouter:
    r = EventRouter()
    r.on(labs_pb2.LabCreated, on_lab_created)
    r.on(project_events.ProjectActivated, _then_clear(on_project_activated, eligibility))
    for message, state in (
        (project_events.ProjectPaused, "paused"),
        (project_events.ProjectResumed, "active"),
        (project_events.ProjectCancelled, "cancelled"),
        (project_events.ProjectCompleted, "completed"),
    ):
        r.on(message, _then_clear(_state(state), eligibility))
    r.on(task_events.TasksAdded, on_tasks_added)
    r.on_batch(items_pb2.ItemFinalized, on_items_finalized)
    r.on(quality_pb2.ExpertQualityUpdated, _then_forget(on_quality_updated, eligibility))
    r.on(quality_pb2.ExtraJudgmentsRequested, on_extra_judgments)
    # A completed project may become routable again.
    r.on(quality_pb2.ReworkRequested, _then_clear(on_rework_requested, eligibility))
    r.on(quality_pb2.QualificationDecided, _then_forget(on_qualification_decided, eligibility))
    return r
