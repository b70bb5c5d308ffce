"""Slots, assignments and submissions: the hot path of routing."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg
from google.protobuf.message import Message

from cohort.types.v1.tasks_pb2 import TaskInput
from cohort_runtime import NOTIFY_RELAY, OutboxInsert
from cohort_tasking.domain.assignments import Assignment, AssignmentState
from cohort_tasking.domain.routing import PRIOR_UPPER, RoutingProject


def _assignment(r: asyncpg.Record) -> Assignment:
    return Assignment(
        assignment_id=r["assignment_id"],
        slot_id=r["slot_id"],
        expert_id=r["expert_id"],
        project_id=r["project_id"],
        task_id=r["task_id"],
        state=AssignmentState(r["state"]),
        acquire_time=r["acquire_time"],
        expire_time=r["expire_time"],
        last_beat=r["last_beat"],
        active_seconds=r["active_seconds"],
    )


@dataclass(frozen=True)
class Acquired:
    """What acquire_slot() found: see migrations/0004_screening_and_acquire.sql for the outcomes."""

    outcome: str
    status: str | None
    assignment: Assignment | None
    input: bytes | None


async def acquire_slot(
    conn: asyncpg.Connection,
    expert_id: str,
    projects: list[RoutingProject],
    gold_first: list[bool],
    assignment_id: uuid.UUID,
    now: dt.datetime,
) -> Acquired:
    """Lease the first slot the expert may take in `projects` (in that order), or return their
    live lease: one statement, one round trip."""
    r = await conn.fetchrow(
        "SELECT * FROM acquire_slot($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        expert_id,
        [p.project_id for p in projects],
        gold_first,
        [p.per_expert_task_cap for p in projects],
        [p.lease for p in projects],
        [p.domain for p in projects],
        [p.screening_tasks for p in projects],
        [p.min_quality for p in projects],
        PRIOR_UPPER,
        assignment_id,
        now,
    )
    if r["assignment_id"] is None:
        return Acquired(r["outcome"], r["status"], None, None)
    assignment = Assignment(
        assignment_id=r["assignment_id"],
        slot_id=r["slot_id"],
        expert_id=expert_id,
        project_id=r["project_id"],
        task_id=r["task_id"],
        state=AssignmentState.ACTIVE,
        acquire_time=r["acquire_time"],
        expire_time=r["expire_time"],
        last_beat=r["last_beat"],
        active_seconds=r["active_seconds"],
    )
    return Acquired(r["outcome"], r["status"], assignment, bytes(r["input"]) if r["input"] is not None else None)


async def under_cap(
    conn: asyncpg.Connection, expert_id: str, project_ids: list[uuid.UUID], caps: list[int]
) -> set[uuid.UUID]:
    """Projects (of those given) where the expert's submissions plus live leases are below the cap."""
    rows = await conn.fetch(
        """SELECT p.id FROM unnest($2::uuid[], $3::int[]) AS p(id, cap)
           LEFT JOIN expert_project_counts c ON c.expert_id = $1 AND c.project_id = p.id
           WHERE p.cap = 0 OR coalesce(c.submissions, 0) +
                 (SELECT count(*) FROM assignments a
                  WHERE a.expert_id = $1 AND a.project_id = p.id AND a.state = 'active') < p.cap""",
        expert_id,
        project_ids,
        caps,
    )
    return {r["id"] for r in rows}


async def get_for_update(conn: asyncpg.Connection, assignment_id: uuid.UUID) -> Assignment | None:
    row = await conn.fetchrow("SELECT * FROM assignments WHERE assignment_id = $1 FOR UPDATE", assignment_id)
    return _assignment(row) if row else None


async def beat(
    conn: asyncpg.Connection, assignment_id: uuid.UUID, expire: dt.datetime, now: dt.datetime, active: int
) -> None:
    await conn.execute(
        "UPDATE assignments SET expire_time = $2, last_beat = $3, active_seconds = $4 WHERE assignment_id = $1",
        assignment_id,
        expire,
        now,
        active,
    )


async def end(conn: asyncpg.Connection, a: Assignment, state: AssignmentState, reopen: bool) -> None:
    await conn.execute("UPDATE assignments SET state = $2 WHERE assignment_id = $1", a.assignment_id, state.value)
    if reopen:
        # A slot of a finalized task stays closed. A screening slot belonged to this lease alone:
        # it stays closed too, and the expert may be served that screening task again later. So
        # does a gold slot, but the expert has seen that gold task: never again.
        await conn.execute(
            """WITH reopened AS (
                   UPDATE slots SET open = true WHERE slot_id = $1 AND NOT is_screening AND NOT is_gold
                     AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.project_id = slots.project_id
                                     AND t.task_id = slots.task_id AND t.finalized)
               )
               DELETE FROM expert_tasks e USING slots s
               WHERE s.slot_id = $1 AND s.is_screening
                 AND e.expert_id = $2 AND e.project_id = s.project_id AND e.task_id = s.task_id""",
            a.slot_id,
            a.expert_id,
        )


