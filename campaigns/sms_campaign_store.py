"""PostgreSQL repository of SMS campaign runs: leasing leads, parking and finishing them.

A lead is leased with `FOR UPDATE SKIP LOCKED` (status `leased`, `lease_owner`, an expiry), so
two runners never take the same lead and a crashed runner's leads come back when the lease
expires. `attempt_count` grows only when the lead is finished: a lead leased again after a crash
gets the same message key (`message_key`), which the outbox refuses to send twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from storage.database import Executor

_LEASE = """
UPDATE leads l SET status = 'leased', lease_owner = $2,
       lease_expires_at = $3::timestamptz + make_interval(secs => $4), updated_at = $3
FROM (
    SELECT id FROM leads
    WHERE campaign_id = $1 AND status IN ('new', 'retry', 'callback') AND next_attempt_at <= $3
    ORDER BY next_attempt_at, id
    LIMIT $5
    FOR UPDATE SKIP LOCKED
) c
WHERE l.id = c.id
RETURNING l.id, l.tenant_id, l.campaign_id, l.phone, l.first_name, l.last_name, l.email,
          l.country, l.region, l.postal_code, l.custom, l.attempt_count
"""

_RECLAIM = """
UPDATE leads SET status = 'retry', lease_owner = NULL, lease_expires_at = NULL, updated_at = $2
WHERE id IN (
    SELECT id FROM leads
    WHERE campaign_id = $1 AND status = 'leased' AND lease_expires_at < $2
    FOR UPDATE SKIP LOCKED
)
"""

_FINISH = """
UPDATE leads l SET status = u.status, next_attempt_at = coalesce(u.next_at, l.next_attempt_at),
       attempt_count = l.attempt_count + u.attempted::int, last_outcome = u.outcome,
       lease_owner = NULL, lease_expires_at = NULL, updated_at = $2
FROM unnest($3::bigint[], $4::text[], $5::timestamptz[], $6::bool[], $7::text[])
     AS u(id, status, next_at, attempted, outcome)
WHERE l.id = u.id AND l.lease_owner = $1
"""


@dataclass(frozen=True, slots=True)
class LeasedLead:
    id: int
    tenant_id: int
    campaign_id: int
    phone: str
    attempt_count: int
    fields: dict[str, Any]

    @property
    def message_key(self) -> str:
        """The outbox key of this lead's next message: the same until the lead is finished."""
        return f"sms:c{self.campaign_id}:l{self.id}:a{self.attempt_count + 1}"


@dataclass(frozen=True, slots=True)
class LeadResult:
    """How a leased lead ends this round: `status` is a leads.status value."""

    lead_id: int
    status: str
    outcome: str
    next_attempt_at: datetime | None = None
    attempted: bool = False


def _lead(row: asyncpg.Record) -> LeasedLead:
    fields = {k: row[k] for k in ("phone", "first_name", "last_name", "email", "country",
                                  "region", "postal_code", "custom")}  # fmt: skip
    return LeasedLead(
        row["id"], row["tenant_id"], row["campaign_id"], row["phone"], row["attempt_count"], fields
    )


async def lease(
    db: Executor, campaign_id: int, owner: str, now: datetime, lease_s: float, limit: int
) -> list[LeasedLead]:
    """Lease up to `limit` due leads (expired leases of crashed runners come back first)."""
    await db.execute(_RECLAIM, campaign_id, now)
    rows = await db.fetch(_LEASE, campaign_id, owner, now, lease_s, limit)
    return sorted((_lead(r) for r in rows), key=lambda lead: lead.id)


async def finish(db: Executor, owner: str, now: datetime, results: Sequence[LeadResult]) -> int:
    """Record how each lead ended and release its lease; returns the leads updated."""
    if not results:
        return 0
    status = await db.execute(
        _FINISH,
        owner,
        now,
        [r.lead_id for r in results],
        [r.status for r in results],
        [r.next_attempt_at for r in results],
        [r.attempted for r in results],
        [r.outcome for r in results],
    )
    return int(status.split()[-1])


async def release(db: Executor, owner: str) -> None:
    """Give back leads still leased by `owner` (a run stopped before finishing them)."""
    await db.execute(
        "UPDATE leads SET status = 'retry', lease_owner = NULL, lease_expires_at = NULL "
        "WHERE lease_owner = $1 AND status = 'leased'",
        owner,
    )


async def custom_keys(db: Executor, campaign_id: int) -> frozenset[str]:
    """Keys of `custom` present on at least one lead of the campaign (for template checks)."""
    rows = await db.fetch(
        "SELECT DISTINCT jsonb_object_keys(custom) AS k FROM leads "
        "WHERE campaign_id = $1 AND jsonb_typeof(custom) = 'object'",
        campaign_id,
    )
    return frozenset(r["k"] for r in rows)


async def remaining(db: Executor, campaign_id: int) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT status, count(*) AS n FROM leads WHERE campaign_id = $1 GROUP BY status",
        campaign_id,
    )
    return {r["status"]: int(r["n"]) for r in rows}


async def lease_owners(db: Executor, campaign_id: int) -> list[str]:
    """Owners of the campaign's current leases."""
    rows = await db.fetch(
        "SELECT DISTINCT lease_owner FROM leads "
        "WHERE campaign_id = $1 AND status = 'leased' AND lease_owner IS NOT NULL",
        campaign_id,
    )
    return [r["lease_owner"] for r in rows]
