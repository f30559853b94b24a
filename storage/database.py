"""The asyncpg pool, opened on a configured URL or on the embedded PostgreSQL."""

from __future__ import annotations

import json
import logging
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

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
