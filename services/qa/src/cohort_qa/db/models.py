"""The per-project Dawid-Skene fit: class priors and each expert's confusion matrix."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import numpy as np


async def get(
    conn: asyncpg.Connection, project_id: uuid.UUID, experts: list[str]
) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    row = await conn.fetchrow("SELECT classes, priors FROM project_models WHERE project_id = $1", project_id)
    if row is None:
        return None, {}
    k = row["classes"]
    rows = await conn.fetch(
        "SELECT expert_id, matrix FROM expert_confusion WHERE project_id = $1 AND expert_id = ANY($2::text[])",
        project_id,
        experts,
    )
    return np.array(row["priors"]), {r["expert_id"]: np.array(r["matrix"]).reshape(k, k) for r in rows}


async def save(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    priors: np.ndarray,
    confusion: dict[str, np.ndarray],
    judgments: int,
    now: dt.datetime,
    fit_seconds: float = 0.0,
) -> None:
    await conn.execute(
        """INSERT INTO project_models (project_id, classes, priors, judgments, fitted_at, fit_seconds)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (project_id) DO UPDATE SET classes = EXCLUDED.classes, priors = EXCLUDED.priors,
               judgments = EXCLUDED.judgments, fitted_at = EXCLUDED.fitted_at, fit_seconds = EXCLUDED.fit_seconds""",
        project_id,
        len(priors),
        [float(p) for p in priors],
        judgments,
        now,
        fit_seconds,
    )
    experts = sorted(confusion)
    await conn.execute(
        """INSERT INTO expert_confusion (project_id, expert_id, matrix)
           SELECT $1, e.expert_id, string_to_array(e.matrix, ',')::float8[]
           FROM unnest($2::text[], $3::text[]) AS e(expert_id, matrix)
           ON CONFLICT (project_id, expert_id) DO UPDATE SET matrix = EXCLUDED.matrix""",
        project_id,
        experts,
        [",".join(repr(float(x)) for x in confusion[e].ravel()) for e in experts],
    )


async def stale_projects(conn: asyncpg.Connection, min_new: int, rest_factor: float) -> list[uuid.UUID]:
    """Categorical projects still taking work (active or paused) with at least `min_new` accepted
    judgments more than their last fit saw, and rested since it for `rest_factor` times as long as
    it took. Finished projects are not counted: they need no refit, and counting them made every
    pass read the whole history (240 ms every 10 s at 1M judgments). A resting project is not
    counted either (the condition on its model is applied before the count)."""
    rows = await conn.fetch(
        """SELECT p.project_id FROM projects p
           LEFT JOIN project_models m USING (project_id)
           CROSS JOIN LATERAL (SELECT count(*) AS n FROM submissions s
                               WHERE s.project_id = p.project_id AND s.state = 'accepted'
                                 AND s.top_choice IS NOT NULL) c
           WHERE p.data_kind = 'preference' AND p.state IN ('active', 'paused')
             AND (m.fitted_at IS NULL OR m.fitted_at + make_interval(secs => m.fit_seconds * $2) <= now())
             AND c.n >= coalesce(m.judgments, 0) + $1""",
        min_new,
        rest_factor,
    )
    return [r["project_id"] for r in rows]


async def categorical_answers(conn: asyncpg.Connection, project_id: uuid.UUID) -> list[asyncpg.Record]:
    """(task, expert, top choice, accepted) of every decided preference in the project: the
    accepted ones are what the model is fitted on; the collusion test reads the rejected ones too."""
    return list(
        await conn.fetch(
            """SELECT task_id, expert_id, top_choice, state = 'accepted' AS accepted FROM submissions
           WHERE project_id = $1 AND state IN ('accepted', 'rejected') AND top_choice IS NOT NULL""",
            project_id,
        )
    )


async def task_candidates(
    conn: asyncpg.Connection, project_id: uuid.UUID, task_ids: list[str]
) -> dict[str, tuple[tuple[str, ...] | None, bytes | None]]:
    """Per task (of these, those QA has seen), its candidate ids in the lab's order as stored at
    ingestion, or, for a task stored before they were (NULL), its input to read them from. A
    refit reads the judged tasks only, not the whole project, which may hold far more tasks than
    have judgments yet."""
    rows = await conn.fetch(
        """SELECT task_id, candidate_ids, CASE WHEN candidate_ids IS NULL THEN input END AS input
           FROM tasks WHERE project_id = $1 AND task_id = ANY($2::text[]) AND input IS NOT NULL""",
        project_id,
        task_ids,
    )
    return {
        r["task_id"]: (tuple(r["candidate_ids"]) if r["candidate_ids"] is not None else None, r["input"]) for r in rows
    }
