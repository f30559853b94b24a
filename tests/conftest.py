"""Shared fixtures: one embedded PostgreSQL and Redis per test session, in a private temp folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from config import Settings, load_settings
from storage import migrations
from storage.database import create_pool
from storage.runtime import Storage, open_storage


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dialer-data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return load_settings(environ={**os.environ, "DIALER_DATA_DIR": str(data_dir)})


@pytest.fixture(scope="session")
async def storage(settings: Settings) -> AsyncIterator[Storage]:
    async with open_storage(settings) as opened:
        yield opened


@pytest.fixture
async def empty_database(storage: Storage) -> AsyncIterator[asyncpg.Pool]:
    """A brand-new, unmigrated database on the session's server, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    await storage.pool.execute(f'CREATE DATABASE "{name}"')
    dsn = await _dsn_for(storage.pool, name)
    pool = await create_pool(dsn, 1, 4)
    try:
        yield pool
    finally:
        await pool.close()
        await storage.pool.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def _dsn_for(pool: asyncpg.Pool, database: str) -> str:
    async with pool.acquire() as conn:
        params = conn._params  # type: ignore[attr-defined]
        addr = conn._addr  # type: ignore[attr-defined]
    if isinstance(addr, str):  # Unix socket path: <dir>/.s.PGSQL.<port>
        folder, _, port = addr.rpartition("/.s.PGSQL.")
        return f"postgresql://{params.user}@/{database}?host={folder}&port={port}"
    host, port = addr
    password = f":{params.password}" if params.password else ""
    return f"postgresql://{params.user}{password}@{host}:{port}/{database}"


@pytest.fixture
def unique_name() -> str:
    return f"test {uuid.uuid4().hex[:10]}"


__all__ = ["migrations"]
