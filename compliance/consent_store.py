"""PostgreSQL repository for consent records: given by channel and purpose, revoked, audited.

A consent row names its channel (call, automated, sms), purpose, source (web form, IVR, agent,
import, ...) and evidence; revoking sets `revoked_at` and `revoked_source` and never deletes, so
a verdict can always be explained afterwards. Under `eu` a revoked marketing consent is an
objection (compliance.rules.check_consent).
"""

from __future__ import annotations

from datetime import datetime

from compliance.facts import ConsentRecord
from config.vocabulary import Channel, Purpose
from storage.audit import append_audit
from storage.database import Executor


async def record_consent(
    db: Executor,
    *,
    tenant_id: int,
    phone: str,
    channel: Channel,
    purpose: Purpose,
    source: str,
    given_at: datetime,
    evidence: str | None = None,
    actor: str = "system",
) -> int:
    """Store a consent; its id. The caller passes an E.164 number."""
    consent_id = int(
        await db.fetchval(
            "INSERT INTO consents (tenant_id, phone, channel, purpose, source, evidence, given_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            tenant_id,
            phone,
            channel.value,
            purpose.value,
            source,
            evidence,
            given_at,
        )
    )
    await append_audit(
        db,
        tenant_id=tenant_id,
        actor=actor,
        action="consent.give",
        subject=phone,
        data={
            "consent_id": consent_id,
            "channel": channel.value,
            "purpose": purpose.value,
            "source": source,
        },
    )
    return consent_id


async def revoke_consent(
    db: Executor,
    *,
    tenant_id: int,
    phone: str,
    channel: Channel,
    source: str,
    at: datetime,
    purpose: Purpose | None = None,
    actor: str = "system",
) -> int:
    """Revoke the number's active consents on `channel` (every purpose unless one is named).

    Returns how many were revoked (0: none was active, an expected outcome). Audited.
    """
    status = await db.execute(
        """
        UPDATE consents SET revoked_at = $4, revoked_source = $5
        WHERE tenant_id = $1 AND phone = $2 AND channel = $3 AND revoked_at IS NULL
          AND ($6::text IS NULL OR purpose = $6)
        """,
        tenant_id,
        phone,
        channel.value,
        at,
        source,
        purpose.value if purpose is not None else None,
    )
    count = int(status.split()[-1])
    await append_audit(
        db,
        tenant_id=tenant_id,
        actor=actor,
        action="consent.revoke",
        subject=phone,
        data={
            "channel": channel.value,
            "source": source,
            "purpose": purpose.value if purpose else None,
            "revoked": count,
            "at": at.isoformat(),
        },
    )
    return count


async def consents_for(db: Executor, *, tenant_id: int, phone: str) -> tuple[ConsentRecord, ...]:
    """Every consent record of the number in the tenant, revoked ones included (objections)."""
    rows = await db.fetch(
        "SELECT channel, purpose, given_at, revoked_at, source FROM consents "
        "WHERE tenant_id = $1 AND phone = $2 ORDER BY given_at",
        tenant_id,
        phone,
    )
    return tuple(
        ConsentRecord(
            Channel(r["channel"]),
            Purpose(r["purpose"]),
            r["given_at"],
            r["revoked_at"],
            r["source"],
        )
        for r in rows
    )
