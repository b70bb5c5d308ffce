"""The projects table. Every read is scoped to the calling lab."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import asyncpg

from cohort_intake.db.spec_json import from_json, to_json
from cohort_intake.domain.projects import Project, ProjectState


def _project(row: asyncpg.Record) -> Project:
    return Project(
        project_id=row["project_id"],
        lab_id=row["lab_id"],
        state=ProjectState(row["state"]),
        spec=from_json(json.loads(row["spec"])),
        instructions_version=row["instructions_version"],
        rubric_version=row["rubric_version"],
        pause_reason=row["pause_reason"],
        create_time=row["create_time"],
        update_time=row["update_time"],
    )


async def insert(conn: asyncpg.Connection, p: Project, request_id: uuid.UUID, fingerprint: str) -> None:
    await conn.execute(
        """INSERT INTO projects (project_id, lab_id, state, spec, instructions_version, rubric_version,
                                 pause_reason, create_time, update_time, request_id, request_fingerprint)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11)""",
        p.project_id,
        p.lab_id,
        p.state.value,
        json.dumps(to_json(p.spec)),
        p.instructions_version,
        p.rubric_version,
        p.pause_reason,
        p.create_time,
        p.update_time,
        request_id,
        fingerprint,
    )


async def update(conn: asyncpg.Connection, p: Project) -> None:
    await conn.execute(
        """UPDATE projects SET state = $2, spec = $3::jsonb, instructions_version = $4, rubric_version = $5,
                               pause_reason = $6, update_time = $7
           WHERE project_id = $1""",
        p.project_id,
        p.state.value,
        json.dumps(to_json(p.spec)),
        p.instructions_version,
        p.rubric_version,
        p.pause_reason,
        p.update_time,
    )


async def created_since(conn: asyncpg.Connection, lab_id: uuid.UUID, since: dt.datetime) -> list[dt.datetime]:
    """When the lab's projects created since `since` were created (for its hourly quota)."""
    rows = await conn.fetch("SELECT create_time FROM projects WHERE lab_id = $1 AND create_time > $2", lab_id, since)
    return [r["create_time"] for r in rows]


async def find_by_request(
    conn: asyncpg.Connection, lab_id: uuid.UUID, request_id: uuid.UUID
) -> tuple[Project, str] | None:
    row = await conn.fetchrow(
        "SELECT * FROM projects WHERE lab_id = $1 AND request_id = $2",
        lab_id,
        request_id,
    )
    return (_project(row), row["request_fingerprint"]) if row else None


async def get(
    conn: asyncpg.Connection, lab_id: uuid.UUID, project_id: uuid.UUID, *, for_update: bool = False
) -> Project | None:
    # Locking the project row first makes it the transaction's first write, which keeps the
    # outbox's txid order equal to the order of changes to this project.
    if for_update:
        row = await conn.fetchrow(
            "SELECT * FROM projects WHERE project_id = $1 AND lab_id = $2 FOR UPDATE", project_id, lab_id
        )
    else:
        row = await conn.fetchrow("SELECT * FROM projects WHERE project_id = $1 AND lab_id = $2", project_id, lab_id)
    return _project(row) if row else None


async def page(
    conn: asyncpg.Connection,
    lab_id: uuid.UUID,
    state: ProjectState | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[Project]:
    """Newest first; `after` is the (create_time, project_id) of the previous page's last row."""
    rows = await conn.fetch(
        """SELECT * FROM projects
            WHERE lab_id = $1
              AND ($2::text IS NULL OR state = $2)
              AND ($3::timestamptz IS NULL OR (create_time, project_id) < ($3, $4))
            ORDER BY create_time DESC, project_id DESC
            LIMIT $5""",
        lab_id,
        state.value if state else None,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_project(r) for r in rows]


async def existing(conn: asyncpg.Connection, project_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of the ids are projects: for events from other services, never for a lab's request."""
    rows = await conn.fetch("SELECT project_id FROM projects WHERE project_id = ANY($1::uuid[])", project_ids)
    return {r["project_id"] for r in rows}


async def get_internal(conn: asyncpg.Connection, project_id: uuid.UUID, *, for_update: bool = False) -> Project | None:
    """A project by id alone: for events from other services, never for a lab's request."""
    if for_update:
        row = await conn.fetchrow("SELECT * FROM projects WHERE project_id = $1 FOR UPDATE", project_id)
    else:
        row = await conn.fetchrow("SELECT * FROM projects WHERE project_id = $1", project_id)
    return _project(row) if row else None
