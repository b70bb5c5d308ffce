"""Earnings: a submission's pending earning, then payable on acceptance or released on rejection.

pending:  debit project commitment, credit expert pending
accepted: reverse the commitment; debit project spend (earning + fee); credit expert payable
          (earning) and platform fees (fee)
rejected: reverse the commitment; nobody is charged, nobody is paid
review:   debit project spend (review rate + fee); credit reviewer payable and platform fees

Rework (an answer for a task reopened after a lab's upheld dispute) moves the same way, with the
platform's rework commitment and spend in place of the project's and no fee: the lab was charged
once for the item, and the experts who redo it are paid as for new work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cohort_payout.domain.ledger import (
    FEES,
    REWORK_COMMITTED,
    REWORK_SPEND,
    Entry,
    Posting,
    expert_account,
    fee,
    project_account,
)


@dataclass(frozen=True)
class RateCard:
    project_id: uuid.UUID
    currency: str
    per_submission: int | None
    hourly_rate: int | None
    per_task_cap_secs: int
    review_rate: int
    budget_cap: int
    fee_bps: int
    lab_id: uuid.UUID | None = None

    def earning(self, active_seconds: int) -> int:
        if self.per_submission is not None:
            return self.per_submission
        seconds = min(active_seconds, self.per_task_cap_secs) if self.per_task_cap_secs else active_seconds
        # Hourly pay rounds down to whole minor units of time actually worked.
        return (self.hourly_rate or 0) * max(seconds, 0) // 3600


def _committed(card: RateCard, rework: bool) -> str:
    return REWORK_COMMITTED if rework else project_account(card.project_id, "committed")


def pending(sub: uuid.UUID, card: RateCard, expert_id: str, amount: int, *, rework: bool = False) -> Posting:
    c = card.currency
    return Posting(
        f"pending:{sub}",
        "rework_pending" if rework else "earning_pending",
        (
            Entry(_committed(card, rework), c, amount),
            Entry(expert_account(expert_id, "pending"), c, -amount),
        ),
    )


def accepted(sub: uuid.UUID, card: RateCard, expert_id: str, amount: int, *, rework: bool = False) -> Posting:
    c = card.currency
    if rework:
        # The platform pays rework at the project's rate, without a fee (it would charge itself).
        return Posting(
            f"decided:{sub}",
            "rework_accepted",
            (
                Entry(expert_account(expert_id, "pending"), c, amount),
                Entry(REWORK_COMMITTED, c, -amount),
                Entry(REWORK_SPEND, c, amount),
                Entry(expert_account(expert_id, "payable"), c, -amount),
            ),
        )
    f = fee(amount, card.fee_bps)
    entries = [
        Entry(expert_account(expert_id, "pending"), c, amount),
        Entry(project_account(card.project_id, "committed"), c, -amount),
        Entry(project_account(card.project_id, "spend"), c, amount + f),
        Entry(expert_account(expert_id, "payable"), c, -amount),
    ]
    if f:
        entries.append(Entry(FEES, c, -f))
    return Posting(f"decided:{sub}", "earning_accepted", tuple(entries))


def rejected(sub: uuid.UUID, card: RateCard, expert_id: str, amount: int, *, rework: bool = False) -> Posting:
    c = card.currency
    return Posting(
        f"decided:{sub}",
        "rework_released" if rework else "earning_released",
        (
            Entry(expert_account(expert_id, "pending"), c, amount),
            Entry(_committed(card, rework), c, -amount),
        ),
    )


def review(review_id: uuid.UUID, card: RateCard, reviewer_id: str) -> Posting | None:
    """A completed review: the project pays the review rate (plus the fee) to the reviewer. Not
    subject to the budget check: the review is done work, and QA needed it to decide."""
    amount = card.review_rate
    if amount <= 0:
        return None
    c, f = card.currency, fee(amount, card.fee_bps)
    entries = [
        Entry(project_account(card.project_id, "spend"), c, amount + f),
        Entry(expert_account(reviewer_id, "payable"), c, -amount),
    ]
    if f:
        entries.append(Entry(FEES, c, -f))
    return Posting(f"review:{review_id}", "review_earning", tuple(entries))


def within_budget(card: RateCard, committed: int, spent: int, amount: int) -> bool:
    """Whether a new pending earning (with its fee) still fits the project's cap."""
    return committed + spent + amount + fee(amount, card.fee_bps) <= card.budget_cap
