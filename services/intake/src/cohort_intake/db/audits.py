"""The audits, audit_lots and audit_samples tables."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_intake.domain.audits import Audit, Decision, DisputeState, Finding, NewFinding, SampledItem
from cohort_intake.domain.sampling_plans import SamplingPlan


def _audit(r: asyncpg.Record, items: tuple[SampledItem, ...] = ()) -> Audit:
    plan = SamplingPlan(
        r["lot_size"], r["aql_percent"], r["code_letter"], r["sample_size"],
        r["acceptance_number"], r["rejection_number"],
    )  # fmt: skip
    return Audit(
        r["audit_id"], r["project_id"], plan, r["accepted_count"], r["rejected_count"], Decision(r["decision"]),
        r["create_time"], r["decide_time"], items,
    )  # fmt: skip


def _item(r: asyncpg.Record) -> SampledItem:
    finding = Finding(r["finding"]) if r["finding"] else None
    dispute = DisputeState(r["dispute"]) if r["dispute"] else None
    return SampledItem(
        r["item_id"], r["task_id"], finding, r["reason"], r["finding_time"], dispute, r["qa_comments"],
        r["rework_revision"], r["rework_item_id"],
    )  # fmt: skip


async def by_request(conn: asyncpg.Connection, lab_id: uuid.UUID, request_id: uuid.UUID) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT audit_id FROM audits WHERE lab_id = $1 AND request_id = $2", lab_id, request_id
    )
    return found


async def take_lot(conn: asyncpg.Connection, project_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """The project's delivered items in no audited lot yet, as (item id, task id)."""
    rows = await conn.fetch(
        """SELECT i.item_id, i.task_id FROM items i
           WHERE i.project_id = $1 AND NOT EXISTS (SELECT 1 FROM audit_lots l WHERE l.item_id = i.item_id)
           ORDER BY i.seq""",
        project_id,
    )
    return [(r["item_id"], r["task_id"]) for r in rows]


async def insert(
    conn: asyncpg.Connection,
    audit: Audit,
    lab_id: uuid.UUID,
    request_id: uuid.UUID,
    lot: list[uuid.UUID],
    sample: list[tuple[uuid.UUID, str]],
) -> None:
    p = audit.plan
    await conn.execute(
        """INSERT INTO audits (audit_id, lab_id, request_id, project_id, aql_percent, lot_size, code_letter,
                               sample_size, acceptance_number, rejection_number, decision, create_time)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11)""",
        audit.audit_id, lab_id, request_id, audit.project_id, p.aql_percent, p.lot_size, p.code_letter,
        p.sample_size, p.acceptance_number, p.rejection_number, audit.create_time,
    )  # fmt: skip
    await conn.execute("INSERT INTO audit_lots (item_id, audit_id) SELECT unnest($1::uuid[]), $2", lot, audit.audit_id)
    await conn.execute(
        """INSERT INTO audit_samples (audit_id, item_id, task_id)
           SELECT $1, unnest($2::uuid[]), unnest($3::text[])""",
        audit.audit_id,
        [item_id for item_id, _ in sample],
        [task_id for _, task_id in sample],
    )


async def get(
    conn: asyncpg.Connection, lab_id: uuid.UUID, audit_id: uuid.UUID, *, for_update: bool = False
) -> Audit | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT * FROM audits WHERE audit_id = $1 AND lab_id = $2{lock}",  # noqa: S608 - a constant clause
        audit_id,
        lab_id,
    )
    if row is None:
        return None
    items = await conn.fetch("SELECT * FROM audit_samples WHERE audit_id = $1 ORDER BY item_id", audit_id)
    return _audit(row, tuple(_item(r) for r in items))


async def of_project(
    conn: asyncpg.Connection,
    lab_id: uuid.UUID,
    project_id: uuid.UUID,
    before: tuple[dt.datetime, uuid.UUID] | None,
    size: int,
) -> list[Audit]:
    """Up to size + 1 audits, newest first, after the (create_time, audit_id) `before`."""
    rows = await conn.fetch(
        """SELECT * FROM audits WHERE project_id = $1 AND lab_id = $2
             AND ($3::timestamptz IS NULL OR (create_time, audit_id) < ($3, $4::uuid))
           ORDER BY create_time DESC, audit_id DESC LIMIT $5""",
        project_id,
        lab_id,
        before and before[0],
        before and before[1],
        size + 1,
    )
    return [_audit(r) for r in rows]


async def record(conn: asyncpg.Connection, audit_id: uuid.UUID, findings: list[NewFinding], now: dt.datetime) -> None:
    await conn.execute(
        """UPDATE audit_samples s SET finding = f.finding, reason = f.reason, finding_time = $5,
                  dispute = CASE WHEN f.finding = 'rejected' THEN 'pending' END
           FROM unnest($2::uuid[], $3::text[], $4::text[]) AS f (item_id, finding, reason)
           WHERE s.audit_id = $1 AND s.item_id = f.item_id AND s.finding IS NULL""",
        audit_id,
        [f.item_id for f in findings],
        [f.finding.value for f in findings],
        [f.reason for f in findings],
        now,
    )


async def set_outcome(
    conn: asyncpg.Connection, audit_id: uuid.UUID, accepted: int, rejected: int, decision: Decision, now: dt.datetime
) -> None:
    await conn.execute(
        """UPDATE audits SET accepted_count = $2, rejected_count = $3, decision = $4,
                  decide_time = CASE WHEN $4 <> 'pending' THEN coalesce(decide_time, $5) END
           WHERE audit_id = $1""",
        audit_id,
        accepted,
        rejected,
        decision.value,
        now,
    )


async def dispute_decided(
    conn: asyncpg.Connection,
    audit_id: uuid.UUID,
    item_id: uuid.UUID,
    state: DisputeState,
    comments: str,
    rework_revision: int,
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """Record QA's decision on a pending dispute: the audit's (lab, project), None when there is no
    such pending dispute (unknown, or decided already)."""
    row = await conn.fetchrow(
        """UPDATE audit_samples s SET dispute = $3, qa_comments = $4, rework_revision = $5 FROM audits a
           WHERE s.audit_id = $1 AND s.item_id = $2 AND s.dispute = 'pending' AND a.audit_id = s.audit_id
           RETURNING a.lab_id, a.project_id""",
        audit_id,
        item_id,
        state.value,
        comments,
        rework_revision,
    )
    return (row["lab_id"], row["project_id"]) if row else None


async def rework_delivered(
    conn: asyncpg.Connection, replaced: list[tuple[uuid.UUID, uuid.UUID]]
) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    """(superseded item, rework item) pairs: record each rework on the upheld audited item it
    replaces; returns (audit, superseded, rework) for those recorded now."""
    rows = await conn.fetch(
        """UPDATE audit_samples s SET rework_item_id = r.new
           FROM unnest($1::uuid[], $2::uuid[]) AS r(old, new)
           WHERE s.item_id = r.old AND s.dispute = 'upheld' AND s.rework_item_id IS NULL
           RETURNING s.audit_id, s.item_id, s.rework_item_id""",
        [old for old, _ in replaced],
        [new for _, new in replaced],
    )
    return [(r["audit_id"], r["item_id"], r["rework_item_id"]) for r in rows]
