"""Adding tasks (idempotent per task id) and reading them back."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_intake.db import progress as progress_repo
from cohort_intake.db import projects as projects_repo
from cohort_intake.db import tasks as repo
from cohort_intake.domain.errors import IllegalTransition
from cohort_intake.domain.projects import TASKS_ACCEPTED_IN
from cohort_intake.domain.tasks import NewTask, Task, validate_batch
from cohort_intake.events import task_events
from cohort_intake.events.topics import GOLD_TOPIC, TASKS_TOPIC
from cohort_runtime import add_event
from cohort_runtime.domain_errors import Conflict, InvalidInput, NotFoundError


async def add_tasks(
    pool: asyncpg.Pool, lab_id: uuid.UUID, project_id: uuid.UUID, tasks: list[NewTask]
) -> tuple[int, int]:
    """(added, unchanged). All or nothing: one bad or conflicting task rejects the whole batch."""
    async with pool.acquire() as conn, conn.transaction():
        # The project lock serialises batches of one project: ids cannot race, seq follows commits.
        project = await projects_repo.get(conn, lab_id, project_id, for_update=True)
        if project is None:
            raise NotFoundError("project", str(project_id))
        if project.state not in TASKS_ACCEPTED_IN:
            raise IllegalTransition(project.project_id, project.state.value, "add tasks to")
        kind = project.spec.data_kind
        if kind is None:  # every stored spec was validated
            raise NotFoundError("project", str(project_id))
        violations = validate_batch(tasks, kind, project.spec.rubric)
        if violations:
            raise InvalidInput(violations)
        known = await repo.existing_hashes(conn, project_id, [t.task_id for t in tasks])
        conflicts = [t.task_id for t in tasks if t.task_id in known and known[t.task_id] != t.content_hash()]
        if conflicts:
            shown = ", ".join(conflicts[:10]) + (" …" if len(conflicts) > 10 else "")
            raise Conflict(f"{len(conflicts)} task id(s) already exist with other content: {shown}")
        new = [t for t in tasks if t.task_id not in known]
        if new:
            await repo.insert_many(conn, project_id, new, dt.datetime.now(dt.UTC))
            # Screening tasks test experts; they are not work the project delivers.
            await progress_repo.add(conn, project_id, {"tasks_total": sum(not t.screening for t in new)})
            for message in task_events.tasks_added(project_id, new):
                await add_event(conn, topic=TASKS_TOPIC, key=str(project_id), message=message)
            for gold in task_events.gold_references_added(project_id, new):
                await add_event(conn, topic=GOLD_TOPIC, key=str(project_id), message=gold)
        return len(new), len(tasks) - len(new)


async def get_task(pool: asyncpg.Pool, lab_id: uuid.UUID, project_id: uuid.UUID, task_id: str) -> Task:
    async with pool.acquire() as conn:
        if await projects_repo.get(conn, lab_id, project_id) is None:
            raise NotFoundError("project", str(project_id))
        task = await repo.get(conn, project_id, task_id)
    if task is None:
        raise NotFoundError("task", task_id)
    return task


async def list_tasks(
    pool: asyncpg.Pool, lab_id: uuid.UUID, project_id: uuid.UUID, after_seq: int | None, limit: int
) -> tuple[list[Task], bool]:
    async with pool.acquire() as conn:
        if await projects_repo.get(conn, lab_id, project_id) is None:
            raise NotFoundError("project", str(project_id))
        rows = await repo.page(conn, project_id, after_seq, limit + 1)
    return rows[:limit], len(rows) > limit
