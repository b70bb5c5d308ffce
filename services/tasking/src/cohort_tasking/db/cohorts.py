"""The cohorts and cohort_members tables."""

from __future__ import annotations

import asyncpg

from cohort_tasking.domain.cohorts import Cohort


def _cohort(r: asyncpg.Record) -> Cohort:
    return Cohort(r["cohort_id"], r["display_name"], r["description"], r["create_time"])


async def insert(conn: asyncpg.Connection, c: Cohort) -> bool:
    """True when the cohort is new, False when the id is taken."""
    status: str = await conn.execute(
        """INSERT INTO cohorts (cohort_id, display_name, description, create_time) VALUES ($1, $2, $3, $4)
           ON CONFLICT (cohort_id) DO NOTHING""",
        c.cohort_id,
        c.display_name,
        c.description,
        c.create_time,
    )
    return status.endswith(" 1")


async def exists(conn: asyncpg.Connection, cohort_id: str) -> bool:
    found: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM cohorts WHERE cohort_id = $1)", cohort_id)
    return found


async def get(conn: asyncpg.Connection, cohort_id: str) -> tuple[Cohort, int] | None:
    """The cohort and its member count."""
    row = await conn.fetchrow(
        """SELECT c.*, (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.cohort_id) AS members
           FROM cohorts c WHERE c.cohort_id = $1""",
        cohort_id,
    )
    return None if row is None else (_cohort(row), row["members"])


async def page(conn: asyncpg.Connection, after: str | None, size: int) -> list[tuple[Cohort, int]]:
    """Up to size + 1 cohorts after `after` in id order (the extra row says a next page exists)."""
    rows = await conn.fetch(
        """SELECT c.*, (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.cohort_id) AS members
           FROM cohorts c WHERE $1::text IS NULL OR c.cohort_id > $1 ORDER BY c.cohort_id LIMIT $2""",
        after,
        size + 1,
    )
    return [(_cohort(r), r["members"]) for r in rows]


async def members(conn: asyncpg.Connection, cohort_id: str, after: str | None, size: int) -> list[str]:
    """Up to size + 1 member ids after `after` in id order."""
    rows = await conn.fetch(
        """SELECT expert_id FROM cohort_members WHERE cohort_id = $1 AND ($2::text IS NULL OR expert_id > $2)
           ORDER BY expert_id LIMIT $3""",
        cohort_id,
        after,
        size + 1,
    )
    return [r["expert_id"] for r in rows]


async def add(conn: asyncpg.Connection, cohort_id: str, expert_ids: list[str]) -> int:
    status: str = await conn.execute(
        """INSERT INTO cohort_members (cohort_id, expert_id) SELECT $1, unnest($2::text[])
           ON CONFLICT DO NOTHING""",
        cohort_id,
        expert_ids,
    )
    return int(status.rsplit(maxsplit=1)[-1])


async def remove(conn: asyncpg.Connection, cohort_id: str, expert_ids: list[str]) -> int:
    status: str = await conn.execute(
        "DELETE FROM cohort_members WHERE cohort_id = $1 AND expert_id = ANY($2::text[])", cohort_id, expert_ids
    )
    return int(status.rsplit(maxsplit=1)[-1])
