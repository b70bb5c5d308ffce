"""What every rail renders, and the interface they share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Payment:
    end_to_end_id: str
    """Deterministic per (run, expert): the bank's reference back to our payout, max 35 chars."""
    expert_id: str
    iban: str = field(repr=False)
    bic: str
    account_holder: str = field(repr=False)
    amount_minor: int
    currency: str
    description: str


@dataclass(frozen=True)
class Debtor:
    """The platform's own account the payments are made from."""

    name: str
    iban: str = field(repr=False)
    bic: str


@dataclass(frozen=True)
class PaymentFile:
    content: bytes
    content_type: str
    file_name: str


class RailError(Exception):
    """The rail cannot render these payments (e.g. the file would not validate)."""


class Rail(Protocol):
    name: str

    def render(
        self, message_id: str, debtor: Debtor, payments: list[Payment], execution_date: dt.date
    ) -> PaymentFile: ...
