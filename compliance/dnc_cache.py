"""An engine node's DNC cache: the numpy `DncIndex` loaded from PostgreSQL, kept current via Redis.

`start()` subscribes to `DNC_CHANGES_CHANNEL` first, then loads every bulk list in force (one
binary COPY each, decoded by numpy: no Python object per number) and every single entry, then
follows the channel: an `entry` message re-reads that number's entries (one indexed query, so
the change binds this node within milliseconds of the publish); a `bulk` message reloads the
lists in force in the background (a 10 M list takes seconds; the old copy serves meanwhile).
Pub/sub is lossy across a Redis outage, so after reconnecting, and every `full_refresh_s`, the
entries are re-read in full. Implements the gate's `DncSource` port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from datetime import date
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from compliance import bulk_store, dnc_store
from compliance.dnc import DncIndex, SetKey
from compliance.facts import DncHit
from config.vocabulary import DncScope
from storage.redis_keys import DNC_CHANGES_CHANNEL

log = logging.getLogger("compliance.dnc_cache")

RECONNECT_S = 1.0


class DncCache:
    """The DNC lists every verdict on this node consults, in memory, current within a second."""

    def __init__(
        self, pool: asyncpg.Pool, redis: aioredis.Redis | None, *, full_refresh_s: float = 300.0
    ) -> None:
        self.pool = pool
        self.redis = redis
        self.full_refresh_s = full_refresh_s
        self.index = DncIndex()
        self.changes_applied = 0
        self._loaded: dict[int, SetKey] = {}
        self._task: asyncio.Task[None] | None = None
        self._bulk_task: asyncio.Task[None] | None = None
        self._bulk_again = False
        self._pubsub: Any = None

    async def start(self) -> None:
        """Subscribe, load everything, then follow changes in a background task."""
        pubsub = None
        if self.redis is not None:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            await pubsub.subscribe(DNC_CHANGES_CHANNEL)
            self._pubsub = pubsub
        await self.load()
        if pubsub is not None:
            self._task = asyncio.create_task(self._follow(), name="dnc-cache-follow")

    async def load(self) -> None:
        await self.reload_bulk()
        await self.reload_entries()

    async def close(self) -> None:
        for task in (self._task, self._bulk_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._bulk_task = None
        if self._pubsub is not None:
            with contextlib.suppress(aioredis.RedisError, OSError):
                await self._pubsub.aclose()
            self._pubsub = None

    async def __aenter__(self) -> DncCache:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def reload_entries(self) -> None:
        """Re-read every single entry (start, reconnect, periodic refresh)."""
        by_phone: dict[str, list[DncHit]] = defaultdict(list)
        for entry in await dnc_store.all_entries(self.pool):
            by_phone[entry.phone].append(entry.hit())
        self.index.clear_entries()
        for phone, hits in by_phone.items():
            self.index.set_entries(phone, hits)

    async def refresh_phone(self, phone: str) -> None:
        """Re-read one number's entries (what a change message asks for)."""
        entries = await dnc_store.entries_for_phone(self.pool, phone, every_owner=True)
        self.index.set_entries(phone, [e.hit() for e in entries])
        self.changes_applied += 1

    async def reload_bulk(self) -> None:
        """Load lists newly in force, then drop replaced ones (never a moment with neither)."""
        in_force = {b.id: b for b in await bulk_store.imports_in_force(self.pool)}
        for import_id, bulk in in_force.items():
            if import_id in self._loaded:
                continue
            async with self.pool.acquire() as conn:
                digits = await bulk_store.load_numbers(conn, import_id)
            if digits.size != bulk.numbers:  # replaced (and dropped) while we read it
                log.info("DNC list replaced during load", extra={"fields": {"id": import_id}})
                continue
            dnc_set = bulk.to_set(digits)
            self.index.replace_set(dnc_set)
            self._loaded[import_id] = (dnc_set.scope, dnc_set.owner, dnc_set.channel)
        for import_id in [i for i in self._loaded if i not in in_force]:
            key = self._loaded.pop(import_id)
            if key not in self._loaded.values():
                self.index.sets.pop(key, None)
        self.changes_applied += 1

    async def hits(
        self, phone: str, *, tenant_id: int | None, campaign_id: int | None
    ) -> tuple[DncHit, ...]:
        """The `DncSource` port: every list entry for the number, from memory."""
        return self.lookup(phone, tenant_id=tenant_id, campaign_id=campaign_id)

    def lookup(
        self, phone: str, *, tenant_id: int | None, campaign_id: int | None
    ) -> tuple[DncHit, ...]:
        tenant = None if tenant_id is None else str(tenant_id)
        campaign = None if campaign_id is None else str(campaign_id)
        return self.index.lookup(phone, tenant=tenant, campaign=campaign)

    async def registry_as_of(
        self, *, tenant_id: int | None, campaign_id: int | None
    ) -> date | None:
        """The oldest registry copy in force for this tenant/campaign (None: none loaded)."""
        owners = {
            DncScope.GLOBAL: None,
            DncScope.TENANT: None if tenant_id is None else str(tenant_id),
            DncScope.CAMPAIGN: None if campaign_id is None else str(campaign_id),
        }
        dates = [
            s.as_of
            for (scope, owner, _), s in self.index.sets.items()
            if s.registry and s.as_of is not None and owner == owners[scope]
        ]
        return min(dates) if dates else None

    def _schedule_bulk_reload(self) -> None:
        if self._bulk_task is not None and not self._bulk_task.done():
            self._bulk_again = True
            return
        self._bulk_task = asyncio.create_task(self._bulk_loop(), name="dnc-cache-bulk")

    async def _bulk_loop(self) -> None:
        while True:
            self._bulk_again = False
            try:
                await self.reload_bulk()
            except (OSError, asyncpg.PostgresError) as exc:
                log.error("DNC bulk reload failed", extra={"fields": {"error": str(exc)}})
            if not self._bulk_again:
                return

    async def _apply(self, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "entry" and isinstance(message.get("phone"), str):
            await self.refresh_phone(message["phone"])
        elif kind == "bulk":
            self._schedule_bulk_reload()

    async def _follow(self) -> None:
        """Apply change messages; reconnect and refresh in full after a Redis failure."""
        loop = asyncio.get_running_loop()
        refreshed_at = loop.time()
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    await self._apply(json.loads(message["data"]))
                if loop.time() - refreshed_at >= self.full_refresh_s:
                    await self.load()
                    refreshed_at = loop.time()
            except (aioredis.RedisError, OSError, ValueError) as exc:
                log.warning("DNC change feed interrupted", extra={"fields": {"error": str(exc)}})
                await asyncio.sleep(RECONNECT_S)
                self._pubsub = await self._resubscribe(self._pubsub)
                refreshed_at = loop.time()
            except asyncpg.PostgresError as exc:
                log.error("DNC refresh failed", extra={"fields": {"error": str(exc)}})
                await asyncio.sleep(RECONNECT_S)

    async def _resubscribe(self, old: Any) -> Any:
        with contextlib.suppress(aioredis.RedisError, OSError):
            await old.aclose()
        assert self.redis is not None
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(DNC_CHANGES_CHANNEL)
            await self.load()
        except (aioredis.RedisError, OSError, asyncpg.PostgresError) as exc:
            log.warning("DNC resubscribe failed", extra={"fields": {"error": str(exc)}})
        return pubsub
