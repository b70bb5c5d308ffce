"""Rate cards and what is known of each submission."""

from __future__ import annotations

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


async def upsert_card(conn: asyncpg.Connection, card: RateCard) -> None:
    await conn.execute(
        """INSERT INTO rate_cards (project_id, currency, per_submission, hourly_rate, per_task_cap_secs, review_rate,
                                   budget_cap, fee_bps)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (project_id) DO NOTHING""",
        card.project_id,
        card.currency,
        card.per_submission,
        card.hourly_rate,
        card.per_task_cap_secs,
        card.review_rate,
        card.budget_cap,
        card.fee_bps,
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
    )


async def lock_submission(conn: asyncpg.Connection, submission_id: uuid.UUID, project_id: uuid.UUID) -> SubmissionRow:
    """The submission's row, created empty if unknown, locked for this transaction."""
    await conn.execute(
        """INSERT INTO submissions (submission_id, project_id, state) VALUES ($1, $2, 'waiting')
           ON CONFLICT (submission_id) DO NOTHING""",
        submission_id,
        project_id,
    )
    r = await conn.fetchrow("SELECT * FROM submissions WHERE submission_id = $1 FOR UPDATE", submission_id)
    return SubmissionRow(
        r["submission_id"],
        r["project_id"],
        r["expert_id"],
        r["amount"],
        r["active_secs"],
        r["created"],
        r["verdict"],
        r["state"],
    )


async def save(conn: asyncpg.Connection, s: SubmissionRow) -> None:
    await conn.execute(
        """UPDATE submissions SET expert_id = $2, amount = $3, active_secs = $4, created = $5, verdict = $6,
                                  state = $7 WHERE submission_id = $1""",
        s.submission_id,
        s.expert_id,
        s.amount,
        s.active_secs,
        s.created,
        s.verdict,
        s.state,
    )


async def waiting_for_card(conn: asyncpg.Connection, project_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT submission_id FROM submissions WHERE project_id = $1 AND state = 'waiting' AND created", project_id
    )
    return [r["submission_id"] for r in rows]
