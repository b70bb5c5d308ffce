"""Tasking's copy of projects (from ProjectActivated) and their tasks (from TasksAdded)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from cohort.events.v1 import projects_pb2 as events
from cohort_tasking.domain.experts import Qualification
from cohort_tasking.domain.routing import Criterion, RoutingProject
from cohort_tasking.domain.tasks import NewTask


def from_activated(m: events.ProjectActivated) -> RoutingProject:
    q = m.qualifications
    hourly = m.pay.hourly.per_task_cap_minutes * 60 if m.pay.WhichOneof("model") == "hourly" else 0
    return RoutingProject(
        project_id=uuid.UUID(m.project_id),
        lab_id=uuid.UUID(m.lab_id),
        data_kind=m.data_kind,
        domain=m.domain,
        min_degree=q.minimum_degree,
        fields=tuple(q.fields),
        languages=tuple(q.languages),
        cohort_ids=tuple(q.cohort_ids),
        min_quality=q.minimum_quality,
        overlap=m.overlap,
        max_overlap=m.max_overlap or m.overlap,
        gold_rate=m.gold_rate,
        priority=m.priority,
        deadline=m.deadline.ToDatetime(tzinfo=dt.UTC),
        lease=m.lease_duration.ToTimedelta(),
        per_expert_task_cap=m.per_expert_task_cap,
        per_task_cap_seconds=hourly,
        rubric=tuple(Criterion(c.name, c.scale_min, c.scale_max, c.description, c.weight) for c in m.rubric.criteria),
        instructions=m.instructions_markdown,
        screening_tasks=q.screening.tasks,
    )


async def upsert_activated(conn: asyncpg.Connection, m: events.ProjectActivated) -> bool:
    """Store the project; True the first time it is seen."""
    inserted = await conn.fetchval(
        """INSERT INTO projects (project_id, lab_id, state, activated, update_time)
           VALUES ($1, $2, 'active', $3, now())
           ON CONFLICT (project_id) DO UPDATE SET activated = EXCLUDED.activated, update_time = now()
           RETURNING (xmax = 0)""",
        uuid.UUID(m.project_id),
        uuid.UUID(m.lab_id),
        m.SerializeToString(),
    )
    return bool(inserted)


async def set_state(conn: asyncpg.Connection, project_id: uuid.UUID, state: str) -> None:
    """Intake's state for the project, except that a project completed with rework still to do
    stays routable ('active') until the rework is finalized (then `finish_rework` completes it).
    A project that ends (cancelled, or completed with no rework held) has its open slots closed:
    nobody will lease them, and left open they counted as queued work in the open-slots gauge
    for ever (a cancelled 150k-task benchmark project: 120k). A rework of a completed project
    opens slots of its own."""
    await conn.execute(
        """WITH r AS (
               SELECT $2 = 'completed' AND EXISTS (
                   SELECT 1 FROM tasks t WHERE t.project_id = $1 AND t.revision > 1 AND NOT t.finalized) AS held
           ), moved AS (
               UPDATE projects p SET state = CASE WHEN r.held THEN 'active' ELSE $2 END,
                                     reopened_for_rework = r.held, update_time = now()
               FROM r WHERE p.project_id = $1
               RETURNING p.state
           )
           UPDATE slots s SET open = false
           FROM moved WHERE s.project_id = $1 AND s.open AND moved.state IN ('cancelled', 'completed')""",
        project_id,
        state,
    )


# Parsed projects by (id, update_time): acquisition reads the active list on every call, and
# parsing every ProjectActivated each time was a fifth of its CPU. A changed row has a new
# update_time, so a stale entry is never used.
_parsed: dict[tuple[uuid.UUID, dt.datetime], RoutingProject] = {}


async def _parse_missing(conn: asyncpg.Connection, keys: list[tuple[uuid.UUID, dt.datetime]]) -> None:
    missing = [k[0] for k in keys if k not in _parsed]
    if not missing:
        return
    for r in await conn.fetch(
        "SELECT project_id, update_time, activated FROM projects WHERE project_id = ANY($1::uuid[])", missing
    ):
        _parsed[(r["project_id"], r["update_time"])] = from_activated(
            events.ProjectActivated.FromString(r["activated"])
        )


async def active(conn: asyncpg.Connection) -> list[RoutingProject]:
    rows = await conn.fetch("SELECT project_id, update_time FROM projects WHERE state = 'active'")
    keys = [(r["project_id"], r["update_time"]) for r in rows]
    await _parse_missing(conn, keys)
    if len(_parsed) > 4 * len(keys) + 100:  # forget superseded versions now and then
        live = set(keys)
        for k in [k for k in _parsed if k not in live]:
            del _parsed[k]
    return [_parsed[k] for k in keys if k in _parsed]


async def get(conn: asyncpg.Connection, project_id: uuid.UUID) -> tuple[RoutingProject, str] | None:
    """The project and its state; parsed once per version (heartbeats and submits call this)."""
    row = await conn.fetchrow("SELECT update_time, state FROM projects WHERE project_id = $1", project_id)
    if row is None:
        return None
    project = await version(conn, project_id, row["update_time"])
    return (project, row["state"]) if project is not None else None


async def version(
    conn: asyncpg.Connection, project_id: uuid.UUID, update_time: dt.datetime | None
) -> RoutingProject | None:
    """The project as of `update_time` (read with the caller's row), parsed once per version."""
    if update_time is None:
        return None
    key = (project_id, update_time)
    await _parse_missing(conn, [key])
    parsed = _parsed.get(key)
    if parsed is None:  # the row changed since the caller read it: parse what is there now
        activated = await conn.fetchval("SELECT activated FROM projects WHERE project_id = $1", project_id)
        return from_activated(events.ProjectActivated.FromString(activated)) if activated is not None else None
    return parsed


async def record_qualification(conn: asyncpg.Connection, q: Qualification) -> None:
    """QA's decision on an expert's screening test; a later decision replaces an earlier one."""
    await conn.execute(
        """INSERT INTO qualifications (expert_id, project_id, passed, correct, answered, decide_time)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (expert_id, project_id) DO UPDATE
           SET passed = EXCLUDED.passed, correct = EXCLUDED.correct, answered = EXCLUDED.answered,
               decide_time = EXCLUDED.decide_time
           WHERE qualifications.decide_time <= EXCLUDED.decide_time""",
        q.expert_id,
        q.project_id,
        q.passed,
        q.correct,
        q.answered,
        q.decide_time,
    )


async def insert_tasks(conn: asyncpg.Connection, project_id: uuid.UUID, tasks: list[NewTask]) -> None:
    await conn.execute(
        """INSERT INTO tasks (project_id, task_id, input, is_gold, is_screening)
           SELECT $1, t.task_id, t.input, t.is_gold, t.is_screening
           FROM unnest($2::text[], $3::bytea[], $4::bool[], $5::bool[]) AS t(task_id, input, is_gold, is_screening)
           ON CONFLICT DO NOTHING""",
        project_id,
        [t.task_id for t in tasks],
        [t.input for t in tasks],
        [t.is_gold for t in tasks],
        [t.is_screening for t in tasks],
    )


async def create_missing_slots(conn: asyncpg.Connection, project_id: uuid.UUID, overlap: int) -> int:
    """Give every task of the project that has none yet `overlap` slots (screening and gold tasks
    get theirs per lease; a task finalized before activation needs none)."""
    status: str = await conn.execute(
        """WITH newly AS (
               UPDATE tasks t SET slotted = true
               WHERE t.project_id = $1 AND NOT t.slotted AND NOT t.finalized AND NOT t.is_screening
               RETURNING t.project_id, t.task_id, t.is_gold
           )
           INSERT INTO slots (project_id, task_id, is_gold)
           SELECT n.project_id, n.task_id, false FROM newly n CROSS JOIN generate_series(1, $2)
           WHERE NOT n.is_gold""",
        project_id,
        overlap,
    )
    return int(status.rsplit(maxsplit=1)[-1])


async def finalize_tasks(conn: asyncpg.Connection, tasks: list[tuple[uuid.UUID, str, int]]) -> None:
    """Mark (project, task, revision) finalized and close the open slots of that revision and
    earlier, in one statement: an earlier revision's item arriving late leaves a rework open."""
    await conn.execute(
        """WITH done AS (
               UPDATE tasks t SET finalized = true
               FROM unnest($1::uuid[], $2::text[], $3::int[]) AS f(project_id, task_id, revision)
               WHERE t.project_id = f.project_id AND t.task_id = f.task_id AND t.revision <= f.revision
           )
           UPDATE slots s SET open = false
           FROM unnest($1::uuid[], $2::text[], $3::int[]) AS f(project_id, task_id, revision)
           WHERE s.project_id = f.project_id AND s.task_id = f.task_id AND s.open AND s.revision <= f.revision""",
        [p for p, _, _ in tasks],
        [t for _, t, _ in tasks],
        [r for _, _, r in tasks],
    )


async def finish_rework(conn: asyncpg.Connection, project_ids: list[uuid.UUID]) -> None:
    """Projects reopened for rework whose every reworked task is finalized again: completed."""
    await conn.execute(
        """UPDATE projects p SET state = 'completed', reopened_for_rework = false, update_time = now()
           WHERE p.project_id = ANY($1::uuid[]) AND p.reopened_for_rework AND p.state = 'active'
             AND NOT EXISTS (SELECT 1 FROM tasks t
                             WHERE t.project_id = p.project_id AND t.revision > 1 AND NOT t.finalized)""",
        project_ids,
    )


async def reopen_for_rework(
    conn: asyncpg.Connection, project_id: uuid.UUID, task_id: str, revision: int, judgments: int
) -> bool:
    """Reopen a task at `revision` with `judgments` open slots of that revision (beyond the
    project's maximum overlap: the earlier revisions' slots do not count), and route a completed
    project again until the rework is done. False when the task is unknown or already at that
    revision or a later one (a redelivered request)."""
    reopened = await conn.fetchval(
        """WITH task AS (
               UPDATE tasks SET revision = $3, finalized = false
               WHERE project_id = $1 AND task_id = $2 AND revision < $3 AND NOT is_screening
               RETURNING project_id, task_id
           ), closed AS (
               UPDATE slots s SET open = false FROM task
               WHERE s.project_id = task.project_id AND s.task_id = task.task_id AND s.open
           ), added AS (
               INSERT INTO slots (project_id, task_id, is_gold, started, revision)
               SELECT task.project_id, task.task_id, false, true, $3 FROM task CROSS JOIN generate_series(1, $4)
           ), project AS (
               UPDATE projects SET state = 'active', reopened_for_rework = true, update_time = now()
               WHERE project_id = $1 AND state = 'completed' AND EXISTS (SELECT 1 FROM task)
           )
           SELECT count(*) FROM task""",
        project_id,
        task_id,
        revision,
        judgments,
    )
    return bool(reopened)


async def add_slots(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    task_id: str,
    wanted: int,
    max_overlap: int,
    ceiling: int,
    replaces_rejected: bool,
) -> int:
    """Up to `wanted` more slots for a task's current revision: replacements of rejected answers
    up to `ceiling` slots in that revision, others also only while the slots that are not
    replacements number fewer than `max_overlap`. 0 once finalized, and 0 for gold in its first
    revision (served per lease, to every expert once; a reworked gold task is routed like any
    other)."""
    status: str = await conn.execute(
        """INSERT INTO slots (project_id, task_id, is_gold, started, revision, replaces_rejected)
           SELECT t.project_id, t.task_id, false, true, t.revision, $6 FROM tasks t
           CROSS JOIN LATERAL (
               SELECT count(*) AS total, count(*) FILTER (WHERE NOT s.replaces_rejected) AS counted
               FROM slots s WHERE s.project_id = t.project_id AND s.task_id = t.task_id
                 AND s.revision = t.revision) used
           CROSS JOIN generate_series(1, greatest(0, least(
               $3, $5 - used.total, CASE WHEN $6 THEN $3 ELSE $4 - used.counted END))::int)
           WHERE t.project_id = $1 AND t.task_id = $2 AND NOT t.finalized AND NOT t.is_screening
             AND (NOT t.is_gold OR t.revision > 1)""",
        project_id,
        task_id,
        wanted,
        max_overlap,
        ceiling,
        replaces_rejected,
    )
    return int(status.rsplit(maxsplit=1)[-1])


@dataclass(frozen=True)
class ExpertView:
    """What an expert is shown of a project beyond routing: its pay, where they stand with its
    screening test (None: no decision yet) and how long its recent work took."""

    activated: events.ProjectActivated
    screening_passed: bool | None
    typical_seconds: float | None


# How many recent submissions the typical time is the median of: enough to be stable, few enough
# that the read costs the same in a project's first week and its last.
TYPICAL_TIME_SAMPLE = 200


async def expert_views(
    conn: asyncpg.Connection, expert_id: str, project_ids: list[uuid.UUID]
) -> dict[uuid.UUID, ExpertView]:
    rows = await conn.fetch(
        """SELECT p.project_id, p.activated, q.passed,
                  (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY recent.active_seconds)
                   FROM (SELECT a.active_seconds FROM assignments a
                         WHERE a.project_id = p.project_id AND a.state = 'submitted'
                         ORDER BY a.acquire_time DESC LIMIT $3) recent) AS typical
           FROM projects p
           LEFT JOIN qualifications q ON q.project_id = p.project_id AND q.expert_id = $1
           WHERE p.project_id = ANY($2::uuid[])""",
        expert_id,
        project_ids,
        TYPICAL_TIME_SAMPLE,
    )
    return {
        r["project_id"]: ExpertView(
            activated=events.ProjectActivated.FromString(r["activated"]),
            screening_passed=r["passed"],
            typical_seconds=r["typical"],
        )
        for r in rows
    }
