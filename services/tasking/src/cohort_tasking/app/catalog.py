"""Keeping tasking's copy of projects and tasks current from intake's and QA's events.

Each runs inside the inbox transaction of its event. TasksAdded may arrive before the project's
ProjectActivated (different topics carry no mutual order; tasks are added to drafts), so tasks are
stored either way and get their slots once both are known.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort.events.v1 import projects_pb2 as events
from cohort_tasking.db import experts as experts_repo
from cohort_tasking.db import projects as repo
from cohort_tasking.db import work as work_repo
from cohort_tasking.domain.assignments import AssignmentState
from cohort_tasking.domain.experts import Qualification
from cohort_tasking.domain.overlap import slot_ceiling
from cohort_tasking.domain.tasks import NewTask


async def project_activated(conn: asyncpg.Connection, m: events.ProjectActivated) -> None:
    await repo.upsert_activated(conn, m)
    await repo.create_missing_slots(conn, uuid.UUID(m.project_id), m.overlap)


async def project_state(conn: asyncpg.Connection, project_id: uuid.UUID, state: str) -> None:
    await repo.set_state(conn, project_id, state)


async def tasks_added(conn: asyncpg.Connection, project_id: uuid.UUID, tasks: list[NewTask]) -> None:
    await repo.insert_tasks(conn, project_id, tasks)
    found = await repo.get(conn, project_id)
    if found is not None:
        await repo.create_missing_slots(conn, project_id, found[0].overlap)


async def items_finalized(conn: asyncpg.Connection, tasks: list[tuple[uuid.UUID, str, int]]) -> None:
    """The tasks are done at these revisions: no more of their slots are handed out, and a project
    reopened for rework is completed again once its last reworked task is."""
    await repo.finalize_tasks(conn, tasks)
    reworked = sorted({p for p, _, r in tasks if r > 1})
    if reworked:  # first revisions (nearly every item) cost no second statement
        await repo.finish_rework(conn, reworked)


async def rework_requested(
    conn: asyncpg.Connection, project_id: uuid.UUID, task_id: str, revision: int, judgments: int
) -> bool:
    """QA upheld a lab's dispute: the task is routed again, at its next revision, to `judgments`
    experts who never held it (the acquire routine skips every task an expert held)."""
    if revision < 2 or judgments <= 0:
        return False
    return await repo.reopen_for_rework(conn, project_id, task_id, revision, judgments)


async def extra_judgments(
    conn: asyncpg.Connection, project_id: uuid.UUID, task_id: str, additional: int, replaces_rejected: bool = False
) -> int:
    """Adaptive overlap: more slots for a task with low agreement, up to the project's maximum;
    or slots replacing answers QA rejected, which do not count toward it (domain/overlap.py)."""
    found = await repo.get(conn, project_id)
    if found is None or additional <= 0:
        return 0
    most = found[0].max_overlap
    return await repo.add_slots(conn, project_id, task_id, additional, most, slot_ceiling(most), replaces_rejected)


async def quality_updated(
    conn: asyncpg.Connection,
    expert_id: str,
    domain: str,
    mean: float,
    upper: float,
    suspended: bool,
    project_id: uuid.UUID | None,
    reasons: list[str],
    as_of: dt.datetime,
) -> None:
    """Record QA's estimate; a suspension also returns the expert's live leases in its scope."""
    if not await experts_repo.record_quality(conn, expert_id, domain, mean, upper, as_of):
        return  # an older update than the one stored
    scope = f"project:{project_id}" if project_id else f"domain:{domain}"
    await experts_repo.set_suspension(conn, expert_id, scope, suspended, reasons, as_of)
    if not suspended:
        return
    for live in await work_repo.active_for_update(conn, expert_id):
        if project_id:
            in_scope = live.project_id == project_id
        else:
            found = await repo.get(conn, live.project_id)
            in_scope = found is not None and found[0].domain == domain
        if in_scope:
            await work_repo.end(conn, live, AssignmentState.RELEASED, reopen=True)


async def qualification_decided(conn: asyncpg.Connection, q: Qualification) -> None:
    """QA scored the expert's screening test: a pass opens the project's real tasks to them."""
    await repo.record_qualification(conn, q)
