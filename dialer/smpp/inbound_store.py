"""SQL for mobile-originated SMS: the contact, its history entry and the inbound message row.

Consent and DNC are not written here: `compliance.consent_store` and `compliance.dnc_service`
own them (see inbound.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.database import Executor


async def contact_for(db: Executor, tenant_id: int, phone: str, at: datetime) -> int:
    """The contact with this phone, created on first contact."""
    value = await db.fetchval(
        """
        INSERT INTO contacts (tenant_id, phone, created_at) VALUES ($1, $2, $3)
        ON CONFLICT (tenant_id, phone) WHERE phone IS NOT NULL
        DO UPDATE SET phone = EXCLUDED.phone
        RETURNING id
        """,
        tenant_id,
        phone,
        at,
    )
    return int(value)


async def record_inbound(
    db: Executor,
    *,
    tenant_id: int,
    phone: str,
    our_number: str,
    text: str,
    at: datetime,
    data: dict[str, Any],
) -> int:
    """Store one inbound SMS and put it on the contact's history; returns the interaction id."""
    contact_id = await contact_for(db, tenant_id, phone, at)
    await db.execute(
        "INSERT INTO sms_messages (tenant_id, direction, phone, sender, body, status, part_count, "
        "created_at, updated_at) VALUES ($1, 'in', $2, $3, $4, 'delivered', 1, $5, $5)",
        tenant_id,
        phone,
        our_number or None,
        text,
        at,
    )
    value = await db.fetchval(
        "INSERT INTO interactions (tenant_id, contact_id, kind, summary, data, created_at) "
        "VALUES ($1, $2, 'sms-in', $3, $4, $5) RETURNING id",
        tenant_id,
        contact_id,
        text[:200],
        data,
        at,
    )
    return int(value)
