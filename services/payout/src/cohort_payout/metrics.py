"""Payout's metrics: postings and payouts as they happen; balances and budgets refreshed from the
ledger every half minute (a scrape never queries the database)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from prometheus_client import CollectorRegistry, Gauge

log = logging.getLogger(__name__)


class PayoutMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.payouts = Gauge(
            "cohort_payout_payouts_by_state", "Payouts ever made, by where they stand (in_transit, settled, failed).",
            ["state"], registry=registry,
        )  # fmt: skip
        self.payable = Gauge(
            "cohort_payout_payable_minor", "What experts are owed and not yet paid out, by currency.", ["currency"],
            registry=registry,
        )  # fmt: skip
        self.in_transit = Gauge(
            "cohort_payout_in_transit_minor", "Paid out, not yet settled by the bank, by currency.", ["currency"],
            registry=registry,
        )  # fmt: skip
        self.budget_used = Gauge(
            "cohort_payout_project_budget_used_ratio",
            "Committed plus spent over the budget cap, per project with a cap.",
            ["project_id"],
            registry=registry,
        )

    async def refresh_forever(self, pool: asyncpg.Pool, every_seconds: float = 30.0) -> None:
        while True:
            try:
                await self.refresh(pool)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("payout gauges not refreshed", exc_info=True)
            await asyncio.sleep(every_seconds)

    async def refresh(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            owed = await conn.fetch(
                """SELECT currency, split_part(name, ':', 3) AS bucket, -sum(balance) AS total FROM accounts
                   WHERE name LIKE 'expert:%' AND split_part(name, ':', 3) IN ('payable', 'in_transit')
                   GROUP BY 1, 2"""
            )
            budgets = await conn.fetch(
                """SELECT c.project_id,
                          (coalesce(sum(a.balance), 0)::float8 / c.budget_cap) AS used
                   FROM rate_cards c
                   LEFT JOIN accounts a ON a.currency = c.currency
                        AND a.name IN ('project:' || c.project_id || ':committed',
                                       'project:' || c.project_id || ':spend')
                   WHERE c.budget_cap > 0 GROUP BY c.project_id, c.budget_cap"""
            )
        async with pool.acquire() as conn:
            states = await conn.fetch("SELECT state, count(*) AS n FROM payouts GROUP BY state")
        for state in ("in_transit", "settled", "failed"):
            self.payouts.labels(state).set(next((r["n"] for r in states if r["state"] == state), 0))
        for r in owed:
            gauge = self.payable if r["bucket"] == "payable" else self.in_transit
            gauge.labels(r["currency"].strip()).set(float(r["total"]))
        for r in budgets:
            self.budget_used.labels(str(r["project_id"])).set(r["used"])
