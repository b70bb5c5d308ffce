"""What other services tell intake (submissions, verdicts, items, spend) and what labs read of it.

Handlers run inside the inbox transaction of their event. Events about projects or tasks intake
does not know are ignored (logged): they cannot be about a lab's data.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import asyncpg

from cohort_intake.db import progress as repo
from cohort_intake.db import projects as projects_repo
from cohort_intake.db import tasks as tasks_repo
from cohort_intake.domain.errors import NotFoundError
from cohort_intake.domain.items import FinalizedItem, render
from cohort_intake.domain.progress import BUDGET_PAUSE_REASON, Counters
from cohort_intake.domain.projects import Project, ProjectState, Transition
from cohort_intake.messaging import project_events
from cohort_intake.messaging.topics import PROJECTS_TOPIC
from cohort_runtime import add_event

log = logging.getLogger(__name__)


async def submission_created(conn: asyncpg.Connection, project_id: uuid.UUID, task_id: str) -> None:
    if await projects_repo.get_internal(conn, project_id) is None:
        log.warning("submission for unknown project %s ignored", project_id)
        return
    await repo.add(conn, project_id, "submissions_received")
    if await repo.mark_task_submitted(conn, project_id, task_id):
        await repo.add(conn, project_id, "tasks_with_submission")


async def submission_decided(conn: asyncpg.Connection, project_id: uuid.UUID, accepted: bool) -> None:
    if await projects_repo.get_internal(conn, project_id) is None:
        log.warning("verdict for unknown project %s ignored", project_id)
        return
    await repo.add(conn, project_id, "submissions_accepted" if accepted else "submissions_rejected")


async def item_finalized(conn: asyncpg.Connection, item: FinalizedItem) -> bool:
    """Store the rendered item (True if it was new); complete the project at its target."""
    project = await projects_repo.get_internal(conn, item.project_id, for_update=True)
    if project is None:
        log.warning("item %s for unknown project %s ignored", item.item_id, item.project_id)
        return False
    task = await tasks_repo.get(conn, item.project_id, item.task_id)
    if task is None:
        log.warning("item %s for unknown task %s ignored", item.item_id, item.task_id)
        return False
    # An item whose result does not fit its task raises UnrenderableItem: retried, then dead-lettered.
    record = render(item, task.input)
    now = dt.datetime.now(dt.UTC)
    if not await repo.insert_item(conn, item.item_id, item.project_id, item.task_id, record, now):
        return False
    delivered = await repo.record_item(conn, item.project_id, item.quality.agreement, item.quality.confidence)
    if delivered >= project.spec.target_accepted_items and project.state in (
        ProjectState.ACTIVE,
        ProjectState.PAUSED,
    ):
        await _move(conn, project, Transition.COMPLETE, "", now)
    return True


async def spend_updated(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    committed: int,
    spent: int,
    cap_reached: bool,
    as_of: dt.datetime,
) -> None:
    project = await projects_repo.get_internal(conn, project_id, for_update=True)
    if project is None:
        log.warning("spend for unknown project %s ignored", project_id)
        return
    stored = await repo.record_spend(conn, project_id, committed, spent, as_of)
    if stored and cap_reached and project.state is ProjectState.ACTIVE:
        await _move(conn, project, Transition.PAUSE, BUDGET_PAUSE_REASON, dt.datetime.now(dt.UTC))


async def _move(conn: asyncpg.Connection, project: Project, what: Transition, reason: str, now: dt.datetime) -> None:
    changed = project.apply(what, now, reason)
    await projects_repo.update(conn, changed)
    key, message = project_events.for_transition(changed, what, reason, now)
    await add_event(conn, topic=PROJECTS_TOPIC, key=key, message=message)
    await repo.notify(conn, project.project_id)


async def progress(pool: asyncpg.Pool, lab_id: uuid.UUID, project_id: uuid.UUID) -> tuple[Project, Counters]:
    async with pool.acquire() as conn:
        project = await projects_repo.get(conn, lab_id, project_id)
        counters = await repo.get(conn, project_id) if project else None
    if project is None or counters is None:
        raise NotFoundError("project", str(project_id))
    return project, counters


async def export_page(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    project_id: uuid.UUID,
    after_seq: int | None,
    delivered_after: dt.datetime | None,
    delivered_before: dt.datetime | None,
    item_ids: list[uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        if await projects_repo.get(conn, lab_id, project_id) is None:
            raise NotFoundError("project", str(project_id))
        return await repo.items_page(conn, project_id, after_seq, delivered_after, delivered_before, item_ids, limit)
