"""Keeping tasking's copy of projects and tasks current from intake's and QA's events.

Each runs inside the inbox transaction of its event. TasksAdded may arrive before the project's
ProjectActivated (different topics carry no mutual order; tasks are added to drafts), so tasks are
stored either way and get their slots once both are known.
"""

from __future__ import annotations

import uuid

import asyncpg

from cohort.events.v1 import projects_pb2 as events
from cohort_tasking.db import projects as repo


async def project_activated(conn: asyncpg.Connection, m: events.ProjectActivated) -> None:
    await repo.upsert_activated(conn, m)
    await repo.create_missing_slots(conn, uuid.UUID(m.project_id), m.overlap)


async def project_state(conn: asyncpg.Connection, project_id: uuid.UUID, state: str) -> None:
    await repo.set_state(conn, project_id, state)


async def tasks_added(conn: asyncpg.Connection, project_id: uuid.UUID, tasks: list[tuple[str, bytes, bool]]) -> None:
    await repo.insert_tasks(conn, project_id, tasks)
    found = await repo.get(conn, project_id)
    if found is not None:
        await repo.create_missing_slots(conn, project_id, found[0].overlap)


async def item_finalized(conn: asyncpg.Connection, project_id: uuid.UUID, task_id: str) -> None:
    """The task is done: no more of its slots are handed out."""
    await repo.finalize_task(conn, project_id, task_id)
