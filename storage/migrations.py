"""The migration runner: numbered SQL files applied once each, in order, each in a transaction.

`schema_migrations` records what ran (with each file's SHA-256); re-running is a no-op, and a
runner waits on an advisory lock so two processes never apply the same file twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from storage.errors import MigrationError

if TYPE_CHECKING:
    from storage.database import Connection

log = logging.getLogger("storage.migrations")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
ADVISORY_LOCK_KEY = 0x6469616C6572  # "dialer"
FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    sha256      text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class MigrationStatus:
    version: int
    name: str
    applied_at: datetime | None
    changed_since_applied: bool


def discover(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = FILE_PATTERN.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_snake_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers in {folder}")
    return found


async def migrate(conn: Connection, folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply every pending migration; return those applied now (empty when up to date)."""
    await conn.execute(CREATE_TABLE)
    applied_now: list[Migration] = []
    await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
    try:
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in discover(folder):
            if migration.version in done:
                continue
            await _apply(conn, migration)
            applied_now.append(migration)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
    return applied_now


async def _apply(conn: Connection, migration: Migration) -> None:
    try:
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.sha256,
            )
    except asyncpg.PostgresError as exc:
        raise MigrationError(f"migration {migration.path.name} failed: {exc}") from exc
    log.info("migration applied", extra={"fields": {"version": migration.version}})


async def status(conn: Connection, folder: Path = MIGRATIONS_DIR) -> list[MigrationStatus]:
    """Every known migration with when it ran, and whether its file changed since."""
    await conn.execute(CREATE_TABLE)
    rows = {r["version"]: r for r in await conn.fetch("SELECT * FROM schema_migrations")}
    out: list[MigrationStatus] = []
    for migration in discover(folder):
        row = rows.get(migration.version)
        changed = row is not None and row["sha256"] != migration.sha256
        out.append(
            MigrationStatus(
                migration.version, migration.name, row["applied_at"] if row else None, changed
            )
        )
    return out
