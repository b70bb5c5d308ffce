"""Turning tasking's submissions and QA's verdicts into ledger postings, exactly once each.

SubmissionCreated and the verdict travel on different topics, so either may come first; so may
the project's rate card. Each fact is recorded on the submission's row (locked), and the postings
follow from what is known: pending once the submission and its rate card are known; accepted or
released once the verdict is known too. Every posting is keyed by the submission id, so replays
and redeliveries post nothing twice.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_payout.db import earnings as repo
from cohort_payout.db import ledger
from cohort_payout.domain import earnings
from cohort_payout.domain.earnings import RateCard
from cohort_payout.domain.ledger import project_account
from cohort_payout.messaging.spend_events import spend_updated
from cohort_payout.messaging.topics import SPEND_TOPIC
from cohort_runtime import add_event


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def project_activated(conn: asyncpg.Connection, card: RateCard) -> None:
    await repo.upsert_card(conn, card)
    stored = await repo.card(conn, card.project_id)
    if stored is None:
        return
    for submission_id in await repo.waiting_for_card(conn, card.project_id):
        await _advance(conn, await repo.lock_submission(conn, submission_id, card.project_id), stored)


async def submission_created(
    conn: asyncpg.Connection, submission_id: uuid.UUID, project_id: uuid.UUID, expert_id: str, active_seconds: int
) -> None:
    row = await repo.lock_submission(conn, submission_id, project_id)
    if row.created:
        return
    row.created, row.expert_id, row.active_secs = True, expert_id, active_seconds
    await _advance(conn, row, await repo.card(conn, project_id))


async def submission_decided(
    conn: asyncpg.Connection, submission_id: uuid.UUID, project_id: uuid.UUID, accepted: bool
) -> None:
    row = await repo.lock_submission(conn, submission_id, project_id)
    if row.verdict is not None:
        return  # QA decides once; a second verdict is a redelivery
    row.verdict = "accepted" if accepted else "rejected"
    await _advance(conn, row, await repo.card(conn, project_id))


async def _advance(conn: asyncpg.Connection, row: repo.SubmissionRow, card: RateCard | None) -> None:
    now = _now()
    if row.created and card is not None and row.expert_id is not None:
        if row.state == "waiting":
            amount = card.earning(row.active_secs)
            row.amount = amount
            committed, spent = await _project_figures(conn, card)
            if row.verdict is None and not earnings.within_budget(card, committed, spent, amount):
                row.state = "refused"  # no new commitments beyond the cap; intake pauses the project
            elif row.verdict != "rejected":
                await ledger.post(conn, earnings.pending(row.submission_id, card, row.expert_id, amount), now)
                row.state = "pending"
            else:
                row.state = "rejected"  # decided before it was known: nothing to commit or release
        if row.state == "pending" and row.verdict is not None and row.amount is not None:
            decide = earnings.accepted if row.verdict == "accepted" else earnings.rejected
            await ledger.post(conn, decide(row.submission_id, card, row.expert_id, row.amount), now)
            row.state = row.verdict
        await repo.save(conn, row)
        await _publish_spend(conn, card, now)
    else:
        await repo.save(conn, row)


async def _project_figures(conn: asyncpg.Connection, card: RateCard) -> tuple[int, int]:
    figures = await ledger.balances(
        conn, [project_account(card.project_id, "committed"), project_account(card.project_id, "spend")], card.currency
    )
    return figures[0], figures[1]


async def _publish_spend(conn: asyncpg.Connection, card: RateCard, now: dt.datetime) -> None:
    committed, spent = await _project_figures(conn, card)
    # Only the latest figures matter: an update this transaction already queued is superseded
    # (nobody has seen it), so a batch of events yields one ProjectSpendUpdated per project.
    await conn.execute(
        """DELETE FROM outbox WHERE topic = $1 AND key = $2 AND published_at IS NULL
           AND txid = pg_current_xact_id()""",
        SPEND_TOPIC,
        str(card.project_id).encode(),
    )
    next_amount = card.per_submission or card.earning(card.per_task_cap_secs or 3600)
    cap_reached = not earnings.within_budget(card, committed, spent, next_amount)
    await add_event(
        conn,
        topic=SPEND_TOPIC,
        key=str(card.project_id),
        message=spend_updated(card, committed, spent, cap_reached, now),
    )
