"""Batched, append-only recording of compliance verdicts in audit_log (a background flusher).

`AuditWriter.record` puts a row on a bounded queue and returns; one task writes the queue in
batches with a single multi-row INSERT, every `flush_interval_s` or as soon as `batch_rows` are
waiting. When the database falls behind and the queue is full, `record` waits for room (back-
pressure): a verdict is never dropped. `close()` writes what is left. The table refuses UPDATE,
DELETE and TRUNCATE (0001_schema_v1.sql), so what is written stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from compliance.verdict import Verdict
from storage.database import Executor

log = logging.getLogger("compliance.audit")

VERDICT_ACTION = "compliance.verdict"
RETRY_S = 1.0


@dataclass(frozen=True, slots=True)
class AuditRow:
    tenant_id: int | None
    actor: str
    action: str
    subject: str | None
    allowed: bool | None
    reasons: tuple[str, ...]
    data: dict[str, Any]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def verdict_row(
    verdict: Verdict,
    *,
    tenant_id: int | None,
    actor: str,
    lead_id: int | None = None,
    campaign_id: int | None = None,
    permit_expires_at: datetime | None = None,
) -> AuditRow:
    """The audit row of one verdict: its reasons, and what it decided on which facts."""
    data: dict[str, Any] = {
        "phone": verdict.phone_e164,
        "channel": verdict.channel.value,
        "purpose": verdict.purpose.value,
        "rule_set": verdict.rule_set.value,
        "decided_at": _iso(verdict.decided_at),
        "next_allowed_at": _iso(verdict.next_allowed_at),
        "allowed_until": _iso(verdict.allowed_until),
        "zones": list(verdict.zones),
        "lead_id": lead_id,
        "campaign_id": campaign_id,
        "permit_expires_at": _iso(permit_expires_at),
    }
    subject = f"lead:{lead_id}" if lead_id is not None else verdict.phone_e164
    reasons = tuple(str(r) for r in verdict.reasons)
    return AuditRow(tenant_id, actor, VERDICT_ACTION, subject, verdict.allowed, reasons, data)


async def write_rows(db: Executor, rows: Sequence[AuditRow]) -> None:
    """Append rows in one statement (reasons travel as arrays, one per row)."""
    if not rows:
        return
    await db.executemany(
        "INSERT INTO audit_log (tenant_id, actor, action, subject, allowed, reasons, data) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (r.tenant_id, r.actor, r.action, r.subject, r.allowed, list(r.reasons), r.data)
            for r in rows
        ],
    )


class AuditWriter:
    """A bounded queue of audit rows and the task that writes them in batches."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        max_queue: int = 10_000,
        batch_rows: int = 500,
        flush_interval_s: float = 0.2,
    ) -> None:
        self.pool = pool
        self.batch_rows = batch_rows
        self.flush_interval_s = flush_interval_s
        self.written = 0
        self._queue: asyncio.Queue[AuditRow] = asyncio.Queue(maxsize=max_queue)
        self._inflight: list[AuditRow] = []  # taken off the queue, not yet written
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="compliance-audit-flusher")

    async def record(self, row: AuditRow) -> None:
        """Queue a row (waits only when the queue is full: the database is behind)."""
        if self._closed:
            raise RuntimeError("audit writer is closed")
        self.start()
        await self._queue.put(row)

    @property
    def pending(self) -> int:
        return self._queue.qsize() + len(self._inflight)

    async def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until everything recorded so far is written (the flusher keeps running)."""
        async with asyncio.timeout(timeout_s):
            while not self._queue.empty():
                await self._write(self._drain(self.batch_rows))
            await self._idle.wait()

    async def close(self) -> None:
        """Stop the flusher and write what is left (including a batch it was writing)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        leftover, self._inflight = self._inflight, []
        self._idle.set()
        await self._write(leftover)
        while not self._queue.empty():
            await self._write(self._drain(self.batch_rows))

    def _drain(self, limit: int) -> list[AuditRow]:
        rows: list[AuditRow] = []
        while len(rows) < limit and not self._queue.empty():
            rows.append(self._queue.get_nowait())
        return rows

    async def _write(self, rows: list[AuditRow]) -> None:
        if rows:
            await write_rows(self.pool, rows)
            self.written += len(rows)

    async def _run(self) -> None:
        while True:
            self._inflight = [await self._queue.get()]
            self._idle.clear()
            if self._queue.qsize() < self.batch_rows:
                await asyncio.sleep(self.flush_interval_s)
            self._inflight += self._drain(self.batch_rows - 1)
            while True:
                try:
                    await self._write(self._inflight)
                    break
                except (OSError, asyncpg.PostgresError) as exc:
                    log.error("audit write failed; retrying", extra={"fields": {"error": str(exc)}})
                    await asyncio.sleep(RETRY_S)
            self._inflight = []
            self._idle.set()
