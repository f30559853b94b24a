"""The append-only audit log: one function to add a row (the database refuses changes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.database import Executor


async def append_audit(
    db: Executor,
    *,
    tenant_id: int | None,
    actor: str,
    action: str,
    subject: str | None = None,
    allowed: bool | None = None,
    reasons: Sequence[str] = (),
    data: dict[str, Any] | None = None,
) -> None:
    await db.execute(
        "INSERT INTO audit_log (tenant_id, actor, action, subject, allowed, reasons, data) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant_id,
        actor,
        action,
        subject,
        allowed,
        list(reasons),
        data or {},
    )
