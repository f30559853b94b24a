"""The SMS outbox worker: this node's liveness lock, crash recovery and queued-message pickup.

On start it locks its node id (see outbox_store.py), takes over the rows of every node whose
lock is free (crashed), and resumes them through `SmsSender.resume`: `queued` parts are sent
(they never left), `submitted` parts without an SMSC id are resubmitted (their fate is unknown:
the one case a handset can get a part twice), `accepted` parts wait for their receipt. A message
whose permit expired meanwhile is not sent at all: its unresolved parts end `failed`. While it
runs it picks up messages queued without an owner (opt-out confirmations) and, every
`takeover_every_s`, rows of nodes that died since.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from config.vocabulary import SmsStatus
from dialer.smpp import outbox_store as db
from dialer.smpp import persistence as ps
from dialer.smpp.pg_store import PgSmsStore
from dialer.smpp.sender import SmsSender
from storage.database import Connection

log = logging.getLogger("dialer.smpp.outbox")
EXPIRED_ERROR = "permit expired before the send completed: not sent (again)"


class NodeBusy(RuntimeError):
    """Another live process already runs under this node id."""


@dataclass
class RecoveryReport:
    nodes_taken_over: list[str] = field(default_factory=list)
    messages_resumed: int = 0
    parts_resent: int = 0
    parts_uncertain_replayed: int = 0
    messages_expired: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "nodes_taken_over": self.nodes_taken_over,
            "messages_resumed": self.messages_resumed,
            "parts_resent": self.parts_resent,
            "parts_uncertain_replayed": self.parts_uncertain_replayed,
            "messages_expired": self.messages_expired,
        }


@contextlib.asynccontextmanager
async def node_lock(pool: asyncpg.Pool, node: str) -> AsyncIterator[Connection]:
    """Hold `node`'s liveness lock on a dedicated connection for the life of the block."""
    async with pool.acquire() as conn:
        if not await db.try_lock_node(conn, node):
            raise NodeBusy(f"engine node {node!r} is already running")
        try:
            yield conn
        finally:
            with contextlib.suppress(asyncpg.PostgresError, OSError):
                await db.unlock_node(conn, node)


class OutboxWorker:
    """Recovery and pickup for one tenant's outbox on node `store.node`."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        lock_conn: Connection,
        store: PgSmsStore,
        sender: SmsSender,
        *,
        poll_s: float = 0.5,
        takeover_every_s: float = 10.0,
        batch: int = 200,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.pool, self.lock_conn, self.store, self.sender = pool, lock_conn, store, sender
        self.poll_s, self.takeover_every_s, self.batch = poll_s, takeover_every_s, batch
        self.clock = clock
        self.report = RecoveryReport()
        self.wake = asyncio.Event()

    async def recover(self) -> RecoveryReport:
        """Resume this node's own rows (from a previous life) and every dead node's rows."""
        await self._resume(await db.load_claimed(self.pool, self.store.node, self.store.tenant_id))
        await self.take_over_dead()
        return self.report

    async def take_over_dead(self) -> None:
        node, tenant = self.store.node, self.store.tenant_id
        for owner in await db.owners(self.pool, tenant):
            if owner == node or not await db.try_lock_node(self.lock_conn, owner):
                continue
            try:
                now, lease_s = self.clock(), self.store.claim_lease_s
                ids = await db.take_over(self.pool, node, owner, tenant, now, lease_s)
            finally:
                await db.unlock_node(self.lock_conn, owner)
            log.warning("outbox taken over", extra={"fields": {"from": owner, "rows": len(ids)}})
            self.report.nodes_taken_over.append(owner)
            if ids:
                await self._resume(await db.load_claimed(self.pool, node, tenant, ids))

    async def pick_up(self) -> int:
        """Claim and send messages queued without an owner; returns how many."""
        node, tenant = self.store.node, self.store.tenant_id
        now, lease_s = self.clock(), self.store.claim_lease_s
        ids = await db.claim_queued(self.pool, node, tenant, now, lease_s, self.batch)
        if ids:
            await self._resume(await db.load_claimed(self.pool, node, tenant, ids))
        return len(ids)

    async def run(self) -> None:
        """Pick up queued messages and dead nodes' rows until cancelled."""
        loop = asyncio.get_running_loop()
        next_takeover = loop.time() + self.takeover_every_s
        while True:
            if await self.pick_up() >= self.batch:
                continue
            if loop.time() >= next_takeover:
                await self.take_over_dead()
                next_takeover = loop.time() + self.takeover_every_s
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_s):
                    await self.wake.wait()

    async def _resume(self, messages: list[ps.StoredMessage]) -> None:
        now = self.clock()
        live = [m for m in messages if m.message.permit_expires_at > now]
        expired = [m for m in messages if m.message.permit_expires_at <= now]
        if expired:
            await self._expire(expired, now)
        if not live:
            return
        self.report.messages_resumed += len(live)
        for stored in live:
            for part in stored.parts:
                if part.status is SmsStatus.SUBMITTED:
                    self.report.parts_uncertain_replayed += 1
                elif part.status is SmsStatus.QUEUED:
                    self.report.parts_resent += 1
        await self.sender.resume(live)

    async def _expire(self, messages: list[ps.StoredMessage], now: datetime) -> None:
        changes = [
            ps.PartStatusChange(
                ps.PartRef(m.message.key, part.index, m.message.parts),
                SmsStatus.FAILED,
                now,
                EXPIRED_ERROR,
            )
            for m in messages
            for part in m.parts
            if part.status in (SmsStatus.QUEUED, SmsStatus.SUBMITTED)
        ]
        await self.store.record_statuses(changes)
        self.report.messages_expired += len(messages)
