"""Operators manage the expert network: registration and status; experts edit their own profile."""

from __future__ import annotations

import dataclasses

import asyncpg

from cohort_runtime import add_events
from cohort_runtime.clock import SYSTEM_CLOCK
from cohort_runtime.domain_errors import Conflict, NotFoundError
from cohort_tasking.db import experts as repo
from cohort_tasking.db import work as work_repo
from cohort_tasking.domain.assignments import AssignmentState
from cohort_tasking.domain.experts import Expert, ExpertStatus, validate
from cohort_tasking.events.expert_events import profile_changed


async def register(pool: asyncpg.Pool, expert: Expert) -> tuple[Expert, frozenset[str]]:
    validate(expert)
    async with pool.acquire() as conn, conn.transaction():
        if not await repo.insert(conn, expert):
            existing = await repo.get(conn, expert.expert_id)
            if existing is None or not existing.same_profile(expert):
                raise Conflict(f"expert {expert.expert_id} is registered with another profile")
            return existing, await repo.cohorts(conn, expert.expert_id)
        await add_events(conn, [profile_changed(expert, SYSTEM_CLOCK.now())])
        return expert, frozenset()


async def get(pool: asyncpg.Pool, expert_id: str) -> tuple[Expert, frozenset[str]]:
    async with pool.acquire() as conn:
        expert = await repo.get(conn, expert_id)
        if expert is None:
            raise NotFoundError("expert", expert_id)
        return expert, await repo.cohorts(conn, expert_id)


async def set_status(pool: asyncpg.Pool, expert_id: str, status: ExpertStatus) -> tuple[Expert, frozenset[str]]:
    async with pool.acquire() as conn, conn.transaction():
        expert = await repo.get(conn, expert_id, for_update=True)
        if expert is None:
            raise NotFoundError("expert", expert_id)
        await repo.set_status(conn, expert_id, status)
        if status is not ExpertStatus.ACTIVE:
            # A suspended expert's open leases go back to the queue at once.
            for live in await work_repo.active_for_update(conn, expert_id):
                await work_repo.end(conn, live, AssignmentState.RELEASED, reopen=True)
        updated = await repo.get(conn, expert_id)
        if updated is None:
            raise NotFoundError("expert", expert_id)
        await add_events(conn, [profile_changed(updated, SYSTEM_CLOCK.now())])
        return updated, await repo.cohorts(conn, expert_id)


async def update_own_profile(
    pool: asyncpg.Pool, expert_id: str, skills: list[str], languages: list[str], timezone: str, hours: int
) -> tuple[Expert, frozenset[str]]:
    """An expert edits what is theirs to edit; the same rules as registration apply."""
    async with pool.acquire() as conn, conn.transaction():
        current = await repo.get(conn, expert_id, for_update=True)
        if current is None:
            raise NotFoundError("expert", expert_id)
        changed = dataclasses.replace(
            current, skills=tuple(skills), languages=tuple(languages), timezone=timezone, weekly_hours=hours
        )
        validate(changed)
        await repo.update_self_service(conn, expert_id, skills, languages, timezone, hours)
        await add_events(conn, [profile_changed(changed, SYSTEM_CLOCK.now())])
        return changed, await repo.cohorts(conn, expert_id)


async def announce_profiles(pool: asyncpg.Pool, batch: int = 500) -> int:
    """Publish, once, the routing profile of every expert registered before profiles were
    published (QA routes reviews by them and knows no one it never heard of); returns how many."""
    announced = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            experts = await repo.take_unannounced(conn, batch)
            if not experts:
                return announced
            now = SYSTEM_CLOCK.now()
            await add_events(conn, [profile_changed(e, now) for e in experts])
            announced += len(experts)
