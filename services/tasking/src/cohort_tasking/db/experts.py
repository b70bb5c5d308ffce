"""The experts and expert_quality tables (and which cohorts an expert is in)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from cohort_tasking.domain.experts import Expert, ExpertStatus


def _expert(r: asyncpg.Record) -> Expert:
    return Expert(
        expert_id=r["expert_id"],
        degree=r["degree"],
        fields=tuple(r["fields"]),
        skills=tuple(r["skills"]),
        languages=tuple(r["languages"]),
        country=r["country"],
        timezone=r["timezone"],
        weekly_hours=r["weekly_hours"],
        blocked_lab_ids=tuple(r["blocked_lab_ids"]),
        reviewer=r["reviewer"],
        status=ExpertStatus(r["status"]),
        create_time=r["create_time"],
    )


async def insert(conn: asyncpg.Connection, e: Expert) -> bool:
    status: str = await conn.execute(
        """INSERT INTO experts (expert_id, degree, fields, skills, languages, country, timezone, weekly_hours,
                                blocked_lab_ids, reviewer, status, create_time, update_time, profile_announced)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, true)
           ON CONFLICT (expert_id) DO NOTHING""",
        e.expert_id,
        e.degree,
        list(e.fields),
        list(e.skills),
        list(e.languages),
        e.country,
        e.timezone,
        e.weekly_hours,
        list(e.blocked_lab_ids),
        e.reviewer,
        e.status.value,
        e.create_time,
    )
    return status == "INSERT 0 1"


async def take_unannounced(conn: asyncpg.Connection, limit: int) -> list[Expert]:
    """Up to `limit` experts whose profile was never published, marked as published (the caller
    publishes them in the same transaction); concurrent replicas take different ones."""
    rows = await conn.fetch(
        """UPDATE experts e SET profile_announced = true
           FROM (SELECT expert_id FROM experts WHERE NOT profile_announced
                 ORDER BY expert_id LIMIT $1 FOR UPDATE SKIP LOCKED) pick
           WHERE e.expert_id = pick.expert_id
           RETURNING e.*""",
        limit,
    )
    return [_expert(r) for r in rows]


async def get(conn: asyncpg.Connection, expert_id: str, *, for_update: bool = False) -> Expert | None:
    if for_update:
        row = await conn.fetchrow("SELECT * FROM experts WHERE expert_id = $1 FOR UPDATE", expert_id)
    else:
        row = await conn.fetchrow("SELECT * FROM experts WHERE expert_id = $1", expert_id)
    return _expert(row) if row else None


async def set_status(conn: asyncpg.Connection, expert_id: str, status: ExpertStatus) -> None:
    await conn.execute(
        "UPDATE experts SET status = $2, update_time = now() WHERE expert_id = $1", expert_id, status.value
    )


async def cohorts(conn: asyncpg.Connection, expert_id: str) -> frozenset[str]:
    rows = await conn.fetch("SELECT cohort_id FROM cohort_members WHERE expert_id = $1", expert_id)
    return frozenset(r["cohort_id"] for r in rows)


async def missing(conn: asyncpg.Connection, expert_ids: list[str]) -> list[str]:
    rows = await conn.fetch(
        "SELECT x FROM unnest($1::text[]) AS x WHERE NOT EXISTS (SELECT 1 FROM experts WHERE expert_id = x)",
        expert_ids,
    )
    return [r["x"] for r in rows]


async def record_quality(
    conn: asyncpg.Connection, expert_id: str, domain: str, mean: float, upper: float, as_of: dt.datetime
) -> bool:
    """Store the estimate unless a newer one is stored; True when stored."""
    status: str = await conn.execute(
        """INSERT INTO expert_quality (expert_id, domain, mean, upper, as_of) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (expert_id, domain) DO UPDATE SET mean = EXCLUDED.mean, upper = EXCLUDED.upper,
               as_of = EXCLUDED.as_of
           WHERE expert_quality.as_of < EXCLUDED.as_of""",
        expert_id,
        domain,
        mean,
        upper,
        as_of,
    )
    return status == "INSERT 0 1"


async def set_suspension(
    conn: asyncpg.Connection, expert_id: str, scope: str, suspended: bool, reasons: list[str], since: dt.datetime
) -> None:
    if suspended:
        await conn.execute(
            """INSERT INTO suspensions (expert_id, scope, reasons, since) VALUES ($1, $2, $3, $4)
               ON CONFLICT (expert_id, scope) DO UPDATE SET reasons = EXCLUDED.reasons""",
            expert_id,
            scope,
            reasons,
            since,
        )
    else:
        await conn.execute("DELETE FROM suspensions WHERE expert_id = $1 AND scope = $2", expert_id, scope)


async def update_self_service(
    conn: asyncpg.Connection, expert_id: str, skills: list[str], languages: list[str], timezone: str, hours: int
) -> None:
    await conn.execute(
        """UPDATE experts SET skills = $2, languages = $3, timezone = $4, weekly_hours = $5, update_time = now()
           WHERE expert_id = $1""",
        expert_id,
        skills,
        languages,
        timezone,
        hours,
    )


@dataclass(frozen=True)
class RoutingView:
    """What routing needs to know of an expert, read in one round trip (it is on the hot path)."""

    expert: Expert
    cohorts: frozenset[str]
    quality_upper: dict[str, float]
    """Per domain, the upper bound of QA's interval: what routing gates on."""
    suspended: frozenset[str]
    failed_screening: frozenset[uuid.UUID]


async def routing_view(conn: asyncpg.Connection, expert_id: str) -> RoutingView | None:
    row = await conn.fetchrow(
        """SELECT e.*,
                  (SELECT coalesce(array_agg(cohort_id), '{}') FROM cohort_members WHERE expert_id = $1) AS cohorts,
                  (SELECT coalesce(array_agg(domain ORDER BY domain), '{}') FROM expert_quality WHERE expert_id = $1)
                      AS domains,
                  (SELECT coalesce(array_agg(upper ORDER BY domain), '{}') FROM expert_quality WHERE expert_id = $1)
                      AS uppers,
                  (SELECT coalesce(array_agg(scope), '{}') FROM suspensions WHERE expert_id = $1) AS scopes,
                  (SELECT coalesce(array_agg(project_id), '{}') FROM qualifications
                   WHERE expert_id = $1 AND NOT passed) AS failed
           FROM experts e WHERE e.expert_id = $1""",
        expert_id,
    )
    if row is None:
        return None
    return RoutingView(
        expert=_expert(row),
        cohorts=frozenset(row["cohorts"]),
        quality_upper=dict(zip(row["domains"], row["uppers"], strict=True)),
        suspended=frozenset(row["scopes"]),
        failed_screening=frozenset(row["failed"]),
    )
