"""Outbox ownership and recovery: dead nodes' rows are taken over, live ones never; expired
permits are not replayed; unowned queued messages are picked up."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from config.vocabulary import SmsEncoding, SmsStatus
from dialer.smpp import persistence as ps
from dialer.smpp.outbox import EXPIRED_ERROR, node_lock
from dialer.smpp.pg_store import PgSmsStore
from dialer.smpp.runtime import sms_runtime
from dialer.smpp.sender import SenderConfig
from dialer.smpp.simulator import SmscServer
from dialer.smpp.smsc import SmscConfig
from storage.runtime import Storage
from tests.sms_db.rig import client_config_for, default_tenant, eventually, message_rows


def queued(key: str, phone: str, text: str, expires_in_s: float) -> ps.QueuedMessage:
    now = datetime.now(UTC)
    at, expires_at = now - timedelta(seconds=5), now + timedelta(seconds=expires_in_s)
    return ps.QueuedMessage(key, phone, text, SmsEncoding.GSM7, 1, "udh8", 0, "DIALER", at,
                            expires_at)  # fmt: skip


async def _status_is(pool: asyncpg.Pool, key: str, status: str) -> bool:
    return bool((await message_rows(pool, key))[0]["status"] == status)


async def test_dead_rows_resume_live_rows_stay_expired_fail_unowned_are_picked_up(
    storage: Storage,
) -> None:
    pool = storage.pool
    tenant = await default_tenant(pool)
    prefix = uuid.uuid4().hex[:8]
    dead, alive = f"dead-{prefix}", f"alive-{prefix}"
    dead_store, alive_store = PgSmsStore(pool, tenant, dead), PgSmsStore(pool, tenant, alive)
    uncertain = queued(f"{prefix}-uncertain", "+79170000001", "written, no response", 60)
    fresh = queued(f"{prefix}-queued", "+79170000002", "never written", 60)
    stale = queued(f"{prefix}-stale", "+79170000003", "permit gone", -1)
    owned_by_alive = queued(f"{prefix}-alive", "+79170000004", "someone else's", 60)
    unowned = replace(queued(f"{prefix}-unowned", "+79170000005", "for anyone", 60), claimed=False)
    await dead_store.record_queued([uncertain, fresh, stale, unowned])
    await dead_store.record_submitted([ps.SubmittedPart(ps.PartRef(uncertain.key, 1, 1),
                                                        datetime.now(UTC))])  # fmt: skip
    await alive_store.record_queued([owned_by_alive])
    at = datetime.now(UTC)
    smsc = SmscConfig(receipt_delay_ms=5)
    async with node_lock(pool, alive), SmscServer(smsc) as server:
        client = client_config_for(server.port, smsc)
        async with sms_runtime(pool, tenant, client, SenderConfig(source_addr="DIALER")) as rt:
            assert rt.recovery.nodes_taken_over == [dead]
            assert rt.recovery.parts_uncertain_replayed == 1
            assert rt.recovery.parts_resent == 1 and rt.recovery.messages_expired == 1
            async with asyncio.timeout(10):
                await rt.sender.wait_all_final()
            await eventually(lambda: _status_is(pool, unowned.key, "delivered"))
        assert await _status_is(pool, owned_by_alive.key, "queued")  # its owner lives: untouched
        ref = ps.PartRef(owned_by_alive.key, 1, 1)  # the owner ends it (leaves nothing behind)
        await alive_store.record_statuses([ps.PartStatusChange(ref, SmsStatus.FAILED, at)])
    rows = {r["message_key"]: r for r in await message_rows(pool, prefix)}
    assert rows[uncertain.key]["status"] == rows[fresh.key]["status"] == "delivered"
    assert rows[uncertain.key]["submits"] == [2]  # written before the "crash", and replayed
    assert rows[stale.key]["status"] == SmsStatus.FAILED
    assert rows[owned_by_alive.key]["claimed_by"] == alive
    error = await pool.fetchval(
        "SELECT p.error FROM sms_parts p JOIN sms_messages m ON m.id = p.message_id "
        "WHERE m.message_key = $1",
        stale.key,
    )
    assert error == EXPIRED_ERROR
    assert server.state.stats.accepted == 3
