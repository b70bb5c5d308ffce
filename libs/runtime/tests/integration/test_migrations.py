"""The migration runner applies each file once, even with two runners at the same moment, and
refuses to start when an applied file was edited or removed."""

from __future__ import annotations

import asyncio
import sys
import textwrap

import asyncpg
import pytest

from cohort_runtime.migrations import MigrationError, load_migrations, migrate

# Not idempotent on purpose (a second application would fail), and slow enough that two
# unserialised runners would overlap.
SLOW_MIGRATIONS = {
    "0001_first.sql": "SELECT pg_sleep(0.5); CREATE TABLE widgets (id int PRIMARY KEY);",
    "0002_second.sql": "ALTER TABLE widgets ADD COLUMN name text NOT NULL DEFAULT '';",
}

RUNNER = textwrap.dedent(
    """
    import asyncio, json, sys
    import asyncpg
    from cohort_runtime.migrations import load_migrations, migrate

    async def main(dsn, schema, files):
        conn = await asyncpg.connect(dsn)
        try:
            applied = await migrate(conn, schema, load_migrations("svc", json.loads(files)))
        finally:
            await conn.close()
        print(json.dumps(applied))

    asyncio.run(main(*sys.argv[1:4]))
    """
)


async def test_two_processes_migrating_at_once_apply_each_file_once(database_url, schema):
    import json

    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RUNNER,
            database_url,
            schema,
            json.dumps(SLOW_MIGRATIONS),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = [await p.communicate() for p in procs]
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err.decode()
    applied = sorted(json.loads(out) for out, _ in results)
    assert applied == [[], ["svc:0001_first.sql", "svc:0002_second.sql"]], "one runner did the work, the other none"
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(f"SELECT component, version FROM {schema}.schema_migrations ORDER BY version")
        assert [(r["component"], r["version"]) for r in rows] == [("svc", 1), ("svc", 2)]
        assert await conn.fetchval(f"SELECT count(*) FROM {schema}.widgets") == 0
    finally:
        await conn.close()


async def test_edited_applied_migration_is_refused_with_a_clear_error(database_url, schema):
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn, schema, load_migrations("svc", {"0001_a.sql": "CREATE TABLE a (id int);"}))
        edited = load_migrations("svc", {"0001_a.sql": "CREATE TABLE a (id bigint);"})
        with pytest.raises(MigrationError, match=r"svc:0001_a.sql changed after it was applied"):
            await migrate(conn, schema, edited)
        with pytest.raises(MigrationError, match=r"applied .* but missing on disk"):
            await migrate(conn, schema, load_migrations("svc", {"0002_b.sql": "SELECT 1"}))
        # A lock left behind by a failed run would block the next one: it must be released.
        other = await asyncpg.connect(database_url)
        try:
            assert await other.fetchval(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", f"cohort.migrate.{schema}"
            )
        finally:
            await other.close()
    finally:
        await conn.close()


async def test_failed_migration_leaves_nothing_behind(database_url, schema):
    conn = await asyncpg.connect(database_url)
    try:
        broken = load_migrations("svc", {"0001_a.sql": "CREATE TABLE a (id int); SELECT * FROM no_such_table;"})
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(conn, schema, broken)
        assert await conn.fetchval(f"SELECT to_regclass('{schema}.a')") is None
        assert await conn.fetchval(f"SELECT count(*) FROM {schema}.schema_migrations") == 0
    finally:
        await conn.close()
