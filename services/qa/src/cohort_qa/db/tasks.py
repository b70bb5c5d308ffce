"""Tasks as QA knows them: input, gold reference, target overlap, finalization."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass
class TaskRow:
    project_id: uuid.UUID
    task_id: str
    input: bytes | None
    is_gold: bool
    gold: bytes | None
    target_overlap: int | None
    finalized: bool
    revision: int = 1


async def add_inputs(
    conn: asyncpg.Connection, project_id: uuid.UUID, tasks: list[tuple[str, bytes, bool, list[str]]]
) -> None:
    """(task, input, is gold, candidate ids); the candidate ids travel as a JSON array per task (a
    text[][] array cannot be ragged)."""
    await conn.execute(
        """INSERT INTO tasks (project_id, task_id, input, is_gold, candidate_ids)
           SELECT $1, t.task_id, t.input, t.is_gold, ARRAY(SELECT jsonb_array_elements_text(t.candidates))
           FROM unnest($2::text[], $3::bytea[], $4::bool[], $5::jsonb[]) AS t(task_id, input, is_gold, candidates)
           ON CONFLICT (project_id, task_id) DO UPDATE
           SET input = EXCLUDED.input, is_gold = EXCLUDED.is_gold, candidate_ids = EXCLUDED.candidate_ids""",
        project_id,
        [t[0] for t in tasks],
        [t[1] for t in tasks],
        [t[2] for t in tasks],
        [json.dumps(t[3]) for t in tasks],
    )


async def add_gold(conn: asyncpg.Connection, project_id: uuid.UUID, references: list[tuple[str, bytes]]) -> None:
    await conn.execute(
        """INSERT INTO tasks (project_id, task_id, gold, is_gold)
           SELECT $1, r.task_id, r.gold, true FROM unnest($2::text[], $3::bytea[]) AS r(task_id, gold)
           ON CONFLICT (project_id, task_id) DO UPDATE SET gold = EXCLUDED.gold, is_gold = true""",
        project_id,
        [r[0] for r in references],
        [r[1] for r in references],
    )


def _row(r: asyncpg.Record) -> TaskRow:
    return TaskRow(
        r["project_id"],
        r["task_id"],
        r["input"],
        r["is_gold"],
        r["gold"],
        r["target_overlap"],
        r["finalized_at"] is not None,
        r["revision"],
    )


async def get_many(conn: asyncpg.Connection, keys: list[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], TaskRow]:
    rows = await conn.fetch(
        """SELECT t.* FROM tasks t JOIN unnest($1::uuid[], $2::text[]) AS k(project_id, task_id)
           USING (project_id, task_id)""",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r["project_id"], r["task_id"]): _row(r) for r in rows}


async def lock_many(conn: asyncpg.Connection, project_id: uuid.UUID, task_ids: list[str]) -> list[TaskRow]:
    """The tasks' rows, created if QA never got their input, locked for this transaction in task id
    order (so concurrent batches and reviews never deadlock)."""
    await conn.execute(
        """INSERT INTO tasks (project_id, task_id) SELECT $1, t FROM unnest($2::text[]) AS t
           ON CONFLICT DO NOTHING""",
        project_id,
        task_ids,
    )
    rows = await conn.fetch(
        """SELECT * FROM tasks WHERE project_id = $1 AND task_id = ANY($2::text[])
           ORDER BY task_id FOR UPDATE""",
        project_id,
        task_ids,
    )
    return [_row(r) for r in rows]


async def finalized(conn: asyncpg.Connection, project_id: uuid.UUID, task_ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        """SELECT task_id FROM tasks WHERE project_id = $1 AND task_id = ANY($2::text[])
           AND finalized_at IS NOT NULL""",
        project_id,
        task_ids,
    )
    return {r["task_id"] for r in rows}


async def set_targets(conn: asyncpg.Connection, project_id: uuid.UUID, targets: list[tuple[str, int]]) -> None:
    if targets:
        await conn.execute(
            """UPDATE tasks t SET target_overlap = n.target FROM unnest($2::text[], $3::int[]) AS n(task_id, target)
               WHERE t.project_id = $1 AND t.task_id = n.task_id""",
            project_id,
            [t for t, _ in targets],
            [n for _, n in targets],
        )


async def mark_finalized(conn: asyncpg.Connection, project_id: uuid.UUID, task_ids: list[str]) -> None:
    await conn.execute(
        "UPDATE tasks SET finalized_at = now() WHERE project_id = $1 AND task_id = ANY($2::text[])",
        project_id,
        task_ids,
    )


async def reopen(conn: asyncpg.Connection, project_id: uuid.UUID, task_id: str, revision: int) -> bool:
    """Reopen a task finalized at `revision` - 1 for rework at `revision` (the project's overlap
    again); False when it is not (another revision already, or not finalized)."""
    status: str = await conn.execute(
        """UPDATE tasks SET revision = $3, finalized_at = NULL, target_overlap = NULL
           WHERE project_id = $1 AND task_id = $2 AND revision = $3 - 1 AND finalized_at IS NOT NULL""",
        project_id,
        task_id,
        revision,
    )
    return status.endswith(" 1")
