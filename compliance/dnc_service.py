"""DNC use cases: add, remove, check and bulk import, each audited and announced over Redis.

Any channel that learns of a do-not-contact request (an agent's disposition, an SMS STOP, the
API, the CLI) calls `DncService.add`; the entry is committed to PostgreSQL with its audit row,
then published on `DNC_CHANGES_CHANNEL` so every engine node's `DncCache` re-reads that number
(within a second). A publish failure loses nothing: the row is committed and caches do a full
refresh periodically and after reconnecting. Numbers may be given in any format; they are
normalised to E.164 with phonenumbers in the service's default region.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import phonenumbers
import redis.asyncio as aioredis

from compliance import bulk_store, dnc_store
from compliance.bulk_store import BulkImport, ImportMeta
from compliance.dnc import e164_key
from compliance.dnc_store import DncEntry
from compliance.facts import DncHit
from compliance.registry import load_registry
from config.vocabulary import Channel, DncChannel, DncScope
from storage.audit import append_audit
from storage.redis_keys import DNC_CHANGES_CHANNEL

log = logging.getLogger("compliance.dnc")


def normalise_phone(raw: str, region: str = "US") -> str | None:
    """Any written form of a number → E.164, or None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw.strip(), region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def owner_problem(scope: DncScope, tenant_id: int | None, campaign_id: int | None) -> str | None:
    """Why a scope/owner combination is unusable (None: fine)."""
    if scope is DncScope.TENANT and tenant_id is None:
        return "a tenant-scope entry needs a tenant"
    if scope is DncScope.CAMPAIGN and (campaign_id is None or tenant_id is None):
        return "a campaign-scope entry needs a campaign (and its tenant)"
    return None


@dataclass(frozen=True)
class DncChange:
    """What an add or remove did: the entries written or deleted, or why nothing was done."""

    ok: bool
    action: str
    phone: str | None
    entries: tuple[DncEntry, ...] = ()
    error: str | None = None
    published: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "action": self.action,
            "phone": self.phone,
            "entries": [e.as_dict() for e in self.entries],
            "error": self.error,
            "published": self.published,
        }


@dataclass(frozen=True)
class DncStatus:
    """Every entry and bulk list holding a number, and whether it is blocked on the channel."""

    phone: str
    listed: bool
    entries: tuple[DncEntry, ...] = ()
    lists: tuple[BulkImport, ...] = ()
    hits: tuple[DncHit, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "phone": self.phone,
            "listed": self.listed,
            "entries": [e.as_dict() for e in self.entries],
            "lists": [b.as_dict() for b in self.lists],
        }


