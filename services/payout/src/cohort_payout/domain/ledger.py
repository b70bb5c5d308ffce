"""Double-entry postings in integer minor units: the rules every transaction obeys.

Sign convention: a debit is positive, a credit negative. Liabilities to experts (pending,
payable, in transit, paid) and platform revenue carry credit (negative) balances; a project's
spend and commitment accounts carry debit (positive) balances.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from cohort_runtime.domain_errors import Violation

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def currency_violations(currency: str) -> list[Violation]:
    """The currency rule of every request that names one: an ISO 4217 code's shape."""
    if _CURRENCY.match(currency):
        return []
    return [Violation("currency_code", "must be an ISO 4217 code, e.g. 'EUR'")]


class UnbalancedTransaction(ValueError):
    """The entries of a transaction do not sum to zero in some currency."""


@dataclass(frozen=True)
class Entry:
    account: str
    currency: str
    amount: int  # minor units; debit > 0, credit < 0


@dataclass(frozen=True)
class Posting:
    idempotency_key: str
    kind: str
    entries: tuple[Entry, ...]

    def __post_init__(self) -> None:
        totals: defaultdict[str, int] = defaultdict(int)
        for e in self.entries:
            if not isinstance(e.amount, int) or isinstance(e.amount, bool):
                raise UnbalancedTransaction(f"{e.account}: amounts are integer minor units")
            totals[e.currency] += e.amount
        unbalanced = {c: t for c, t in totals.items() if t != 0}
        if unbalanced:
            raise UnbalancedTransaction(f"{self.kind} {self.idempotency_key} does not balance: {unbalanced}")


def expert_account(expert_id: str, bucket: str) -> str:
    return f"expert:{expert_id}:{bucket}"


def project_account(project_id: object, bucket: str) -> str:
    return f"project:{project_id}:{bucket}"


FEES = "platform:fees"
# Rework after a lab's upheld dispute is the platform's cost, not the lab's (it paid for the item
# once): committed while the rework is pending, spent when QA accepts it.
REWORK_COMMITTED = "platform:rework_committed"
REWORK_SPEND = "platform:rework_spend"


def fee(amount: int, fee_bps: int) -> int:
    """The platform fee on an earning, rounded half up to a whole minor unit."""
    return (amount * fee_bps + 5_000) // 10_000


def move(key: str, kind: str, currency: str, amount: int, debit: str, credit: str) -> Posting:
    return Posting(key, kind, (Entry(debit, currency, amount), Entry(credit, currency, -amount)))
