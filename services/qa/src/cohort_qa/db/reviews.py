"""The review queue: leases, results."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping

import asyncpg


async def enqueue(conn: asyncpg.Connection, entries: list[tuple[uuid.UUID, uuid.UUID, str, int, list[str]]]) -> None:
    """(submission, project, task, slot, reasons) -> open reviews."""
    if not entries:
        return
    await conn.execute(
        """INSERT INTO reviews (review_id, submission_id, project_id, task_id, slot, reasons, state)
           SELECT gen_random_uuid(), e.sid, e.pid, e.task_id, e.slot,
                  ARRAY(SELECT jsonb_array_elements_text(e.reasons::jsonb)), 'open'
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::smallint[], $5::text[])
                AS e(sid, pid, task_id, slot, reasons)
           ON CONFLICT (submission_id, slot) DO NOTHING""",
        [e[0] for e in entries],
        [e[1] for e in entries],
        [e[2] for e in entries],
        [e[3] for e in entries],
        [json.dumps(e[4]) for e in entries],
    )


async def lease_next(
    conn: asyncpg.Connection,
    reviewer_id: str,
    project_id: uuid.UUID | None,
    lease_until: dt.datetime,
    min_mean: float,
    min_evidence: int,
    reviewer_floor: float,
    reviewer_min_evidence: int,
) -> asyncpg.Record | None:
    """Lease the oldest review this reviewer may do: deciding reviews before calibration ones;
    never of a task they labelled (which covers their own work), never a second review of a
    submission they already reviewed, never in a domain where their estimate is below the bar
    or they are suspended, or where their verdicts are confidently too often wrong; only where
    they are routed like an expert (domain/reviewer_routing.py: active reviewer, not walled off
    from the lab, the project's degree, a field of it, its languages)."""
    return await conn.fetchrow(
        """WITH next AS (
               SELECT r.review_id FROM reviews r JOIN projects p USING (project_id)
               WHERE (r.state = 'open' OR (r.state = 'leased' AND r.lease_until < now()))
                 AND ($2::uuid IS NULL OR r.project_id = $2)
                 AND (p.state = 'active'
                      -- rework of a completed project (an upheld dispute) still needs its reviews
                      OR (p.state = 'completed' AND EXISTS (
                              SELECT 1 FROM tasks t WHERE t.project_id = r.project_id AND t.task_id = r.task_id
                                AND t.revision > 1 AND t.finalized_at IS NULL)))
                 AND NOT EXISTS (SELECT 1 FROM submissions s
                                 WHERE s.project_id = r.project_id AND s.task_id = r.task_id AND s.expert_id = $1)
                 AND NOT EXISTS (SELECT 1 FROM reviews o
                                 WHERE o.submission_id = r.submission_id AND o.reviewer_id = $1
                                   AND o.review_id <> r.review_id)
                 AND NOT EXISTS (SELECT 1 FROM expert_quality q
                                 WHERE q.expert_id = $1 AND q.domain = p.domain
                                   AND (q.suspended OR (q.pieces >= $5 AND q.mean < $4)))
                 AND EXISTS (SELECT 1 FROM reviewer_profiles rp
                             WHERE rp.expert_id = $1 AND rp.active AND rp.reviewer
                               AND NOT (p.lab_id = ANY(rp.blocked_lab_ids))
                               AND rp.degree >= p.min_degree
                               AND (cardinality(p.fields) = 0
                                    OR EXISTS (SELECT 1 FROM unnest(p.fields) req, unnest(rp.fields) have
                                               WHERE have = req OR starts_with(have, req || '.')))
                               AND p.languages <@ rp.languages)
                 AND NOT EXISTS (SELECT 1 FROM reviewer_quality rq
                                 WHERE rq.reviewer_id = $1 AND rq.domain = p.domain
                                   AND rq.pieces >= $7 AND rq.upper < $6)
               ORDER BY r.slot, r.created_at
               LIMIT 1
               FOR UPDATE OF r SKIP LOCKED)
           UPDATE reviews r SET state = 'leased', reviewer_id = $1, lease_until = $3
           FROM next WHERE r.review_id = next.review_id
           RETURNING r.*""",
        reviewer_id,
        project_id,
        lease_until,
        min_mean,
        min_evidence,
        reviewer_floor,
        reviewer_min_evidence,
    )


async def verdict_context(
    conn: asyncpg.Connection, submission_id: uuid.UUID, review_id: uuid.UUID
) -> tuple[str | None, list[tuple[str, bool]]]:
    """The submission's gold outcome (None when not gold-scored) and the other completed reviews
    of it as (reviewer, accepted)."""
    gold_outcome = await conn.fetchval("SELECT gold_outcome FROM submissions WHERE submission_id = $1", submission_id)
    others = await conn.fetch(
        """SELECT reviewer_id, verdict FROM reviews
           WHERE submission_id = $1 AND review_id <> $2 AND state = 'done'""",
        submission_id,
        review_id,
    )
    return gold_outcome, [(r["reviewer_id"], r["verdict"] == "accept") for r in others]


async def lock(conn: asyncpg.Connection, review_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM reviews WHERE review_id = $1 FOR UPDATE", review_id)


async def complete(
    conn: asyncpg.Connection,
    review_id: uuid.UUID,
    scores: Mapping[str, int],
    total: float,
    verdict: str,
    comments: str,
) -> None:
    await conn.execute(
        """UPDATE reviews SET state = 'done', scores = $2::jsonb, weighted_total = $3, verdict = $4, comments = $5,
                  done_at = now(), lease_until = NULL
           WHERE review_id = $1""",
        review_id,
        json.dumps(dict(scores)),
        total,
        verdict,
        comments,
    )


async def release(conn: asyncpg.Connection, review_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE reviews SET state = 'open', reviewer_id = NULL, lease_until = NULL WHERE review_id = $1", review_id
    )


async def queue_depth(conn: asyncpg.Connection) -> dict[int, int]:
    rows = await conn.fetch("SELECT slot, count(*) AS n FROM reviews WHERE state <> 'done' GROUP BY slot")
    return {r["slot"]: r["n"] for r in rows}
