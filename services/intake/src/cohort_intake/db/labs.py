"""The labs table."""

from __future__ import annotations

import uuid

import asyncpg

from cohort_intake.domain.labs import Lab


def _lab(row: asyncpg.Record) -> Lab:
    return Lab(lab_id=row["lab_id"], display_name=row["display_name"], create_time=row["create_time"])


async def insert(conn: asyncpg.Connection, lab: Lab, request_id: uuid.UUID, fingerprint: str) -> None:
    await conn.execute(
        """INSERT INTO labs (lab_id, display_name, create_time, request_id, request_fingerprint)
           VALUES ($1, $2, $3, $4, $5)""",
        lab.lab_id,
        lab.display_name,
        lab.create_time,
        request_id,
        fingerprint,
    )


async def find_by_request(conn: asyncpg.Connection, request_id: uuid.UUID) -> tuple[Lab, str] | None:
    row = await conn.fetchrow("SELECT * FROM labs WHERE request_id = $1", request_id)
    return (_lab(row), row["request_fingerprint"]) if row else None


async def get(conn: asyncpg.Connection, lab_id: uuid.UUID) -> Lab | None:
    row = await conn.fetchrow("SELECT * FROM labs WHERE lab_id = $1", lab_id)
    return _lab(row) if row else None
