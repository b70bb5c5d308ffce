"""Issuing, listing and revoking lab API keys (operators), and authenticating with them."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_intake.db import api_keys as repo
from cohort_intake.db import labs as labs_repo
from cohort_intake.domain import api_keys
from cohort_intake.domain.api_keys import ApiKey
from cohort_runtime.domain_errors import InvalidInput, NotFoundError, Violation

MAX_KEY_NAME = 100


def _check_name(display_name: str) -> str:
    name = display_name.strip()
    if not 1 <= len(name) <= MAX_KEY_NAME:
        raise InvalidInput([Violation("display_name", f"must be 1..{MAX_KEY_NAME} characters")])
    return name


async def create_key(pool: asyncpg.Pool, lab_id: uuid.UUID, display_name: str) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret exists only in this return value."""
    name = _check_name(display_name)
    issued = api_keys.issue()
    key = ApiKey(
        key_id=uuid.uuid4(),
        lab_id=lab_id,
        prefix=issued.prefix,
        display_name=name,
        create_time=dt.datetime.now(dt.UTC),
        revoke_time=None,
    )
    async with pool.acquire() as conn, conn.transaction():
        if await labs_repo.get(conn, lab_id) is None:
            raise NotFoundError("lab", str(lab_id))
        await repo.insert(conn, key, issued.secret_hash)
    return key, issued.secret


async def list_keys(pool: asyncpg.Pool, lab_id: uuid.UUID) -> list[ApiKey]:
    async with pool.acquire() as conn:
        if await labs_repo.get(conn, lab_id) is None:
            raise NotFoundError("lab", str(lab_id))
        return await repo.list_for_lab(conn, lab_id)


async def revoke_key(pool: asyncpg.Pool, key_id: uuid.UUID) -> ApiKey:
    async with pool.acquire() as conn:
        key = await repo.revoke(conn, key_id)
    if key is None:
        raise NotFoundError("api key", str(key_id))
    return key


async def lab_for_key(pool: asyncpg.Pool, credential: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(lab, key) a presented key authenticates, or None if it is unknown, revoked or wrong."""
    prefix = api_keys.prefix_of(credential)
    if prefix is None:
        return None
    async with pool.acquire() as conn:
        found = await repo.find_valid(conn, prefix)
    if found is None:
        return None
    lab_id, key_id, stored_hash = found
    return (lab_id, key_id) if api_keys.matches(credential, stored_hash) else None
