"""The projects QA judges."""

from __future__ import annotations

import json
import uuid

import asyncpg

from cohort_qa.domain.projects import Criterion, DataKind, QaProject


async def upsert(conn: asyncpg.Connection, p: QaProject) -> None:
    await conn.execute(
        """INSERT INTO projects (project_id, lab_id, data_kind, domain, overlap, max_overlap, review_sample_rate,
                                 minimum_quality, criteria, rubric_version, instructions_version, screening_tasks,
                                 screening_pass_share, min_confidence, min_rubric_agreement, rubric_tolerance,
                                 min_degree, fields, languages)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
           ON CONFLICT (project_id) DO UPDATE SET
               lab_id = EXCLUDED.lab_id, data_kind = EXCLUDED.data_kind, domain = EXCLUDED.domain,
               overlap = EXCLUDED.overlap, max_overlap = EXCLUDED.max_overlap,
               review_sample_rate = EXCLUDED.review_sample_rate, minimum_quality = EXCLUDED.minimum_quality,
               criteria = EXCLUDED.criteria, rubric_version = EXCLUDED.rubric_version,
               instructions_version = EXCLUDED.instructions_version, screening_tasks = EXCLUDED.screening_tasks,
               screening_pass_share = EXCLUDED.screening_pass_share, min_confidence = EXCLUDED.min_confidence,
               min_rubric_agreement = EXCLUDED.min_rubric_agreement, rubric_tolerance = EXCLUDED.rubric_tolerance,
               min_degree = EXCLUDED.min_degree, fields = EXCLUDED.fields, languages = EXCLUDED.languages,
               state = 'active', updated_at = now()""",
        p.project_id,
        p.lab_id,
        p.kind.value,
        p.domain,
        p.overlap,
        p.max_overlap,
        p.review_sample_rate,
        p.minimum_quality,
        json.dumps([c.__dict__ for c in p.criteria]),
        p.rubric_version,
        p.instructions_version,
        p.screening_tasks,
        p.screening_pass_share,
        p.min_confidence,
        p.min_rubric_agreement,
        p.rubric_tolerance,
        p.min_degree,
        list(p.fields),
        list(p.languages),
    )


async def set_state(conn: asyncpg.Connection, project_id: uuid.UUID, state: str) -> None:
    await conn.execute("UPDATE projects SET state = $2, updated_at = now() WHERE project_id = $1", project_id, state)


def _from_row(row: asyncpg.Record) -> QaProject:
    return QaProject(
        project_id=row["project_id"],
        lab_id=row["lab_id"],
        kind=DataKind(row["data_kind"]),
        domain=row["domain"],
        overlap=row["overlap"],
        max_overlap=row["max_overlap"],
        review_sample_rate=row["review_sample_rate"],
        minimum_quality=row["minimum_quality"],
        criteria=tuple(Criterion(**c) for c in json.loads(row["criteria"])),
        rubric_version=row["rubric_version"],
        instructions_version=row["instructions_version"],
        screening_tasks=row["screening_tasks"],
        screening_pass_share=row["screening_pass_share"],
        min_confidence=row["min_confidence"],
        min_rubric_agreement=row["min_rubric_agreement"],
        rubric_tolerance=row["rubric_tolerance"],
        min_degree=row["min_degree"],
        fields=tuple(row["fields"]),
        languages=tuple(row["languages"]),
    )


async def state(conn: asyncpg.Connection, project_id: uuid.UUID) -> str | None:
    found: str | None = await conn.fetchval("SELECT state FROM projects WHERE project_id = $1", project_id)
    return found


async def get(conn: asyncpg.Connection, project_id: uuid.UUID) -> QaProject | None:
    row = await conn.fetchrow("SELECT * FROM projects WHERE project_id = $1", project_id)
    return _from_row(row) if row else None


async def get_many(conn: asyncpg.Connection, project_ids: list[uuid.UUID]) -> dict[uuid.UUID, QaProject]:
    rows = await conn.fetch("SELECT * FROM projects WHERE project_id = ANY($1::uuid[])", project_ids)
    return {row["project_id"]: _from_row(row) for row in rows}
