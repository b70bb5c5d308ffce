"""Which projects an expert may work on, in routing order; kept briefly per expert for acquisition.

Working it out takes a query for the expert, one for the active projects and a pass of the domain
rules over every active project; an expert acquiring several tasks a minute would repeat it for
nothing. Acquisition therefore reads the list from a cache that lives `ttl` seconds per expert
and is dropped at once when this process learns of a change (projects activated or changing
state, the expert's status, cohorts, profile, quality or suspensions). Another replica's change
reaches this one within `ttl`.

What must never be stale is checked again in the acquiring statement itself: the expert is active,
the project is active, no suspension covers it, the expert is not confidently below the minimum
quality in the domain, the screening test was not failed, the per-expert cap is not reached. The cache only
saves re-reading the profile rules (degree, fields, languages, cohorts, walls).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from cohort_runtime.domain_errors import NotAllowed
from cohort_tasking.db import experts as experts_repo
from cohort_tasking.db import projects as projects_repo
from cohort_tasking.db import work as repo
from cohort_tasking.domain.routing import RoutingProject, ineligibility, routing_order


async def qualified_projects(
    conn: asyncpg.Connection, expert_id: str, active: list[RoutingProject] | None = None
) -> list[RoutingProject]:
    """Active projects (`active`, or read now) whose requirements the expert meets, in routing
    order (caps not applied)."""
    view = await experts_repo.routing_view(conn, expert_id)
    if view is None:
        raise NotAllowed(f"expert {expert_id} is not registered")
    if active is None:
        active = await projects_repo.active(conn)

    def why_not(p: RoutingProject) -> str | None:
        return ineligibility(view.expert, view.cohorts, view.quality_upper, p, view.suspended, view.failed_screening)

    return routing_order([p for p in active if why_not(p) is None])


async def eligible_projects(conn: asyncpg.Connection, expert_id: str) -> list[RoutingProject]:
    """What the expert may work on now: qualified and below each project's per-expert cap."""
    candidates = await qualified_projects(conn, expert_id)
    allowed = await repo.under_cap(
        conn, expert_id, [p.project_id for p in candidates], [p.per_expert_task_cap for p in candidates]
    )
    return [p for p in candidates if p.project_id in allowed]


@dataclass(frozen=True)
class _Entry:
    until: float
    projects: list[RoutingProject]


class EligibilityCache:
    """Per-expert qualified project lists, and the active projects they are drawn from, for up to
    `ttl` seconds (0 turns the cache off)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._active: _Entry | None = None  # the active projects, shared by every expert's lookup
        # Bumped by every invalidation: a list computed while one happened is not stored, since it
        # may predate the change.
        self._generation = 0

    async def projects(self, conn: asyncpg.Connection, expert_id: str) -> list[RoutingProject]:
        now = self._clock()
        entry = self._entries.get(expert_id)
        if entry is not None and entry.until > now:
            return entry.projects
        generation = self._generation
        active = self._active
        if active is None or active.until <= now:
            active = _Entry(now + self._ttl, await projects_repo.active(conn))
            if self._ttl > 0 and generation == self._generation:
                self._active = active
        found = await qualified_projects(conn, expert_id, active.projects)
        if self._ttl > 0 and generation == self._generation:
            if len(self._entries) > 10_000:  # drop the expired now and then; live ones stay
                self._entries = {k: v for k, v in self._entries.items() if v.until > now}
            self._entries[expert_id] = _Entry(now + self._ttl, found)
        return found

    def forget(self, expert_id: str) -> None:
        self._generation += 1
        self._entries.pop(expert_id, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._active = None
