"""Versioned SQL migrations per service schema, safe to run from several replicas at once.

Files are `NNNN_description.sql` in a folder; each is applied once, in its own transaction, and
recorded with its SHA-256. A file changed after it was applied stops start-up with a clear error
(fix forward with a new file instead). A session advisory lock per schema serialises concurrent
runners: the second waits, then finds nothing left to do.

Stored functions are code, not schema history: they live in `routines/name.sql` beside the
migrations, written as `CREATE OR REPLACE`, and are applied again after the migrations on every
run, so a change to one is an ordinary edit of one file that reviews as a diff.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_SCHEMA = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class MigrationError(Exception):
    """The migrations on disk and the ones recorded in the database disagree."""


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.component}:{self.version:04d}_{self.name}.sql"


@dataclass(frozen=True)
class Routine:
    """A stored function (or view) re-applied on every migrate; its SQL must be idempotent."""

    component: str
    name: str
    sql: str

    @property
    def label(self) -> str:
        return f"{self.component}:routines/{self.name}.sql"


_ROUTINE = re.compile(r"^([a-z0-9_]+)\.sql$")


def routines_in(component: str, directory: Path) -> list[Routine]:
    """The routines in `directory/routines` (none when the folder is absent), by name."""
    folder = directory / "routines"
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.sql")):
        match = _ROUTINE.match(path.name)
        if not match:
            raise MigrationError(f"{component}: routine file {path.name!r} is not named name.sql")
        sql = path.read_text()
        if "CREATE OR REPLACE" not in sql.upper():
            raise MigrationError(f"{component}: {path.name} must use CREATE OR REPLACE (it is applied on every run)")
        out.append(Routine(component, match.group(1), sql))
    return out


def load_migrations(component: str, files: dict[str, str]) -> list[Migration]:
    """Parse {file name: SQL} into ordered migrations; reject odd names and duplicate versions."""
    found: dict[int, Migration] = {}
    for filename, sql in files.items():
        match = _FILE.match(filename)
        if not match:
            raise MigrationError(f"{component}: {filename!r} is not named NNNN_description.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{component}: two migrations have version {version:04d}")
        found[version] = Migration(component, version, match.group(2), sql)
    return [found[v] for v in sorted(found)]


def migrations_in(component: str, directory: Path) -> list[Migration | Routine]:
    """The versioned migrations of `directory`, then its routines."""
    if not directory.is_dir():
        raise MigrationError(f"{component}: migrations folder {directory} does not exist")
    versioned = load_migrations(component, {p.name: p.read_text() for p in directory.glob("*.sql")})
    return [*versioned, *routines_in(component, directory)]


def runtime_migrations() -> list[Migration]:
    """The chassis's own tables (outbox, inbox), applied to every service schema first."""
    folder = resources.files("cohort_runtime") / "migrations"
    return load_migrations("runtime", {f.name: f.read_text() for f in folder.iterdir() if f.name.endswith(".sql")})


async def migrate(conn: asyncpg.Connection, schema: str, steps: Sequence[Migration | Routine]) -> list[str]:
    """Apply what is pending to `schema`, then every routine; returns the migrations applied now."""
    migrations = [m for m in steps if isinstance(m, Migration)]
    routines = [r for r in steps if isinstance(r, Routine)]
    if not _SCHEMA.match(schema):
        raise MigrationError(f"invalid schema name {schema!r}")
    lock_key = f"cohort.migrate.{schema}"
    await conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", lock_key)
    try:
        # Identifier checked against _SCHEMA above; identifiers cannot be bind parameters.
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                    component text NOT NULL,
                    version integer NOT NULL,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (component, version))"""
        )
        rows = await conn.fetch(f"SELECT component, version, name, checksum FROM {schema}.schema_migrations")  # noqa: S608 - schema matched _SCHEMA
        applied = {(r["component"], r["version"]): r for r in rows}
        known = {(m.component, m.version) for m in migrations}
        components = {m.component for m in migrations}
        for (component, version), row in applied.items():
            if component in components and (component, version) not in known:
                raise MigrationError(
                    f"{component}:{version:04d}_{row['name']}.sql is applied in schema {schema} but missing on disk"
                )
        done: list[str] = []
        for m in migrations:
            row = applied.get((m.component, m.version))
            if row is not None:
                if row["checksum"] != m.checksum:
                    raise MigrationError(
                        f"{m.label} changed after it was applied to schema {schema} "
                        f"(recorded sha256 {row['checksum'][:12]}…, file {m.checksum[:12]}…); "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            async with conn.transaction():
                await conn.execute(f"SET LOCAL search_path TO {schema}")
                await conn.execute(m.sql)
                await conn.execute(
                    f"INSERT INTO {schema}.schema_migrations (component, version, name, checksum) "  # noqa: S608 - schema matched _SCHEMA
                    "VALUES ($1, $2, $3, $4)",
                    m.component,
                    m.version,
                    m.name,
                    m.checksum,
                )
            log.info("applied migration %s to schema %s", m.label, schema)
            done.append(m.label)
        for r in routines:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL search_path TO {schema}")
                await conn.execute(r.sql)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", lock_key)
