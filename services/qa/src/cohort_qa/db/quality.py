"""Expert quality evidence and estimates per domain; project suspensions."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from cohort_qa.domain.quality import Estimate, Evidence


async def add_evidence(
    conn: asyncpg.Connection, domain: str, evidence: dict[str, Evidence]
) -> dict[str, tuple[Evidence, bool]]:
    """Add evidence per expert (in one statement, experts in a fixed order so concurrent batches
    never deadlock); returns each expert's accumulated evidence and current domain suspension."""
    experts = sorted(evidence)
    rows = await conn.fetch(
        """INSERT INTO expert_quality (expert_id, domain, successes, failures, pieces)
           SELECT e.expert_id, $1, e.s, e.f, e.n FROM unnest($2::text[], $3::float8[], $4::float8[], $5::int[])
                AS e(expert_id, s, f, n)
           ON CONFLICT (expert_id, domain) DO UPDATE SET
               successes = expert_quality.successes + EXCLUDED.successes,
               failures = expert_quality.failures + EXCLUDED.failures,
               pieces = expert_quality.pieces + EXCLUDED.pieces
           RETURNING expert_id, successes, failures, pieces, suspended""",
        domain,
        experts,
        [evidence[e].successes for e in experts],
        [evidence[e].failures for e in experts],
        [evidence[e].pieces for e in experts],
    )
    return {r["expert_id"]: (Evidence(r["successes"], r["failures"], r["pieces"]), r["suspended"]) for r in rows}


async def store_estimates(
    conn: asyncpg.Connection, domain: str, estimates: dict[str, tuple[Estimate, bool]], as_of: dt.datetime
) -> None:
    experts = sorted(estimates)
    await conn.execute(
        """UPDATE expert_quality q SET mean = e.mean, lower = e.lower, upper = e.upper, suspended = e.suspended,
                  as_of = $7
           FROM unnest($2::text[], $3::float8[], $4::float8[], $5::float8[], $6::bool[])
                AS e(expert_id, mean, lower, upper, suspended)
           WHERE q.expert_id = e.expert_id AND q.domain = $1""",
        domain,
        experts,
        [estimates[e][0].mean for e in experts],
        [estimates[e][0].lower for e in experts],
        [estimates[e][0].upper for e in experts],
        [estimates[e][1] for e in experts],
        as_of,
    )


def _estimate(r: asyncpg.Record) -> Estimate:
    return Estimate(r["mean"], r["lower"], r["upper"], r["pieces"])


async def estimates(conn: asyncpg.Connection, domain: str, experts: list[str]) -> dict[str, Estimate]:
    rows = await conn.fetch(
        "SELECT * FROM expert_quality WHERE domain = $1 AND expert_id = ANY($2::text[])", domain, experts
    )
    return {r["expert_id"]: _estimate(r) for r in rows}


@dataclass(frozen=True)
class DomainStanding:
    """An expert's quality estimate in one domain, with the evidence count behind it."""

    domain: str
    mean: float
    lower: float
    upper: float
    evidence: int
    suspended: bool
    as_of: dt.datetime


async def of_expert(conn: asyncpg.Connection, expert_id: str) -> list[DomainStanding]:
    rows = await conn.fetch(
        """SELECT domain, mean, lower, upper, pieces, suspended, as_of
           FROM expert_quality WHERE expert_id = $1 ORDER BY domain""",
        expert_id,
    )
    return [
        DomainStanding(r["domain"], r["mean"], r["lower"], r["upper"], r["pieces"], r["suspended"], r["as_of"])
        for r in rows
    ]


async def suspend_in_project(
    conn: asyncpg.Connection, expert_id: str, project_id: uuid.UUID, reasons: list[str], as_of: dt.datetime
) -> bool:
    """True when this newly suspends the expert in the project."""
    inserted = await conn.fetchval(
        """INSERT INTO project_suspensions (expert_id, project_id, reasons, as_of) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING RETURNING true""",
        expert_id,
        project_id,
        reasons,
        as_of,
    )
    return bool(inserted)


async def barred(conn: asyncpg.Connection, project_id: uuid.UUID, domain: str, experts: list[str]) -> set[str]:
    """Those of `experts` suspended in the project or in its whole domain, in one statement."""
    rows = await conn.fetch(
        """SELECT expert_id FROM project_suspensions WHERE project_id = $1 AND expert_id = ANY($3::text[])
           UNION
           SELECT expert_id FROM expert_quality WHERE domain = $2 AND suspended AND expert_id = ANY($3::text[])""",
        project_id,
        domain,
        experts,
    )
    return {r["expert_id"] for r in rows}


async def project_suspended(conn: asyncpg.Connection, project_id: uuid.UUID, experts: list[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT expert_id FROM project_suspensions WHERE project_id = $1 AND expert_id = ANY($2::text[])",
        project_id,
        experts,
    )
    return {r["expert_id"] for r in rows}
