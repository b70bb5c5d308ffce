"""Rate cards and what is known of each submission."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from cohort_payout.domain.earnings import RateCard


@dataclass
class SubmissionRow:
    submission_id: uuid.UUID
    project_id: uuid.UUID
    expert_id: str | None
    amount: int | None
    active_secs: int
    created: bool
    verdict: str | None
    state: str
    decided_at: dt.datetime | None = None
    rework: bool = False  # paid by the platform, not charged to the project


async def upsert_card(conn: asyncpg.Connection, card: RateCard) -> None:
    await conn.execute(
        """INSERT INTO rate_cards (project_id, currency, per_submission, hourly_rate, per_task_cap_secs, review_rate,
                                   budget_cap, fee_bps, lab_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (project_id) DO NOTHING""",
        card.project_id,
        card.currency,
        card.per_submission,
        card.hourly_rate,
        card.per_task_cap_secs,
        card.review_rate,
        card.budget_cap,
        card.fee_bps,
        card.lab_id,
    )


async def card(conn: asyncpg.Connection, project_id: uuid.UUID) -> RateCard | None:
    r = await conn.fetchrow("SELECT * FROM rate_cards WHERE project_id = $1", project_id)
    if r is None:
        return None
    return RateCard(
        r["project_id"],
        r["currency"].strip(),
        r["per_submission"],
        r["hourly_rate"],
        r["per_task_cap_secs"],
        r["review_rate"],
        r["budget_cap"],
        r["fee_bps"],
        r["lab_id"],
    )


def _row(r: asyncpg.Record) -> SubmissionRow:
    return SubmissionRow(
        r["submission_id"],
        r["project_id"],
        r["expert_id"],
        r["amount"],
        r["active_secs"],
        r["created"],
        r["verdict"],
        r["state"],
        r["decided_at"],
        r["rework"],
    )


async def lock_submissions(
    conn: asyncpg.Connection, project_id: uuid.UUID, submission_ids: list[uuid.UUID]
) -> dict[uuid.UUID, SubmissionRow]:
    """The submissions' rows, created empty if unknown, locked for this transaction (in id order)."""
    await conn.execute(
        """INSERT INTO submissions (submission_id, project_id, state)
           SELECT s, $1, 'waiting' FROM unnest($2::uuid[]) AS s
           ON CONFLICT (submission_id) DO NOTHING""",
        project_id,
        submission_ids,
    )
    rows = await conn.fetch(
        "SELECT * FROM submissions WHERE submission_id = ANY($1::uuid[]) ORDER BY submission_id FOR UPDATE",
        submission_ids,
    )
    return {r["submission_id"]: _row(r) for r in rows}


async def save_many(conn: asyncpg.Connection, rows: list[SubmissionRow]) -> None:
    if not rows:
        return
    await conn.execute(
        """UPDATE submissions s SET expert_id = n.expert_id, amount = n.amount, active_secs = n.active_secs,
                  created = n.created, verdict = n.verdict, state = n.state, decided_at = n.decided_at,
                  rework = n.rework
           FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::int[], $5::bool[], $6::text[], $7::text[],
                       $8::timestamptz[], $9::bool[])
                AS n(submission_id, expert_id, amount, active_secs, created, verdict, state, decided_at, rework)
           WHERE s.submission_id = n.submission_id""",
        [r.submission_id for r in rows],
        [r.expert_id for r in rows],
        [r.amount for r in rows],
        [r.active_secs for r in rows],
        [r.created for r in rows],
        [r.verdict for r in rows],
        [r.state for r in rows],
        [r.decided_at for r in rows],
        [r.rework for r in rows],
    )


async def record_review(
    conn: asyncpg.Connection, review_id: uuid.UUID, project_id: uuid.UUID, reviewer_id: str
) -> bool:
    """True when the review is new (a redelivered event records nothing)."""
    inserted = await conn.fetchval(
        """INSERT INTO review_earnings (review_id, project_id, reviewer_id, state) VALUES ($1, $2, $3, 'waiting')
           ON CONFLICT (review_id) DO NOTHING RETURNING true""",
        review_id,
        project_id,
        reviewer_id,
    )
    return bool(inserted)


async def waiting_reviews(conn: asyncpg.Connection, project_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    rows = await conn.fetch(
        """SELECT review_id, reviewer_id FROM review_earnings WHERE project_id = $1 AND state = 'waiting'
           ORDER BY review_id FOR UPDATE""",
        project_id,
    )
    return [(r["review_id"], r["reviewer_id"]) for r in rows]


async def reviews_posted(conn: asyncpg.Connection, review_ids: list[uuid.UUID]) -> None:
    await conn.execute("UPDATE review_earnings SET state = 'posted' WHERE review_id = ANY($1::uuid[])", review_ids)


async def waiting_for_card(conn: asyncpg.Connection, project_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT submission_id FROM submissions WHERE project_id = $1 AND state = 'waiting' AND created", project_id
    )
    return [r["submission_id"] for r in rows]
