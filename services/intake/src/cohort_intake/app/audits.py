"""A lab audits delivered work: a lot, an ISO 2859-1 sample of it, findings, the lot's decision;
each rejected item is disputed to QA (event ItemDisputed, in the finding's transaction)."""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid

import asyncpg

from cohort.events.v1 import items_pb2 as events
from cohort_intake.app import webhooks
from cohort_intake.db import audits as repo
from cohort_intake.db import projects as projects_repo
from cohort_intake.domain.audits import Audit, DisputeState, Finding, NewFinding, changes, decide
from cohort_intake.domain.items import FinalizedItem
from cohort_intake.domain.projects import Project
from cohort_intake.domain.sampling_plans import plan
from cohort_intake.domain.webhooks import EventType
from cohort_intake.events.topics import AUDITS_TOPIC
from cohort_runtime import add_events
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.domain_errors import NotFoundError, StateConflict
from cohort_runtime.fields import timestamp

log = logging.getLogger(__name__)

# The sample must be one the lab cannot predict or steer: drawn from the operating system's source.
_RANDOM = random.SystemRandom()


async def create_audit(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    request_id: uuid.UUID,
    project_id: uuid.UUID,
    aql_percent: float,
    clock: Clock = SYSTEM_CLOCK,
) -> Audit:
    aql = plan(1, aql_percent).aql_percent  # checked (and matched to the series) before anything is read
    async with pool.acquire() as conn, conn.transaction():
        # The project's row lock orders audits of one project: two cannot take the same items.
        if await projects_repo.get(conn, lab_id, project_id, for_update=True) is None:
            raise NotFoundError("project", project_id)
        earlier = await repo.by_request(conn, lab_id, request_id)
        if earlier is not None:
            found = await repo.get(conn, lab_id, earlier)
            if found is None or (found.project_id, found.plan.aql_percent) != (project_id, aql):
                raise StateConflict(
                    f"request {request_id} created another audit", f"audits/requests/{request_id}", "USED"
                )
            return found
        lot = await repo.take_lot(conn, project_id)
        if not lot:
            raise StateConflict(
                "nothing was delivered since the project's last audit", f"projects/{project_id}", "NOTHING_TO_AUDIT"
            )
        chosen = plan(len(lot), aql_percent)
        sample = sorted(_RANDOM.sample(lot, chosen.sample_size))
        audit = Audit(
            uuid.uuid4(),
            project_id,
            chosen,
            0,
            0,
            decide(chosen, 0, 0),
            clock.now(),
            None,
        )
        await repo.insert(conn, audit, lab_id, request_id, [item_id for item_id, _ in lot], sample)
        created = await repo.get(conn, lab_id, audit.audit_id)
    assert created is not None  # noqa: S101 - inserted above in this transaction
    return created


async def get_audit(pool: asyncpg.Pool, lab_id: uuid.UUID, audit_id: uuid.UUID) -> Audit:
    async with pool.acquire() as conn:
        found = await repo.get(conn, lab_id, audit_id)
    if found is None:  # another lab's audit is as unknown as a missing one
        raise NotFoundError("audit", audit_id)
    return found


async def list_audits(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    project_id: uuid.UUID,
    before: tuple[dt.datetime, uuid.UUID] | None,
    size: int,
) -> list[Audit]:
    """Up to size + 1 of the project's audits, newest first (the extra one says there are more)."""
    async with pool.acquire() as conn:
        if await projects_repo.get(conn, lab_id, project_id) is None:
            raise NotFoundError("project", project_id)
        return await repo.of_project(conn, lab_id, project_id, before, size)


async def record_findings(
    pool: asyncpg.Pool, lab_id: uuid.UUID, audit_id: uuid.UUID, findings: list[NewFinding], clock: Clock = SYSTEM_CLOCK
) -> Audit:
    async with pool.acquire() as conn, conn.transaction():
        audit = await repo.get(conn, lab_id, audit_id, for_update=True)
        if audit is None:
            raise NotFoundError("audit", audit_id)
        sample = {item.item_id: item for item in audit.items}
        new = changes(sample, findings)
        if not new:
            return audit
        now = clock.now()
        await repo.record(conn, audit_id, new, now)
        rejected_now = [f for f in new if f.finding is Finding.REJECTED]
        accepted = audit.accepted_count + len(new) - len(rejected_now)
        rejected = audit.rejected_count + len(rejected_now)
        decision = decide(audit.plan, accepted, rejected)
        await repo.set_outcome(conn, audit_id, accepted, rejected, decision, now)
        await add_events(
            conn,
            [
                (
                    AUDITS_TOPIC,
                    str(audit.project_id),
                    events.ItemDisputed(
                        project_id=str(audit.project_id),
                        task_id=sample[f.item_id].task_id,
                        item_id=str(f.item_id),
                        audit_id=str(audit_id),
                        reason=f.reason,
                        dispute_time=timestamp(now),
                    ),
                )
                for f in rejected_now
            ],
        )
        updated = await repo.get(conn, lab_id, audit_id)
    assert updated is not None  # noqa: S101 - locked above in this transaction
    return updated


async def dispute_decided(
    conn: asyncpg.Connection,
    audit_id: uuid.UUID,
    item_id: uuid.UUID,
    upheld: bool,
    comments: str,
    clock: Clock = SYSTEM_CLOCK,
    rework_revision: int = 0,
) -> None:
    """QA's answer to a disputed item, shown on the lab's audit and announced to its webhooks. A
    decision for a dispute intake does not hold pending is logged and dropped: QA decides each once."""
    state = DisputeState.UPHELD if upheld else DisputeState.DISMISSED
    owner = await repo.dispute_decided(conn, audit_id, item_id, state, comments, rework_revision)
    if owner is None:
        log.warning("QA decided a dispute intake does not hold pending: audit %s item %s", audit_id, item_id)
        return
    lab_id, project_id = owner
    data = {
        "project_id": str(project_id), "audit_id": str(audit_id), "item_id": str(item_id),
        "dispute": state.value, "qa_comments": comments, "rework_revision": rework_revision,
    }  # fmt: skip
    await webhooks.announce(conn, lab_id, EventType.AUDIT_DISPUTE_DECIDED, [data], clock.now())


async def rework_delivered(
    conn: asyncpg.Connection, project: Project, items: list[FinalizedItem], now: dt.datetime
) -> None:
    """Reworked items (each superseding an upheld one) are recorded on the audited item they
    replace and announced to the lab (audit.item_reworked)."""
    if not items:
        return
    reworked = await repo.rework_delivered(conn, [(i.supersedes, i.item_id) for i in items if i.supersedes])
    revisions = {i.item_id: i.revision for i in items}
    data = [
        {"project_id": str(project.project_id), "audit_id": str(audit_id), "item_id": str(old),
         "rework_item_id": str(new), "revision": revisions[new]}
        for audit_id, old, new in reworked
    ]  # fmt: skip
    if data:
        await webhooks.announce(conn, project.lab_id, EventType.AUDIT_ITEM_REWORKED, data, now)
