"""The api_keys table."""

from __future__ import annotations

import uuid

import asyncpg

from cohort_intake.domain.api_keys import ApiKey


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        lab_id=row["lab_id"],
        prefix=row["prefix"],
        display_name=row["display_name"],
        create_time=row["create_time"],
        revoke_time=row["revoke_time"],
    )


async def insert(conn: asyncpg.Connection, key: ApiKey, secret_hash: bytes) -> None:
    await conn.execute(
        """INSERT INTO api_keys (key_id, lab_id, prefix, secret_hash, display_name, create_time)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        key.key_id,
        key.lab_id,
        key.prefix,
        secret_hash,
        key.display_name,
        key.create_time,
    )


async def list_for_lab(conn: asyncpg.Connection, lab_id: uuid.UUID) -> list[ApiKey]:
    rows = await conn.fetch("SELECT * FROM api_keys WHERE lab_id = $1 ORDER BY create_time DESC, key_id", lab_id)
    return [_key(r) for r in rows]


async def revoke(conn: asyncpg.Connection, key_id: uuid.UUID) -> ApiKey | None:
    row = await conn.fetchrow(
        """UPDATE api_keys SET revoke_time = coalesce(revoke_time, now())
           WHERE key_id = $1 RETURNING *""",
        key_id,
    )
    return _key(row) if row else None


async def find_valid(conn: asyncpg.Connection, prefix: str) -> tuple[uuid.UUID, uuid.UUID, bytes] | None:
    """(lab_id, key_id, secret_hash) of the unrevoked key with this prefix."""
    row = await conn.fetchrow(
        "SELECT lab_id, key_id, secret_hash FROM api_keys WHERE prefix = $1 AND revoke_time IS NULL", prefix
    )
    return (row["lab_id"], row["key_id"], bytes(row["secret_hash"])) if row else None
