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
        reset=_keep_session,
    )
    if pool is None:  # only when asyncpg is asked not to connect eagerly, which we never do
        raise RuntimeError("asyncpg returned no pool")
    return pool


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Pool release without asyncpg's default reset query (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL): that is a round trip on every release, a tenth of a hot path's queries. The
    services keep no session state on pooled connections: advisory locks are transaction-scoped or
    released explicitly, listeners are removed before release, settings are SET LOCAL. asyncpg
    still rolls back a transaction left open before calling this."""
