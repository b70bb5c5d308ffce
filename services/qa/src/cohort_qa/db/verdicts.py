"""An expert's own submissions with QA's decision and the deciding reviewer's comment."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class VerdictRow:
    seq: int
    submission_id: uuid.UUID
    project_id: uuid.UUID
    task_id: str
    state: str
    reasons: tuple[str, ...]
    comment: str
    submit_time: dt.datetime
    decided_at: dt.datetime | None


async def page_for_expert(
    conn: asyncpg.Connection, expert_id: str, before_seq: int | None, limit: int
) -> list[VerdictRow]:
    """Newest first; the comment is that of the review that decided (the first one done), and only
    once the submission is decided."""
    rows = await conn.fetch(
        """SELECT s.seq, s.submission_id, s.project_id, s.task_id, s.state, s.reasons, s.submit_time,
                  s.decided_at, r.comments
           FROM submissions s
           LEFT JOIN LATERAL (
               SELECT comments FROM reviews
               WHERE submission_id = s.submission_id AND state = 'done' AND s.state IN ('accepted', 'rejected')
               ORDER BY done_at LIMIT 1
           ) r ON true
           WHERE s.expert_id = $1 AND ($2::bigint IS NULL OR s.seq < $2)
           ORDER BY s.seq DESC
           LIMIT $3""",
        expert_id,
        before_seq,
        limit,
    )
    return [
        VerdictRow(
            seq=r["seq"],
            submission_id=r["submission_id"],
            project_id=r["project_id"],
            task_id=r["task_id"],
            state=r["state"],
            reasons=tuple(r["reasons"]),
            comment=r["comments"] or "",
            submit_time=r["submit_time"],
            decided_at=r["decided_at"],
        )
        for r in rows
    ]
