"""Operators define cohorts and manage their members."""

from __future__ import annotations

import asyncpg

from cohort_runtime.domain_errors import Conflict, NotFoundError
from cohort_tasking.db import cohorts as repo
from cohort_tasking.db import experts as experts_repo
from cohort_tasking.domain.cohorts import Cohort, validate, validate_members


async def create(pool: asyncpg.Pool, cohort: Cohort) -> tuple[Cohort, int]:
    validate(cohort)
    async with pool.acquire() as conn, conn.transaction():
        if await repo.insert(conn, cohort):
            return cohort, 0
        existing = await repo.get(conn, cohort.cohort_id)
        if existing is None or not existing[0].same_definition(cohort):
            raise Conflict(f"cohort {cohort.cohort_id} exists with another name or description")
        return existing


async def get(pool: asyncpg.Pool, cohort_id: str) -> tuple[Cohort, int]:
    async with pool.acquire() as conn:
        found = await repo.get(conn, cohort_id)
    if found is None:
        raise NotFoundError("cohort", cohort_id)
    return found


async def members(pool: asyncpg.Pool, cohort_id: str, after: str | None, size: int) -> tuple[Cohort, int, list[str]]:
    """The cohort, its member count and up to size + 1 members after `after`, in one snapshot."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        found = await repo.get(conn, cohort_id)
        if found is None:
            raise NotFoundError("cohort", cohort_id)
        return found[0], found[1], await repo.members(conn, cohort_id, after, size)


async def page(pool: asyncpg.Pool, after: str | None, size: int) -> list[tuple[Cohort, int]]:
    async with pool.acquire() as conn:
        return await repo.page(conn, after, size)


async def add_members(pool: asyncpg.Pool, cohort_id: str, expert_ids: list[str]) -> int:
    """How many of `expert_ids` were not members before; all or none are added."""
    validate_members(cohort_id, expert_ids)
    async with pool.acquire() as conn, conn.transaction():
        if not await repo.exists(conn, cohort_id):
            raise NotFoundError("cohort", cohort_id)
        unknown = await experts_repo.missing(conn, expert_ids)
        if unknown:
            raise NotFoundError("expert", unknown[0])
        return await repo.add(conn, cohort_id, expert_ids)


async def remove_members(pool: asyncpg.Pool, cohort_id: str, expert_ids: list[str]) -> int:
    """How many of `expert_ids` were members. Experts who never were are no error (removal is
    idempotent); an unknown cohort is."""
    validate_members(cohort_id, expert_ids)
    async with pool.acquire() as conn, conn.transaction():
        if not await repo.exists(conn, cohort_id):
            raise NotFoundError("cohort", cohort_id)
        return await repo.remove(conn, cohort_id, expert_ids)
