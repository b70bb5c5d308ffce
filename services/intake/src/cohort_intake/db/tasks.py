"""The tasks table: JSON documents for input and gold, bulk inserts with unnest()."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg

from cohort_intake.domain.tasks import Candidate, ChatMessage, GoldReference, NewTask, Task, TaskInput


def input_to_json(t: TaskInput) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "candidates": [[c.candidate_id, c.content] for c in t.candidates],
        "metadata": dict(t.metadata),
    }
    if t.prompt is not None:
        doc["prompt"] = t.prompt
    if t.conversation is not None:
        doc["conversation"] = [[m.role, m.content] for m in t.conversation]
    return doc


def input_from_json(doc: dict[str, Any]) -> TaskInput:
    conversation = doc.get("conversation")
    return TaskInput(
        prompt=doc.get("prompt"),
        conversation=tuple(ChatMessage(r, c) for r, c in conversation) if conversation is not None else None,
        candidates=tuple(Candidate(i, c) for i, c in doc["candidates"]),
        metadata=tuple(sorted(doc["metadata"].items())),
    )


def gold_to_json(g: GoldReference) -> dict[str, Any]:
    return {"text": g.text, "ranking": list(g.ranking), "criterion_scores": dict(g.criterion_scores)}


def gold_from_json(doc: dict[str, Any]) -> GoldReference:
    return GoldReference(
        text=doc["text"],
        ranking=tuple(doc["ranking"]),
        criterion_scores=tuple(sorted(doc["criterion_scores"].items())),
    )


def _task(row: asyncpg.Record) -> Task:
    gold = row["gold"]
    return Task(
        project_id=row["project_id"],
        task_id=row["task_id"],
        input=input_from_json(json.loads(row["input"])),
        gold=gold_from_json(json.loads(gold)) if gold is not None else None,
        create_time=row["create_time"],
        seq=row["seq"],
        screening=row["screening"],
    )


async def existing_hashes(conn: asyncpg.Connection, project_id: uuid.UUID, task_ids: list[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT task_id, content_hash FROM tasks WHERE project_id = $1 AND task_id = ANY($2::text[])",
        project_id,
        task_ids,
    )
    return {r["task_id"]: r["content_hash"] for r in rows}


async def insert_many(conn: asyncpg.Connection, project_id: uuid.UUID, tasks: list[NewTask], now: dt.datetime) -> None:
    # One statement for the whole batch: per-row round trips would cap ingestion far below target.
    await conn.execute(
        """INSERT INTO tasks (project_id, task_id, input, gold, content_hash, create_time, screening)
           SELECT $1, t.task_id, t.input::jsonb, t.gold::jsonb, t.content_hash, $5, t.screening
           FROM unnest($2::text[], $3::text[], $4::text[], $6::text[], $7::boolean[])
                AS t(task_id, input, gold, content_hash, screening)""",
        project_id,
        [t.task_id for t in tasks],
        [json.dumps(input_to_json(t.input)) for t in tasks],
        [json.dumps(gold_to_json(t.gold)) if t.gold is not None else None for t in tasks],
        now,
        [t.content_hash() for t in tasks],
        [t.screening for t in tasks],
    )


async def screening_count(conn: asyncpg.Connection, project_id: uuid.UUID) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM tasks WHERE project_id = $1 AND screening", project_id)
    return count


async def get_many(conn: asyncpg.Connection, project_id: uuid.UUID, task_ids: list[str]) -> dict[str, Task]:
    rows = await conn.fetch(
        "SELECT * FROM tasks WHERE project_id = $1 AND task_id = ANY($2::text[])", project_id, task_ids
    )
    return {r["task_id"]: _task(r) for r in rows}


async def get(conn: asyncpg.Connection, project_id: uuid.UUID, task_id: str) -> Task | None:
    row = await conn.fetchrow("SELECT * FROM tasks WHERE project_id = $1 AND task_id = $2", project_id, task_id)
    return _task(row) if row else None


async def page(conn: asyncpg.Connection, project_id: uuid.UUID, after_seq: int | None, limit: int) -> list[Task]:
    rows = await conn.fetch(
        """SELECT * FROM tasks WHERE project_id = $1 AND ($2::bigint IS NULL OR seq > $2)
           ORDER BY seq LIMIT $3""",
        project_id,
        after_seq,
        limit,
    )
    return [_task(r) for r in rows]
