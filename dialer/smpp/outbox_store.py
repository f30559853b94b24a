"""SQL of the SMS outbox's ownership: node liveness locks, claims, takeover and reloading messages.

An engine node holds a session-level advisory lock on its own id for as long as it runs; its
outbox rows carry `claimed_by = node`. PostgreSQL drops the lock the moment the node's connection
dies (a crash, SIGKILL), so "the owner's lock is free" is exactly "the owner is gone", and another
node (or the restarted process) takes its rows over at once, without waiting for a lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from config.vocabulary import SmsEncoding, SmsStatus
from dialer.smpp import persistence as ps
from storage.database import Connection, Executor

LOCK_NAMESPACE = 0x534D53  # "SMS"

_LOAD = """
SELECT m.message_key, m.phone, m.body, m.encoding, m.part_count, m.concatenation, m.concat_ref,
       coalesce(m.sender, '') AS sender, m.created_at, m.permit_expires_at, m.campaign_id,
       m.lead_id, array_agg(p.part_no ORDER BY p.part_no) AS part_nos,
       array_agg(p.status ORDER BY p.part_no) AS statuses,
       array_agg(p.smsc_message_id ORDER BY p.part_no) AS smsc_ids
FROM sms_outbox o
JOIN sms_messages m ON m.id = o.message_id
JOIN sms_parts p ON p.message_id = m.id
WHERE o.claimed_by = $1 AND o.sent_at IS NULL AND m.tenant_id = $2
  AND ($3::bigint[] IS NULL OR o.message_id = ANY($3::bigint[]))
GROUP BY m.id
ORDER BY m.id
"""

_CLAIM = """
UPDATE sms_outbox o
SET claimed_by = $1, claimed_until = $3::timestamptz + make_interval(secs => $4),
       tries = o.tries + 1
WHERE o.id IN (
    SELECT b.id FROM sms_outbox b JOIN sms_messages m ON m.id = b.message_id
    WHERE b.sent_at IS NULL AND b.claimed_by IS NULL AND b.available_at <= $3
      AND m.tenant_id = $2
    ORDER BY b.available_at
    LIMIT $5
    FOR UPDATE OF b SKIP LOCKED
)
RETURNING o.message_id
"""

_TAKE_OVER = """
UPDATE sms_outbox o
SET claimed_by = $1, claimed_until = $4::timestamptz + make_interval(secs => $5),
       tries = o.tries + 1
FROM sms_messages m
WHERE m.id = o.message_id AND o.claimed_by = $2 AND o.sent_at IS NULL AND m.tenant_id = $3
RETURNING o.message_id
"""


async def try_lock_node(conn: Connection, node: str) -> bool:
    """Take `node`'s liveness lock on this connection; False when a live process holds it."""
    return bool(
        await conn.fetchval("SELECT pg_try_advisory_lock($1, hashtext($2))", LOCK_NAMESPACE, node)
    )


async def unlock_node(conn: Connection, node: str) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1, hashtext($2))", LOCK_NAMESPACE, node)


async def owners(db: Executor, tenant_id: int) -> list[str]:
    """Nodes holding unsent outbox rows of the tenant."""
    rows = await db.fetch(
        "SELECT DISTINCT o.claimed_by FROM sms_outbox o JOIN sms_messages m ON m.id = o.message_id "
        "WHERE o.sent_at IS NULL AND o.claimed_by IS NOT NULL AND m.tenant_id = $1",
        tenant_id,
    )
    return [r["claimed_by"] for r in rows]


async def take_over(
    db: Executor, node: str, dead: str, tenant_id: int, now: datetime, lease_s: float
) -> list[int]:
    rows = await db.fetch(_TAKE_OVER, node, dead, tenant_id, now, lease_s)
    return [r["message_id"] for r in rows]


async def claim_queued(
    db: Executor, node: str, tenant_id: int, now: datetime, lease_s: float, limit: int
) -> list[int]:
    """Claim unowned queued messages (e.g. opt-out confirmations) for this node."""
    rows = await db.fetch(_CLAIM, node, tenant_id, now, lease_s, limit)
    return [r["message_id"] for r in rows]


async def load_claimed(
    db: Executor, node: str, tenant_id: int, message_ids: Sequence[int] | None = None
) -> list[ps.StoredMessage]:
    """The unsent messages this node owns (all of them, or those of `message_ids`)."""
    ids = list(message_ids) if message_ids is not None else None
    rows = await db.fetch(_LOAD, node, tenant_id, ids)
    return [_stored(row) for row in rows]


def _stored(row: asyncpg.Record) -> ps.StoredMessage:
    message = ps.QueuedMessage(
        key=row["message_key"],
        destination=row["phone"],
        text=row["body"],
        encoding=SmsEncoding(row["encoding"]),
        parts=row["part_count"],
        concatenation=row["concatenation"],
        reference=row["concat_ref"],
        source_addr=row["sender"],
        at=row["created_at"],
        permit_expires_at=row["permit_expires_at"],
        campaign_id=row["campaign_id"],
        lead_id=row["lead_id"],
    )
    parts = tuple(
        ps.StoredPart(index, SmsStatus(status), smsc_id)
        for index, status, smsc_id in zip(
            row["part_nos"], row["statuses"], row["smsc_ids"], strict=True
        )
    )
    return ps.StoredMessage(message, parts)


async def campaign_statuses(db: Executor, campaign_id: int) -> dict[str, int]:
    """How many of the campaign's outbound messages are in each status."""
    rows = await db.fetch(
        "SELECT status, count(*) AS n FROM sms_messages "
        "WHERE campaign_id = $1 AND direction = 'out' GROUP BY status",
        campaign_id,
    )
    return {r["status"]: int(r["n"]) for r in rows}
