"""PostgreSQL repository for single DNC entries (dnc_entries): add, remove, look up, load all.

Entries have a scope (global, tenant, campaign), a channel (call, sms, all), a source (agent,
sms-stop, api, cli, ...), an optional reason and expiry. One row per (phone, scope, owner,
channel); adding again refreshes source, reason and expiry. Owners become the `DncHit.owner`
strings the in-memory index matches: the tenant id or the campaign id as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from compliance.facts import DncHit
from config.vocabulary import DncChannel, DncScope
from storage.database import Executor


@dataclass(frozen=True)
class DncEntry:
    """One row of dnc_entries."""

    id: int
    phone: str
    scope: DncScope
    channel: DncChannel
    source: str
    tenant_id: int | None
    campaign_id: int | None
    reason: str | None
    created_at: datetime
    expires_at: datetime | None

    @property
    def owner(self) -> str | None:
        return owner_of(self.scope, self.tenant_id, self.campaign_id)

    def hit(self) -> DncHit:
        return DncHit(self.scope, self.channel, False, self.source, self.expires_at, self.owner)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "entry",
            "phone": self.phone,
            "scope": self.scope.value,
            "channel": self.channel.value,
            "source": self.source,
            "tenant_id": self.tenant_id,
            "campaign_id": self.campaign_id,
            "reason": self.reason,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


def owner_of(scope: DncScope, tenant_id: int | None, campaign_id: int | None) -> str | None:
    """The owner string of a scoped list: None (global), the tenant id or the campaign id."""
    if scope is DncScope.TENANT:
        return str(tenant_id)
    if scope is DncScope.CAMPAIGN:
        return str(campaign_id)
    return None


def _entry(row: asyncpg.Record) -> DncEntry:
    return DncEntry(
        id=row["id"],
        phone=row["phone"],
        scope=DncScope(row["scope"]),
        channel=DncChannel(row["channel"]),
        source=row["source"],
        tenant_id=row["tenant_id"],
        campaign_id=row["campaign_id"],
        reason=row["reason"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


async def upsert_entry(
    db: Executor,
    *,
    phone: str,
    scope: DncScope,
    channel: DncChannel,
    source: str,
    tenant_id: int | None,
    campaign_id: int | None,
    reason: str | None,
    expires_at: datetime | None,
) -> DncEntry:
    """Insert an entry, or refresh the existing one for the same phone, scope, owner, channel."""
    row = await db.fetchrow(
        """
        INSERT INTO dnc_entries (phone, scope, tenant_id, campaign_id, channel, source, reason,
                                 expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (phone, scope, coalesce(tenant_id, 0), coalesce(campaign_id, 0), channel)
        DO UPDATE SET source = EXCLUDED.source, reason = EXCLUDED.reason,
                      expires_at = EXCLUDED.expires_at
        RETURNING *
        """,
        phone,
        scope.value,
        tenant_id,
        campaign_id,
        channel.value,
        source,
        reason,
        expires_at,
    )
    assert row is not None
    return _entry(row)


async def delete_entries(
    db: Executor,
    *,
    phone: str,
    scope: DncScope,
    channel: DncChannel | None,
    tenant_id: int | None,
    campaign_id: int | None,
) -> list[DncEntry]:
    """Delete the number's entries of one scope/owner (one channel, or every channel if None)."""
    rows = await db.fetch(
        """
        DELETE FROM dnc_entries
        WHERE phone = $1 AND scope = $2
          AND ($2 <> 'tenant' OR tenant_id = $3) AND ($2 <> 'campaign' OR campaign_id = $4)
          AND ($5::text IS NULL OR channel = $5)
        RETURNING *
        """,
        phone,
        scope.value,
        tenant_id,
        campaign_id,
        channel.value if channel is not None else None,
    )
    return [_entry(r) for r in rows]


async def entries_for_phone(
    db: Executor,
    phone: str,
    *,
    tenant_id: int | None = None,
    campaign_id: int | None = None,
    every_owner: bool = False,
) -> list[DncEntry]:
    """The number's entries: global ones plus this tenant's and campaign's (or every owner's)."""
    rows = await db.fetch(
        """
        SELECT * FROM dnc_entries
        WHERE phone = $1
          AND ($4 OR scope = 'global' OR (scope = 'tenant' AND tenant_id = $2)
               OR (scope = 'campaign' AND campaign_id = $3))
        ORDER BY id
        """,
        phone,
        tenant_id,
        campaign_id,
        every_owner,
    )
    return [_entry(r) for r in rows]


async def all_entries(db: Executor) -> list[DncEntry]:
    """Every entry (an engine node's cache loads them at start)."""
    return [_entry(r) for r in await db.fetch("SELECT * FROM dnc_entries ORDER BY phone, id")]


async def purge_expired(db: Executor, before: datetime) -> int:
    """Delete entries that expired before `before`; the count deleted."""
    status = await db.execute(
        "DELETE FROM dnc_entries WHERE expires_at IS NOT NULL AND expires_at < $1", before
    )
    return int(status.split()[-1])
