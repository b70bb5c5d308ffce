"""The expert pseudonyms labs were shown, for operators to map back."""

from __future__ import annotations

import uuid

import asyncpg


async def record(conn: asyncpg.Connection, lab_id: uuid.UUID, pairs: list[tuple[str, str]]) -> None:
    """(pseudonym, expert id) pairs shown to `lab_id`; ones already recorded are kept."""
    if not pairs:
        return
    await conn.execute(
        """INSERT INTO expert_pseudonyms (lab_id, pseudonym, expert_id)
           SELECT $1, p.pseudonym, p.expert_id FROM unnest($2::text[], $3::text[]) AS p(pseudonym, expert_id)
           ON CONFLICT DO NOTHING""",
        lab_id,
        [p for p, _ in pairs],
        [e for _, e in pairs],
    )


async def resolve(conn: asyncpg.Connection, lab_id: uuid.UUID, pseudonym: str) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT expert_id FROM expert_pseudonyms WHERE lab_id = $1 AND pseudonym = $2", lab_id, pseudonym
    )
    return found
