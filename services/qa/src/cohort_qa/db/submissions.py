"""Submissions, their verdicts, the LSH band index and position-bias counts."""

from __future__ import annotations

import json
import uuid

import asyncpg

from cohort_qa.domain.states import SubmissionState
from cohort_qa.domain.work import Decision, NewSubmission, TaskSubmission


async def insert_new(conn: asyncpg.Connection, subs: list[NewSubmission]) -> dict[uuid.UUID, int]:
    """Record submissions as waiting; returns seq of those not seen before (a resent one is skipped)."""
    rows = await conn.fetch(
        """INSERT INTO submissions (submission_id, project_id, task_id, expert_id, payload, is_gold, active_seconds,
                                    submit_time, shown_order, revision, state)
           SELECT s.*, 'waiting' FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bytea[], $6::bool[],
                                             $7::int[], $8::timestamptz[], $9::jsonb[], $10::int[])
                AS s(submission_id, project_id, task_id, expert_id, payload, is_gold, active_seconds, submit_time,
                     shown_order, revision)
           ON CONFLICT (submission_id) DO NOTHING
           RETURNING submission_id, seq""",
        [s.submission_id for s in subs],
        [s.project_id for s in subs],
        [s.task_id for s in subs],
        [s.expert_id for s in subs],
        [s.payload for s in subs],
        [s.is_gold for s in subs],
        [s.active_seconds for s in subs],
        [s.submit_time for s in subs],
        [json.dumps(list(s.shown_order)) for s in subs],
        [s.revision for s in subs],
    )
    return {r["submission_id"]: r["seq"] for r in rows}


async def waiting(conn: asyncpg.Connection, project_id: uuid.UUID) -> list[tuple[NewSubmission, int]]:
    rows = await conn.fetch(
        "SELECT * FROM submissions WHERE project_id = $1 AND state = 'waiting' ORDER BY seq FOR UPDATE", project_id
    )
    return [
        (
            NewSubmission(
                r["submission_id"],
                r["project_id"],
                r["task_id"],
                r["expert_id"],
                r["payload"],
                r["is_gold"],
                r["active_seconds"],
                r["submit_time"],
                shown_order=tuple(json.loads(r["shown_order"])),
                revision=r["revision"],
            ),
            r["seq"],
        )
        for r in rows
    ]


async def apply(conn: asyncpg.Connection, decisions: list[Decision]) -> None:
    await conn.execute(
        """UPDATE submissions s SET state = d.state,
                  reasons = ARRAY(SELECT jsonb_array_elements_text(d.reasons_json::jsonb)),
                  gold_outcome = d.gold_outcome, top_choice = d.top_choice, scores = d.scores::jsonb,
                  signature = d.signature,
                  decided_at = CASE WHEN d.state IN ('accepted', 'rejected') THEN now() END
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[])
                AS d(submission_id, state, reasons_json, gold_outcome, top_choice, scores, signature)
           WHERE s.submission_id = d.submission_id""",
        [d.submission_id for d in decisions],
        [d.state for d in decisions],
        [json.dumps(list(d.reasons)) for d in decisions],
        [d.gold_outcome for d in decisions],
        [d.top_choice for d in decisions],
        [json.dumps(dict(d.scores)) if d.scores is not None else None for d in decisions],
        [d.signature for d in decisions],
    )


async def decide_reviewed(conn: asyncpg.Connection, submission_id: uuid.UUID, accepted: bool) -> bool:
    """A reviewer's verdict on a submission in review; False when it was already decided."""
    result = await conn.execute(
        """UPDATE submissions SET state = $2, decided_at = now(),
                  reasons = CASE WHEN $2 = 'rejected' THEN reasons || '{reviewer_rejected}'::text[] ELSE reasons END
           WHERE submission_id = $1 AND state = 'in_review'""",
        submission_id,
        (SubmissionState.ACCEPTED if accepted else SubmissionState.REJECTED).value,
    )
    return bool(result.endswith(" 1"))


