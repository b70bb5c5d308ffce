"""Leases taken through the workbench and the drafts typed into them, always scoped to the expert:
another expert's assignment reads exactly like a missing one."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(frozen=True)
class LeaseRow:
    assignment_id: uuid.UUID
    assignment: bytes
    display_order: tuple[str, ...]
    create_time: dt.datetime


async def save_lease(
    conn: asyncpg.Connection,
    assignment_id: uuid.UUID,
    expert_id: str,
    assignment: bytes,
    display_order: list[str],
    now: dt.datetime,
) -> None:
    await conn.execute(
        """INSERT INTO leases (assignment_id, expert_id, assignment, display_order, create_time)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (assignment_id) DO UPDATE SET assignment = EXCLUDED.assignment
           WHERE leases.expert_id = EXCLUDED.expert_id""",
        assignment_id,
        expert_id,
        assignment,
        display_order,
        now,
    )


async def replace_lease(
    conn: asyncpg.Connection,
    expert_id: str,
    handed_in: uuid.UUID,
    following: uuid.UUID | None,
    assignment: bytes,
    display_order: list[str],
    now: dt.datetime,
) -> None:
    """Forget the lease just handed in and remember the next one, in one statement (one round trip
    on the page every submit-and-next goes through)."""
    await conn.execute(
        """WITH gone AS (DELETE FROM leases WHERE assignment_id = $1 AND expert_id = $2)
           INSERT INTO leases (assignment_id, expert_id, assignment, display_order, create_time)
           SELECT $3, $2, $4, $5, $6 WHERE $3::uuid IS NOT NULL
           ON CONFLICT (assignment_id) DO NOTHING""",
        handed_in,
        expert_id,
        following,
        assignment,
        display_order,
        now,
    )


async def lease(
    conn: asyncpg.Connection, expert_id: str, assignment_id: uuid.UUID
) -> tuple[LeaseRow, dict[str, Any] | None] | None:
    """The expert's lease and its draft (None when nothing was saved yet), in one read."""
    r = await conn.fetchrow(
        """SELECT l.assignment_id, l.assignment, l.display_order, l.create_time, d.fields
           FROM leases l LEFT JOIN drafts d USING (assignment_id)
           WHERE l.assignment_id = $1 AND l.expert_id = $2""",
        assignment_id,
        expert_id,
    )
    if r is None:
        return None
    row = LeaseRow(r["assignment_id"], r["assignment"], tuple(r["display_order"]), r["create_time"])
    return row, json.loads(r["fields"]) if r["fields"] is not None else None


async def forget_lease(conn: asyncpg.Connection, expert_id: str, assignment_id: uuid.UUID) -> None:
    """The lease ended (handed in, released or expired): its draft goes with it."""
    await conn.execute("DELETE FROM leases WHERE assignment_id = $1 AND expert_id = $2", assignment_id, expert_id)


async def save_draft(
    conn: asyncpg.Connection, expert_id: str, assignment_id: uuid.UUID, fields: dict[str, Any], now: dt.datetime
) -> bool:
    """Store the draft; False when the expert holds no such lease here."""
    result = await conn.execute(
        """INSERT INTO drafts (assignment_id, expert_id, fields, update_time)
           SELECT assignment_id, expert_id, $3::jsonb, $4 FROM leases WHERE assignment_id = $1 AND expert_id = $2
           ON CONFLICT (assignment_id) DO UPDATE SET fields = EXCLUDED.fields, update_time = EXCLUDED.update_time""",
        assignment_id,
        expert_id,
        json.dumps(fields),
        now,
    )
    return str(result).endswith(" 1")


async def delete_old_leases(conn: asyncpg.Connection, before: dt.datetime) -> None:
    """Leases outlive their end in tasking only until this sweep (a day later): a draft typed
    into an expired lease is kept that long for the expert to copy."""
    await conn.execute("DELETE FROM leases WHERE create_time < $1", before)
    await conn.execute("DELETE FROM review_leases WHERE create_time < $1", before)


async def save_review(
    conn: asyncpg.Connection, review_id: uuid.UUID, expert_id: str, review: bytes, now: dt.datetime
) -> None:
    await conn.execute(
        """INSERT INTO review_leases (review_id, expert_id, review, create_time) VALUES ($1, $2, $3, $4)
           ON CONFLICT (review_id) DO UPDATE SET review = EXCLUDED.review, expert_id = EXCLUDED.expert_id,
               create_time = EXCLUDED.create_time""",
        review_id,
        expert_id,
        review,
        now,
    )


async def review(conn: asyncpg.Connection, expert_id: str, review_id: uuid.UUID) -> bytes | None:
    value = await conn.fetchval(
        "SELECT review FROM review_leases WHERE review_id = $1 AND expert_id = $2", review_id, expert_id
    )
    return bytes(value) if value is not None else None


async def forget_review(conn: asyncpg.Connection, expert_id: str, review_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM review_leases WHERE review_id = $1 AND expert_id = $2", review_id, expert_id)
