"""Reviewer quality evidence and estimates per domain (domain/reviewer_quality.py)."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_qa.domain.quality import Estimate, Evidence


async def add_evidence(conn: asyncpg.Connection, domain: str, evidence: dict[str, Evidence]) -> dict[str, Evidence]:
    """Add evidence per reviewer (in a fixed order: concurrent reviews never deadlock); returns
    each one's accumulated evidence."""
    reviewers = sorted(evidence)
    rows = await conn.fetch(
        """INSERT INTO reviewer_quality (reviewer_id, domain, successes, failures, pieces)
           SELECT e.reviewer_id, $1, e.s, e.f, e.n FROM unnest($2::text[], $3::float8[], $4::float8[], $5::int[])
                AS e(reviewer_id, s, f, n)
           ON CONFLICT (reviewer_id, domain) DO UPDATE SET
               successes = reviewer_quality.successes + EXCLUDED.successes,
               failures = reviewer_quality.failures + EXCLUDED.failures,
               pieces = reviewer_quality.pieces + EXCLUDED.pieces
           RETURNING reviewer_id, successes, failures, pieces""",
        domain,
        reviewers,
        [evidence[r].successes for r in reviewers],
        [evidence[r].failures for r in reviewers],
        [evidence[r].pieces for r in reviewers],
    )
    return {r["reviewer_id"]: Evidence(r["successes"], r["failures"], r["pieces"]) for r in rows}


async def store(conn: asyncpg.Connection, domain: str, estimates: dict[str, Estimate], as_of: dt.datetime) -> None:
    reviewers = sorted(estimates)
    await conn.execute(
        """UPDATE reviewer_quality q SET mean = e.mean, lower = e.lower, upper = e.upper, as_of = $6
           FROM unnest($2::text[], $3::float8[], $4::float8[], $5::float8[]) AS e(reviewer_id, mean, lower, upper)
           WHERE q.reviewer_id = e.reviewer_id AND q.domain = $1""",
        domain,
        reviewers,
        [estimates[r].mean for r in reviewers],
        [estimates[r].lower for r in reviewers],
        [estimates[r].upper for r in reviewers],
        as_of,
    )


async def get(conn: asyncpg.Connection, domain: str, reviewer_id: str) -> Estimate | None:
    r = await conn.fetchrow(
        "SELECT mean, lower, upper, pieces FROM reviewer_quality WHERE domain = $1 AND reviewer_id = $2",
        domain,
        reviewer_id,
    )
    return None if r is None else Estimate(r["mean"], r["lower"], r["upper"], r["pieces"])


async def of_reviewer(conn: asyncpg.Connection, reviewer_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        """SELECT domain, mean, lower, upper, pieces, as_of FROM reviewer_quality
           WHERE reviewer_id = $1 ORDER BY domain""",
        reviewer_id,
    )


async def project_accuracy(
    conn: asyncpg.Connection, project_id: uuid.UUID, domain: str, prior_mean: float
) -> float | None:
    """The estimated share of the project's completed reviews whose verdict is right: each
    reviewer's mean in the domain, weighted by their reviews in the project (the prior's mean for
    a reviewer with no evidence yet)."""
    value = await conn.fetchval(
        """SELECT sum(coalesce(q.mean, $3) * n.reviews) / sum(n.reviews)
           FROM (SELECT reviewer_id, count(*) AS reviews FROM reviews
                 WHERE project_id = $1 AND state = 'done' GROUP BY reviewer_id) n
           LEFT JOIN reviewer_quality q ON q.reviewer_id = n.reviewer_id AND q.domain = $2""",
        project_id,
        domain,
        prior_mean,
    )
    return None if value is None else float(value)
