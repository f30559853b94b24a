"""Shared fixtures: one embedded PostgreSQL and Redis per test session, in a private temp folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from config import Settings, load_settings
from storage.database import scratch_database
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
    async with scratch_database(storage.pool, storage.database_dsn, "t", migrate=False) as pool:
        yield pool


@pytest.fixture
def unique_name() -> str:
    return f"test {uuid.uuid4().hex[:10]}"
