"""The expert's work loop: acquire a slot, keep the lease alive, release it or submit."""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from dataclasses import dataclass

import asyncpg

from cohort_runtime import add_event
from cohort_tasking.db import experts as experts_repo
from cohort_tasking.db import projects as projects_repo
from cohort_tasking.db import work as repo
from cohort_tasking.domain.assignments import Assignment, AssignmentState
from cohort_tasking.domain.errors import InvalidInput, NotAllowed, NotFoundError, StateConflict
from cohort_tasking.domain.experts import Expert, ExpertStatus
from cohort_tasking.domain.leases import active_seconds_after_beat
from cohort_tasking.domain.routing import RoutingProject, ineligibility, routing_order
from cohort_tasking.domain.submissions import Payload, validate
from cohort_tasking.messaging import work_events
from cohort_tasking.messaging.topics import ASSIGNMENTS, SUBMISSIONS


@dataclass(frozen=True)
class Lease:
    assignment: Assignment
    project: RoutingProject
    input: bytes


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Projects whose queue was just found empty, and until when to skip them (monotonic seconds).
# Without it every acquire probes every drained project first; a slot that reopens is offered
# again within EMPTY_HINT_SECONDS.
EMPTY_HINT_SECONDS = 1.0
_empty_until: dict[uuid.UUID, float] = {}


async def eligible_projects(
    conn: asyncpg.Connection, expert_id: str, expert: Expert | None = None
) -> list[RoutingProject]:
    expert = expert or await experts_repo.get(conn, expert_id)
    if expert is None:
        raise NotAllowed(f"expert {expert_id} is not registered")
    cohorts, quality, suspended = await experts_repo.routing_context(conn, expert_id)
    candidates = [
        p for p in await projects_repo.active(conn) if ineligibility(expert, cohorts, quality, p, suspended) is None
    ]
    allowed = await repo.under_cap(
        conn, expert_id, [p.project_id for p in candidates], [p.per_expert_task_cap for p in candidates]
    )
    return routing_order([p for p in candidates if p.project_id in allowed])


async def acquire(
    pool: asyncpg.Pool, expert_id: str, only: uuid.UUID | None = None, rng: random.Random | None = None
) -> Lease | None:
    rng = rng or random.Random()  # noqa: S311 - gold mixing needs no cryptographic randomness
    now = _now()
    async with pool.acquire() as conn, conn.transaction():
        # Locking the expert serialises their own concurrent calls: a retried acquire gets the
        # lease the first one made instead of a second one.
        expert = await experts_repo.get(conn, expert_id, for_update=True)
        if expert is None:
            raise NotAllowed(f"expert {expert_id} is not registered")
        if expert.status is not ExpertStatus.ACTIVE:
            raise StateConflict(
                f"expert {expert_id} is {expert.status.value}", f"experts/{expert_id}", expert.status.value
            )
        current = await repo.live_assignment(conn, expert_id, now)
        if current is not None:
            return await _lease_view(conn, current)
        clock = time.monotonic()
        for project in await eligible_projects(conn, expert_id, expert):
            if only is not None and project.project_id != only:
                continue
            if only is None and _empty_until.get(project.project_id, 0.0) > clock:
                continue
            gold_first = rng.random() < project.gold_rate
            for gold in (gold_first, not gold_first):
                claimed = await repo.claim_slot(conn, project.project_id, expert_id, gold)
                if claimed is None:
                    continue
                slot_id, task_id, task_input = claimed
                assignment = Assignment(
                    assignment_id=uuid.uuid4(),
                    slot_id=slot_id,
                    expert_id=expert_id,
                    project_id=project.project_id,
                    task_id=task_id,
                    state=AssignmentState.ACTIVE,
                    acquire_time=now,
                    expire_time=now + project.lease,
                    last_beat=now,
                    active_seconds=0,
                )
                await repo.lease(conn, assignment)
                return Lease(assignment=assignment, project=project, input=task_input)
            # Nothing for this expert here. Drained for everyone? Then skip it for a moment.
            if not await repo.has_open_slot(conn, project.project_id):
                _empty_until[project.project_id] = clock + EMPTY_HINT_SECONDS
        return None


async def _lease_view(conn: asyncpg.Connection, a: Assignment) -> Lease:
    found = await projects_repo.get(conn, a.project_id)
    view = await repo.task_view(conn, a.project_id, a.task_id)
    if found is None or view is None:
        raise NotFoundError("task", a.task_id)
    return Lease(assignment=a, project=found[0], input=view[0])


async def _owned(conn: asyncpg.Connection, expert_id: str, assignment_id: uuid.UUID) -> Assignment:
    a = await repo.get_for_update(conn, assignment_id)
    if a is None:
        raise NotFoundError("assignment", str(assignment_id))
    if a.expert_id != expert_id:
        raise NotAllowed("this assignment belongs to another expert")
    return a


def _require_live(a: Assignment, now: dt.datetime) -> None:
    if not a.live(now):
        state = "expired" if a.state is AssignmentState.ACTIVE else a.state.value
        raise StateConflict(f"assignment {a.assignment_id} is {state}", f"assignments/{a.assignment_id}", state)


async def heartbeat(pool: asyncpg.Pool, expert_id: str, assignment_id: uuid.UUID) -> dt.datetime:
    now = _now()
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
    pool: asyncpg.Pool, expert_id: str, assignment_id: uuid.UUID, payload: Payload, payload_bytes: bytes
) -> uuid.UUID:
    now = _now()
    async with pool.acquire() as conn, conn.transaction():
        a = await _owned(conn, expert_id, assignment_id)
        _require_live(a, now)
        found = await projects_repo.get(conn, a.project_id)
        candidates = await projects_repo.candidate_ids(conn, a.project_id, a.task_id)
        view = await repo.task_view(conn, a.project_id, a.task_id)
        if found is None or candidates is None or view is None:
            raise NotFoundError("task", a.task_id)
        project = found[0]
        violations = validate(payload, project.data_kind, candidates, project.rubric)
        if violations:
            raise InvalidInput(violations)
        active = active_seconds_after_beat(
            a.active_seconds, a.last_beat, now, project.lease, project.per_task_cap_seconds
        )
        submission_id = uuid.uuid4()
        await repo.insert_submission(conn, submission_id, a, payload_bytes, now, active)
        await repo.end(conn, a, AssignmentState.SUBMITTED, reopen=False)
        await add_event(
            conn,
            topic=SUBMISSIONS,
            key=a.task_id,
            message=work_events.submission_created(
                submission_id, a, payload_bytes, now, active, view[1], project.data_kind
            ),
        )
        return submission_id


async def expire_due(pool: asyncpg.Pool, limit: int = 500) -> int:
    """Return expired leases' slots to the queue and publish AssignmentExpired for each."""
    async with pool.acquire() as conn, conn.transaction():
        due = await repo.expire_due(conn, _now(), limit)
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


async def list_eligible(pool: asyncpg.Pool, expert_id: str) -> list[RoutingProject]:
    async with pool.acquire() as conn:
        return await eligible_projects(conn, expert_id)
