"""Payout runs: payable balances become payments, one per expert per run, never twice.

run:     expert payable → expert in transit   (key payout:<run>:<expert>)
settled: expert in transit → expert paid      (key settle:<run>:<expert>)
failed:  expert in transit → expert payable   (key fail:<run>:<expert>)
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from cohort_payout.domain.ledger import Posting, currency_violations, expert_account, move
from cohort_runtime.domain_errors import InvalidInput, Violation


@dataclass(frozen=True)
class Run:
    """A payout run as stored: what it pays (currency, cutoff, minimum) and how far it got."""

    run_id: uuid.UUID
    request_id: uuid.UUID
    currency: str
    cutoff: dt.datetime
    min_amount: int
    state: str
    complete_time: dt.datetime | None
    payout_count: int = 0
    total: int = 0


@dataclass(frozen=True)
class RunRequest:
    request_id: uuid.UUID
    currency: str
    cutoff: dt.datetime | None
    min_amount: int

    def validate(self, now: dt.datetime, previous_completed: dt.datetime | None) -> dt.datetime:
        """The effective cut-off, or every violation at once."""
        v: list[Violation] = []
        v += currency_violations(self.currency)
        if self.min_amount < 1:
            v.append(Violation("min_amount_minor", "must be >= 1"))
        cutoff = self.cutoff or now
        if cutoff > now:
            v.append(Violation("cutoff_time", "must not be in the future"))
        if previous_completed is not None and cutoff < previous_completed:
            # Earlier would count balances the previous run already moved: it would pay twice.
            v.append(Violation("cutoff_time", "must not be before the previous run of this currency completed"))
        if v:
            raise InvalidInput(v)
        return cutoff


def payout(run_id: uuid.UUID, expert_id: str, currency: str, amount: int) -> Posting:
    return move(
        f"payout:{run_id}:{expert_id}",
        "payout_sent",
        currency,
        amount,
        debit=expert_account(expert_id, "payable"),
        credit=expert_account(expert_id, "in_transit"),
    )


def settled(run_id: uuid.UUID, expert_id: str, currency: str, amount: int) -> Posting:
    return move(
        f"settle:{run_id}:{expert_id}",
        "payout_settled",
        currency,
        amount,
        debit=expert_account(expert_id, "in_transit"),
        credit=expert_account(expert_id, "paid"),
    )


def failed(run_id: uuid.UUID, expert_id: str, currency: str, amount: int) -> Posting:
    return move(
        f"fail:{run_id}:{expert_id}",
        "payout_failed",
        currency,
        amount,
        debit=expert_account(expert_id, "in_transit"),
        credit=expert_account(expert_id, "payable"),
    )
