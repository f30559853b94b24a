"""The asyncpg pool, opened on a configured URL or on the embedded PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from storage import migrations
from storage.errors import StorageError

log = logging.getLogger("storage.database")

EMBEDDED_DATABASE = "dialer"

Pool: TypeAlias = asyncpg.Pool
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
"""A connection, whether opened directly or acquired from a pool."""
Executor: TypeAlias = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy
"""Anything that runs a query: a pool or a connection."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def ensure_database(admin_dsn: str, name: str) -> None:
    """Create database `name` on first use (embedded server only)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
            log.info("database created", extra={"fields": {"database": name}})
    finally:
        await conn.close()


async def create_pool(dsn: str, min_size: int, max_size: int) -> Pool:
    try:
        pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, init=_init_connection
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
    assert pool is not None
    return pool


def record_to_dict(record: Any) -> dict[str, Any]:
    return dict(record.items())


def with_database(dsn: str, database: str) -> str:
    """The same server and credentials, another database."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


@contextlib.asynccontextmanager
async def scratch_database(
    admin: Executor, dsn: str, prefix: str, *, migrate: bool = True
) -> AsyncIterator[Pool]:
    """A throw-away database on the same server (benchmarks, tests), dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        pool = await create_pool(with_database(dsn, name), 1, 4)
        try:
            if migrate:
                async with pool.acquire() as conn:
                    await migrations.migrate(conn)
            yield pool
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
