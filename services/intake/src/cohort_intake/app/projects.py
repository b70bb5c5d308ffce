"""Project use cases: create (idempotent), read, list, update a draft, lifecycle transitions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import asyncpg
from google.protobuf.message import Message

from cohort_intake.db import progress as progress_repo
from cohort_intake.db import projects as repo
from cohort_intake.db import tasks as tasks_repo
from cohort_intake.domain.errors import NotReady
from cohort_intake.domain.projects import Project, ProjectState, Transition, new_project
from cohort_intake.domain.spec import ProjectSpec, fingerprint, validate
from cohort_intake.events import project_events
from cohort_intake.events.topics import PROJECTS_TOPIC
from cohort_runtime import add_event
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.domain_errors import Conflict, InvalidInput, NotFoundError, QuotaExceeded, Violation


async def create_project(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    request_id: uuid.UUID,
    spec: ProjectSpec,
    projects_per_hour: int,
    clock: Clock = SYSTEM_CLOCK,
) -> Project:
    """A new draft project; `projects_per_hour` is the lab's quota, counted in the database so
    every replica agrees."""
    spec = spec.normalised()
    now = clock.now()
    violations = validate(spec, now)
    if violations:
        raise InvalidInput(violations)
    async with pool.acquire() as conn, conn.transaction():
        # Concurrent retries of one request wait here, then find the first one's project.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"project-request:{lab_id}:{request_id}"
        )
        previous = await repo.find_by_request(conn, lab_id, request_id)
        if previous is not None:
            project, first_fingerprint = previous
            if first_fingerprint != fingerprint(spec):
                raise Conflict(f"request_id {request_id} was already used with a different spec")
            return project
        # One lab's creations are counted one at a time, so concurrent calls cannot overshoot.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"project-quota:{lab_id}")
        recent = await repo.created_since(conn, lab_id, now - dt.timedelta(hours=1))
        if len(recent) >= projects_per_hour:
            wait = (min(recent) + dt.timedelta(hours=1) - now).total_seconds()
            raise QuotaExceeded(
                f"labs/{lab_id}/projects-per-hour",
                f"this lab created {len(recent)} projects in the last hour, its limit; try again later",
                max(wait, 1.0),
            )
        project = new_project(lab_id, spec, now)
        await repo.insert(conn, project, request_id, fingerprint(spec))
        await progress_repo.create(conn, project.project_id, now)
        return project


async def get_project(pool: asyncpg.Pool, lab_id: uuid.UUID, project_id: uuid.UUID) -> Project:
    async with pool.acquire() as conn:
        project = await repo.get(conn, lab_id, project_id)
    if project is None:
        raise NotFoundError("project", str(project_id))
    return project


async def list_projects(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    state: ProjectState | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> tuple[list[Project], bool]:
    """One page, and whether more follow."""
    async with pool.acquire() as conn:
        rows = await repo.page(conn, lab_id, state, after, limit + 1)
    return rows[:limit], len(rows) > limit


async def update_project(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    project_id: uuid.UUID,
    change: Callable[[ProjectSpec], ProjectSpec],
    clock: Clock = SYSTEM_CLOCK,
) -> Project:
    """Apply `change` (the field-masked merge) to a draft's spec and validate the result."""
    async with pool.acquire() as conn, conn.transaction():
        project = await _locked(conn, lab_id, project_id)
        spec = change(project.spec).normalised()
        now = clock.now()
        violations = validate(spec, now)
        if violations:
            raise InvalidInput(violations)
        updated = project.with_spec(spec, now)
        await repo.update(conn, updated)
        return updated


async def transition(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    project_id: uuid.UUID,
    what: Transition,
    reason: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> Project:
    reason = reason.strip()
    if len(reason) > 500:
        raise InvalidInput([Violation("reason", "must be at most 500 characters")])
    async with pool.acquire() as conn, conn.transaction():
        project = await _locked(conn, lab_id, project_id)
        now = clock.now()
        changed = project.apply(what, now, reason)
        if what is Transition.ACTIVATE:
            # The deadline may have passed while the project sat in draft.
            violations = validate(changed.spec, now)
            if violations:
                raise InvalidInput(violations)
            wanted = changed.spec.qualifications.screening_tasks
            if wanted and (have := await tasks_repo.screening_count(conn, project_id)) < wanted:
                raise NotReady(
                    project_id,
                    "SCREENING_TASKS_MISSING",
                    f"the screening test needs {wanted} screening tasks and the project has {have}: "
                    "add screening tasks (with gold) first",
                )
        await repo.update(conn, changed)
        await _publish(conn, project_events.for_transition(changed, what, reason, now))
        await progress_repo.notify(conn, project_id)
        return changed


async def _locked(conn: asyncpg.Connection, lab_id: uuid.UUID, project_id: uuid.UUID) -> Project:
    project = await repo.get(conn, lab_id, project_id, for_update=True)
    if project is None:
        raise NotFoundError("project", str(project_id))
    return project


async def _publish(conn: asyncpg.Connection, event: tuple[str, Message]) -> None:
    key, message = event
    await add_event(conn, topic=PROJECTS_TOPIC, key=key, message=message)
