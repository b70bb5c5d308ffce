"""A run's payouts in transit, rendered for a payment rail: a file the operator hands to the bank.

Rendering moves no money: the ledger moved it to in-transit when the run paid each expert, and
SettlePayout / FailPayout record what the bank reports. Rendering twice gives the same payments
(same end-to-end ids), so a file lost on the way can be rendered again."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from cohort_payout.app.payees import require
from cohort_payout.db import payees as payees_repo
from cohort_payout.db import runs as runs_repo
from cohort_payout.rails.base import Debtor, Payment, PaymentFile, Rail
from cohort_payout.sealing import Sealer
from cohort_runtime.domain_errors import NotFoundError


@dataclass(frozen=True)
class Rendered:
    file: PaymentFile
    payments: int
    total: int
    skipped: list[tuple[str, str]]


def end_to_end_id(run_id: uuid.UUID, expert_id: str) -> str:
    return "CO" + uuid.uuid5(run_id, expert_id).hex  # 34 characters; SEPA allows 35


async def render(
    pool: asyncpg.Pool,
    sealer: Sealer | None,
    run_id: uuid.UUID,
    rail: Rail,
    debtor: Debtor,
    execution_date: dt.date,
) -> Rendered:
    sealer = require(sealer)
    async with pool.acquire() as conn:
        run = await runs_repo.get(conn, run_id)
        if run is None:
            raise NotFoundError("payout run", str(run_id))
        in_transit = await runs_repo.in_transit(conn, run_id)
        payees = await payees_repo.get_many(conn, [expert for expert, _ in in_transit], sealer)
    payments: list[Payment] = []
    skipped: list[tuple[str, str]] = []
    for expert_id, amount in in_transit:
        found = payees.get(expert_id)
        if found is None:
            skipped.append((expert_id, "no_payee"))
            continue
        payee = found[0]
        if payee.currency != run.currency:
            skipped.append((expert_id, "currency_mismatch"))
            continue
        payments.append(
            Payment(
                end_to_end_id=end_to_end_id(run_id, expert_id),
                expert_id=expert_id,
                iban=payee.iban,
                bic=payee.bic,
                account_holder=payee.account_holder,
                amount_minor=amount,
                currency=run.currency,
                description=f"Cohort payout {run.cutoff.date().isoformat()} {expert_id}",
            )
        )
    message_id = f"COHORT-{run_id.hex[:24]}"
    file = rail.render(message_id, debtor, payments, execution_date)
    return Rendered(file, len(payments), sum(p.amount_minor for p in payments), skipped)
