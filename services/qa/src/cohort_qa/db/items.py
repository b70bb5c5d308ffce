"""Finalized items (one per task and revision), with what each delivered."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import asyncpg

from cohort_qa.domain.consensus import ChosenItem, ItemResult, PreferenceItem, RubricItem


def result_json(result: ItemResult) -> str:
    """What an item delivered, as stored in `items.result`."""
    if isinstance(result, PreferenceItem):
        return json.dumps({"ranking": list(result.ranking)})
    if isinstance(result, RubricItem):
        return json.dumps({"scores": dict(result.scores), "overall": result.overall})
    return json.dumps({"submission_id": str(result.submission_id)})


def result_from_json(stored: str) -> ItemResult:
    data = json.loads(stored)
    if "ranking" in data:
        return PreferenceItem(tuple(data["ranking"]))
    if "scores" in data:
        return RubricItem(data["scores"], data["overall"])
    return ChosenItem(uuid.UUID(data["submission_id"]))


async def insert_many(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    items: list[tuple[uuid.UUID, str, float, float, int, uuid.UUID | None, ItemResult]],
    now: dt.datetime,
) -> None:
    """(item id, task, agreement, confidence, revision, item superseded, result); the caller holds
    the tasks' locks, so none exists yet."""
    await conn.execute(
        """INSERT INTO items (item_id, project_id, task_id, agreement, confidence, finalized_at, revision, supersedes,
                              result)
           SELECT i.item_id, $1, i.task_id, i.agreement, i.confidence, $6, i.revision, i.supersedes, i.result
           FROM unnest($2::uuid[], $3::text[], $4::float8[], $5::float8[], $7::int[], $8::uuid[], $9::jsonb[])
                AS i(item_id, task_id, agreement, confidence, revision, supersedes, result)""",
        project_id,
        [i[0] for i in items],
        [i[1] for i in items],
        [i[2] for i in items],
        [i[3] for i in items],
        now,
        [i[4] for i in items],
        [i[5] for i in items],
        [result_json(i[6]) for i in items],
    )


async def reviewer_scores(conn: asyncpg.Connection, submission_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[float]]:
    rows = await conn.fetch(
        """SELECT submission_id, weighted_total FROM reviews WHERE submission_id = ANY($1::uuid[]) AND state = 'done'
           ORDER BY done_at""",
        submission_ids,
    )
    out: dict[uuid.UUID, list[float]] = {}
    for r in rows:
        out.setdefault(r["submission_id"], []).append(r["weighted_total"])
    return out
