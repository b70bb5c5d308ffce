"""A lab reads its project's cost from the ledger."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from cohort_payout.db import earnings as repo
from cohort_payout.db import ledger
from cohort_payout.domain.ledger import project_account
from cohort_runtime.domain_errors import NotFoundError


@dataclass(frozen=True)
class ProjectCost:
    project_id: uuid.UUID
    currency: str
    committed: int
    spent: int
    budget_cap: int
    accepted: int
    paid_reviews: int


async def project_cost(pool: asyncpg.Pool, project_id: uuid.UUID, lab_id: uuid.UUID | None) -> ProjectCost:
    """The cost of the project; `lab_id` (a lab caller) must own it, else it is not found."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        card = await repo.card(conn, project_id)
        if card is None or (lab_id is not None and card.lab_id != lab_id):
            raise NotFoundError("project", str(project_id))  # another lab's project does not exist for them
        committed, spent = await ledger.balances(
            conn, [project_account(project_id, "committed"), project_account(project_id, "spend")], card.currency
        )
        accepted = await conn.fetchval(
            "SELECT count(*) FROM submissions WHERE project_id = $1 AND state = 'accepted'", project_id
        )
        reviews = await conn.fetchval(
            "SELECT count(*) FROM review_earnings WHERE project_id = $1 AND state = 'posted'", project_id
        )
    return ProjectCost(project_id, card.currency, committed, spent, card.budget_cap, accepted, reviews)
