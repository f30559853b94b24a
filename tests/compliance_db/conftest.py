"""Fixtures for the compliance stores: a fresh migrated database per test, the session's Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from campaigns.models import CampaignDraft
from campaigns.service import create_campaign
from compliance.dnc_service import DncService
from config.vocabulary import DialMode, Purpose, RuleSetName
from storage import migrations
from storage.runtime import Storage


@pytest.fixture
async def db(empty_database: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    """A brand-new database with every migration applied (registry copies stay private)."""
    async with empty_database.acquire() as conn:
        await migrations.migrate(conn)
    yield empty_database


@pytest.fixture
def redis(storage: Storage) -> aioredis.Redis:
    assert storage.redis is not None
    return storage.redis


@pytest.fixture
def dnc(db: asyncpg.Pool, redis: aioredis.Redis) -> DncService:
    return DncService(db, redis)


async def make_campaign(
    pool: asyncpg.Pool,
    name: str = "c1",
    *,
    rule_set: RuleSetName | None = RuleSetName.US,
    mode: DialMode = DialMode.PROGRESSIVE,
    purpose: Purpose = Purpose.MARKETING,
    schedule: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> int:
    draft = CampaignDraft(
        name=name,
        mode=mode,
        purpose=purpose,
        rule_set=rule_set,
        caller_id="+12025550100",
        schedule=schedule or {},
        settings=settings or {},
    )
    campaign = await create_campaign(pool, "default", draft, actor="test")
    return campaign.id


async def make_lead(
    pool: asyncpg.Pool,
    campaign_id: int,
    phone: str,
    *,
    country: str = "US",
    region: str | None = None,
    zones: Sequence[str] = (),
    explicit: str | None = None,
    custom: dict[str, Any] | None = None,
) -> int:
    value = await pool.fetchval(
        "INSERT INTO leads (tenant_id, campaign_id, phone, country, region, tz_candidates, "
        "tz_explicit, custom) VALUES (1, $1, $2, $3, $4, $5, $6, $7) RETURNING id",
        campaign_id,
        phone,
        country,
        region,
        list(zones),
        explicit,
        custom or {},
    )
    return int(value)


async def add_attempt(
    pool: asyncpg.Pool,
    *,
    campaign_id: int | None,
    lead_id: int | None,
    phone: str,
    at: datetime,
    channel: str = "call",
    outcome: str | None = None,
    amd: str | None = None,
) -> None:
    await pool.execute(
        "INSERT INTO attempts (tenant_id, campaign_id, lead_id, channel, phone, created_at, "
        "ended_at, outcome, amd_result) VALUES (1, $1, $2, $3, $4, $5, $5, $6, $7)",
        campaign_id,
        lead_id,
        channel,
        phone,
        at,
        outcome,
        amd,
    )
