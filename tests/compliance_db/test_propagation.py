"""A DNC request binds every engine node within a second: two caches over the real Redis."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from compliance.dnc_cache import DncCache
from compliance.dnc_service import DncService
from config.vocabulary import DncChannel, DncScope

BOUND_S = 1.0
POLL_S = 0.005


async def seen_by_all(caches: list[DncCache], phone: str, present: bool, timeout_s: float) -> float:
    """Seconds until every cache agrees on the number (polls every 5 ms, bounded)."""
    started = time.perf_counter()
    for _ in range(int(timeout_s / POLL_S)):
        if all(bool(c.lookup(phone, tenant_id=1, campaign_id=None)) == present for c in caches):
            return time.perf_counter() - started
        await asyncio.sleep(POLL_S)
    raise AssertionError(f"{phone} not {'added' if present else 'removed'} in {timeout_s} s")


async def test_add_and_remove_reach_two_nodes_within_a_second(
    db: asyncpg.Pool, redis: aioredis.Redis, dnc: DncService
) -> None:
    phone = "+13125550181"
    async with DncCache(db, redis) as node_a, DncCache(db, redis) as node_b:
        nodes = [node_a, node_b]
        assert not node_a.lookup(phone, tenant_id=1, campaign_id=None)
        started = time.perf_counter()
        await dnc.add(phone, DncScope.TENANT, DncChannel.SMS, "sms-stop", tenant_id=1)
        added_s = await seen_by_all(nodes, phone, True, 5 * BOUND_S) + time.perf_counter() - started
        hit = node_b.lookup(phone, tenant_id=1, campaign_id=None)[0]
        assert (hit.scope, hit.channel, hit.source) == (DncScope.TENANT, DncChannel.SMS, "sms-stop")
        assert not node_b.lookup(phone, tenant_id=2, campaign_id=None)  # another tenant's list
        started = time.perf_counter()
        await dnc.remove(phone, DncScope.TENANT, DncChannel.SMS, tenant_id=1)
        removed_s = await seen_by_all(nodes, phone, False, 5 * BOUND_S)
        removed_s += time.perf_counter() - started
    assert added_s < BOUND_S, added_s
    assert removed_s < BOUND_S, removed_s


async def test_bulk_import_replaces_the_list_on_every_node(
    db: asyncpg.Pool, redis: aioredis.Redis, dnc: DncService, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("3125550191\n3125550192\n")
    second.write_text("3125550193\n")
    await dnc.import_file(
        first, scope=DncScope.GLOBAL, channel=DncChannel.ALL, as_of=date(2025, 6, 1)
    )
    async with DncCache(db, redis) as node_a, DncCache(db, redis) as node_b:
        nodes = [node_a, node_b]
        assert await node_a.registry_as_of(tenant_id=1, campaign_id=None) == date(2025, 6, 1)
        await dnc.import_file(
            second, scope=DncScope.GLOBAL, channel=DncChannel.ALL, as_of=date(2025, 7, 1)
        )
        await seen_by_all(nodes, "+13125550193", True, 5.0)
        await seen_by_all(nodes, "+13125550191", False, 5.0)
        assert await node_b.registry_as_of(tenant_id=1, campaign_id=None) == date(2025, 7, 1)


async def test_a_node_started_later_loads_what_was_committed(
    db: asyncpg.Pool, redis: aioredis.Redis, dnc: DncService
) -> None:
    await dnc.add("+13125550199", DncScope.GLOBAL, DncChannel.ALL, "api")
    async with DncCache(db, redis) as late:
        assert late.lookup("+13125550199", tenant_id=None, campaign_id=None)
