"""SQL for `dialer bench sms`: count what the database says a run's messages became.

A run's messages share a key prefix. `verify` reads what the database says happened, so the
benchmark's lost/duplicated figures never come from client counters.
"""

from __future__ import annotations

from storage.database import Executor

VERIFIED = ("messages_in_db", "final", "parts", "parts_with_smsc_id", "parts_written_twice",
            "outbox_unsent")  # fmt: skip

_VERIFY = """
SELECT count(DISTINCT m.id) AS messages_in_db,
       count(DISTINCT m.id) FILTER (WHERE m.status IN ('delivered','undeliverable','expired',
                                                        'rejected','failed')) AS final,
       count(p.id) AS parts,
       count(p.id) FILTER (WHERE p.smsc_message_id IS NOT NULL) AS parts_with_smsc_id,
       count(p.id) FILTER (WHERE p.submits > 1) AS parts_written_twice,
       count(DISTINCT m.id) FILTER (WHERE o.sent_at IS NULL) AS outbox_unsent
FROM sms_messages m
JOIN sms_parts p ON p.message_id = m.id
JOIN sms_outbox o ON o.message_id = m.id
WHERE m.message_key LIKE $1 || '-%'
"""


async def default_tenant(db: Executor, name: str) -> int:
    value = await db.fetchval("SELECT id FROM tenants WHERE name = $1", name)
    if value is None:
        raise LookupError(f"tenant {name!r} does not exist")
    return int(value)


async def verify(db: Executor, prefix: str) -> dict[str, int]:
    row = await db.fetchrow(_VERIFY, prefix)
    assert row is not None
    return {key: int(row[key] or 0) for key in VERIFIED}
