"""QA staff adjudicate the items labs reject in their audits; each decision goes back to the lab
(DisputeDecided, in the decision's transaction). Upholding a dispute also reopens the item's task
for rework at its next revision (ReworkRequested to routing, in the same transaction): new experts
answer it, QA aggregates their answers alone, and the result is delivered as a new item that
supersedes the disputed one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from cohort.events.v1 import items_pb2
from cohort_qa.app import rework
from cohort_qa.db import disputes as repo
from cohort_qa.db import projects as projects_repo
from cohort_qa.db import tasks as tasks_repo
from cohort_qa.domain.disputes import Dispute, DisputeState, decision
from cohort_qa.events.outgoing import Outgoing
from cohort_qa.events.topics import DISPUTES
from cohort_runtime import add_events
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.domain_errors import NotFoundError
from cohort_runtime.fields import timestamp


@dataclass(frozen=True)
class DisputeView:
    """A dispute with what adjudicating it needs."""

    dispute: Dispute
    item_quality: tuple[float, float] | None  # (agreement, confidence) of QA's item
    expert_ids: list[str]
    task_input: bytes | None


async def received(conn: asyncpg.Connection, dispute: Dispute) -> None:
    await repo.insert(conn, dispute)


async def listed(
    pool: asyncpg.Pool,
    project_id: uuid.UUID | None,
    state: DisputeState,
    after: tuple[dt.datetime, uuid.UUID] | None,
    size: int,
) -> list[Dispute]:
    async with pool.acquire() as conn:
        return await repo.listed(conn, project_id, state, after, size)


async def view(pool: asyncpg.Pool, item_id: uuid.UUID) -> DisputeView:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        found = await repo.get(conn, item_id)
        if found is None:
            raise NotFoundError("dispute", item_id)
        return DisputeView(found, *await repo.item_context(conn, found))


async def decide(
    pool: asyncpg.Pool, item_id: uuid.UUID, uphold: bool, comments: str, by: str, clock: Clock = SYSTEM_CLOCK
) -> Dispute:
    async with pool.acquire() as conn, conn.transaction():
        current = await repo.get(conn, item_id, for_update=True)
        if current is None:
            raise NotFoundError("dispute", item_id)
        state = decision(current, uphold, comments)
        if state is None:
            return current  # the same decision again: nothing new
        now = clock.now()
        events: list[Outgoing] = []
        rework = 0
        if uphold:
            rework, events = await _reopen_for_rework(conn, current)
        await repo.decide(conn, item_id, state, comments, by, now, rework)
        event = items_pb2.DisputeDecided(
            project_id=str(current.project_id), item_id=str(item_id), audit_id=str(current.audit_id),
            upheld=uphold, comments=comments, decide_time=timestamp(now), rework_revision=rework,
        )  # fmt: skip
        await add_events(conn, [(DISPUTES, str(current.project_id), event), *events])
        return dataclasses.replace(
            current, state=state, comments=comments, decided_by=by, decide_time=now, rework_revision=rework
        )


async def _reopen_for_rework(conn: asyncpg.Connection, d: Dispute) -> tuple[int, list[Outgoing]]:
    """Reopen the task of an upheld item at its next revision: (that revision, the request to
    routing); (0, []) when the item was superseded already (a later revision exists: only the
    current one is reworked) or the project was cancelled (the lab stopped it: nothing routes)."""
    revision = await repo.item_revision(conn, d.item_id)
    project = await projects_repo.get(conn, d.project_id)
    if revision is None or project is None or await projects_repo.state(conn, d.project_id) == "cancelled":
        return 0, []
    await tasks_repo.lock_many(conn, d.project_id, [d.task_id])
    return await rework.reopen(conn, project, d.task_id, revision)