@dataclass(frozen=True)
class SubmissionContext:
    """An assignment with what a submit needs: the task's candidates and gold flag, and the
    version of its project (to take the parsed project from the cache)."""

    assignment: Assignment
    candidate_ids: tuple[str, ...]
    is_gold: bool
    is_screening: bool
    project_version: dt.datetime | None
    revision: int = 1  # of the task, as the lease's slot was made for


async def submission_context(conn: asyncpg.Connection, assignment_id: uuid.UUID) -> SubmissionContext | None:
    r = await conn.fetchrow(
        """SELECT a.*, t.input, t.is_gold, t.is_screening, p.update_time AS project_version, s.revision
           FROM assignments a
           JOIN tasks t ON t.project_id = a.project_id AND t.task_id = a.task_id
           LEFT JOIN slots s ON s.slot_id = a.slot_id
           LEFT JOIN projects p ON p.project_id = a.project_id
           WHERE a.assignment_id = $1""",
        assignment_id,
    )
    if r is None:
        return None
    candidates = tuple(c.candidate_id for c in TaskInput.FromString(r["input"]).candidates)
    return SubmissionContext(
        _assignment(r), candidates, r["is_gold"], r["is_screening"], r["project_version"], r["revision"] or 1
    )


async def record_submission(
    conn: asyncpg.Connection,
    submission_id: uuid.UUID,
    a: Assignment,
    payload: bytes,
    now: dt.datetime,
    active: int,
    screening: bool,
    event: tuple[str, str | None, Message],
    request_id: uuid.UUID | None = None,
) -> bool:
    """Close the lease as submitted, store and count the submission and put its event in the
    outbox, in one statement (one round trip, atomic without an explicit transaction), only if the
    lease is still the one `a` describes (live, same last beat); False, and nothing written, when
    it changed since."""
    outbox = OutboxInsert([event], first_param=10, when="EXISTS (SELECT 1 FROM done)")
    done: int = await conn.fetchval(
        # Composed of constants only; every value is a parameter.
        f"""WITH done AS (
               UPDATE assignments SET state = 'submitted', active_seconds = $6
               WHERE assignment_id = $2 AND expert_id = $3 AND state = 'active' AND expire_time > $5
                 AND last_beat = $7
               RETURNING assignment_id, expert_id, project_id, task_id
           ), stored AS (
               INSERT INTO submissions (submission_id, assignment_id, expert_id, project_id, task_id, payload,
                                        submit_time, active_seconds, request_id)
               SELECT $1, d.assignment_id, d.expert_id, d.project_id, d.task_id, $4, $5, $6, $9 FROM done d
           ), counted AS (
               INSERT INTO expert_project_counts (expert_id, project_id, submissions, screening_submissions)
               SELECT d.expert_id, d.project_id, CASE WHEN $8 THEN 0 ELSE 1 END, CASE WHEN $8 THEN 1 ELSE 0 END
               FROM done d
               ON CONFLICT (expert_id, project_id) DO UPDATE
               SET submissions = expert_project_counts.submissions + EXCLUDED.submissions,
                   screening_submissions = expert_project_counts.screening_submissions
                                           + EXCLUDED.screening_submissions
           ), published AS ({outbox.sql})
           SELECT (SELECT count(*) FROM done), {NOTIFY_RELAY}""",  # noqa: S608
        submission_id,
        a.assignment_id,
        a.expert_id,
        payload,
        now,
        active,
        a.last_beat,
        screening,
        request_id,
        *outbox.args,
    )
    return done == 1


@dataclass(frozen=True)
class StoredSubmission:
    submission_id: uuid.UUID
    assignment_id: uuid.UUID
    payload: bytes


async def submission_by_request(
    conn: asyncpg.Connection, expert_id: str, request_id: uuid.UUID
) -> StoredSubmission | None:
    r = await conn.fetchrow(
        "SELECT submission_id, assignment_id, payload FROM submissions WHERE expert_id = $1 AND request_id = $2",
        expert_id,
        request_id,
    )
    return StoredSubmission(r["submission_id"], r["assignment_id"], r["payload"]) if r else None


async def expire_due(conn: asyncpg.Connection, now: dt.datetime, limit: int) -> list[Assignment]:
    """Lock up to `limit` leases past their expiry (skipping ones a submit is holding)."""
    rows = await conn.fetch(
        """SELECT * FROM assignments WHERE state = 'active' AND expire_time <= $1
           ORDER BY expire_time LIMIT $2 FOR UPDATE SKIP LOCKED""",
        now,
        limit,
    )
    return [_assignment(r) for r in rows]


async def page_for_expert(
    conn: asyncpg.Connection, expert_id: str, after: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[Assignment]:
    rows = await conn.fetch(
        """SELECT * FROM assignments WHERE expert_id = $1
             AND ($2::timestamptz IS NULL OR (acquire_time, assignment_id) < ($2, $3))
           ORDER BY acquire_time DESC, assignment_id DESC LIMIT $4""",
        expert_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_assignment(r) for r in rows]


async def active_for_update(conn: asyncpg.Connection, expert_id: str) -> list[Assignment]:
    rows = await conn.fetch("SELECT * FROM assignments WHERE expert_id = $1 AND state = 'active' FOR UPDATE", expert_id)
    return [_assignment(r) for r in rows]