class DncService:
    """DNC entries and bulk lists in PostgreSQL, announced to every node through Redis."""

    def __init__(
        self, pool: asyncpg.Pool, redis: aioredis.Redis | None, *, default_region: str = "US"
    ) -> None:
        self.pool = pool
        self.redis = redis
        self.default_region = default_region

    async def add(
        self,
        phone: str,
        scope: DncScope,
        channel: DncChannel,
        source: str,
        tenant_id: int | None = None,
        campaign_id: int | None = None,
        reason: str | None = None,
        expires_at: datetime | None = None,
        actor: str = "system",
    ) -> DncChange:
        """Add (or refresh) an entry; audited, then published to every node."""
        e164 = normalise_phone(phone, self.default_region)
        problem = owner_problem(scope, tenant_id, campaign_id)
        if e164 is None or problem is not None:
            return DncChange(False, "add", e164, error=problem or f"{phone!r} is not a number")
        tenant = None if scope is DncScope.GLOBAL else tenant_id
        async with self.pool.acquire() as conn, conn.transaction():
            entry = await dnc_store.upsert_entry(
                conn,
                phone=e164,
                scope=scope,
                channel=channel,
                source=source,
                tenant_id=tenant,
                campaign_id=campaign_id if scope is DncScope.CAMPAIGN else None,
                reason=reason,
                expires_at=expires_at,
            )
            await append_audit(
                conn,
                tenant_id=tenant_id,
                actor=actor,
                action="dnc.add",
                subject=e164,
                data=_jsonable(entry.as_dict()),
            )
        published = await self.publish({"kind": "entry", "phone": e164})
        return DncChange(True, "add", e164, (entry,), published=published)

    async def remove(
        self,
        phone: str,
        scope: DncScope,
        channel: DncChannel | None,
        tenant_id: int | None = None,
        campaign_id: int | None = None,
        reason: str | None = None,
        actor: str = "system",
    ) -> DncChange:
        """Remove a number's entries of one scope (one channel, or all with None); audited."""
        e164 = normalise_phone(phone, self.default_region)
        problem = owner_problem(scope, tenant_id, campaign_id)
        if e164 is None or problem is not None:
            return DncChange(False, "remove", e164, error=problem or f"{phone!r} is not a number")
        async with self.pool.acquire() as conn, conn.transaction():
            removed = await dnc_store.delete_entries(
                conn,
                phone=e164,
                scope=scope,
                channel=channel,
                tenant_id=tenant_id,
                campaign_id=campaign_id,
            )
            data = {
                "removed": [_jsonable(e.as_dict()) for e in removed],
                "reason": reason,
                "scope": scope.value,
                "channel": channel.value if channel else None,
            }
            await append_audit(
                conn, tenant_id=tenant_id, actor=actor, action="dnc.remove", subject=e164, data=data
            )
        published = await self.publish({"kind": "entry", "phone": e164}) if removed else False
        error = None if removed else "no such entry"
        return DncChange(bool(removed), "remove", e164, tuple(removed), error, published)

    async def check(
        self,
        phone: str,
        *,
        tenant_id: int | None = None,
        campaign_id: int | None = None,
        channel: Channel | None = None,
        now: datetime | None = None,
    ) -> DncStatus:
        """What holds the number (read from PostgreSQL); `listed`: blocked on the channel now."""
        e164 = normalise_phone(phone, self.default_region) or phone
        at = now or datetime.now(UTC)
        entries = await dnc_store.entries_for_phone(
            self.pool, e164, tenant_id=tenant_id, campaign_id=campaign_id
        )
        key = e164_key(e164)
        lists = (
            []
            if key is None
            else await bulk_store.imports_listing(
                self.pool, key, tenant_id=tenant_id, campaign_id=campaign_id
            )
        )
        hits = tuple(e.hit() for e in entries) + tuple(_bulk_hit(b) for b in lists)
        listed = any(
            (channel is None or h.covers(channel)) and (h.expires_at is None or h.expires_at > at)
            for h in hits
        )
        return DncStatus(e164, listed, tuple(entries), tuple(lists), hits)

    async def hits(
        self, phone: str, *, tenant_id: int | None, campaign_id: int | None
    ) -> tuple[DncHit, ...]:
        """The DncSource port read straight from PostgreSQL (one-shot checks, the CLI)."""
        return (await self.check(phone, tenant_id=tenant_id, campaign_id=campaign_id)).hits

    async def registry_as_of(
        self, *, tenant_id: int | None, campaign_id: int | None
    ) -> date | None:
        return await bulk_store.registry_as_of(
            self.pool, tenant_id=tenant_id, campaign_id=campaign_id
        )

    async def import_file(
        self,
        path: Path,
        *,
        scope: DncScope,
        channel: DncChannel,
        as_of: date | None,
        tenant_id: int | None = None,
        campaign_id: int | None = None,
        source: str | None = None,
        country_code: int | None = 1,
        actor: str = "system",
    ) -> dict[str, Any]:
        """Import a registry copy (with `as_of`) or a bulk list; it replaces the previous copy."""
        problem = owner_problem(scope, tenant_id, campaign_id)
        if problem is not None:
            return {"ok": False, "error": problem}
        started = time.perf_counter()
        loaded = await asyncio.to_thread(load_registry, path, country_code=country_code)
        parsed_s = time.perf_counter() - started
        meta = ImportMeta(
            scope,
            channel,
            None if scope is DncScope.GLOBAL else tenant_id,
            campaign_id if scope is DncScope.CAMPAIGN else None,
            as_of,
            source or path.name,
            loaded.rows,
            loaded.invalid,
            loaded.duplicates,
            actor,
        )
        async with self.pool.acquire() as conn, conn.transaction():
            import_id, replaced = await bulk_store.replace_list(conn, meta, loaded.digits)
            counts = {
                "rows": loaded.rows,
                "imported": loaded.imported,
                "invalid": loaded.invalid,
                "duplicates": loaded.duplicates,
            }
            await append_audit(
                conn,
                tenant_id=tenant_id,
                actor=actor,
                action="dnc.import",
                subject=f"dnc-import:{import_id}",
                data={
                    **counts,
                    "replaced": replaced,
                    "scope": scope.value,
                    "channel": channel.value,
                    "source": meta.source,
                    "as_of": as_of.isoformat() if as_of else None,
                },
            )
        seconds = time.perf_counter() - started
        published = await self.publish({"kind": "bulk", "import_id": import_id})
        return {
            "ok": True,
            "import_id": import_id,
            "replaced": replaced,
            **counts,
            "registry": as_of is not None,
            "as_of": as_of.isoformat() if as_of else None,
            "scope": scope.value,
            "channel": channel.value,
            "source": meta.source,
            "fast_path": loaded.fast_path,
            "parse_s": round(parsed_s, 3),
            "seconds": round(seconds, 3),
            "published": published,
        }

    async def purge_expired(self, before: datetime) -> int:
        return await dnc_store.purge_expired(self.pool, before)

    async def publish(self, message: dict[str, Any]) -> bool:
        """Announce a change to every node; False when Redis is absent or unreachable."""
        if self.redis is None:
            return False
        try:
            await self.redis.publish(DNC_CHANGES_CHANNEL, json.dumps(message))
        except (aioredis.RedisError, OSError) as exc:
            log.warning("DNC change not published", extra={"fields": {"error": str(exc)}})
            return False
        return True


def _bulk_hit(bulk: BulkImport) -> DncHit:
    return DncHit(bulk.scope, bulk.channel, bulk.registry, bulk.source, None, bulk.owner)


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in value.items()}
