"""The asyncpg pool of a service, confined to the service's own schema."""

from __future__ import annotations

import asyncpg


async def create_pool(
    dsn: str, schema: str, *, application_name: str, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    # search_path pins every unqualified name to the service's schema: no service can read another's
    # tables by accident. pg_catalog stays first implicitly.
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": schema, "application_name": application_name},
    )
    if pool is None:  # only when asyncpg is asked not to connect eagerly, which we never do
        raise RuntimeError("asyncpg returned no pool")
    return pool
