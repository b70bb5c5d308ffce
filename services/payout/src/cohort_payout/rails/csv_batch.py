"""A CSV batch for rails without SEPA: one line per payment, amounts in minor units and decimal."""

from __future__ import annotations

import csv
import datetime as dt
import io

from cohort_payout.rails.base import Debtor, Payment, PaymentFile

COLUMNS = [
    "end_to_end_id",
    "expert_id",
    "account_holder",
    "iban",
    "bic",
    "currency",
    "amount_minor",
    "amount",
    "execution_date",
    "description",
    "debtor_name",
    "debtor_iban",
]


def _decimal(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _safe(text: str) -> str:
    # A cell starting with = + - @ would be a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


class CsvRail:
    name = "csv"

    def render(self, message_id: str, debtor: Debtor, payments: list[Payment], execution_date: dt.date) -> PaymentFile:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for p in payments:
            writer.writerow(
                [
                    p.end_to_end_id,
                    _safe(p.expert_id),
                    _safe(p.account_holder),
                    p.iban,
                    p.bic,
                    p.currency,
                    p.amount_minor,
                    _decimal(p.amount_minor),
                    execution_date.isoformat(),
                    _safe(p.description),
                    _safe(debtor.name),
                    debtor.iban,
                ]
            )
        return PaymentFile(out.getvalue().encode(), "text/csv", f"{message_id}.csv")
