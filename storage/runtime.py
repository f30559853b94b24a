"""Open the storage a process needs: PostgreSQL and Redis, configured or embedded, and close them.

`open_storage(settings)` is the one entry point: with no database URL it starts (or reuses) the
embedded PostgreSQL, with no Redis URL the embedded Redis, and stops what it started on exit,
including when the task is cancelled by SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import redis.asyncio as aioredis

from config import Settings
from config.settings import mask_url
from storage import migrations
from storage.database import EMBEDDED_DATABASE, create_pool, ensure_database
from storage.embedded_pg import EmbeddedPostgres
from storage.embedded_redis import EmbeddedRedis
from storage.errors import StorageError

log = logging.getLogger("storage.runtime")


@dataclass
class Storage:
    """What services get: a pool, a Redis client, and where they point (passwords masked)."""

    pool: asyncpg.Pool
    redis: aioredis.Redis | None
    database_label: str
    redis_label: str | None
    database_dsn: str = field(default="", repr=False)  # holds credentials: never print it


def run_dir(settings: Settings) -> str:
    return str(settings.data_dir / "run")


@contextlib.asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[tuple[asyncpg.Pool, str, str]]:
    embedded: EmbeddedPostgres | None = None
    if settings.database_url:
        dsn, label = settings.database_url, mask_url(settings.database_url)
    else:
        embedded = EmbeddedPostgres(
            settings.pg_dir,
            settings.data_dir / "run",
            settings.storage.embedded_pg_system_user,
            settings.storage.embedded_start_timeout_s,
        )
        await asyncio.to_thread(embedded.start)
        await ensure_database(embedded.dsn("postgres"), EMBEDDED_DATABASE)
        dsn, label = embedded.dsn(EMBEDDED_DATABASE), f"embedded:{settings.pg_dir}"
    try:
        pool = await create_pool(
            dsn, settings.storage.pool_min_size, settings.storage.pool_max_size
        )
        try:
            yield pool, label, dsn
        finally:
            await _close_pool(pool)
    finally:
        if embedded is not None:
            embedded.stop()


async def _close_pool(pool: asyncpg.Pool) -> None:
    try:
        await asyncio.wait_for(pool.close(), timeout=10)
    except (TimeoutError, asyncio.CancelledError):
        pool.terminate()


@contextlib.asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[tuple[aioredis.Redis, str]]:
    embedded: EmbeddedRedis | None = None
    if settings.redis_url:
        url, label = settings.redis_url, mask_url(settings.redis_url)
    else:
        embedded = EmbeddedRedis(settings.redis_dir, settings.data_dir / "run")
        await asyncio.to_thread(embedded.start)
        url, label = embedded.url(), f"embedded:{settings.redis_dir}"
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        try:
            await client.ping()
        except (OSError, aioredis.RedisError) as exc:
            raise StorageError(f"cannot connect to Redis at {label}: {exc}") from exc
        yield client, label
    finally:
        await client.aclose()
        if embedded is not None:
            embedded.stop()


@contextlib.asynccontextmanager
async def open_storage(
    settings: Settings, *, with_redis: bool = True, migrate: bool = True
) -> AsyncIterator[Storage]:
    """PostgreSQL (migrated unless told otherwise) and, if asked, Redis, for one process."""
    async with contextlib.AsyncExitStack() as stack:
        pool, db_label, dsn = await stack.enter_async_context(open_database(settings))
        if migrate:
            async with pool.acquire() as conn:
                await migrations.migrate(conn)
        client: aioredis.Redis | None = None
        redis_label: str | None = None
        if with_redis:
            client, redis_label = await stack.enter_async_context(open_redis(settings))
        yield Storage(pool, client, db_label, redis_label, dsn)