async def get(conn: asyncpg.Connection, submission_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM submissions WHERE submission_id = $1", submission_id)


async def near_duplicates(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    entries: list[tuple[uuid.UUID, int, list[int]]],
) -> list[tuple[uuid.UUID, uuid.UUID, bytes]]:
    """Index the entries' band keys, and return (submission, earlier submission sharing a band, its
    signature) pairs, earlier ones in the project or in this batch."""
    if not entries:
        return []
    sids, seqs, bands, keys = [], [], [], []
    for sid, seq, band_keys in entries:
        for band, key in enumerate(band_keys):
            sids.append(sid)
            seqs.append(seq)
            bands.append(band)
            keys.append(key)
    await conn.execute(
        """INSERT INTO submission_bands (project_id, band, key, seq, submission_id)
           SELECT $1, b.band, b.key, b.seq, b.sid FROM unnest($2::uuid[], $3::bigint[], $4::smallint[], $5::bigint[])
                AS b(sid, seq, band, key)""",
        project_id,
        sids,
        seqs,
        bands,
        keys,
    )
    rows = await conn.fetch(
        """SELECT DISTINCT n.sid, o.submission_id AS other, s.signature
           FROM unnest($2::uuid[], $3::bigint[], $4::smallint[], $5::bigint[]) AS n(sid, seq, band, key)
           JOIN submission_bands o ON o.project_id = $1 AND o.band = n.band AND o.key = n.key AND o.seq < n.seq
           JOIN submissions s ON s.submission_id = o.submission_id""",
        project_id,
        sids,
        seqs,
        bands,
        keys,
    )
    return [(r["sid"], r["other"], r["signature"]) for r in rows]


async def count_positions(
    conn: asyncpg.Connection, project_id: uuid.UUID, entries: list[tuple[str, bool, int]]
) -> dict[str, tuple[int, int, int]]:
    """Add (expert, chose first shown, candidates) judgments; returns the experts' totals
    (judgments, first choices, candidates)."""
    if not entries:
        return {}
    totals: dict[str, list[int]] = {}
    for expert_id, first, candidates in entries:
        t = totals.setdefault(expert_id, [0, 0, candidates])
        t[0] += 1
        t[1] += int(first)
    experts = sorted(totals)
    rows = await conn.fetch(
        """INSERT INTO position_stats (expert_id, project_id, judgments, first_choices, candidates)
           SELECT e.expert_id, $1, e.j, e.f, e.c
           FROM unnest($2::text[], $3::int[], $4::int[], $5::int[]) AS e(expert_id, j, f, c)
           ON CONFLICT (expert_id, project_id) DO UPDATE SET
               judgments = position_stats.judgments + EXCLUDED.judgments,
               first_choices = position_stats.first_choices + EXCLUDED.first_choices,
               candidates = EXCLUDED.candidates
           RETURNING expert_id, judgments, first_choices, candidates""",
        project_id,
        experts,
        [totals[e][0] for e in experts],
        [totals[e][1] for e in experts],
        [totals[e][2] for e in experts],
    )
    return {r["expert_id"]: (r["judgments"], r["first_choices"], r["candidates"]) for r in rows}


async def count_flat_grades(
    conn: asyncpg.Connection, project_id: uuid.UUID, entries: list[tuple[str, bool]]
) -> tuple[dict[str, tuple[int, int]], tuple[int, int]]:
    """Add (expert, flat) rubric grades; returns the experts' totals (graded, flat) and the
    project's (graded, flat) over every grader."""
    if not entries:
        return {}, (0, 0)
    totals: dict[str, list[int]] = {}
    for expert_id, flat in entries:
        t = totals.setdefault(expert_id, [0, 0])
        t[0] += 1
        t[1] += int(flat)
    experts = sorted(totals)
    rows = await conn.fetch(
        """INSERT INTO grading_stats (project_id, expert_id, graded, flat)
           SELECT $1, e.expert_id, e.g, e.f FROM unnest($2::text[], $3::int[], $4::int[]) AS e(expert_id, g, f)
           ON CONFLICT (project_id, expert_id) DO UPDATE SET
               graded = grading_stats.graded + EXCLUDED.graded, flat = grading_stats.flat + EXCLUDED.flat
           RETURNING expert_id, graded, flat""",
        project_id,
        experts,
        [totals[e][0] for e in experts],
        [totals[e][1] for e in experts],
    )
    project = await conn.fetchrow(
        """SELECT coalesce(sum(graded), 0) AS graded, coalesce(sum(flat), 0) AS flat
           FROM grading_stats WHERE project_id = $1""",
        project_id,
    )
    return {r["expert_id"]: (r["graded"], r["flat"]) for r in rows}, (project["graded"], project["flat"])


async def judgments_of_tasks(
    conn: asyncpg.Connection, project_id: uuid.UUID, revisions: dict[str, int]
) -> dict[str, list[TaskSubmission]]:
    """The submissions for each task's given revision (in arrival order) with the deciding review's
    weighted total, if any: a reworked task is aggregated from its rework alone."""
    rows = await conn.fetch(
        """SELECT s.task_id, s.submission_id, s.expert_id, s.payload, s.state, r.weighted_total
           FROM unnest($2::text[], $3::int[]) AS k(task_id, revision)
           JOIN submissions s ON s.project_id = $1 AND s.task_id = k.task_id AND s.revision = k.revision
           LEFT JOIN reviews r ON r.submission_id = s.submission_id AND r.slot = 0 AND r.state = 'done'
           ORDER BY s.seq""",
        project_id,
        list(revisions),
        list(revisions.values()),
    )
    out: dict[str, list[TaskSubmission]] = {}
    for r in rows:
        out.setdefault(r["task_id"], []).append(
            TaskSubmission(
                r["submission_id"], r["expert_id"], r["payload"], SubmissionState(r["state"]), r["weighted_total"]
            )
        )
    return out
