"""QA's copy of each person's routing profile (ExpertProfileChanged from tasking)."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_qa.domain.reviewer_routing import ReviewerProfile


async def upsert(conn: asyncpg.Connection, p: ReviewerProfile, changed_at: dt.datetime) -> None:
    """Keep the latest change: an older one arriving late (a redelivery) changes nothing."""
    await conn.execute(
        """INSERT INTO reviewer_profiles
               (expert_id, degree, fields, languages, blocked_lab_ids, reviewer, active, changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (expert_id) DO UPDATE SET
               degree = EXCLUDED.degree, fields = EXCLUDED.fields, languages = EXCLUDED.languages,
               blocked_lab_ids = EXCLUDED.blocked_lab_ids, reviewer = EXCLUDED.reviewer,
               active = EXCLUDED.active, changed_at = EXCLUDED.changed_at
           WHERE reviewer_profiles.changed_at <= EXCLUDED.changed_at""",
        p.expert_id,
        p.degree,
        list(p.fields),
        list(p.languages),
        list(p.blocked_lab_ids),
        p.reviewer,
        p.active,
        changed_at,
    )


async def get(conn: asyncpg.Connection, expert_id: str) -> ReviewerProfile | None:
    r = await conn.fetchrow("SELECT * FROM reviewer_profiles WHERE expert_id = $1", expert_id)
    if r is None:
        return None
    return ReviewerProfile(
        expert_id=r["expert_id"],
        degree=r["degree"],
        fields=tuple(r["fields"]),
        languages=tuple(r["languages"]),
        blocked_lab_ids=tuple(r["blocked_lab_ids"]),
        reviewer=r["reviewer"],
        active=r["active"],
    )
