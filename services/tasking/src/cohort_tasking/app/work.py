"""The expert's work loop: acquire a slot, keep the lease alive, release it or submit."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass

import asyncpg

from cohort_runtime import add_event
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.domain_errors import Conflict, InvalidInput, NotAllowed, NotFoundError, StateConflict
from cohort_tasking.app import eligibility
from cohort_tasking.app.eligibility import EligibilityCache
from cohort_tasking.db import projects as projects_repo
from cohort_tasking.db import work as repo
from cohort_tasking.domain.assignments import Assignment, AssignmentState
from cohort_tasking.domain.display_order import display_order
from cohort_tasking.domain.leases import active_seconds_after_beat
from cohort_tasking.domain.routing import RoutingProject
from cohort_tasking.domain.submissions import Payload, validate
from cohort_tasking.events import work_events
from cohort_tasking.events.topics import ASSIGNMENTS, SUBMISSIONS

# What an expert is shown of a project: the api maps it without reaching into storage.
ExpertView = projects_repo.ExpertView


@dataclass(frozen=True)
class Lease:
    assignment: Assignment
    project: RoutingProject
    input: bytes


async def acquire(
    pool: asyncpg.Pool,
    expert_id: str,
    cache: EligibilityCache,
    only: uuid.UUID | None = None,
    rng: random.Random | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Lease | None:
    """The expert's live lease if they hold one, else a new lease on the first slot they may take
    in routing order, else None. One statement does the locking, re-checks and leasing."""
    rng = rng or random.Random()  # noqa: S311 - gold mixing needs no cryptographic randomness
    now = clock.now()
    async with pool.acquire() as conn:
        projects = [p for p in await cache.projects(conn, expert_id) if only is None or p.project_id == only]
        gold_first = [rng.random() < p.gold_rate for p in projects]
        got = await repo.acquire_slot(conn, expert_id, projects, gold_first, uuid.uuid4(), now)
        if got.outcome == "unregistered":
            cache.forget(expert_id)
            raise NotAllowed(f"expert {expert_id} is not registered")
        if got.outcome == "inactive":
            raise StateConflict(f"expert {expert_id} is {got.status}", f"experts/{expert_id}", str(got.status))
        if got.assignment is None or got.input is None:
            return None
        if got.outcome == "leased":
            project = next(p for p in projects if p.project_id == got.assignment.project_id)
        else:  # their live lease, perhaps on a project no longer in the list
            found = await projects_repo.get(conn, got.assignment.project_id)
            if found is None:
                raise NotFoundError("project", str(got.assignment.project_id))
            project = found[0]
        return Lease(assignment=got.assignment, project=project, input=got.input)


async def _owned(conn: asyncpg.Connection, expert_id: str, assignment_id: uuid.UUID) -> Assignment:
    a = await repo.get_for_update(conn, assignment_id)
    if a is None:
        raise NotFoundError("assignment", str(assignment_id))
    if a.expert_id != expert_id:
        raise NotFoundError("assignment", str(assignment_id))  # as for a missing one: no oracle
    return a


def _require_live(a: Assignment, now: dt.datetime) -> None:
    if not a.live(now):
        state = "expired" if a.state is AssignmentState.ACTIVE else a.state.value
        raise StateConflict(f"assignment {a.assignment_id} is {state}", f"assignments/{a.assignment_id}", state)


async def heartbeat(
    pool: asyncpg.Pool, expert_id: str, assignment_id: uuid.UUID, clock: Clock = SYSTEM_CLOCK
) -> dt.datetime:
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        a = await _owned(conn, expert_id, assignment_id)
        _require_live(a, now)
        found = await projects_repo.get(conn, a.project_id)
        if found is None:
            raise NotFoundError("project", str(a.project_id))
        project = found[0]
        active = active_seconds_after_beat(
            a.active_seconds, a.last_beat, now, project.lease, project.per_task_cap_seconds
        )
        expire = now + project.lease
        await repo.beat(conn, assignment_id, expire, now, active)
        return expire


async def release(pool: asyncpg.Pool, expert_id: str, assignment_id: uuid.UUID) -> None:
    async with pool.acquire() as conn, conn.transaction():
        a = await _owned(conn, expert_id, assignment_id)
        if a.state is not AssignmentState.ACTIVE:
            raise StateConflict(
                f"assignment {a.assignment_id} is {a.state.value}",
                f"assignments/{a.assignment_id}",
                a.state.value,
            )
        await repo.end(conn, a, AssignmentState.RELEASED, reopen=True)


async def submit(
    pool: asyncpg.Pool,
    expert_id: str,
    assignment_id: uuid.UUID,
    payload: Payload,
    payload_bytes: bytes,
    request_id: uuid.UUID | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> uuid.UUID:
    """Store the submission and its SubmissionCreated atomically, on a live lease of the caller
    only. The lease is read and the payload validated first; the one writing statement then
    applies only if the lease is unchanged (a heartbeat, expiry or release in between makes it
    read again). With `request_id`, a retry of a stored submission (same assignment, same
    deterministic payload bytes) returns the stored id; any other reuse of the key is a Conflict."""
    async with pool.acquire() as conn:
        for _attempt in range(3):
            if request_id is not None:
                prior = await repo.submission_by_request(conn, expert_id, request_id)
                if prior is not None:
                    if (prior.assignment_id, prior.payload) != (assignment_id, payload_bytes):
                        raise Conflict(f"request_id {request_id} was used for another submission")
                    return prior.submission_id
            now = clock.now()
            ctx = await repo.submission_context(conn, assignment_id)
            if ctx is None:
                raise NotFoundError("assignment", str(assignment_id))
            a = ctx.assignment
            if a.expert_id != expert_id:
                raise NotFoundError("assignment", str(assignment_id))  # as for a missing one: no oracle
            _require_live(a, now)
            project = await projects_repo.version(conn, a.project_id, ctx.project_version)
            if project is None:
                raise NotFoundError("project", str(a.project_id))
            violations = validate(payload, project.data_kind, ctx.candidate_ids, project.rubric)
            if violations:
                raise InvalidInput(violations)
            active = active_seconds_after_beat(
                a.active_seconds, a.last_beat, now, project.lease, project.per_task_cap_seconds
            )
            submission_id = uuid.uuid4()
            created = work_events.submission_created(
                submission_id, a, payload_bytes, now, active, ctx.is_gold, project.data_kind, ctx.is_screening,
                shown_order=display_order(str(a.assignment_id), list(ctx.candidate_ids)), task_revision=ctx.revision,
            )  # fmt: skip
            event = (SUBMISSIONS, a.task_id, created)
            try:
                stored = await repo.record_submission(
                    conn, submission_id, a, payload_bytes, now, active, ctx.is_screening, event, request_id
                )
            except asyncpg.UniqueViolationError:
                continue  # a concurrent call with the same request_id won: the next round finds it
            if stored:
                return submission_id
        raise StateConflict(
            f"assignment {assignment_id} kept changing while submitting; try again",
            f"assignments/{assignment_id}",
            "busy",
        )


async def expire_due(pool: asyncpg.Pool, limit: int = 500, clock: Clock = SYSTEM_CLOCK) -> int:
    """Return expired leases' slots to the queue and publish AssignmentExpired for each."""
    async with pool.acquire() as conn, conn.transaction():
        due = await repo.expire_due(conn, clock.now(), limit)
        for a in due:
            await repo.end(conn, a, AssignmentState.EXPIRED, reopen=True)
            await add_event(conn, topic=ASSIGNMENTS, key=a.task_id, message=work_events.assignment_expired(a))
        return len(due)


async def my_assignments(
    pool: asyncpg.Pool, expert_id: str, after: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> tuple[list[Assignment], bool]:
    async with pool.acquire() as conn:
        rows = await repo.page_for_expert(conn, expert_id, after, limit + 1)
    return rows[:limit], len(rows) > limit


async def list_eligible(pool: asyncpg.Pool, expert_id: str) -> list[tuple[RoutingProject, ExpertView]]:
    """The projects the expert may work on now, in routing order, each with what they are shown
    of it (pay, screening standing, typical time)."""
    async with pool.acquire() as conn:
        projects = await eligibility.eligible_projects(conn, expert_id)
        views = await projects_repo.expert_views(conn, expert_id, [p.project_id for p in projects])
    return [(p, views[p.project_id]) for p in projects if p.project_id in views]
