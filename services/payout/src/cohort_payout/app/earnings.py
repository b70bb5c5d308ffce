"""Turning tasking's submissions and QA's verdicts into ledger postings, exactly once each.

SubmissionCreated and the verdict travel on different topics, so either may come first; so may
the project's rate card. Each fact is recorded on the submission's row (locked), and the postings
follow from what is known: pending once the submission and its rate card are known; accepted or
released once the verdict is known too. Every posting is keyed by the submission id, so replays
and redeliveries post nothing twice.

Facts arrive in batches (a fetch of the topic): per project, the batch's submission rows are
locked, advanced in memory in arrival order (the budget check sees the commitments made earlier
in the same batch), and written back with one posting statement set and one spend event.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections import defaultdict
from dataclasses import dataclass

import asyncpg

from cohort_payout.db import earnings as repo
from cohort_payout.db import ledger
from cohort_payout.domain import earnings
from cohort_payout.domain.earnings import RateCard
from cohort_payout.domain.ledger import Posting, project_account
from cohort_payout.events.spend_events import spend_updated
from cohort_payout.events.topics import SPEND_TOPIC
from cohort_runtime import add_event
from cohort_runtime.clock import SYSTEM_CLOCK, Clock


class FactKind(enum.Enum):
    CREATED = "created"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Fact:
    """One thing learnt about a submission: it was created (by whom, how long worked) or decided."""

    kind: FactKind
    submission_id: uuid.UUID
    project_id: uuid.UUID
    expert_id: str | None = None
    active_seconds: int = 0
    rework: bool = False  # CREATED only: an answer for a task reopened after an upheld dispute


async def project_activated(conn: asyncpg.Connection, card: RateCard, clock: Clock = SYSTEM_CLOCK) -> None:
    await repo.upsert_card(conn, card)
    waiting = await repo.waiting_for_card(conn, card.project_id)
    if waiting:
        await _advance_project(conn, card.project_id, [], waiting, clock.now())
    await _post_waiting_reviews(conn, card.project_id, clock.now())


async def review_completed(
    conn: asyncpg.Connection,
    review_id: uuid.UUID,
    project_id: uuid.UUID,
    reviewer_id: str,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Pay the reviewer the project's review rate, once per review, as soon as the rate is known."""
    if await repo.record_review(conn, review_id, project_id, reviewer_id):
        await _post_waiting_reviews(conn, project_id, clock.now())


async def _post_waiting_reviews(conn: asyncpg.Connection, project_id: uuid.UUID, now: dt.datetime) -> None:
    card = await repo.card(conn, project_id)
    if card is None:
        return
    waiting = await repo.waiting_reviews(conn, project_id)
    if not waiting:
        return
    postings = [p for review_id, reviewer in waiting if (p := earnings.review(review_id, card, reviewer))]
    await ledger.post_many(conn, postings, now)
    await repo.reviews_posted(conn, [review_id for review_id, _ in waiting])
    if postings:
        await _publish_spend(conn, card, now)


async def submission_created(
    conn: asyncpg.Connection,
    submission_id: uuid.UUID,
    project_id: uuid.UUID,
    expert_id: str,
    active_seconds: int,
    rework: bool = False,
) -> None:
    await facts_received(conn, [Fact(FactKind.CREATED, submission_id, project_id, expert_id, active_seconds, rework)])


async def submission_decided(
    conn: asyncpg.Connection, submission_id: uuid.UUID, project_id: uuid.UUID, accepted: bool
) -> None:
    kind = FactKind.ACCEPTED if accepted else FactKind.REJECTED
    await facts_received(conn, [Fact(kind, submission_id, project_id)])


async def facts_received(conn: asyncpg.Connection, facts: list[Fact], clock: Clock = SYSTEM_CLOCK) -> None:
    by_project: dict[uuid.UUID, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_project[fact.project_id].append(fact)
    now = clock.now()
    for project_id in sorted(by_project):  # a fixed order of row locks across concurrent batches
        await _advance_project(conn, project_id, by_project[project_id], [], now)


async def _advance_project(
    conn: asyncpg.Connection, project_id: uuid.UUID, facts: list[Fact], also: list[uuid.UUID], now: dt.datetime
) -> None:
    rows = await repo.lock_submissions(conn, project_id, sorted({f.submission_id for f in facts} | set(also)))
    touched = {sid: rows[sid] for sid in also}
    for fact in facts:
        row = rows[fact.submission_id]
        if fact.kind is FactKind.CREATED:
            if row.created:
                continue  # tasking submits once; a second SubmissionCreated is a redelivery
            row.created, row.expert_id, row.active_secs = True, fact.expert_id, fact.active_seconds
            row.rework = fact.rework
        else:
            if row.verdict is not None:
                continue  # QA decides once; a second verdict is a redelivery
            row.verdict = fact.kind.value
        touched[row.submission_id] = row
    if not touched:
        return
    card = await repo.card(conn, project_id)
    postings: list[Posting] = []
    if card is not None:
        for row in touched.values():
            postings += _advance(row, card)
            if row.state in ("accepted", "rejected") and row.decided_at is None:
                row.decided_at = now
    await ledger.post_many(conn, postings, now)
    await repo.save_many(conn, list(touched.values()))
    if card is not None and any(row.created for row in touched.values()):
        await _publish_spend(conn, card, now)


def _advance(row: repo.SubmissionRow, card: RateCard) -> list[Posting]:
    """The postings that what is now known about the submission calls for; updates the row."""
    if not row.created or row.expert_id is None:
        return []
    postings: list[Posting] = []
    if row.state == "waiting":
        amount = card.earning(row.active_secs)
        row.amount = amount
        # Work handed in on a lease is paid (and charged) when QA accepts it, even past the budget
        # cap: the cap stops new leases (intake pauses the project when ProjectSpendUpdated says
        # it is reached), not work the expert was already doing in good faith. The overshoot is
        # bounded by the leases live at that moment (docs/ARCHITECTURE.md, "Budget cap").
        if row.verdict != "rejected":
            postings.append(earnings.pending(row.submission_id, card, row.expert_id, amount, rework=row.rework))
            row.state = "pending"
        else:
            row.state = "rejected"  # decided before it was known: nothing to commit or release
    if row.state == "pending" and row.verdict is not None and row.amount is not None:
        decide = earnings.accepted if row.verdict == "accepted" else earnings.rejected
        postings.append(decide(row.submission_id, card, row.expert_id, row.amount, rework=row.rework))
        row.state = row.verdict
    return postings


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
