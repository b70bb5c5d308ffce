"""Reopening a delivered item's task for rework at its next revision: new experts answer it, QA
aggregates their answers alone, and the result is delivered as a new item that supersedes the old
one (intake keeps both; the lab sees the link). Asked for by an upheld dispute (app/disputes.py)
and by an item that no longer stands once its experts are suspended (app/revisit.py)."""

from __future__ import annotations

import uuid

import asyncpg

from cohort_qa.db import tasks as tasks_repo
from cohort_qa.domain.projects import QaProject
from cohort_qa.events import outgoing
from cohort_qa.events.outgoing import Outgoing


async def reopen(
    conn: asyncpg.Connection, project: QaProject, task_id: str, revision: int
) -> tuple[int, list[Outgoing]]:
    """Reopen the task whose item answers `revision` at `revision` + 1: (that revision, the request
    to routing for the project's overlap of new judgments); (0, []) when the item was superseded
    already (only the current one is reworked). The caller holds the task's lock and has checked
    that the project may still be worked (a cancelled one is not)."""
    if not await tasks_repo.reopen(conn, project.project_id, task_id, revision + 1):
        return 0, []
    item: uuid.UUID = outgoing.item_id(project.project_id, task_id, revision)
    return revision + 1, [outgoing.rework_requested(project.project_id, task_id, revision + 1, project.overlap, item)]
